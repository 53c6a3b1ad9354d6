package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/seed"
	"github.com/orchestrate-checkout/checkout/orders"
)

// The admin's credentials: the app's development defaults (internal/app/config.go), so the
// real binary started by process.go accepts them too.
const (
	adminUser = "admin"
	adminPass = "admin"
)

// b9Orders is how many orders B9 and the CSV part of B11 run over (issue #8).
const b9Orders = 1_000_000

// b9Rate is the constant rate of B9's latency runs: several admins browsing at
// once, far below the page's maximum, so the p99 is the page's, not a queue's.
// A view whose statements take longer is sent fewer (listRate).
const b9Rate = 50

// listRate is the rate for a view whose statements take sqlTime in the
// database: b9Rate, or less so that they keep at most half of one core busy
// (the p99 would otherwise measure a queue on two shared cores), at least 2/s.
func listRate(sqlTime time.Duration) float64 {
	r := float64(b9Rate)
	if sqlTime > 0 {
		r = min(r, 0.5*float64(time.Second)/float64(sqlTime))
	}
	return max(r, 2)
}

// b9PageSize is handlers.adminPageSize: page 5,000 starts after 4,999 × 50 orders.
const b9PageSize = 50

// adminState is what B9, B10 and B11's CSV row share within one run: how many
// orders are seeded, the in-process admin app, and B10's growth figures. The
// seeding is done once, in steps, and reused (it takes most of their time).
var adminState struct {
	seeded int
	app    *adminApp
	growth map[int]growthPoint // by orders present
}

// ensureOrders seeds orders (and as many webhook deliveries) until n are present.
func (e *env) ensureOrders(ctx context.Context, n int) error {
	if adminState.seeded >= n {
		return nil
	}
	t0 := time.Now()
	add := n - adminState.seeded
	// New orders are spread over the year before the first seed's "now", newest
	// last, interleaved with those already there.
	if err := seed.Orders(ctx, e.pool, seed.Options{Orders: add}); err != nil {
		return err
	}
	if err := seedDeliveries(ctx, e.pool, adminState.seeded, n); err != nil {
		return err
	}
	adminState.seeded = n
	e.logf("  seeded %d orders and webhook deliveries (now %d) in %s", add, n, time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// seedDeliveries inserts processed payment.succeeded deliveries lo..hi-1 into the
// webhook inbox, so B5's table holds as many rows as orders has.
func seedDeliveries(ctx context.Context, pool *pgxpool.Pool, lo, hi int) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO webhook_events (dedup_key, event_id, event_type, payment_id, raw_body, result, received_at, processed_at)
			SELECT 'event:evt_seed_' || i, 'evt_seed_' || i, 'payment.succeeded', 'pay_seed_' || i,
			       convert_to('{"id":"evt_seed_' || i || '","type":"payment.succeeded","payload":{"id":"pay_seed_' || i || '"}}', 'UTF8'),
			       'applied', now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval
			FROM generate_series($1::int, $2::int - 1) AS i`, lo, hi)
		return err
	})
}

// sqlRecorder is a pgx tracer that, while on, keeps every statement its pool runs.
type sqlRecorder struct {
	on    atomic.Bool
	mu    sync.Mutex
	stmts []capturedSQL
}

type capturedSQL struct {
	SQL  string
	Args []any
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if r.on.Load() {
		var args []any
		for _, a := range d.Args {
			if _, ok := a.(pgx.QueryExecMode); !ok {
				args = append(args, a)
			}
		}
		r.mu.Lock()
		r.stmts = append(r.stmts, capturedSQL{d.SQL, args})
		r.mu.Unlock()
	}
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A batch is recorded as its statements between the markers pipelineStart and
// pipelineEnd: one round trip, one implicit transaction.
const (
	pipelineStart = `\startpipeline`
	pipelineEnd   = `\endpipeline`
)

func (r *sqlRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.note(capturedSQL{SQL: pipelineStart})
	return ctx
}

func (r *sqlRecorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.note(capturedSQL{d.SQL, d.Args})
}

func (r *sqlRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {
	r.note(capturedSQL{SQL: pipelineEnd})
}

func (r *sqlRecorder) note(c capturedSQL) {
	if r.on.Load() {
		r.mu.Lock()
		r.stmts = append(r.stmts, c)
		r.mu.Unlock()
	}
}

// record runs fn with the recorder on and returns the statements it ran.
func (r *sqlRecorder) record(fn func() error) ([]capturedSQL, error) {
	r.mu.Lock()
	r.stmts = nil
	r.mu.Unlock()
	r.on.Store(true)
	err := fn()
	r.on.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stmts, err
}

// adminApp is an instance of the app built as main builds it, with River off,
// sharing the base app's sandbox, on its own pool whose statements can be
// recorded.
type adminApp struct {
	URL     string
	Pool    *pgxpool.Pool
	rec     *sqlRecorder
	cookies []*http.Cookie
}

func (e *env) adminApp(ctx context.Context) (*adminApp, error) {
	if adminState.app != nil {
		return adminState.app, nil
	}
	base, err := e.baseApp(ctx) // its sandbox is this instance's Orchestrate
	if err != nil {
		return nil, err
	}
	a := &adminApp{rec: &sqlRecorder{}}
	built, url, stop, err := e.startApp(ctx, base.SandboxURL, nil, checkout.WithoutJobs(), checkout.WithPoolTracer(a.rec))
	if err != nil {
		return nil, err
	}
	a.URL, a.Pool = url, built.Pool
	e.closers = append(e.closers, stop)
	if a.cookies, err = adminSignIn(ctx, a.URL); err != nil {
		return nil, err
	}
	// Warm the new app (pool connections, templates) before any figure.
	closedLoop(ctx, get(a.URL+"/admin/orders", a.cookies...), 4, e.opts.dur/2)
	adminState.app = a
	return a, nil
}

var csrfInput = regexp.MustCompile(`name="_csrf"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="_csrf"`)

// adminSignIn signs in at base/admin/login over HTTP as a browser does: the form
// (and its _csrf cookie and token), then the POST; it returns the cookies.
func adminSignIn(ctx context.Context, base string) ([]*http.Cookie, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/admin/login", nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInput.FindStringSubmatch(string(body))
	if resp.StatusCode != http.StatusOK || m == nil {
		return nil, fmt.Errorf("admin sign-in form: %s, no _csrf token found", resp.Status)
	}
	token := m[1] + m[2]
	form := url.Values{"username": {adminUser}, "password": {adminPass}, "_csrf": {token}, "next": {"/admin/orders"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("admin sign-in: %s", resp.Status)
	}
	u, _ := url.Parse(base + "/admin/orders")
	cookies := jar.Cookies(u)
	if !slices.ContainsFunc(cookies, func(c *http.Cookie) bool { return c.Name == "admin_session" }) {
		return nil, errors.New("admin sign-in: no admin_session cookie")
	}
	return cookies, nil
}

// listCase is one view of the orders list B9 measures.
type listCase struct {
	Name  string
	Query url.Values
	// DeepStatus, when set, pages 5,000 deep: the cursor is the (created_at, id)
	// of the last order on page 4,999 of the list filtered by this status ("any"
	// for none), computed in SQL.
	DeepStatus string
}

// b9Email is a customer the search looks for: one order of each seeding step
// (seed names customers by their position in the step), so present at every size.
const b9Email = "customer1234@example.com"

func b9Cases() []listCase {
	return []listCase{
		{Name: "page 1", Query: url.Values{}},
		{Name: "page 5,000", Query: url.Values{}, DeepStatus: "any"},
		{Name: "status=paid, page 1", Query: url.Values{"status": {"paid"}}},
		{Name: "status=paid, page 5,000", Query: url.Values{"status": {"paid"}}, DeepStatus: "paid"},
		{Name: "status=needs_review, page 1", Query: url.Values{"status": {"needs_review"}}},
		{Name: "search an email, page 1", Query: url.Values{"q": {b9Email}}},
		{Name: "search \"example.com\" (every order), page 1", Query: url.Values{"q": {"example.com"}}},
	}
}

// listURL is the case's URL, with its deep cursor looked up now.
func (e *env) listURL(ctx context.Context, a *adminApp, c listCase) (string, error) {
	q := url.Values{}
	for k, v := range c.Query {
		q[k] = v
	}
	if c.DeepStatus != "" {
		var cur orders.Cursor
		err := e.pool.QueryRow(ctx, `
			SELECT created_at, id FROM orders WHERE $1 = 'any' OR status = $1
			ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`, c.DeepStatus, 4999*b9PageSize-1).Scan(&cur.CreatedAt, &cur.ID)
		if err != nil {
			return "", fmt.Errorf("deep cursor for %s: %w", c.Name, err)
		}
		q.Set("after", cur.String())
	}
	u := a.URL + "/admin/orders"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

// listLatency is the median p99 (and p50) of GET u at rate, over opts.runs runs
// of opts.dur, or longer at a low rate.
func (e *env) listLatency(ctx context.Context, a *adminApp, u string, rate float64) (p50, p99 time.Duration, err error) {
	tr := get(u, a.cookies...)
	// A slow view's runs last long enough for 30 requests each.
	d := max(e.opts.dur, time.Duration(30/rate*float64(time.Second)))
	constantRate(ctx, tr, rate, e.opts.dur/4) // warm-up
	var p50s, p99s []time.Duration
	for range e.opts.runs {
		s := constantRate(ctx, tr, rate, d)
		if err := s.check("GET " + u); err != nil {
			return 0, 0, err
		}
		p50s, p99s = append(p50s, s.P50), append(p99s, s.P99)
	}
	return medianDur(p50s), medianDur(p99s), nil
}

// sqlTiming is the database's own time for one request's statements.
type sqlTiming struct {
	Time    time.Duration // planning + execution, summed over the statements
	Stmts   int
	Nodes   []string // distinct plan node types, "Index Scan orders_created_idx" style
	SeqScan []string // relations read by a Seq Scan
	Indexes []string // indexes read, but the session's
}

// explainRequest captures the statements one GET u runs (pgx tracer on the
// admin's pool) and runs each under EXPLAIN (ANALYZE, FORMAT JSON) the way the
// app runs it (unprepared, so planned for these values). Time is the median
// over opts.runs.
func (e *env) explainRequest(ctx context.Context, a *adminApp, u string) (sqlTiming, error) {
	var out sqlTiming
	stmts, err := a.rec.record(func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		for _, c := range a.cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	out.Stmts = len(stmts)
	nodes, seq, indexes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var times []time.Duration
	for r := 0; r < e.opts.runs+1; r++ { // the first run warms the cache and is dropped
		var total time.Duration
		for _, s := range stmts {
			var raw []byte
			args := append([]any{pgx.QueryExecModeExec}, s.Args...)
			if err := e.pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+s.SQL, args...).Scan(&raw); err != nil {
				return out, fmt.Errorf("explain %q: %w", firstLine(s.SQL), err)
			}
			var plans []struct {
				Plan          planNode `json:"Plan"`
				PlanningTime  float64  `json:"Planning Time"`
				ExecutionTime float64  `json:"Execution Time"`
			}
			if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
				return out, fmt.Errorf("explain output: %v", err)
			}
			total += time.Duration((plans[0].PlanningTime + plans[0].ExecutionTime) * float64(time.Millisecond))
			plans[0].Plan.walk(func(n *planNode) {
				name := n.NodeType
				if n.IndexName != "" {
					name += " " + n.IndexName
				} else if n.RelationName != "" {
					name += " " + n.RelationName
				}
				nodes[name] = true
				if n.NodeType == "Seq Scan" {
					seq[n.RelationName] = true
				}
				if n.IndexName != "" && n.IndexName != "sessions_pkey" {
					indexes[n.IndexName] = true
				}
			})
		}
		if r > 0 {
			times = append(times, total)
		}
	}
	out.Time = medianDur(times)
	for n := range nodes {
		out.Nodes = append(out.Nodes, n)
	}
	for s := range seq {
		out.SeqScan = append(out.SeqScan, s)
	}
	for i := range indexes {
		out.Indexes = append(out.Indexes, i)
	}
	slices.Sort(out.Indexes)
	slices.Sort(out.Nodes)
	slices.Sort(out.SeqScan)
	return out, nil
}

// planNode is one node of EXPLAIN's JSON plan.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

func (n *planNode) walk(fn func(*planNode)) {
	fn(n)
	for i := range n.Plans {
		n.Plans[i].walk(fn)
	}
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// b9Target is issue #6's latency target for the list at a million orders.
const b9Target = 100 * time.Millisecond

func runB9(ctx context.Context, e *env) ([]Row, error) {
	// B10's smaller sizes first when it runs too, so the seeding is shared.
	if e.opts.only == nil || e.opts.only["B10"] {
		if err := e.measureGrowth(ctx, []int{10_000, 100_000}); err != nil {
			return nil, err
		}
	}
	if err := e.ensureOrders(ctx, b9Orders); err != nil {
		return nil, err
	}
	a, err := e.adminApp(ctx)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, c := range b9Cases() {
		u, err := e.listURL(ctx, a, c)
		if err != nil {
			return nil, err
		}
		sqlT, err := e.explainRequest(ctx, a, u)
		if err != nil {
			return nil, err
		}
		rate := listRate(sqlT.Time)
		p50, p99, err := e.listLatency(ctx, a, u, rate)
		if err != nil {
			return nil, err
		}
		ratio := float64(p99) / float64(sqlT.Time)
		e.logf("  %-40s at %3.0f/s: p50 %s p99 %s; SQL %s in %d statements; seq scans %v; plan: %s",
			c.Name, rate, ms(p50), ms(p99), ms(sqlT.Time), sqlT.Stmts, sqlT.SeqScan, strings.Join(sqlT.Nodes, ", "))
		seqNote := "no seq scan; " + strings.Join(sqlT.Indexes, ", ")
		if len(sqlT.SeqScan) > 0 {
			seqNote = "Seq Scan on " + strings.Join(sqlT.SeqScan, ", ")
		}
		met := func(ok bool) string {
			if ok {
				return "met"
			}
			return "missed"
		}
		rows = append(rows, Row{
			ID: "B9", What: "admin orders list, 1M orders: " + c.Name,
			Figure:   fmt.Sprintf("p99 %s (p50 %s) at %.0f req/s", ms(p99), ms(p50), rate),
			Baseline: fmt.Sprintf("%s EXPLAIN ANALYZE, %d statement(s); %s", ms(sqlT.Time), sqlT.Stmts, seqNote),
			Ratio:    fmt.Sprintf("%.1f× (2×: %s; 100 ms: %s)", ratio, met(ratio <= 2), met(p99 <= b9Target)),
			Target:   "≤ 2× SQL; no seq scan; p99 ≤ 100 ms (#6)",
			Verdict:  verdict(ratio <= 2 && len(sqlT.SeqScan) == 0 && p99 <= b9Target),
		})
		if c.Name == "page 1" || strings.HasPrefix(c.Name, "search an email") {
			e.noteGrowth(b9Orders, c.Name, p99, rate)
		}
	}
	return rows, nil
}
