package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jonboulle/clockwork"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/handlers"
	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

// app is the app as main builds it (internal/app), on a fresh database, talking
// to a real Orchestrate sandbox over HTTP; tests drive its Echo instance.
type app struct {
	e          *echo.Echo
	pool       *pgxpool.Pool
	sandbox    *httptest.Server
	sandboxKey string
	srv        *httptest.Server // the app over HTTP, for shoppers
	sb         *testSandbox
	metrics    http.Handler         // the internal metrics listener's handler, as main serves it
	registry   *prometheus.Registry // every metric of the app
	stop       func()               // stops the app's background work before the test ends
}

const (
	testAPIKey        = "sk_test_handlers"
	testWebhookSecret = "whsec_test_handlers"
	testCookieSecret  = "cookie-secret-of-the-handler-tests"
)

func newApp(t testing.TB) *app {
	t.Helper()
	db := testdb.New(t)
	return newAppWithPool(t, db.Pool)
}

func newAppWithPool(t testing.TB, pool *pgxpool.Pool) *app {
	t.Helper()
	return newAppWith(t, pool, appOptions{})
}

// appOptions vary the app for reconciliation tests; the zero value is the app as
// the handler tests use it.
type appOptions struct {
	// api wraps the Orchestrate client the payments use, to hold or observe calls.
	api func(orders.PaymentsAPI) orders.PaymentsAPI
	// sweep is the sweeper's interval, which is also how often young attempts are
	// re-read; zero leaves the sweeper effectively off (an hour).
	sweep time.Duration
	// webhookRetry is the sandbox's first webhook retry delay (default 1s).
	webhookRetry time.Duration
	// clock is the app's clock (nil: the real one); location is the store's
	// time zone (nil: UTC).
	clock    clockwork.Clock
	location *time.Location
	// config changes the configuration further (production, a password).
	config func(*checkout.Config)
	// payments wires more into the payments before the app serves (effects).
	payments func(*orders.Payments)
	// options are added to the app's own.
	options []checkout.Option
	// chargeShipping keeps the seeded shipping rates; otherwise Standard is
	// free on every order, so the tests of items' prices read totals of items.
	chargeShipping bool
}

// newAppWith is newAppWithPool with options, and its own sandbox sending webhooks
// to it.
func newAppWith(t testing.TB, pool *pgxpool.Pool, opts appOptions) *app {
	t.Helper()
	if !opts.chargeShipping {
		if _, err := pool.Exec(context.Background(), `UPDATE shipping_rates SET free_over_minor = 0 WHERE method = 'standard'`); err != nil {
			t.Fatal(err)
		}
	}
	sb := startSandbox(t, opts)
	a := newInstance(t, pool, sb, opts)
	if err := sb.sb.RegisterWebhook(a.server(t).URL+"/webhooks/orchestrate", testWebhookSecret); err != nil {
		t.Fatal(err)
	}
	return a
}

// testSandbox is an Orchestrate sandbox served over HTTP for the length of a test.
type testSandbox struct {
	srv *httptest.Server
	sb  *sandbox.Server

	mu      sync.Mutex
	creates [][]byte    // the bodies of the payment creates it received, in order
	apiAt   []time.Time // when each API request (/api/…) arrived
}

// apiArrivals returns when each API request arrived, in order.
func (s *testSandbox) apiArrivals() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.apiAt)
}

// createBodies returns the bodies of the payment creates the sandbox received.
func (s *testSandbox) createBodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.creates)
}

func startSandbox(t testing.TB, opts appOptions) *testSandbox {
	t.Helper()
	// The sandbox needs its own URL before it can build payment links.
	var sbHandler http.Handler
	ts := &testSandbox{}
	sbServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			ts.mu.Lock()
			ts.apiAt = append(ts.apiAt, time.Now())
			ts.mu.Unlock()
		}
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/payments" {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			ts.mu.Lock()
			ts.creates = append(ts.creates, body)
			ts.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		sbHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(sbServer.Close)
	sb, err := sandbox.New(sandbox.Config{APIKey: testAPIKey, BaseURL: sbServer.URL, MerchantName: "Field Kettle",
		WebhookRetryBase: opts.webhookRetry, WebhookMaxAttempts: 30})
	if err != nil {
		t.Fatal(err)
	}
	sbHandler = sb.Handler()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sb.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	ts.srv, ts.sb = sbServer, sb
	return ts
}

// testConfig is the app's configuration in the handler tests: the environment
// below, then what no variable can say (the tests serve the shop themselves, and
// sweep faster than an operator may).
func testConfig(t testing.TB, orchestrateURL string, opts appOptions) *checkout.Config {
	t.Helper()
	env := map[string]string{
		"PUBLIC_URL":                 "http://shop.test",
		"COOKIE_SECRET":              testCookieSecret, // shared: several instances may serve one shopper
		"ORCHESTRATE_API_KEY":        testAPIKey,
		"ORCHESTRATE_BASE_URL":       orchestrateURL,
		"ORCHESTRATE_WEBHOOK_SECRET": testWebhookSecret,
		"ORCHESTRATE_CREATE_TIMEOUT": "3s",
		"ADMIN_USERNAME":             testAdminUser,
		"ADMIN_PASSWORD":             testAdminPassword,
		"ADMIN_SESSION_LIFETIME":     "1h",
		"SHUTDOWN_TIMEOUT":           "10s",
	}
	cfg, err := checkout.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.MetricsAddr = "", ""
	cfg.SweepInterval = time.Hour
	if opts.sweep != 0 {
		cfg.SweepInterval = opts.sweep
	}
	if opts.location != nil {
		cfg.StoreTimezone = opts.location
	}
	if opts.config != nil {
		opts.config(cfg)
	}
	return cfg
}

// newInstance is one instance of the app — payments, River workers and the Echo
// routes — over pool, talking to the sandbox sb, running until the test ends.
// Several may share a database.
func newInstance(t testing.TB, pool *pgxpool.Pool, sb *testSandbox, opts appOptions) *app {
	t.Helper()
	options := []checkout.Option{
		checkout.WithPool(pool),
		checkout.WithLogger(slog.New(slog.DiscardHandler)),
		checkout.WithOrchestrateOptions(orchestrate.WithRetry(2, time.Millisecond, 10*time.Millisecond)),
	}
	if opts.api != nil {
		options = append(options, checkout.WithOrchestrateAPI(opts.api))
	}
	if opts.clock != nil {
		options = append(options, checkout.WithClock(opts.clock))
	}
	options = append(options, opts.options...)
	built, err := checkout.New(context.Background(), testConfig(t, sb.srv.URL, opts), options...)
	if err != nil {
		t.Fatal(err)
	}
	if opts.payments != nil {
		opts.payments(built.Payments)
	}
	run := built.Start(context.Background())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := run(); err != nil {
				t.Errorf("app.Run: %v", err)
			}
			built.Close()
		})
	}
	t.Cleanup(stop)
	return &app{e: built.Handler, pool: pool, sandbox: sb.srv, sandboxKey: testAPIKey, sb: sb,
		metrics: built.MetricsHandler, registry: built.Registry, stop: stop}
}

// readiness is the app's readiness check over pool, as main builds it.
func readiness(t testing.TB, pool *pgxpool.Pool) handlers.Readiness {
	t.Helper()
	sqlDB := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { sqlDB.Close() })
	provider, err := migrations.NewProvider(sqlDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	return migrations.NewReadiness(pool, provider)
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// do sends a request through the app and returns the recorded response.
func (a *app) do(t *testing.T, method, target string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// get is do with GET and no body.
func (a *app) get(t *testing.T, target string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return a.do(t, http.MethodGet, target, nil, headers...)
}

// doc parses an HTML response.
func doc(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return d
}

// metric sums the samples of the named metric whose labels contain every one of
// labels (e.g. `result="unavailable"`).
func (a *app) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	var sum float64
	for _, line := range strings.Split(a.scrape(t), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if !match {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v); err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// scrape reads /metrics from the metrics listener's handler.
func (a *app) scrape(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics on the metrics listener = %d", rec.Code)
	}
	return rec.Body.String()
}
