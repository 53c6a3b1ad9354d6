package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

// B14, the burst (issue #18): b14Payments payments complete at once while the
// sandbox serves at most b14SandboxLimit API requests a second (Stripe's test
// mode allows 25), and the instance's own limiter is set to b14AppRateLimit.
const (
	b14Payments     = 2000
	b14SandboxLimit = 25
	// b14AppRateLimit is the instance's ORCHESTRATE_RATE_LIMIT: the sandbox's
	// limit, as an operator of one instance would set it.
	b14AppRateLimit = 25
	b14Target       = 1.2
	b14DB           = benchDB + "_b14"
)

// runB14 creates b14Payments orders with open payments in a database and a
// sandbox of its own (not timed: the sandbox unlimited and sending no
// webhooks), then sets the sandbox's rate_limit fault, starts the real binary
// with its limiter on, and completes every payment at the sandbox at once; the
// sandbox then delivers payment.succeeded to the instance, which confirms each
// by reading it. The figure is the time from the moment all are completed until
// every order is paid; the ideal is the API requests needed, one read a
// payment, at b14SandboxLimit a second.
func runB14(ctx context.Context, e *env) ([]Row, error) {
	n := b14Payments
	deadline := 10 * time.Minute
	if e.opts.quick {
		n, deadline = 200, 2*time.Minute
	}
	dbURL, pool, drop, err := e.scratchDatabase(ctx, b14DB)
	if err != nil {
		return nil, err
	}
	defer drop()
	sb, err := startCountingSandbox()
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	if err := sb.setFaults(ctx, `{"webhooks_disabled": true}`); err != nil {
		return nil, err
	}

	e.logf("  setup: %d orders with open payments", n)
	setupStart := time.Now()
	ids, payments, err := e.b14Orders(ctx, pool, dbURL, sb.URL, n)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	e.logf("  setup took %s", time.Since(setupStart).Round(100*time.Millisecond))

	// The timed phase's conditions hold from the instance's first request on.
	if err := sb.setFaults(ctx, fmt.Sprintf(`{"rate_limit": %d}`, b14SandboxLimit)); err != nil {
		return nil, err
	}
	sb.reset()
	in, err := e.startInstanceOn(ctx, sb.URL, dbURL, "ORCHESTRATE_RATE_LIMIT="+strconv.Itoa(b14AppRateLimit))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	if err := sb.RegisterWebhook(in.URL+"/webhooks/orchestrate", webhookSecret); err != nil {
		return nil, err
	}
	completeStart := time.Now()
	if err := sb.completeAll(ctx, payments); err != nil {
		return nil, err
	}
	t0 := time.Now()
	e.logf("  %d payments completed at the sandbox in %s", n, t0.Sub(completeStart).Round(time.Millisecond))

	paid := 0
	for {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE id = ANY($1) AND status = 'paid'`, ids).Scan(&paid); err != nil {
			return nil, err
		}
		if paid == n || time.Since(t0) > deadline || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t1 := time.Now()
	took := t1.Sub(t0)
	arrivals, refused := sb.snapshot()
	var jobErrors int
	if err := pool.QueryRow(ctx, `
		SELECT count(*) FROM river_job WHERE kind IN ('confirm_payment', 'confirm_attempt')
		AND (state IN ('retryable', 'discarded', 'cancelled') OR cardinality(errors) > 0)`).Scan(&jobErrors); err != nil {
		return nil, err
	}

	// The ideal is the requests needed, one read a payment: an app reading
	// each payment twice would need twice the time, and miss. What it did
	// read (a 429 uses no capacity and is not counted) is reported beside it.
	inPhase, served, before, refusedAll := 0, 0, 0, 0
	for i, at := range arrivals {
		if refused[i] {
			refusedAll++
		}
		switch {
		case at.Before(t0):
			before++
		case !at.After(t1):
			inPhase++
			if !refused[i] {
				served++
			}
		}
	}
	ideal := time.Duration(float64(n) / b14SandboxLimit * float64(time.Second))
	ratio := took.Seconds() / ideal.Seconds()
	peak := maxPerSecond(arrivals)
	e.logf("  %d/%d paid %s after the last completion; %d API requests meanwhile, %d served (%d from the instance's start until then), ideal %s; at most %d in one second; %d answered 429; %d confirmation jobs with errors",
		paid, n, took.Round(100*time.Millisecond), inPhase, served, before, ideal.Round(100*time.Millisecond), peak, refusedAll, jobErrors)

	var misses []string
	if paid != n {
		misses = append(misses, fmt.Sprintf("%d of %d unpaid after %s", n-paid, n, deadline))
	}
	if ratio > b14Target {
		misses = append(misses, fmt.Sprintf("%.2f× > %.1f×", ratio, b14Target))
	}
	timeVerdict := "PASS"
	if len(misses) > 0 {
		timeVerdict = "MISS (" + strings.Join(misses, "; ") + ")"
	}
	rateVerdict := "PASS"
	var rateMisses []string
	if peak > b14SandboxLimit {
		rateMisses = append(rateMisses, "rate exceeded")
	}
	if jobErrors > 0 {
		rateMisses = append(rateMisses, fmt.Sprintf("%d jobs in error", jobErrors))
	}
	if len(rateMisses) > 0 {
		rateVerdict = "MISS (" + strings.Join(rateMisses, "; ") + ")"
	}
	what := fmt.Sprintf("the burst: %s payments completing at once, sandbox limited to %d requests/s, ORCHESTRATE_RATE_LIMIT=%d", thousands(n), b14SandboxLimit, b14AppRateLimit)
	return []Row{{
		ID: "B14", What: what + ": time until every order is paid",
		Figure: fmt.Sprintf("%.1f s (%d/%d paid); %d API requests served meanwhile (%.2f per payment; %d before)",
			took.Seconds(), paid, n, served, float64(served)/float64(n), before),
		Baseline: fmt.Sprintf("ideal %.1f s = %d reads needed (one a payment) ÷ %d/s", ideal.Seconds(), n, b14SandboxLimit),
		Ratio:    fmt.Sprintf("%.2f×", ratio), Target: fmt.Sprintf("≤ %.1f× ideal", b14Target), Verdict: timeVerdict,
	}, {
		ID: "B14", What: what + ": the rate at the sandbox",
		Figure: fmt.Sprintf("at most %d API requests in any one second; %d answered 429; %d confirmation jobs with errors",
			peak, refusedAll, jobErrors),
		Baseline: "—", Ratio: "—",
		Target:  fmt.Sprintf("≤ %d in any second; no job in error", b14SandboxLimit),
		Verdict: rateVerdict,
	}}, nil
}

// b14Orders creates n orders of one unit each of a product of their own, each
// with an open payment at the sandbox, through an in-process app (River off,
// its limiter off) on the database at dbURL; it returns the orders' ids and
// their payments' ids.
func (e *env) b14Orders(ctx context.Context, pool *pgxpool.Pool, dbURL, sandboxURL string, n int) ([]int64, []string, error) {
	a, _, stop, err := e.startApp(ctx, sandboxURL, []string{"DATABASE_URL=" + dbURL}, checkout.WithoutJobs())
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	var product int64
	if err := pool.QueryRow(ctx, `
		WITH p AS (
			INSERT INTO products (slug, name, description, image, position)
			VALUES ('bench-burst', 'Sale-day kettle', 'On sale today.', 'img/mug.svg', 100) RETURNING id
		), price AS (
			INSERT INTO product_prices (product_id, currency, amount_minor) SELECT id, 'USD', 4500 FROM p
		), s AS (
			INSERT INTO stock (product_id, on_hand) SELECT id, $1 FROM p
		)
		SELECT id FROM p`, n).Scan(&product); err != nil {
		return nil, nil, err
	}
	carts := make([]string, n)
	for i := range carts {
		carts[i] = orders.NewCartID()
	}
	if _, err := pool.Exec(ctx, `
		WITH c AS (INSERT INTO carts (id) SELECT unnest($1::text[]) RETURNING id)
		INSERT INTO cart_items (cart_id, product_id, quantity) SELECT id, $2, 1 FROM c`, carts, product); err != nil {
		return nil, nil, err
	}
	ids := make([]int64, n)
	errs := make(chan error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				o, _, err := a.Payments.Checkout(ctx, carts[i], orders.DefaultCurrency, orders.Customer{Name: "Bench Shopper", Email: "bench@example.com", Address: benchAddress, Method: "standard"})
				if err != nil {
					errs <- err
					continue
				}
				ids[i] = o.ID
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, nil, fmt.Errorf("checkout: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT orchestrate_payment_id FROM payment_attempts WHERE order_id = ANY($1) AND status = 'open'`, ids)
	if err != nil {
		return nil, nil, err
	}
	payments, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, err
	}
	if len(payments) != n {
		return nil, nil, fmt.Errorf("%d open payments, want %d", len(payments), n)
	}
	return ids, payments, nil
}

// scratchDatabase creates (afresh) and migrates database name on the bench's
// server, for a benchmark whose figures must not see the other rows' data;
// drop closes the pool and drops the database.
func (e *env) scratchDatabase(ctx context.Context, name string) (dbURL string, pool *pgxpool.Pool, drop func(), err error) {
	dropDB := func() error {
		admin, err := pgx.Connect(context.WithoutCancel(ctx), e.opts.server)
		if err != nil {
			return err
		}
		defer admin.Close(context.WithoutCancel(ctx))
		_, err = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	if err := dropDB(); err != nil {
		return "", nil, nil, err
	}
	admin, err := pgx.Connect(ctx, e.opts.server)
	if err != nil {
		return "", nil, nil, err
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	admin.Close(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	u, err := url.Parse(e.opts.server)
	if err != nil {
		return "", nil, nil, err
	}
	u.Path = "/" + name
	pool, err = openPool(ctx, u.String())
	if err != nil {
		return "", nil, nil, err
	}
	drop = func() {
		pool.Close()
		if err := dropDB(); err != nil {
			e.logf("drop %s: %v", name, err)
		}
	}
	db := stdlib.OpenDBFromPool(pool)
	err = migrations.Up(ctx, db, nil)
	db.Close()
	if err != nil {
		drop()
		return "", nil, nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	return u.String(), pool, drop, nil
}

// countingSandbox is an in-process sandbox (memory store, webhooks delivered
// by its Run) that records when each API request (/api/…) arrived and how
// many it answered 429: what the provider sees, whatever the app believes it
// sent.
type countingSandbox struct {
	*sandbox.Server
	URL  string
	srv  *http.Server
	stop func()

	mu       sync.Mutex
	arrivals []time.Time // when each API request arrived, in order
	refused  []bool      // whether it was answered 429, by arrival
}

func startCountingSandbox() (*countingSandbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &countingSandbox{URL: "http://" + ln.Addr().String()}
	s.Server, err = sandbox.New(sandbox.Config{APIKey: sandboxKey, BaseURL: s.URL, WebhookMaxAttempts: 20})
	if err != nil {
		ln.Close()
		return nil, err
	}
	h := s.Handler()
	s.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		s.refused = append(s.refused, false)
		i := len(s.arrivals) - 1
		s.mu.Unlock()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			s.mu.Lock()
			if i < len(s.refused) { // not forgotten by reset meanwhile
				s.refused[i] = true
			}
			s.mu.Unlock()
		}
	})}
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(runCtx) }()
	s.stop = func() { cancel(); <-done }
	return s, nil
}

func (s *countingSandbox) Close() {
	s.srv.Close()
	s.stop()
}

// reset forgets the requests counted so far.
func (s *countingSandbox) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals, s.refused = nil, nil
}

// snapshot returns the API requests' arrival times, in order, and whether
// each was answered 429.
func (s *countingSandbox) snapshot() ([]time.Time, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.arrivals), slices.Clone(s.refused)
}

// setFaults replaces the sandbox's faults (PUT /_sandbox/faults).
func (s *countingSandbox) setFaults(ctx context.Context, body string) error {
	return s.control(ctx, http.DefaultClient, http.MethodPut, "/_sandbox/faults", []byte(body))
}

func (s *countingSandbox) control(ctx context.Context, client *http.Client, method, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+sandboxKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("sandbox %s %s: %s", method, path, resp.Status)
	}
	return nil
}

// completeAll completes every payment at the sandbox as a shopper paying
// would (POST /_sandbox/payments/{id}/complete, not an API request), 64 at a
// time, so they complete within a moment of each other.
func (s *countingSandbox) completeAll(ctx context.Context, payments []string) error {
	const workers = 64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	work := make(chan string)
	errs := make(chan error, len(payments))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for p := range work {
				if err := s.control(ctx, client, http.MethodPost, "/_sandbox/payments/"+p+"/complete", nil); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, p := range payments {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	if failed := len(errs); failed > 0 {
		return fmt.Errorf("%d of %d completions failed, the first: %w", failed, len(payments), <-errs)
	}
	return nil
}

// statusWriter records the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxPerSecond is the most of the times, in order, in any one-second window.
func maxPerSecond(times []time.Time) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// thousands writes n with a comma every three digits (2,000).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
