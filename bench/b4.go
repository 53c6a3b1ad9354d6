package main

import (
	"context"
	"fmt"

	"github.com/orchestrate-checkout/checkout/orders"
)

// statusPollQueries is q: the statements GET /orders/:ref/status runs for an order
// still awaiting payment with no attempt due for confirmation (Payments.Poll reads
// the order and claims its due attempts in one statement).
const statusPollQueries = 1

// statusPollScript is that statement as pgbench runs it (Payments.Poll's SQL).
const statusPollScript = `WITH o AS (SELECT id, number, public_ref, status, currency, total_minor, customer_name,
	customer_email, refund_needed, created_at, updated_at, paid_at FROM orders WHERE public_ref = '%[1]s'),
claimed AS (
	UPDATE payment_attempts SET last_checked_at = now()
	WHERE order_id = (SELECT id FROM o) AND (SELECT status FROM o) <> ALL('{needs_review,paid}')
	  AND status IN ('open', 'unknown')
	  AND (last_checked_at IS NULL OR last_checked_at < now() - '3 seconds'::interval)
	RETURNING id::text AS id)
SELECT o.*, ARRAY(SELECT id FROM claimed) AS claimed FROM o;
`

// runB4 polls the status fragment of an order awaiting payment and compares it
// with the composed ceiling 1/(1/H + 1/S): H is the bare net/http hello's req/s
// (from B1 when it ran), S the pgbench rate of the request's q statements run as
// one script (so S there already counts q statements; 1/S = q/S_statement).
func runB4(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	cookies, err := e.shopperCookies(ctx, a)
	if err != nil {
		return nil, err
	}
	order, _, err := a.Payments.PlaceOrder(ctx, cartIDOf(cookies[0].Value), orders.DefaultCurrency, orders.Customer{Name: "Bench Shopper", Email: "bench@example.com", Address: benchAddress, Method: "standard"})
	if err != nil {
		return nil, err
	}
	h := e.bareRPS
	hNote := "B1"
	if h == 0 {
		bareURL, stop, err := serveHTTP(bareHello())
		if err != nil {
			return nil, err
		}
		var rs []float64
		for range e.opts.runs {
			rs = append(rs, closedLoop(ctx, get(bareURL+"/"), closedLoopWorkers, e.opts.dur).RPS)
		}
		stop()
		h, hNote = median(rs), "measured here"
	}
	tr := get(a.URL+"/orders/"+order.PublicRef+"/status", cookies...)
	closedLoop(ctx, tr, closedLoopWorkers, e.opts.dur/4)
	var rs []float64
	for range e.opts.runs {
		s := closedLoop(ctx, tr, closedLoopWorkers, e.opts.dur)
		if err := s.check("status poll"); err != nil {
			return nil, err
		}
		rs = append(rs, s.RPS)
	}
	rps := median(rs)
	pg, err := e.pgbenchMedian(ctx, fmt.Sprintf(statusPollScript, order.PublicRef), closedLoopWorkers)
	if err != nil {
		return nil, err
	}
	ceiling := 1 / (1/h + 1/pg.TPS)
	ratio := rps / ceiling
	e.logf("  status poll %.0f req/s; H %.0f req/s (%s); S %.0f scripts/s of q=%d; ceiling %.0f", rps, h, hNote, pg.TPS, statusPollQueries, ceiling)
	return []Row{{
		ID: "B4", What: "order status poll (awaiting payment)",
		Figure:   fmt.Sprintf("%.0f req/s", rps),
		Baseline: fmt.Sprintf("ceiling %.0f req/s: H %.0f (bare HTTP), S %.0f/s × q=%d (pgbench, %d clients)", ceiling, h, pg.TPS*statusPollQueries, statusPollQueries, closedLoopWorkers),
		Ratio:    fmt.Sprintf("%.2f×", ratio), Target: "≥ 0.70× of 1/(1/H + q/S)", Verdict: verdict(ratio >= 0.70),
	}}, nil
}

// benchAddress is where the benchmarks' orders ship.
var benchAddress = orders.Address{Line1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}
