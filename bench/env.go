package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
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

// serveHTTP serves h on a fresh loopback port like main.serve does and returns
// its base URL and a stop function.
func serveHTTP(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
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

// appOptions tune an in-process app.
type appOptions struct {
	Latency   time.Duration // the sandbox's API latency
	Workers   int           // River workers (JobsConfig.Workers); 0 is the app's default
	StartJobs bool          // run River (reconciliation, sweeper); off keeps ack benchmarks free of background work
	Sweep     time.Duration // JobsConfig.SweepInterval; 0 is the app's default
}

// app is the shop wired exactly as main.run wires it (same stores, handlers.New,
// middleware, Prometheus registry, a text logger at info level writing to
// io.Discard), with an in-process Orchestrate sandbox on its own loopback port.
type app struct {
	URL        string
	SandboxURL string
	Sandbox    *sandbox.Server
	Pool       *pgxpool.Pool
	Catalog    *orders.Catalog
	Carts      *orders.Carts
	Orders     *orders.Orders
	Payments   *orders.Payments
	Jobs       *river.Client[pgx.Tx]
	Client     *orchestrate.Client
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
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The sandbox: memory store, webhooks off (the bench sends its own).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a.SandboxURL = "http://" + ln.Addr().String()
	a.Sandbox, err = sandbox.New(sandbox.Config{
		APIKey: sandboxKey, BaseURL: a.SandboxURL, Store: sandbox.NewMemoryStore(),
		Faults: sandbox.Faults{Latency: o.Latency, WebhooksDisabled: true},
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	sbSrv := &http.Server{Handler: a.Sandbox.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go sbSrv.Serve(ln) //nolint:errcheck // ends with Close
	a.stop = append(a.stop, func() { sbSrv.Close() })

	a.Pool, err = openPool(ctx, e.dbURL)
	if err != nil {
		return nil, err
	}
	a.stop = append(a.stop, a.Pool.Close)
	sbURL, _ := url.Parse(a.SandboxURL)
	publicURL, _ := url.Parse("http://localhost:8080")
	a.Client, err = orchestrate.NewClient(a.SandboxURL, sandboxKey, orchestrate.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	a.Catalog = orders.NewCatalog(a.Pool)
	a.Carts = orders.NewCarts(a.Pool)
	// The reconciliation metrics count as main counts them, so the figures include
	// that work too.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := orders.NewMetrics(a.Pool, logger)
	registry.MustRegister(metrics)
	a.Orders = orders.NewOrders(a.Pool).WithMetrics(metrics)
	a.Payments = orders.NewPayments(a.Pool, a.Client, orders.PaymentsConfig{
		PublicURL: publicURL, MCC: 5999, Expiry: time.Hour, Description: "Field Kettle", LinkOrigin: sbURL,
		RecheckYoung: o.Sweep, Metrics: metrics,
	}, logger)
	a.Jobs, err = orders.NewJobs(a.Pool, a.Payments, orders.JobsConfig{Workers: o.Workers, SweepInterval: o.Sweep}, logger)
	if err != nil {
		return nil, err
	}
	if o.StartJobs {
		jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		if err := a.Jobs.Start(jctx); err != nil {
			cancel()
			return nil, err
		}
		a.stop = append(a.stop, func() {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			_ = a.Jobs.Stop(sctx)
			cancel()
		})
	}
	db := stdlib.OpenDBFromPool(a.Pool)
	a.stop = append(a.stop, func() { db.Close() })
	provider, err := migrations.NewProvider(db, nil)
	if err != nil {
		return nil, err
	}
	h := handlers.New(handlers.Config{
		StoreName: "Field Kettle", PublicURL: publicURL, OrchestrateURL: sbURL,
		Logger: logger, Registry: registry, WebhookSecret: webhookSecret, CookieSecret: []byte(cookieSecret),
	}, handlers.Deps{
		Catalog: a.Catalog, Carts: a.Carts, Orders: a.Orders, Payments: a.Payments,
		Inbox: orders.NewInbox(a.Pool, a.Jobs), Readiness: migrations.NewReadiness(a.Pool, provider),
	})
	var stop func()
	a.URL, stop, err = serveHTTP(h)
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
