// Package app assembles the checkout: LoadConfig reads the environment into a
// Config, New builds every part from it, Run serves until its context ends.
// main, the handler tests and the benchmarks all build the app through New and
// differ only by Options, so a new part is wired here and nowhere else.
package app

import (
	"time"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jonboulle/clockwork"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/internal/mailcatcher"
	"github.com/orchestrate-checkout/checkout/mailer"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

// App is the checkout, built: every part main serves, exported so tests and
// benchmarks can reach the one they measure or drive.
type App struct {
	Config   *Config
	Logger   *slog.Logger
	Clock    clockwork.Clock // the one clock every business rule reads
	Pool     *pgxpool.Pool
	Registry *prometheus.Registry // every metric of the app, served by MetricsHandler

	// DirectPool is the session pool on DATABASE_DIRECT_URL, nil when unset.
	DirectPool *pgxpool.Pool

	Client *orchestrate.Client // the Orchestrate API client
	// Sandbox is the built-in Orchestrate sandbox, nil unless Config.UseSandbox.
	Sandbox *sandbox.Server

	Catalog  *orders.Catalog
	Carts    *orders.Carts
	Orders   *orders.Orders
	Payments *orders.Payments
	Jobs     *river.Client[pgx.Tx] // reconciliation; Run starts it unless WithoutJobs
	Inbox    *orders.Inbox         // webhook deliveries, queued on Jobs
	Hooks    *orders.Hooks         // outbound webhooks to MERCHANT_WEBHOOK_URL
	// Outbox is the shop's mail to shoppers (receipts, shipments, lookups); its
	// messages are sent by a River worker over Config.SMTP or the catcher.
	Outbox *mailer.Outbox
	// MailCatcher is the local SMTP server that keeps development mail when no
	// SMTP_URL is set; nil otherwise.
	MailCatcher *mailcatcher.Catcher

	// Handler is the shop: every route and middleware, served on Config.Addr.
	Handler *echo.Echo
	// MetricsHandler serves Registry at /metrics, on Config.MetricsAddr only.
	MetricsHandler http.Handler

	startJobs bool
	draining  atomic.Bool // set by Run on shutdown: /readyz answers 503
	// Listeners are bound by New, so a port in use fails at startup and port 0
	// is known before Run; nil when the address is "".
	shopLn, metricsLn, sandboxLn net.Listener
	closers                      []func() // run in reverse by Close
}

// New builds the app from cfg: the pool (opened on Config.DatabaseURL, waiting
// for the database to accept connections), the migrations, the built-in sandbox
// when configured, the Orchestrate client, the stores, River, the sessions, the
// metrics and the HTTP handler, and binds its listeners. Nothing runs until Run.
// On error everything opened so far is closed.
func New(ctx context.Context, cfg *Config, opts ...Option) (_ *App, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	a := &App{Config: cfg, Logger: o.logger, Clock: o.clock, Pool: o.pool, startJobs: !o.noJobs}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Logger == nil {
		out := o.logOutput
		if out == nil {
			out = os.Stdout
		}
		a.Logger = newLogger(cfg, out)
	}
	logger := a.Logger
	if a.Clock == nil {
		a.Clock = clockwork.NewRealClock()
	}

	if a.Pool == nil {
		if a.Pool, err = openPool(ctx, cfg, o.tracer, logger); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.Pool.Close)
	} else if o.tracer != nil {
		return nil, errors.New("app: WithPoolTracer applies only to a pool New opens, not one given WithPool")
	}
	// What needs a session (the migrations' advisory locks, River's LISTEN and
	// leader election) goes over DATABASE_DIRECT_URL when the pool is a pooler's.
	sessionPool := a.Pool
	if cfg.DatabaseDirectURL != "" {
		if a.DirectPool, err = openDirectPool(ctx, cfg, logger); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.DirectPool.Close)
		sessionPool = a.DirectPool
	}
	db := stdlib.OpenDBFromPool(sessionPool)
	a.closers = append(a.closers, func() { db.Close() })
	readiness, err := migrate(ctx, a.Pool, db, logger)
	if err != nil {
		return nil, err
	}

	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.MetricsHandler = handlers.MetricsHandler(a.Registry)

	if cfg.UseSandbox() {
		if err := a.newSandbox(ctx); err != nil {
			return nil, err
		}
	}
	clientOpts := []orchestrate.Option{orchestrate.WithLogger(logger.With("component", "orchestrate"))}
	if cfg.OrchestrateRateLimit > 0 {
		// The limit is on real requests per wall-clock second, so it keeps the
		// real clock even when business rules run on a fake one.
		clientOpts = append(clientOpts, orchestrate.WithRateLimiter(orchestrate.NewRateLimiter(float64(cfg.OrchestrateRateLimit), time.Second, nil)))
	}
	clientOpts = append(clientOpts, o.clientOpts...)
	if a.Client, err = orchestrate.NewClient(cfg.OrchestrateBaseURL.String(), cfg.OrchestrateAPIKey, clientOpts...); err != nil {
		return nil, fmt.Errorf("orchestrate client: %w", err)
	}
	var api orders.PaymentsAPI = a.Client
	if o.wrapAPI != nil {
		api = o.wrapAPI(a.Client)
	}

	a.Catalog = orders.NewCatalog(a.Pool)
	a.Carts = orders.NewCarts(a.Pool)
	metrics := orders.NewMetrics(a.Pool, logger.With("component", "metrics"))
	a.Registry.MustRegister(metrics)
	a.Orders = orders.NewOrders(a.Pool).WithMetrics(metrics)
	if cfg.DatabaseReadURL != "" {
		reads, err := openReadPool(ctx, cfg)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, reads.Close)
		a.Orders.WithReadPool(reads, logger.With("component", "orders"))
	}
	a.Payments = orders.NewPayments(a.Pool, api, orders.PaymentsConfig{
		PublicURL:     cfg.PublicURL,
		MCC:           cfg.OrchestrateMCC,
		Expiry:        cfg.PaymentExpiry,
		Description:   cfg.StoreName,
		LinkOrigin:    cfg.OrchestrateBaseURL,
		RequireHTTPS:  cfg.Production(),
		CreateTimeout: cfg.CreateTimeout,
		RecheckYoung:  cfg.SweepInterval,
		HoldGrace:     cfg.HoldGrace,
		Metrics:       metrics,
		Clock:         a.Clock,
	}, logger.With("component", "payments"))
	hooksCfg := o.hooks
	hooksCfg.URL, hooksCfg.Secret, hooksCfg.Clock = cfg.MerchantWebhookURL, cfg.MerchantWebhookSecret, a.Clock
	if a.Hooks, err = orders.NewHooks(a.Pool, hooksCfg, logger.With("component", "outbound_webhooks")); err != nil {
		return nil, err
	}
	a.Payments.AddEffect(a.Hooks.Effect)
	jobsCfg := orders.JobsConfig{
		Workers:       o.jobWorkers,
		SweepInterval: cfg.SweepInterval,
		RescueAfter:   cfg.JobRescueAfter,
		Hooks:         a.Hooks,
		SessionPool:   a.DirectPool,
	}
	a.Outbox = mailer.NewOutbox(a.Pool, cfg.PublicURL.Hostname(), a.Clock)
	smtp, err := a.mailServer()
	if err != nil {
		return nil, err
	}
	if smtp != nil {
		worker := mailer.NewWorker(a.Outbox, mailer.Config{SMTP: smtp, From: cfg.MailFrom, StoreName: cfg.StoreName, PublicURL: cfg.PublicURL},
			logger.With("component", "mail"))
		jobsCfg.Register = append(jobsCfg.Register, worker.Register)
		a.Payments.AddEffect(a.Outbox.Effect)
		a.Payments.SetReceiptResender(a.Outbox.ResendReceipt)
	} else {
		logger.Warn("no SMTP_URL and no mail catcher: no mail is sent to shoppers")
	}
	a.Jobs, err = orders.NewJobs(a.Pool, a.Payments, jobsCfg, logger.With("component", "river"))
	if err != nil {
		return nil, err
	}
	a.Payments.SetJobs(a.Jobs)
	a.Hooks.SetJobs(a.Jobs)
	a.Outbox.SetJobs(a.Jobs)
	a.Inbox = orders.NewInbox(a.Pool, a.Jobs)

	// Admin sessions and the shop's flashes live in PostgreSQL (table sessions),
	// shared by every instance. pgxstore's own cleanup goroutine cannot be stopped
	// without a data race, so Run deletes expired sessions itself.
	sessionStore := pgxstore.NewWithCleanupInterval(a.Pool, 0)
	a.Handler = handlers.New(handlers.Config{
		StoreName:      cfg.StoreName,
		Production:     cfg.Production(),
		PublicURL:      cfg.PublicURL,
		OrchestrateURL: cfg.OrchestrateBaseURL,
		Logger:         logger,
		Registry:       a.Registry,
		WebhookSecret:  cfg.OrchestrateWebhookSecret,
		CookieSecret:   []byte(cfg.CookieSecret),
		AdminUsername:  cfg.AdminUsername,
		AdminPassword:  cfg.AdminPassword,
		TrustProxy:     cfg.TrustProxy,
		Clock:          a.Clock,
		Location:       cfg.StoreTimezone,
		ShipTo:         cfg.ShipTo,
	}, handlers.Deps{
		Catalog:   a.Catalog,
		Carts:     a.Carts,
		Orders:    a.Orders,
		Payments:  a.Payments,
		Inbox:     a.Inbox,
		Hooks:     a.Hooks,
		Mail:      a.Outbox,
		Readiness: drainReadiness{draining: &a.draining, next: readiness},
		Flashes:   handlers.NewFlashManager(sessionStore, cfg.Production()),

		Sessions: handlers.NewSessionManager(sessionStore, cfg.AdminSessionLifetime, cfg.AdminSessionIdleTimeout, cfg.Production()),
		Throttle: adminauth.NewSigninThrottle(a.Pool, adminauth.ThrottleConfig{Clock: a.Clock}),
	})

	if a.shopLn, err = a.listen("ADDR", cfg.Addr); err != nil {
		return nil, err
	}
	if a.metricsLn, err = a.listen("METRICS_ADDR", cfg.MetricsAddr); err != nil {
		return nil, err
	}
	return a, nil
}

// mailServer is where mail goes: SMTP_URL, or in development without one the
// local mail catcher, started here on MAIL_CATCHER_ADDR; nil when neither.
func (a *App) mailServer() (*mailer.SMTP, error) {
	cfg := a.Config
	if cfg.SMTP != nil {
		return cfg.SMTP, nil
	}
	if cfg.Production() || cfg.MailCatcherAddr == "" {
		return nil, nil
	}
	catcher, err := mailcatcher.Start(cfg.MailCatcherAddr)
	if err != nil {
		return nil, fmt.Errorf("MAIL_CATCHER_ADDR: %w", err)
	}
	a.MailCatcher = catcher
	a.closers = append(a.closers, func() { catcher.Close() })
	host, port, _ := net.SplitHostPort(catcher.Addr())
	n, _ := strconv.Atoi(port)
	return &mailer.SMTP{Host: host, Port: n}, nil
}

// migrate applies the pending migrations and returns the readiness check /readyz
// answers with.
func migrate(ctx context.Context, pool *pgxpool.Pool, db *sql.DB, logger *slog.Logger) (*migrations.Readiness, error) {
	if err := migrations.Up(ctx, db, logger); err != nil {
		return nil, err
	}
	provider, err := migrations.NewProvider(db, nil)
	if err != nil {
		return nil, err
	}
	return migrations.NewReadiness(pool, provider), nil
}

// newSandbox builds the built-in Orchestrate sandbox, keeping its state in the
// app's database (schema orchestrate_sandbox) and delivering webhooks to the app.
// The app reaches it over HTTP like the real Orchestrate, on its own listener.
func (a *App) newSandbox(ctx context.Context) error {
	cfg := a.Config
	store, err := sandbox.NewPostgresStore(ctx, a.Pool)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	a.Sandbox, err = sandbox.New(sandbox.Config{
		APIKey:       cfg.OrchestrateAPIKey,
		BaseURL:      cfg.SandboxPublicURL.String(),
		Store:        store,
		Logger:       a.Logger.With("component", "sandbox"),
		Faults:       cfg.SandboxFaults,
		MerchantName: cfg.StoreName,
	})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := a.Sandbox.RegisterWebhook(cfg.SandboxWebhookURL.String(), cfg.OrchestrateWebhookSecret); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	a.sandboxLn, err = a.listen("SANDBOX_ADDR", cfg.SandboxAddr)
	return err
}

// listen binds addr, the setting name; "" binds nothing.
func (a *App) listen(name, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a.closers = append(a.closers, func() { ln.Close() })
	return ln, nil
}

// Addr is the address the shop listens on (with the port chosen for a port 0),
// or "" when Config.Addr is "".
func (a *App) Addr() string {
	if a.shopLn == nil {
		return ""
	}
	return a.shopLn.Addr().String()
}

// Close releases what New opened: the listeners, and the pool unless it was
// given WithPool. Call it after Run has returned.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// newLogger returns a text logger in development and a JSON one in production.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
