package app_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// testConfig is a development configuration talking to an Orchestrate that is
// never called, so no built-in sandbox starts, with the shop served nowhere.
func testConfig(t *testing.T, vars map[string]string) *app.Config {
	t.Helper()
	env := map[string]string{
		"ORCHESTRATE_API_KEY":        "sk_test_app",
		"ORCHESTRATE_BASE_URL":       "http://127.0.0.1:9",
		"ORCHESTRATE_WEBHOOK_SECRET": "whsec_test_app",
		"METRICS_ADDR":               "off",
		"SHUTDOWN_TIMEOUT":           "5s",
	}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if vars["ADDR"] == "" {
		cfg.Addr = ""
	}
	return cfg
}

// run runs a until the test ends and checks that it then returns nil.
func run(t *testing.T, a *app.App) {
	t.Helper()
	stop := a.Start(context.Background())
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
		a.Close()
	})
}

// TestRunServesOnAPickedPort: with port 0 the shop's port is chosen by New and
// known before Run, which serves on it; cancelling Run's context closes it.
func TestRunServesOnAPickedPort(t *testing.T) {
	db := testdb.New(t)
	a, err := app.New(t.Context(), testConfig(t, map[string]string{"ADDR": "127.0.0.1:0"}), app.WithPool(db.Pool), app.WithoutJobs())
	if err != nil {
		t.Fatal(err)
	}
	if a.Addr() == "" || strings.HasSuffix(a.Addr(), ":0") {
		t.Fatalf("Addr() = %q, want the port New chose", a.Addr())
	}
	stop := a.Start(context.Background())
	resp, err := http.Get("http://" + a.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	a.Close()
	if _, err := net.DialTimeout("tcp", a.Addr(), time.Second); err == nil {
		t.Error("the shop's port still accepts connections after Run returned")
	}
}

// TestNewRefusesAnAddressInUse: a port in use fails New with the setting's name,
// and the pool given WithPool stays open for its owner.
func TestNewRefusesAnAddressInUse(t *testing.T) {
	db := testdb.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = app.New(t.Context(), testConfig(t, map[string]string{"ADDR": ln.Addr().String()}), app.WithPool(db.Pool))
	if err == nil || !strings.Contains(err.Error(), "ADDR") {
		t.Fatalf("New on a port in use = %v, want an error naming ADDR", err)
	}
	if err := db.Pool.Ping(t.Context()); err != nil {
		t.Errorf("the pool given WithPool was closed: %v", err)
	}
}

// TestRunPrunesExpiredSessions: every app that runs deletes expired sessions
// (pgxstore's own cleanup is off), each sessionPruneInterval of its clock.
func TestRunPrunesExpiredSessions(t *testing.T) {
	db := testdb.New(t)
	clock := clockwork.NewFakeClock()
	a, err := app.New(t.Context(), testConfig(t, nil), app.WithPool(db.Pool), app.WithClock(clock), app.WithoutJobs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(t.Context(), `INSERT INTO sessions (token, data, expiry) VALUES
		('expired', '\x00', now() - interval '1 minute'), ('live', '\x00', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("Run set no timer on the app's clock: %v", err)
	}
	clock.Advance(5 * time.Minute)
	sessions := func() []string {
		rows, _ := db.Pool.Query(t.Context(), `SELECT token FROM sessions ORDER BY token`)
		tokens, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return tokens
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got := sessions()
		if len(got) == 1 && got[0] == "live" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions after 5 minutes of Run = %v, want only the live one", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statements is a pgx tracer keeping every statement it sees.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	s.sql = append(s.sql, d.SQL)
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestWithPoolTracer: the tracer sees the statements of the pool New opens on
// DATABASE_URL; with a pool of the caller's, which New cannot trace, New refuses.
func TestWithPoolTracer(t *testing.T) {
	db := testdb.New(t)
	rec := &statements{}
	a, err := app.New(t.Context(), testConfig(t, map[string]string{"DATABASE_URL": db.URL}), app.WithPoolTracer(rec), app.WithoutJobs())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Catalog.List(t.Context(), "USD"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	traced := strings.Contains(strings.Join(rec.sql, "\n"), "FROM products")
	rec.mu.Unlock()
	if !traced {
		t.Errorf("the tracer did not see the catalog's query; it saw %d statements", len(rec.sql))
	}
	if _, err := app.New(t.Context(), testConfig(t, nil), app.WithPool(db.Pool), app.WithPoolTracer(rec)); err == nil {
		t.Error("New accepted WithPoolTracer with WithPool")
	}
}
