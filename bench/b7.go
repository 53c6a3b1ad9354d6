package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// b7InFlight is the concurrency C of the 100 ms throughput run.
const b7InFlight = 16

// seedCarts creates n carts of one product each and returns their ids: every
// checkout needs a cart of its own, or it would reuse the first one's order.
func (e *env) seedCarts(ctx context.Context, n int) ([]string, error) {
	prefix := "benchcart" + strconv.FormatInt(time.Now().UnixNano(), 36)
	rows, err := e.pool.Query(ctx, `
		WITH c AS (INSERT INTO carts (id) SELECT $1 || lpad(g::text, 24, '0') FROM generate_series(1, $2) g RETURNING id),
		     i AS (INSERT INTO cart_items (cart_id, product_id, quantity) SELECT id, 1, 2 FROM c)
		SELECT id FROM c`, prefix, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// checkoutTargeter posts the checkout form, each request from its own cart (carts
// are cart cookie values), with
// the double-submit CSRF token csrf (from the app's _csrf cookie) in the header as
// the shop's forms send it.
func checkoutTargeter(appURL, csrf string, carts []string, next *atomic.Int64) vegeta.Targeter {
	body := []byte(url.Values{"name": {"Bench Shopper"}, "email": {"bench@example.com"}, "line1": {"1 Main St"},
		"city": {"Austin"}, "region": {"TX"}, "postal_code": {"78701"}, "country": {"US"}, "method": {"standard"}}.Encode())
	return func(t *vegeta.Target) error {
		i := next.Add(1) - 1
		if i >= int64(len(carts)) {
			return vegeta.ErrNoTargets
		}
		t.Method, t.URL, t.Body = http.MethodPost, appURL+"/checkout", body
		t.Header = http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"},
			"Cookie":       {"cart=" + carts[i] + "; _csrf=" + csrf},
			"X-CSRF-Token": {csrf},
		}
		return nil
	}
}

// csrfTokenOf returns the CSRF token the app at appURL gives a new visitor.
func csrfTokenOf(appURL string) (string, error) {
	resp, err := http.Get(appURL + "/")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "_csrf" {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("GET %s/ set no _csrf cookie", appURL)
}

// sandboxCreateP50 is the sandbox's own create latency as the app's client sees
// it, calls started rate a second as the checkouts it is subtracted from are (an
// idle machine makes each call slower than back to back).
func sandboxCreateP50(ctx context.Context, a *app, n, rate int) (time.Duration, error) {
	var ds []float64
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for range n {
		<-tick.C
		t0 := time.Now()
		_, err := a.Client.CreatePayment(ctx, &orchestrate.CreatePaymentParams{
			Amount: 3998, Currency: "USD", MCC: 5999, Customer: orchestrate.Customer{Name: "Bench Shopper", Email: "bench@example.com"},
			Description: "bench", SuccessURL: "http://localhost:8080/s", CancelURL: "http://localhost:8080/c",
			ExpiresIn: time.Hour, IdempotencyKey: uuid.NewString(),
		})
		if err != nil {
			return 0, err
		}
		ds = append(ds, float64(time.Since(t0)))
	}
	return time.Duration(median(ds)), nil
}

// commitScript is one commit of one small row: the unit of "2 commits".
const commitScript = `BEGIN;
INSERT INTO bench_commit (v) VALUES (1);
COMMIT;
`

func runB7(ctx context.Context, e *env) ([]Row, error) {
	if _, err := e.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_commit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int)`); err != nil {
		return nil, err
	}
	const slowRate = 20 // checkouts per second for the latency runs: far below capacity
	// A commit as the checkout meets it: one at a time, slowRate a second. On an
	// otherwise idle machine every round trip costs about three times what it
	// does back to back (the database's process and the CPU wake up for each), so
	// the back-to-back figure is shown beside it but is not the unit.
	commit, err := e.pgbenchMedianAt(ctx, commitScript, 1, slowRate)
	if err != nil {
		return nil, err
	}
	hot, err := e.pgbenchMedian(ctx, commitScript, 1)
	if err != nil {
		return nil, err
	}
	need := int(float64(e.opts.runs)*e.opts.dur.Seconds()*(2*slowRate+1.2*b7InFlight/0.1)) + 500
	carts, err := e.seedCarts(ctx, need)
	if err != nil {
		return nil, err
	}
	for i, id := range carts {
		carts[i] = handlers.CartCookieValue([]byte(cookieSecret), id)
	}
	var next atomic.Int64
	var rows []Row
	for _, lat := range []time.Duration{0, 100 * time.Millisecond} {
		a, err := e.newApp(ctx, appOptions{Latency: lat})
		if err != nil {
			return nil, err
		}
		sb, err := sandboxCreateP50(ctx, a, max(5, min(30, int(e.opts.dur/(lat+time.Millisecond)))), slowRate)
		if err != nil {
			a.Close()
			return nil, err
		}
		csrf, err := csrfTokenOf(a.URL)
		if err != nil {
			a.Close()
			return nil, err
		}
		var p50s []float64
		for range e.opts.runs {
			s := constantRate(ctx, checkoutTargeter(a.URL, csrf, carts, &next), slowRate, e.opts.dur)
			if err := s.check("checkout"); err != nil {
				a.Close()
				return nil, err
			}
			p50s = append(p50s, float64(s.P50))
		}
		p50 := time.Duration(median(p50s))
		overhead := p50 - sb
		limit := 2*commit.Latency + time.Millisecond
		e.logf("  sandbox %s: checkout p50 %s, sandbox create p50 %s, overhead %s; commit %s", lat, ms(p50), ms(sb), ms(overhead), ms(commit.Latency))
		rows = append(rows, Row{
			ID: "B7", What: fmt.Sprintf("checkout POST → 303, sandbox %d ms: overhead p50 (%d/s)", lat.Milliseconds(), slowRate),
			Figure:   fmt.Sprintf("p50 %s − sandbox %s = %s", ms(p50), ms(sb), ms(overhead)),
			Baseline: fmt.Sprintf("2 commits + 1 ms = %s (pgbench commit at %d/s %s; back to back %s)", ms(limit), slowRate, ms(commit.Latency), ms(hot.Latency)),
			Ratio:    fmt.Sprintf("%.2f×", float64(overhead)/float64(limit)), Target: "overhead p50 ≤ 2 commits + 1 ms",
			Verdict: verdict(overhead <= limit),
		})
		if lat > 0 {
			var rs []float64
			for range e.opts.runs {
				s := closedLoop(ctx, checkoutTargeter(a.URL, csrf, carts, &next), b7InFlight, e.opts.dur)
				if err := s.check("checkout closed loop"); err != nil {
					a.Close()
					return nil, err
				}
				rs = append(rs, s.RPS)
			}
			rps := median(rs)
			ideal := float64(b7InFlight) / lat.Seconds()
			e.logf("  sandbox %s: %.0f checkouts/s with %d in flight; ideal %.0f", lat, rps, b7InFlight, ideal)
			rows = append(rows, Row{
				ID: "B7", What: fmt.Sprintf("checkout throughput, sandbox %d ms, C=%d in flight", lat.Milliseconds(), b7InFlight),
				Figure: fmt.Sprintf("%.0f checkouts/s", rps), Baseline: fmt.Sprintf("C ÷ L = %.0f/s", ideal),
				Ratio: fmt.Sprintf("%.2f×", rps/ideal), Target: "≥ 0.90× (no pool starvation)", Verdict: verdict(rps >= 0.9*ideal),
			})
		}
		a.Close()
	}
	return rows, nil
}
