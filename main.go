// Command checkout is the Orchestrate reference checkout: a shop whose orders are
// paid on Orchestrate's hosted page and reconciled from its webhooks and API.
//
//	checkout            serve the shop (and, with no ORCHESTRATE_API_KEY, a local sandbox)
//	checkout sandbox    serve only the Orchestrate sandbox
//
// Configuration comes from the environment; see config.go and the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/migrations"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// run wires the app and serves until ctx is cancelled, then shuts down gracefully:
// in-flight requests finish, background work stops, the pool closes.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "sandbox" {
		return sandbox.Command(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q (want no arguments, or \"sandbox\")", args[0])
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stdout)

	pool, err := openPool(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()

	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if err := migrations.Up(ctx, db, logger); err != nil {
		return err
	}
	provider, err := migrations.NewProvider(db, nil)
	if err != nil {
		return err
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	g, ctx := errgroup.WithContext(ctx)

	if cfg.UseSandbox() {
		if err := startSandbox(ctx, g, cfg, getenv, pool, logger); err != nil {
			return err
		}
	}
	client, err := orchestrate.NewClient(cfg.OrchestrateBaseURL.String(), cfg.OrchestrateAPIKey,
		orchestrate.WithLogger(logger.With("component", "orchestrate")))
	if err != nil {
		return fmt.Errorf("orchestrate client: %w", err)
	}

	// The one clock every business rule reads (payment expiry, the sweeper's
	// schedule, the admin's today and this week); tests give theirs a fake one.
	clock := clockwork.NewRealClock()
	catalog := orders.NewCatalog(pool)
	carts := orders.NewCarts(pool)
	metrics := orders.NewMetrics(pool, logger.With("component", "metrics"))
	registry.MustRegister(metrics)
	orderStore := orders.NewOrders(pool).WithMetrics(metrics)
	payments := orders.NewPayments(pool, client, orders.PaymentsConfig{
		PublicURL:     cfg.PublicURL,
		MCC:           cfg.OrchestrateMCC,
		Expiry:        cfg.PaymentExpiry,
		Description:   cfg.StoreName,
		LinkOrigin:    cfg.OrchestrateBaseURL,
		RequireHTTPS:  cfg.Production(),
		CreateTimeout: cfg.CreateTimeout,
		RecheckYoung:  cfg.SweepInterval,
		Metrics:       metrics,
		Clock:         clock,
	}, logger.With("component", "payments"))

	jobs, err := orders.NewJobs(pool, payments, orders.JobsConfig{SweepInterval: cfg.SweepInterval, RescueAfter: cfg.JobRescueAfter}, logger.With("component", "river"))
	if err != nil {
		return err
	}
	inbox := orders.NewInbox(pool, jobs)

	// Admin sessions and the shop's flashes live in PostgreSQL (table sessions),
	// shared by every instance. pgxstore's own cleanup goroutine cannot be stopped
	// without a data race, so expired sessions are deleted by a loop of ours below.
	sessionStore := pgxstore.NewWithCleanupInterval(pool, 0)
	sessions := handlers.NewSessionManager(sessionStore, cfg.AdminSessionLifetime, cfg.AdminSessionIdleTimeout, cfg.Production())

	app := handlers.New(handlers.Config{
		StoreName:      cfg.StoreName,
		Production:     cfg.Production(),
		PublicURL:      cfg.PublicURL,
		OrchestrateURL: cfg.OrchestrateBaseURL,
		Logger:         logger,
		Registry:       registry,
		WebhookSecret:  cfg.OrchestrateWebhookSecret,
		CookieSecret:   []byte(cfg.CookieSecret),
		AdminUsername:  cfg.AdminUsername,
		AdminPassword:  cfg.AdminPassword,
		TrustProxy:     cfg.TrustProxy,
		Clock:          clock,
		Location:       cfg.StoreTimezone,
	}, handlers.Deps{
		Catalog:   catalog,
		Carts:     carts,
		Orders:    orderStore,
		Payments:  payments,
		Inbox:     inbox,
		Readiness: migrations.NewReadiness(pool, provider),
		Flashes:   handlers.NewFlashManager(sessionStore, cfg.Production()),

		Sessions: sessions,
		Throttle: adminauth.NewSigninThrottle(pool, adminauth.ThrottleConfig{}),
	})

	// Background work: River runs until ctx is done, then finishes running jobs.
	if err := jobs.Start(ctx); err != nil {
		return fmt.Errorf("start background jobs: %w", err)
	}
	g.Go(func() error {
		<-ctx.Done()
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return jobs.Stop(stopCtx)
	})

	g.Go(func() error {
		ticker := time.NewTicker(5 * time.Minute)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-ticker.C:
				if err := adminauth.PruneExpiredSessions(ctx, pool); err != nil {
					logger.Warn("deleting expired admin sessions", "error", err)
				}
			}
		}
	})

	serve(ctx, g, logger, "shop", cfg.Addr, cfg.ShutdownTimeout, app)
	if cfg.MetricsAddr != "" {
		// Internal only: the shop's listener does not serve /metrics.
		serve(ctx, g, logger, "metrics", cfg.MetricsAddr, cfg.ShutdownTimeout, handlers.MetricsHandler(registry))
	}

	logger.Info("checkout started",
		"env", cfg.Env,
		"shop", cfg.PublicURL.String()+"/",
		"admin", cfg.PublicURL.String()+"/admin",
		"orchestrate", cfg.OrchestrateBaseURL.String(),
	)
	return g.Wait()
}

// startSandbox runs the built-in Orchestrate sandbox on its own listener, keeping
// its state in the app's database (schema orchestrate_sandbox) and delivering
// webhooks to the app. The app reaches it over HTTP like the real Orchestrate.
func startSandbox(ctx context.Context, g *errgroup.Group, cfg *Config, getenv func(string) string, pool *pgxpool.Pool, logger *slog.Logger) error {
	faults, err := sandbox.FaultsFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	store, err := sandbox.NewPostgresStore(ctx, pool)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	sb, err := sandbox.New(sandbox.Config{
		APIKey:       cfg.OrchestrateAPIKey,
		BaseURL:      cfg.SandboxPublicURL.String(),
		Store:        store,
		Logger:       logger.With("component", "sandbox"),
		Faults:       faults,
		MerchantName: cfg.StoreName,
	})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := sb.RegisterWebhook(cfg.SandboxWebhookURL.String(), cfg.OrchestrateWebhookSecret); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	serve(ctx, g, logger, "sandbox", cfg.SandboxAddr, cfg.ShutdownTimeout, sb.Handler())
	g.Go(func() error { return sb.Run(ctx) })
	logger.Info("Orchestrate sandbox started", "url", cfg.SandboxPublicURL.String(), "dashboard", cfg.SandboxPublicURL.String()+"/_sandbox/", "webhooks_to", cfg.SandboxWebhookURL.String())
	return nil
}

// serve runs an HTTP server in g until ctx is done, then shuts it down, giving
// in-flight requests up to timeout to finish.
func serve(ctx context.Context, g *errgroup.Group, logger *slog.Logger, name, addr string, timeout time.Duration, h http.Handler) {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	g.Go(func() error {
		logger.Info("listening", "server", name, "addr", addr)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s server: %w", name, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		logger.Info("shutting down", "server", name)
		shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("%s server shutdown: %w", name, err)
		}
		return nil
	})
}

// newLogger returns a text logger in development and a JSON one in production.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openPool connects to PostgreSQL, waiting up to 30 seconds for it to accept
// connections (a database started alongside the app may still be booting).
func openPool(ctx context.Context, cfg *Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = cfg.DatabaseMaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = pool.Ping(pingCtx)
		cancel()
		if err == nil {
			return pool, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			pool.Close()
			return nil, fmt.Errorf("database %s/%s is unreachable: %w", pcfg.ConnConfig.Host, pcfg.ConnConfig.Database, err)
		}
		logger.Warn("waiting for the database", "host", pcfg.ConnConfig.Host, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
