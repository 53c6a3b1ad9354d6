package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/handlers"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

func TestHealthz(t *testing.T) {
	a := newApp(t)
	rec := a.get(t, "/healthz")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /healthz = %d, want 200", rec.Code)
	}
	assertJSON(t, rec.Body.String(), "status", "ok")
}

func TestReadyz(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		a := newApp(t)
		rec := a.get(t, "/readyz")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /readyz = %d, want 200; body %s", rec.Code, rec.Body)
		}
		assertJSON(t, rec.Body.String(), "status", "ready")
	})
	t.Run("database unreachable", func(t *testing.T) {
		// Port 1 on loopback refuses connections: a database that is down.
		pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/checkout?connect_timeout=1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		a := newReadinessApp(t, pool)
		rec := a.get(t, "/readyz")
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET /readyz with the database down = %d, want 503", rec.Code)
		}
		assertJSON(t, rec.Body.String(), "status", "unavailable")
	})
	t.Run("database stopped while running", func(t *testing.T) {
		db := testdb.New(t)
		a := newReadinessApp(t, db.Pool)
		if rec := a.get(t, "/readyz"); rec.Code != http.StatusOK {
			t.Fatalf("GET /readyz before the stop = %d, want 200", rec.Code)
		}
		// Closing the pool is what the app sees when its database goes away for good.
		db.Pool.Close()
		if rec := a.get(t, "/readyz"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET /readyz after the stop = %d, want 503", rec.Code)
		}
	})
	t.Run("migrations pending", func(t *testing.T) {
		db := testdb.NewEmpty(t)
		a := newReadinessApp(t, db.Pool)
		if rec := a.get(t, "/readyz"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET /readyz on an unmigrated database = %d, want 503", rec.Code)
		}
	})
}

// TestMetrics: the metrics listener serves the shop's figures at /metrics (GET
// and HEAD only); the shop's own listener has no /metrics.
func TestMetrics(t *testing.T) {
	a := newApp(t)
	a.get(t, "/")
	a.get(t, "/no-such-page")
	if rec := a.get(t, "/metrics"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /metrics on the shop = %d, want 404", rec.Code)
	}
	body := a.scrape(t)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/",status="200"} 1`,
		`status="404"`,
		`http_request_duration_seconds_bucket{method="GET",route="/",status="200"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodHead, "/metrics", http.StatusOK},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/healthz", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		a.metrics.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s on the metrics listener = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

func assertJSON(t *testing.T, body, key, want string) {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q is not a JSON object of strings: %v", body, err)
	}
	if m[key] != want {
		t.Errorf("%s = %q, want %q (body %s)", key, m[key], want, body)
	}
}

// newReadinessApp is the Echo app with only its readiness check wired: enough for
// /readyz against a database that is down or not migrated, where the rest of the
// app (River, the sandbox) could not start.
func newReadinessApp(t *testing.T, pool *pgxpool.Pool) *app {
	t.Helper()
	e := handlers.New(handlers.Config{StoreName: "Field Kettle"}, handlers.Deps{Readiness: readiness(t, pool)})
	return &app{e: e, pool: pool}
}
