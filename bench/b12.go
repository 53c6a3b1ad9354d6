package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/pgbouncer"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// b12Senders is the concurrency B12 compares one and three instances at.
const b12Senders = 32

// b12Orders is how many real paid orders the exactly-once check reconciles.
const b12Orders = 30

// Through PgBouncer each instance's pool (DATABASE_MAX_CONNS) is b12BouncerConns
// and PgBouncer's default_pool_size is b12BouncerPool: three instances × 10 ≤ 30,
// so no instance waits for a server connection another holds idle.
const (
	b12BouncerConns = 10
	b12BouncerPool  = 30
)

// runB12 runs B12 twice: with every instance connected to PostgreSQL directly,
// then with every instance's DATABASE_URL on a real PgBouncer in transaction
// pooling (DATABASE_DIRECT_URL direct, for River's LISTEN and the migrations'
// lock; DATABASE_QUERY_EXEC_MODE=cache_describe, as PgBouncer 1.18 keeps no
// prepared statements), each reported with its own rows.
func runB12(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := e.b12(ctx, a, e.dbURL, nil, "")
	if err != nil {
		return nil, err
	}
	bouncer, err := pgbouncer.Run(e.opts.server, pgbouncer.Options{PoolSize: b12BouncerPool})
	if err != nil {
		e.logf("B12 through PgBouncer: %v", err)
		return append(rows, Row{ID: "B12", What: "scale-out through PgBouncer (transaction pooling)", Target: "> 1.0× one instance; exactly-once",
			Verdict: "ERROR: " + strings.SplitN(err.Error(), "\n", 2)[0]}), nil
	}
	defer bouncer.Close()
	pooled, err := e.b12(ctx, a, bouncer.URL(benchDB), []string{
		"DATABASE_DIRECT_URL=" + e.dbURL,
		"DATABASE_QUERY_EXEC_MODE=cache_describe",
		"DATABASE_MAX_CONNS=" + strconv.Itoa(b12BouncerConns),
	}, fmt.Sprintf(" through PgBouncer (transaction pooling; 3 × %d conns ≤ pool %d)", b12BouncerConns, b12BouncerPool))
	if err != nil {
		e.logf("B12 through PgBouncer: %v\nPgBouncer's log:\n%s", err, tail(bouncer.Log(), 20))
		return append(rows, Row{ID: "B12", What: "scale-out through PgBouncer (transaction pooling)", Target: "> 1.0× one instance; exactly-once",
			Verdict: "ERROR: " + strings.SplitN(err.Error(), "\n", 2)[0]}), nil
	}
	return append(rows, pooled...), nil
}

// b12 runs B5's unique-event load against one instance of the real binary and
// then against three (round robin) on the same database, all as child
// processes reaching it at dbURL with env on top of appEnv; then it checks
// exactly-once: real payments completed in the sandbox, each payment.succeeded
// event delivered twice to every instance at once, must pay each order exactly
// once. The instances are stopped before it returns. how names the
// configuration in the rows ("" for the direct one).
func (e *env) b12(ctx context.Context, a *app, dbURL string, env []string, how string) ([]Row, error) {
	var ins []*apptest.Instance
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	for range 3 {
		in, err := e.startInstanceOn(ctx, a.SandboxURL, dbURL, env...)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	urls := make([]string, len(ins))
	for i, in := range ins {
		urls[i] = in.URL + "/webhooks/orchestrate"
	}
	one, _, err := e.webhookLoad(ctx, urls[:1], b12Senders, 1)
	if err != nil {
		return nil, err
	}
	three, _, err := e.webhookLoad(ctx, urls, b12Senders, 1)
	if err != nil {
		return nil, err
	}
	ratio := three / one
	e.logf("  %d senders%s: one instance %.0f req/s, three %.0f req/s", b12Senders, how, one, three)
	rows := []Row{{
		ID: "B12", What: fmt.Sprintf("webhook ack, three instances vs one%s, %d senders", how, b12Senders),
		Figure: fmt.Sprintf("%.0f req/s (3 instances)", three), Baseline: fmt.Sprintf("%.0f req/s (1 instance)", one),
		Ratio: fmt.Sprintf("%.2f×", ratio), Target: "> 1.0× (more, never less)", Verdict: verdict(ratio > 1.0),
	}}
	paid, twice, err := e.exactlyOnce(ctx, a, urls)
	if err != nil {
		return nil, err
	}
	sessionErrors := 0
	for _, in := range ins {
		log, err := os.ReadFile(in.LogPath)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(log), "\n") {
			if (strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN")) && sessionFeatureErrors.MatchString(line) {
				e.logf("  an instance logged: %s", line)
				sessionErrors++
			}
		}
	}
	rows = append(rows, Row{
		ID: "B12", What: fmt.Sprintf("exactly-once%s: %d paid orders, each event delivered twice to all 3 instances", how, b12Orders),
		Figure:   fmt.Sprintf("%d/%d paid; %d paid twice; %d errors about session features logged", paid, b12Orders, twice, sessionErrors),
		Baseline: "—", Ratio: "—", Target: "every order paid exactly once; no such error",
		Verdict: verdict(paid == b12Orders && twice == 0 && sessionErrors == 0),
	})
	return rows, nil
}

// sessionFeatureErrors are what a session feature used through transaction
// pooling makes PostgreSQL, PgBouncer or the app log (as pooler_test.go checks).
var sessionFeatureErrors = regexp.MustCompile(`(?i)prepared statement|LISTEN|advisory|unsupported startup parameter|SQLSTATE 26000|SQLSTATE 42P05`)

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// exactlyOnce creates b12Orders orders with real open payments through the
// in-process app, completes them in the sandbox, storms the instances with their
// payment.succeeded events and waits for reconciliation. It returns how many
// orders are paid and how many recorded more than one transition to paid.
func (e *env) exactlyOnce(ctx context.Context, a *app, urls []string) (paid, twice int, err error) {
	// The throughput runs queued a confirmation per fake event; drop those still
	// waiting so the check is not stuck behind them (they would find no payment).
	if _, err := e.pool.Exec(ctx, `DELETE FROM river_job WHERE kind = 'confirm_payment' AND state IN ('available', 'retryable', 'scheduled')`); err != nil {
		return 0, 0, err
	}
	var ids []int64
	for range b12Orders {
		cartID := orders.NewCartID()
		if err := a.Carts.Add(ctx, cartID, 1, 1, orders.DefaultCurrency); err != nil {
			return 0, 0, err
		}
		o, _, err := a.Payments.Checkout(ctx, cartID, orders.DefaultCurrency, orders.Customer{Name: "Bench Shopper", Email: "bench@example.com", Address: benchAddress, Method: "standard"})
		if err != nil {
			return 0, 0, err
		}
		ids = append(ids, o.ID)
	}
	rows, err := e.pool.Query(ctx, `SELECT orchestrate_payment_id FROM payment_attempts WHERE order_id = ANY($1) AND status = 'open'`, ids)
	if err != nil {
		return 0, 0, err
	}
	var payments []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return 0, 0, err
		}
		payments = append(payments, p)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if len(payments) != b12Orders {
		return 0, 0, fmt.Errorf("exactly-once: %d open payments, want %d", len(payments), b12Orders)
	}
	for _, p := range payments {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.SandboxURL+"/_sandbox/payments/"+p+"/complete", nil)
		req.Header.Set("Authorization", "Bearer "+sandboxKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return 0, 0, fmt.Errorf("sandbox complete %s: %s", p, resp.Status)
		}
	}
	// Every event twice to every instance, all at once.
	var wg sync.WaitGroup
	errs := make(chan error, len(payments)*len(urls)*2)
	for i, p := range payments {
		body := []byte(`{"id":"evt_b12_` + strconv.Itoa(i) + `_` + p + `","type":"payment.succeeded","payload":{"id":"` + p + `"}}`)
		for range 2 {
			for _, u := range urls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set(orchestrate.SignatureHeader, orchestrate.Sign(body, webhookSecret))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- fmt.Errorf("webhook: %s", resp.Status)
					}
				}()
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return 0, 0, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE id = ANY($1) AND status = 'paid'`, ids).Scan(&paid); err != nil {
			return 0, 0, err
		}
		if paid == b12Orders || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	err = e.pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT order_id FROM order_events
			WHERE order_id = ANY($1) AND subject = 'order' AND to_status = 'paid'
			GROUP BY order_id HAVING count(*) > 1) t`, ids).Scan(&twice)
	e.logf("  exactly-once: %d/%d orders paid, %d paid more than once", paid, b12Orders, twice)
	return paid, twice, err
}
