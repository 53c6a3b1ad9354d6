package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
)

// sessionPruneInterval is how often Run deletes expired admin sessions.
const sessionPruneInterval = 5 * time.Minute

// Run serves the shop, the metrics and the built-in sandbox on their listeners
// and runs the background work (River, the sandbox's webhook deliveries, the
// pruning of expired sessions) until ctx is done. It then shuts down gracefully,
// in phases, each logged: for Config.ShutdownDrain /readyz answers 503 while
// every other request is still served (a load balancer stops sending new ones);
// then the listeners close, in-flight requests get Config.ShutdownTimeout to
// finish, and River stops fetching and lets its running jobs finish within the
// same timeout, after which it cancels them (River retries them). It returns nil
// after a clean shutdown, or the first error of any part, which stops the others
// at once. Run once per App, then Close.
func (a *App) Run(parent context.Context) error {
	cfg := a.Config
	// ctx ends when the parts must stop: after the drain, or when one fails.
	stopping, stopParts := context.WithCancel(context.WithoutCancel(parent))
	defer stopParts()
	g, ctx := errgroup.WithContext(stopping)
	g.Go(func() error {
		select {
		case <-ctx.Done(): // a part failed
			return nil
		case <-parent.Done():
		}
		a.draining.Store(true)
		a.Logger.Info("shutdown: draining, /readyz answers 503", "for", cfg.ShutdownDrain.String())
		if cfg.ShutdownDrain > 0 {
			t := time.NewTimer(cfg.ShutdownDrain)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
		a.Logger.Info("shutdown: closing the listeners; in-flight requests and running jobs may finish", "within", cfg.ShutdownTimeout.String())
		stopParts()
		return nil
	})

	if a.startJobs {
		// River's own context is never cancelled: that would cancel the running
		// jobs at once. stopJobs stops it gracefully instead.
		if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
			stopParts()
			g.Wait() //nolint:errcheck // the start's error says more
			return fmt.Errorf("start background jobs: %w", err)
		}
		g.Go(func() error {
			<-ctx.Done()
			return a.stopJobs()
		})
	}
	g.Go(func() error { a.pruneSessions(ctx); return nil })

	if a.Sandbox != nil {
		var h http.Handler = a.Sandbox.Handler()
		if a.MailCatcher != nil {
			// The catcher's page sits beside the sandbox's dashboard.
			mux := http.NewServeMux()
			mux.Handle("GET /_sandbox/mail", a.MailCatcher.Handler())
			mux.Handle("/", h)
			h = mux
		}
		a.serve(ctx, g, "sandbox", a.sandboxLn, h)
		g.Go(func() error { return a.Sandbox.Run(ctx) })
		a.Logger.Info("Orchestrate sandbox started", "url", cfg.SandboxPublicURL.String(), "dashboard", cfg.SandboxPublicURL.String()+"/_sandbox/", "webhooks_to", cfg.SandboxWebhookURL.String())
	}
	if a.MailCatcher != nil {
		page := "(no page: the sandbox is not running)"
		if a.Sandbox != nil {
			page = cfg.SandboxPublicURL.String() + "/_sandbox/mail"
		}
		a.Logger.Info("mail catcher started: development mail is kept here, not delivered", "smtp", a.MailCatcher.Addr(), "page", page)
	} else if cfg.SMTP != nil {
		a.Logger.Info("mail goes to SMTP", "server", cfg.SMTP.String())
	}
	if a.shopLn != nil {
		a.serve(ctx, g, "shop", a.shopLn, a.Handler)
	}
	if a.metricsLn != nil {
		// Internal only: the shop's listener does not serve /metrics.
		a.serve(ctx, g, "metrics", a.metricsLn, a.MetricsHandler)
	}

	a.Logger.Info("checkout started",
		"env", cfg.Env,
		"shop", cfg.PublicURL.String()+"/",
		"admin", cfg.PublicURL.String()+"/admin",
		"orchestrate", cfg.OrchestrateBaseURL.String(),
	)
	err := g.Wait()
	if err == nil {
		a.Logger.Info("shutdown: done")
	}
	return err
}

// stopJobs stops River: it fetches no more jobs and those running get
// Config.ShutdownTimeout to finish; any still running then are cancelled, so
// River records the attempt as failed and runs them again later.
func (a *App) stopJobs() error {
	stopCtx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err := a.Jobs.Stop(stopCtx)
	if err == nil {
		a.Logger.Info("shutdown: background jobs stopped")
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop background jobs: %w", err)
	}
	a.Logger.Warn("shutdown: jobs still running after SHUTDOWN_TIMEOUT; cancelling them, River retries them", "timeout", a.Config.ShutdownTimeout.String())
	cancelCtx, cancel2 := context.WithTimeout(context.Background(), jobCancelGrace)
	defer cancel2()
	if err := a.Jobs.StopAndCancel(cancelCtx); err != nil {
		return fmt.Errorf("cancel background jobs: %w", err)
	}
	return nil
}

// jobCancelGrace is how long cancelled jobs get to return (and River to record
// them) once SHUTDOWN_TIMEOUT has passed.
const jobCancelGrace = 5 * time.Second

// Start runs Run in the background, for a caller that drives the app itself (a
// test, a benchmark); stop cancels it, waits for Run to return and returns its
// error.
func (a *App) Start(ctx context.Context) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// pruneSessions deletes expired admin sessions every sessionPruneInterval of the
// app's clock until ctx is done. A failure is logged and retried at the next tick.
func (a *App) pruneSessions(ctx context.Context) {
	ticker := a.Clock.NewTicker(sessionPruneInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.Chan():
			if err := adminauth.PruneExpiredSessions(ctx, a.Pool); err != nil {
				a.Logger.Warn("deleting expired admin sessions", "error", err)
			}
		}
	}
}

// serve runs an HTTP server on ln in g until ctx is done, then shuts it down,
// giving in-flight requests up to Config.ShutdownTimeout to finish.
func (a *App) serve(ctx context.Context, g *errgroup.Group, name string, ln net.Listener, h http.Handler) {
	srv := NewHTTPServer(h, a.Logger)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	g.Go(func() error {
		a.Logger.Info("listening", "server", name, "addr", ln.Addr().String())
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s server: %w", name, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		a.Logger.Info("shutting down", "server", name)
		shutdownCtx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("%s server shutdown: %w", name, err)
		}
		return nil
	})
}

// NewHTTPServer returns the http.Server every listener of the app runs h in:
// bounded header, body and idle times, and net/http's own errors logged as
// warnings. The benchmarks serve their baselines in the same.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
