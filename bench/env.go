package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// poolSize is the app's default DATABASE_MAX_CONNS; the bench's app uses the same.
const poolSize = 20

// benchDB is the database the bench (re)creates on the server for its run.
const benchDB = "checkout_bench"

// Credentials the in-process sandbox and app share.
const (
	sandboxKey    = "sk_sandbox_bench"
	webhookSecret = "whsec_bench"
	cookieSecret  = "cookie-secret-of-the-benchmarks-0123456789" // signs the cart cookies the bench makes
)

// env is what every benchmark shares: options, the bench database and a log.
type env struct {
	opts    *options
	log     io.Writer
	dbURL   string
	pool    *pgxpool.Pool // the bench's own pool, for seeding and checks
	closers []func()

	base    *app            // the in-process app with a 0 ms sandbox, built on first use
	bareRPS float64         // B1's bare hello req/s, reused by B4 when B1 ran
	b5      map[int]float64 // B5's req/s by senders, for B6 and B12
	binary  apptest.Binary  // the app binary, built on first use
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "bench: "+format+"\n", args...)
}

// newEnv creates a fresh bench database on the server and migrates it.
func newEnv(ctx context.Context, opts *options, log io.Writer) (*env, error) {
	e := &env{opts: opts, log: log}
	admin, err := pgx.Connect(ctx, opts.server)
	if err != nil {
		return nil, fmt.Errorf("connect to the PostgreSQL server: %w", err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		"DROP DATABASE IF EXISTS " + benchDB + " WITH (FORCE)",
		"CREATE DATABASE " + benchDB,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	u, err := url.Parse(opts.server)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + benchDB
	e.dbURL = u.String()
	e.pool, err = openPool(ctx, e.dbURL)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(e.pool)
	err = migrations.Up(ctx, db, nil)
	db.Close()
	if err != nil {
		e.pool.Close()
		return nil, fmt.Errorf("migrate the bench database: %w", err)
	}
	e.logf("fresh database %s on %s", benchDB, u.Redacted())
	return e, nil
}

func openPool(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = poolSize
	return pgxpool.NewWithConfig(ctx, cfg)
}

func (e *env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.pool.Close()
	e.binary.Remove()
}

// serveHTTP serves h on a fresh loopback port in the app's own http.Server
// settings and returns its base URL and a stop function.
func serveHTTP(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := checkout.NewHTTPServer(h, discardLogger())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err) // a bench server that dies mid-run invalidates every figure
		}
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// appEnv is the environment of every app the bench runs, in-process or as a
// child process (whose DATABASE_URL apptest sets): the app's defaults but for
// the bench's pool size and secrets, and orchestrateURL as its Orchestrate.
func appEnv(orchestrateURL string) []string {
	return []string{
		"DATABASE_MAX_CONNS=" + strconv.Itoa(poolSize), "COOKIE_SECRET=" + cookieSecret,
		"ORCHESTRATE_API_KEY=" + sandboxKey, "ORCHESTRATE_BASE_URL=" + orchestrateURL,
		"ORCHESTRATE_WEBHOOK_SECRET=" + webhookSecret, "LOG_LEVEL=info",
		// The rows measure the app against their baselines, not a provider's rate
		// limit: the client-side limiter (default 20/s) is off here.
		"ORCHESTRATE_RATE_LIMIT=0",
	}
}

// startApp builds the app in-process as main does (internal/app), configured by
// the environment vars (NAME=value) on top of appEnv, logging to io.Discard,
// and runs it serving the shop on a fresh loopback port until stop.
func (e *env) startApp(ctx context.Context, orchestrateURL string, vars []string, opts ...checkout.Option) (a *checkout.App, url string, stop func(), err error) {
	environ := map[string]string{}
	for _, kv := range append(append(appEnv(orchestrateURL), "DATABASE_URL="+e.dbURL, "ADDR=127.0.0.1:0", "METRICS_ADDR=off"), vars...) {
		k, v, _ := strings.Cut(kv, "=")
		environ[k] = v
	}
	cfg, err := checkout.LoadConfig(func(k string) string { return environ[k] })
	if err != nil {
		return nil, "", nil, err
	}
	a, err = checkout.New(ctx, cfg, append([]checkout.Option{checkout.WithLogOutput(io.Discard)}, opts...)...)
	if err != nil {
		return nil, "", nil, err
	}
	stopRun := a.Start(context.WithoutCancel(ctx))
	stop = func() {
		if err := stopRun(); err != nil {
			e.logf("app: %v", err)
		}
		a.Close()
	}
	return a, "http://" + a.Addr(), stop, nil
}

// appOptions tune an in-process app.
type appOptions struct {
	Latency   time.Duration // the sandbox's API latency
	Workers   int           // River workers (JobsConfig.Workers); 0 is the app's default
	StartJobs bool          // run River (reconciliation, sweeper); off keeps ack benchmarks free of background work
	Sweep     time.Duration // SWEEP_INTERVAL; 0 is the app's default
}

// app is the shop built as main builds it (internal/app: same stores, handlers,
// middleware, Prometheus registry, sessions, a text logger at info level writing
// to io.Discard), talking to an in-process Orchestrate sandbox on its own
// loopback port.
type app struct {
	*checkout.App
	URL        string
	SandboxURL string
	stop       []func()
}

func (a *app) Close() {
	for i := len(a.stop) - 1; i >= 0; i-- {
		a.stop[i]()
	}
}

func (e *env) newApp(ctx context.Context, o appOptions) (*app, error) {
	a := &app{}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	// The sandbox: memory store, webhooks off (the bench sends its own).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a.SandboxURL = "http://" + ln.Addr().String()
	sb, err := sandbox.New(sandbox.Config{
		APIKey: sandboxKey, BaseURL: a.SandboxURL, Store: sandbox.NewMemoryStore(),
		Faults: sandbox.Faults{Latency: o.Latency, WebhooksDisabled: true},
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	sbSrv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go sbSrv.Serve(ln) //nolint:errcheck // ends with Close
	a.stop = append(a.stop, func() { sbSrv.Close() })

	var vars []string
	if o.Sweep != 0 {
		vars = append(vars, "SWEEP_INTERVAL="+o.Sweep.String())
	}
	var opts []checkout.Option
	if !o.StartJobs {
		opts = append(opts, checkout.WithoutJobs())
	}
	if o.Workers != 0 {
		opts = append(opts, checkout.WithJobWorkers(o.Workers))
	}
	var stop func()
	a.App, a.URL, stop, err = e.startApp(ctx, a.SandboxURL, vars, opts...)
	if err != nil {
		return nil, err
	}
	a.stop = append(a.stop, stop)
	ok = true
	return a, nil
}

// baseApp returns the shared in-process app (0 ms sandbox, River not started).
func (e *env) baseApp(ctx context.Context) (*app, error) {
	if e.base != nil {
		return e.base, nil
	}
	a, err := e.newApp(ctx, appOptions{})
	if err != nil {
		return nil, err
	}
	e.base = a
	e.closers = append(e.closers, a.Close)
	return a, nil
}
