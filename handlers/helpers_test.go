package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

// app is the real Echo instance wired to a fresh database and a real Orchestrate
// sandbox over HTTP, as main wires them.
type app struct {
	e          *echo.Echo
	pool       *pgxpool.Pool
	sandbox    *httptest.Server
	sandboxKey string
	srv        *httptest.Server // the app over HTTP, for shoppers
}

const (
	testAPIKey        = "sk_test_handlers"
	testWebhookSecret = "whsec_test_handlers"
)

func newApp(t *testing.T) *app {
	t.Helper()
	db := testdb.New(t)
	return newAppWithPool(t, db.Pool)
}

func newAppWithPool(t *testing.T, pool *pgxpool.Pool) *app {
	t.Helper()
	// The sandbox needs its own URL before it can build payment links.
	var sbHandler http.Handler
	sbServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sbHandler.ServeHTTP(w, r) }))
	t.Cleanup(sbServer.Close)
	sb, err := sandbox.New(sandbox.Config{APIKey: testAPIKey, BaseURL: sbServer.URL, MerchantName: "Field Kettle"})
	if err != nil {
		t.Fatal(err)
	}
	sbHandler = sb.Handler()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sb.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	client, err := orchestrate.NewClient(sbServer.URL, testAPIKey, orchestrate.WithRetry(2, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	sandboxURL := mustURL(t, sbServer.URL)
	payments := orders.NewPayments(pool, client, orders.PaymentsConfig{
		PublicURL:     mustURL(t, "http://shop.test"),
		MCC:           5999,
		Expiry:        time.Hour,
		Description:   "Field Kettle",
		LinkOrigin:    sandboxURL,
		CreateTimeout: 3 * time.Second,
	}, nil)
	jobs, err := orders.NewJobs(pool, payments, orders.JobsConfig{SweepInterval: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = jobs.Stop(stopCtx)
	})
	e := handlers.New(handlers.Config{
		StoreName:      "Field Kettle",
		PublicURL:      mustURL(t, "http://shop.test"),
		OrchestrateURL: sandboxURL,
		Registry:       prometheus.NewRegistry(),
		WebhookSecret:  testWebhookSecret,
		AdminUsername:  testAdminUser,
		AdminPassword:  testAdminPassword,
	}, handlers.Deps{
		Catalog:   orders.NewCatalog(pool),
		Carts:     orders.NewCarts(pool),
		Orders:    orders.NewOrders(pool),
		Payments:  payments,
		Webhooks:  orders.NewInbox(pool, jobs),
		Readiness: readiness(t, pool),

		Sessions:      handlers.NewSessionManager(pgxstore.NewWithCleanupInterval(pool, 0), time.Hour, false),
		Throttle:      orders.NewSigninThrottle(pool, orders.ThrottleConfig{}),
		AdminOrders:   orders.NewOrders(pool),
		AdminPayments: payments,
		Reprocess:     orders.NewInbox(pool, jobs),
	})
	a := &app{e: e, pool: pool, sandbox: sbServer, sandboxKey: testAPIKey}
	if err := sb.RegisterWebhook(a.server(t).URL+"/webhooks/orchestrate", testWebhookSecret); err != nil {
		t.Fatal(err)
	}
	return a
}

// readiness is the app's readiness check over pool, as main builds it.
func readiness(t *testing.T, pool *pgxpool.Pool) handlers.Readiness {
	t.Helper()
	sqlDB := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { sqlDB.Close() })
	provider, err := migrations.NewProvider(sqlDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	return migrations.NewReadiness(pool, provider)
}

func mustURL(t *testing.T, s string) *url.URL {
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
