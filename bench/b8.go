package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// B8's sandbox latency L and River workers K.
const (
	b8Latency = 50 * time.Millisecond
	b8Workers = 10
)

// runB8 seeds N open attempts whose payments exist in the sandbox, sets the
// sandbox's latency to L, starts River with K workers and a 1 s sweep, and times
// how fast the sweeper's confirm_attempt jobs complete, against the ideal K ÷ L.
// N is scaled down from issue #8's 100,000 to about 10 s of ideal work (2 s in
// quick mode) so the whole suite stays under 10 minutes; the table says so.
func runB8(ctx context.Context, e *env) ([]Row, error) {
	ideal := float64(b8Workers) / b8Latency.Seconds()
	secs := 10.0
	if e.opts.quick {
		secs = 2
	}
	n := int(ideal * secs)
	// Leftover jobs of earlier benchmarks would compete with the sweeper's.
	if _, err := e.pool.Exec(ctx, `DELETE FROM river_job`); err != nil {
		return nil, err
	}
	a, err := e.newApp(ctx, appOptions{Workers: b8Workers, Sweep: time.Second})
	if err != nil {
		return nil, err
	}
	defer a.Close()

	// Real pending payments in the sandbox, created at 0 ms latency.
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				p, err := a.Client.CreatePayment(ctx, &orchestrate.CreatePaymentParams{
					Amount: 1999, Currency: "USD", MCC: 5999, Customer: orchestrate.Customer{Name: "Bench Shopper", Email: "bench@example.com"},
					Description: "bench", SuccessURL: "http://localhost:8080/s", CancelURL: "http://localhost:8080/c",
					ExpiresIn: time.Hour, IdempotencyKey: uuid.NewString(),
				})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = p.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, err
	}
	// One order and one open attempt per payment, all due now.
	if _, err := e.pool.Exec(ctx, `
		WITH p AS (SELECT pid, ord FROM unnest($1::text[]) WITH ORDINALITY AS t(pid, ord)),
		     o AS (INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email)
		           SELECT 'b8ref' || lpad(ord::text, 20, '0') || substr(md5(pid), 1, 8), 'USD', 1999, 'Bench Shopper', 'bench@example.com' FROM p
		           RETURNING id, public_ref)
		INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency, orchestrate_payment_id, payment_link, expires_at, next_check_at, created_at)
		SELECT gen_random_uuid(), o.id, 'open', 1999, 'USD', p.pid, 'http://sandbox/pay', now() + interval '1 hour', now() - interval '1 second', now() - interval '5 minutes'
		FROM p JOIN o ON o.public_ref = 'b8ref' || lpad(p.ord::text, 20, '0') || substr(md5(p.pid), 1, 8)`, ids); err != nil {
		return nil, fmt.Errorf("seed attempts: %w", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, a.SandboxURL+"/_sandbox/faults",
		strings.NewReader(fmt.Sprintf(`{"latency":"%s","webhooks_disabled":true}`, b8Latency)))
	req.Header.Set("Authorization", "Bearer "+sandboxKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sandbox faults: %s", resp.Status)
	}

	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := a.Jobs.Start(jctx); err != nil {
		return nil, err
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = a.Jobs.Stop(sctx)
	}()
	deadline := time.Now().Add(time.Duration(secs*4)*time.Second + 30*time.Second)
	var done int
	for {
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'confirm_attempt' AND state = 'completed'`).Scan(&done); err != nil {
			return nil, err
		}
		if done >= n || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if done < n {
		return nil, fmt.Errorf("only %d of %d attempts confirmed before the deadline", done, n)
	}
	var span float64
	if err := e.pool.QueryRow(ctx, `
		SELECT extract(epoch FROM max(finalized_at) - min(attempted_at))::float8
		FROM river_job WHERE kind = 'confirm_attempt' AND state = 'completed'`).Scan(&span); err != nil {
		return nil, err
	}
	rate := float64(n) / span
	e.logf("  %d attempts confirmed in %.1f s: %.0f/s; ideal K÷L %.0f/s", n, span, rate, ideal)
	return []Row{{
		ID: "B8", What: fmt.Sprintf("sweeper confirming %d open attempts (scaled down from 100,000 for the 10-min budget), L=%d ms, K=%d", n, b8Latency.Milliseconds(), b8Workers),
		Figure: fmt.Sprintf("%.0f confirmations/s", rate), Baseline: fmt.Sprintf("K ÷ L = %.0f/s", ideal),
		Ratio: fmt.Sprintf("%.2f×", rate/ideal), Target: "≥ 0.80×", Verdict: verdict(rate >= 0.8*ideal),
	}}, nil
}
