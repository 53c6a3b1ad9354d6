package main

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/orchestrate-checkout/checkout/handlers"
	checkout "github.com/orchestrate-checkout/checkout/internal/app"
)

// The drop (issue #16): dropShoppers shoppers, each with one unit of a product
// with dropStock on hand in a cart of their own, check out at once.
const (
	dropShoppers = 500
	dropStock    = 100
)

// dropOnHand is the pgbench baseline's stock: enough that no transaction of any
// run is refused, so every one does the hold's whole work on the one row.
const dropOnHand = 1000000

var dropSeq atomic.Int64

// dropProduct creates an active product priced in USD, tracked with onHand units,
// and returns its id.
func (e *env) dropProduct(ctx context.Context, onHand int) (int64, error) {
	slug := fmt.Sprintf("bench-drop-%d-%d", time.Now().UnixNano(), dropSeq.Add(1))
	var id int64
	err := e.pool.QueryRow(ctx, `
		WITH p AS (
			INSERT INTO products (slug, name, description, image, position)
			VALUES ($1, 'Limited drop', 'One hundred made.', 'img/mug.svg', 100) RETURNING id
		), price AS (
			INSERT INTO product_prices (product_id, currency, amount_minor) SELECT id, 'USD', 4500 FROM p
		), s AS (
			INSERT INTO stock (product_id, on_hand) SELECT id, $2 FROM p
		)
		SELECT id FROM p`, slug, onHand).Scan(&id)
	return id, err
}

// dropCarts creates one cart per id, each holding one unit of product.
func (e *env) dropCarts(ctx context.Context, product int64, ids []string) error {
	_, err := e.pool.Exec(ctx, `
		WITH c AS (INSERT INTO carts (id) SELECT unnest($1::text[]) RETURNING id)
		INSERT INTO cart_items (cart_id, product_id, quantity) SELECT id, $2, 1 FROM c`, ids, product)
	return err
}

// dropOutcome is one drop: what the shoppers were answered, and what the
// database holds afterwards.
type dropOutcome struct {
	Rate                                    float64 // answered checkouts per second
	HoldRate                                float64 // checkouts sent to payment per second, until the last one was
	Elapsed                                 time.Duration
	ToPayment, SoldOut, ServerErrors, Other int
	Held, OnHand, Holds, Orders, Oversold   int
}

// ok reports whether the drop sold exactly the stock and refused the rest.
func (d dropOutcome) ok() bool {
	return d.ToPayment == dropStock && d.SoldOut == dropShoppers-dropStock && d.ServerErrors == 0 && d.Other == 0 &&
		d.Held == dropStock && d.OnHand == dropStock && d.Holds == dropStock && d.Orders == dropStock && d.Oversold == 0
}

func (d dropOutcome) String() string {
	s := fmt.Sprintf("%d to payment, %d sold out (409), %d 5xx; %d held of %d on hand in %d holds, %d orders, %d oversold",
		d.ToPayment, d.SoldOut, d.ServerErrors, d.Held, d.OnHand, d.Holds, d.Orders, d.Oversold)
	if d.Other > 0 {
		s += fmt.Sprintf(", %d other answers", d.Other)
	}
	return s
}

// drop runs one drop against the app at appURL: a fresh product with dropStock
// on hand, dropShoppers fresh carts of one unit each, every checkout sent at
// once (closed loop, one request per shopper), then the counts.
func (e *env) drop(ctx context.Context, appURL, csrf string) (dropOutcome, error) {
	var d dropOutcome
	product, err := e.dropProduct(ctx, dropStock)
	if err != nil {
		return d, err
	}
	ids := make([]string, dropShoppers)
	cookies := make([]string, dropShoppers)
	prefix := fmt.Sprintf("benchdrop%d", product)
	for i := range ids {
		ids[i] = prefix + strings.Repeat("0", 32-len(prefix)-len(strconv.Itoa(i))) + strconv.Itoa(i)
		cookies[i] = handlers.CartCookieValue([]byte(cookieSecret), ids[i])
	}
	if err := e.dropCarts(ctx, product, ids); err != nil {
		return d, err
	}
	var next atomic.Int64
	s := attack(ctx, checkoutTargeter(appURL, csrf, cookies, &next), vegeta.ConstantPacer{}, dropShoppers, time.Minute)
	d.Elapsed = s.Elapsed
	for code, n := range s.Codes {
		switch c, _ := strconv.Atoi(code); {
		case c == http.StatusSeeOther:
			d.ToPayment += n
		case c == http.StatusConflict:
			d.SoldOut += n
		case c >= 500:
			d.ServerErrors += n
		default:
			d.Other += n
		}
	}
	if s.Requests != dropShoppers {
		return d, fmt.Errorf("the drop sent %d checkouts, want %d", s.Requests, dropShoppers)
	}
	d.Rate = float64(s.Requests) / s.Elapsed.Seconds()
	d.HoldRate = float64(d.ToPayment) / s.LastOK.Seconds()
	err = e.pool.QueryRow(ctx, `
		SELECT s.held, s.on_hand,
		       (SELECT count(*) FROM stock_holds h WHERE h.product_id = s.product_id),
		       (SELECT count(DISTINCT oi.order_id) FROM order_items oi WHERE oi.product_id = s.product_id),
		       (SELECT count(DISTINCT oi.order_id) FROM order_items oi JOIN orders o ON o.id = oi.order_id
		        WHERE oi.product_id = s.product_id AND (o.oversold OR oi.short > 0))
		FROM stock s WHERE s.product_id = $1`, product).Scan(&d.Held, &d.OnHand, &d.Holds, &d.Orders, &d.Oversold)
	return d, err
}

// dropScript turns the statements one checkout ran (captured with a pgx tracer)
// into a pgbench script on the baseline's product: each client checks out its
// own cart of one unit (pgbench-drop-cart-<client_id>), and the values that must differ
// per transaction (the order's public reference, the payment's id) or come from
// it (the order's and the attempt's ids, read back with \gset) are pgbench
// expressions; every other argument is the literal the checkout sent.
func dropScript(stmts []capturedSQL, cartID, ref string, orderID int64, attemptID, paymentID string) (string, error) {
	var b strings.Builder
	b.WriteString("\\set r random(1, 9000000000000000000)\n")
	unique := "lpad(CAST(:r AS text), 19, '0') || '-' || CAST(:client_id AS text)"
	refExpr := "('pgbench-drop-ref-' || " + unique + ")"
	// The order's and the attempt's ids come back with \gset, except from a
	// statement in a pipeline (the checkout's batch), where pgbench cannot read
	// results: then later statements find them by the order's reference.
	inPipeline, gset := false, true
	cart := "('pgbench-drop-cart-' || lpad(CAST(:client_id AS text), 14, '0'))"
	// The client's cart stands for the order it made last time, which the
	// checkout would reuse: each transaction detaches it first, as changing a
	// cart does, so every one makes a new order (outside the hot row's lock).
	b.WriteString("UPDATE carts SET order_id = NULL WHERE id = " + cart + ";\n")
	for _, st := range stmts {
		sql := strings.TrimSpace(st.SQL)
		switch strings.ToLower(sql) {
		case "begin", "commit":
			b.WriteString(strings.ToUpper(sql) + ";\n")
			continue
		case pipelineStart, pipelineEnd:
			inPipeline = sql == pipelineStart
			b.WriteString(sql + "\n")
			continue
		}
		for i := len(st.Args); i >= 1; i-- {
			var lit string
			switch v := st.Args[i-1]; {
			case v == cartID:
				lit = cart
			case v == ref:
				lit = refExpr
			case v == orderID && gset:
				lit = "CAST(:id AS bigint)"
			case v == orderID:
				lit = "(SELECT id FROM orders WHERE public_ref = " + refExpr + ")"
			case v == attemptID && gset:
				lit = "CAST(:attempt_id AS uuid)"
			case v == attemptID:
				lit = "(SELECT a.id FROM payment_attempts a JOIN orders o ON o.id = a.order_id WHERE o.public_ref = " + refExpr + ")"
			case v == paymentID:
				lit = "('pay_pgbdrop_' || " + unique + ")"
			default:
				var err error
				if lit, err = sqlLiteral(v); err != nil {
					return "", fmt.Errorf("argument $%d of %.60q: %w", i, sql, err)
				}
			}
			sql = strings.ReplaceAll(sql, "$"+strconv.Itoa(i), lit)
		}
		b.WriteString(sql)
		switch {
		case strings.Contains(sql, "AS attempt_id") && inPipeline:
			gset = false
			b.WriteString(";\n")
		case strings.Contains(sql, "AS attempt_id"):
			b.WriteString("\n\\gset\n") // the order's id and its attempt's, for the statements after
		default:
			b.WriteString(";\n")
		}
	}
	return b.String(), nil
}

// sqlLiteral writes v, an argument pgx was given, as a SQL literal.
func sqlLiteral(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case time.Time:
		return "'" + v.Format(time.RFC3339Nano) + "'::timestamptz", nil
	case *time.Time:
		if v == nil {
			return "NULL", nil
		}
		return "'" + v.Format(time.RFC3339Nano) + "'::timestamptz", nil
	case time.Duration:
		return "'" + strconv.FormatInt(v.Microseconds(), 10) + " microseconds'::interval", nil
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String:
		return "'" + strings.ReplaceAll(r.String(), "'", "''") + "'", nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(r.Int(), 10), nil
	case reflect.Bool:
		return strconv.FormatBool(r.Bool()), nil
	case reflect.Pointer:
		if r.IsNil() {
			return "NULL", nil
		}
		return sqlLiteral(r.Elem().Interface())
	case reflect.Slice:
		if r.Type().Elem().Kind() == reflect.String {
			parts := make([]string, r.Len())
			for i := range parts {
				parts[i] = `"` + strings.ReplaceAll(r.Index(i).String(), `"`, `\"`) + `"`
			}
			return "'{" + strings.Join(parts, ",") + "}'", nil
		}
	}
	return "", fmt.Errorf("no SQL literal for %T", v)
}

// captureCheckout checks out one cart of product with a second instance of the
// app whose pool records its statements (River off, the base app's sandbox),
// and returns the pgbench script of what the checkout ran.
func (e *env) captureCheckout(ctx context.Context, sandboxURL string, product int64) (string, error) {
	rec := &sqlRecorder{}
	_, url, stop, err := e.startApp(ctx, sandboxURL, nil, checkout.WithoutJobs(), checkout.WithPoolTracer(rec))
	if err != nil {
		return "", err
	}
	defer stop()
	csrf, err := csrfTokenOf(url)
	if err != nil {
		return "", err
	}
	cartID := fmt.Sprintf("benchdropcapture%016d", product)
	if err := e.dropCarts(ctx, product, []string{cartID}); err != nil {
		return "", err
	}
	var next atomic.Int64
	tr := checkoutTargeter(url, csrf, []string{handlers.CartCookieValue([]byte(cookieSecret), cartID)}, &next)
	var s stats
	stmts, err := rec.record(func() error {
		s = attack(ctx, tr, vegeta.ConstantPacer{}, 1, time.Minute)
		return s.check("the captured checkout")
	})
	if err != nil {
		return "", err
	}
	if s.Codes["303"] != 1 {
		return "", fmt.Errorf("the captured checkout answered %v, want one 303", s.Codes)
	}
	var ref, attemptID, paymentID string
	var orderID int64
	if err := e.pool.QueryRow(ctx, `
		SELECT o.id, o.public_ref, a.id::text, a.orchestrate_payment_id
		FROM orders o JOIN payment_attempts a ON a.order_id = o.id WHERE o.cart_id = $1`, cartID).
		Scan(&orderID, &ref, &attemptID, &paymentID); err != nil {
		return "", fmt.Errorf("the captured checkout's order: %w", err)
	}
	return dropScript(stmts, cartID, ref, orderID, attemptID, paymentID)
}

func runB13(ctx context.Context, e *env) ([]Row, error) {
	base, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	// The baseline's hot row and its clients' carts, one per pgbench client.
	hot, err := e.dropProduct(ctx, dropOnHand)
	if err != nil {
		return nil, err
	}
	script, err := e.captureCheckout(ctx, base.SandboxURL, hot)
	if err != nil {
		return nil, err
	}
	carts := make([]string, poolSize)
	for i := range carts {
		carts[i] = fmt.Sprintf("pgbench-drop-cart-%014d", i) // as the script names them
	}
	if err := e.dropCarts(ctx, hot, carts); err != nil {
		return nil, err
	}
	e.logf("  pgbench script:\n%s", script)

	csrf, err := csrfTokenOf(base.URL)
	if err != nil {
		return nil, err
	}
	if _, err := e.drop(ctx, base.URL, csrf); err != nil { // warm-up
		return nil, err
	}
	var rates, holdRates, tps []float64
	var worst dropOutcome
	allOK := true
	for range e.opts.runs {
		d, err := e.drop(ctx, base.URL, csrf)
		if err != nil {
			return nil, err
		}
		e.logf("  drop: %.0f checkouts/s (%d in %s), %.0f to payment/s: %s", d.Rate, dropShoppers, ms(d.Elapsed), d.HoldRate, d)
		if !d.ok() && allOK {
			worst, allOK = d, false
		} else if allOK {
			worst = d
		}
		rates = append(rates, d.Rate)
		holdRates = append(holdRates, d.HoldRate)
		pg, err := e.pgbench(ctx, script, poolSize, e.opts.dur)
		if err != nil {
			return nil, err
		}
		e.logf("  pgbench: %.0f tps, latency %s", pg.TPS, ms(pg.Latency))
		tps = append(tps, pg.TPS)
	}
	rate, pg := median(rates), median(tps)
	ratio := rate / pg
	runs := "every run"
	if !allOK {
		runs = "a run"
	}
	return []Row{{
		ID: "B13", What: fmt.Sprintf("the drop: %d shoppers, one unit each, %d in stock, checking out at once", dropShoppers, dropStock),
		Figure: fmt.Sprintf("%.0f checkouts/s (the 100 to payment at %.0f/s); %s: %s",
			rate, median(holdRates), runs, worst),
		Baseline: fmt.Sprintf("%.0f tps (pgbench, the checkout's SQL, %d clients = the app's pool, one stock row)", pg, poolSize),
		Ratio:    fmt.Sprintf("%.2f×", ratio),
		Target:   fmt.Sprintf("≥ 0.70×; exactly %d held, %d sold out, 0 oversold, no 5xx", dropStock, dropShoppers-dropStock),
		Verdict:  verdict(ratio >= 0.70 && allOK),
	}}, nil
}
