package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orders"
)

// app is the real Echo instance wired to a fresh database, as main wires it.
type app struct {
	e    *echo.Echo
	pool *pgxpool.Pool
}

func newApp(t *testing.T) *app {
	t.Helper()
	db := testdb.New(t)
	return newAppWithPool(t, db.Pool)
}

func newAppWithPool(t *testing.T, pool *pgxpool.Pool) *app {
	t.Helper()
	sqlDB := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { sqlDB.Close() })
	provider, err := migrations.NewProvider(sqlDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := handlers.New(handlers.Config{
		StoreName:      "Field Kettle",
		PublicURL:      mustURL(t, "http://shop.test"),
		OrchestrateURL: mustURL(t, "http://orchestrate.test"),
		Registry:       prometheus.NewRegistry(),
	}, handlers.Deps{
		Catalog:   orders.NewCatalog(pool),
		Readiness: migrations.NewReadiness(pool, provider),
	})
	return &app{e: e, pool: pool}
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
