package sandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of the standalone sandbox.
const (
	defaultAddr     = ":8081"
	defaultAPIKey   = "sk_sandbox_dev"
	shutdownTimeout = 10 * time.Second
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// envOr returns the environment variable name, or def when it is empty.
func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// Command runs the standalone sandbox (the app's `sandbox` subcommand)
// until ctx is cancelled, then shuts down gracefully. Flags:
//
//	-addr            listen address (env SANDBOX_ADDR, default ":8081")
//	-base-url        public base URL for payment links (default http://localhost:<port>)
//	-api-key         accepted bearer key (env SANDBOX_API_KEY, default "sk_sandbox_dev")
//	-webhook-url     webhook URL; repeatable, each paired with the -webhook-secret at its position
//	-webhook-secret  secret signing that URL's webhooks
//	-database-url    Postgres URL for state that survives restarts (env DATABASE_URL; empty: memory)
//	-merchant-name   name on the hosted page
//
// Faults come from the SANDBOX_* variables of FaultsFromEnv. Command prints
// its addresses and logs to stdout. It returns an error for bad flags or
// environment, an unreachable database, or a failure to listen or serve;
// nil after a clean shutdown or for -h.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", envOr(getenv, "SANDBOX_ADDR", defaultAddr), "listen `address` (env SANDBOX_ADDR)")
	baseURL := fs.String("base-url", "", "public base `URL` used in payment links (default http://localhost:<port of -addr>)")
	apiKey := fs.String("api-key", envOr(getenv, "SANDBOX_API_KEY", defaultAPIKey), "bearer `key` the API accepts (env SANDBOX_API_KEY)")
	dbURL := fs.String("database-url", getenv("DATABASE_URL"), "PostgreSQL `URL` keeping state across restarts (env DATABASE_URL); empty keeps state in memory")
	merchant := fs.String("merchant-name", "Sandbox Merchant", "merchant `name` shown on the hosted payment page")
	var hookURLs, hookSecrets stringList
	fs.Var(&hookURLs, "webhook-url", "webhook `URL` receiving every event (repeatable; pair each with -webhook-secret)")
	fs.Var(&hookSecrets, "webhook-secret", "`secret` signing the webhooks of the -webhook-url at the same position (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sandbox: unexpected arguments %q", fs.Args())
	}
	if len(hookURLs) != len(hookSecrets) {
		return fmt.Errorf("sandbox: give -webhook-url and -webhook-secret in pairs (got %d URLs and %d secrets)", len(hookURLs), len(hookSecrets))
	}
	faults, err := FaultsFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("sandbox: fault settings: %w", err)
	}

	logger := slog.New(slog.NewTextHandler(stdout, nil))
	store, state := NewMemoryStore(), "memory (lost on exit)"
	if *dbURL != "" {
		pool, err := pgxpool.New(ctx, *dbURL)
		if err != nil {
			return fmt.Errorf("sandbox: database: %w", err)
		}
		defer pool.Close()
		if store, err = NewPostgresStore(ctx, pool); err != nil {
			return err
		}
		state = "PostgreSQL, schema orchestrate_sandbox"
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer ln.Close() // Serve closes it too; this covers the early returns.
	if *baseURL == "" {
		*baseURL = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}

	srv, err := New(Config{
		APIKey:       *apiKey,
		BaseURL:      *baseURL,
		Store:        store,
		Logger:       logger,
		Faults:       faults,
		MerchantName: *merchant,
	})
	if err != nil {
		return err
	}
	for i, u := range hookURLs {
		if err := srv.RegisterWebhook(u, hookSecrets[i]); err != nil {
			return err
		}
	}

	printBanner(stdout, ln.Addr().String(), srv.baseURL, *apiKey == defaultAPIKey, hookURLs, state)
	return serve(ctx, srv, ln, logger)
}

// printBanner tells the developer where everything is. It names the API key
// only when it is the well-known default, so a chosen key stays out of logs.
func printBanner(w io.Writer, listen, base string, defaultKey bool, hooks []string, state string) {
	key := "the key from -api-key / SANDBOX_API_KEY"
	if defaultKey {
		key = defaultAPIKey
	}
	fmt.Fprintf(w, "Orchestrate sandbox listening on %s\n", listen)
	fmt.Fprintf(w, "  API:        %s/api/v1  (Authorization: Bearer %s)\n", base, key)
	fmt.Fprintf(w, "  Dashboard:  %s/_sandbox/\n", base)
	fmt.Fprintf(w, "  Faults:     GET/PUT %s/_sandbox/faults\n", base)
	if len(hooks) == 0 {
		fmt.Fprintf(w, "  Webhooks:   none registered\n")
	}
	for _, h := range hooks {
		fmt.Fprintf(w, "  Webhook:    %s\n", h)
	}
	fmt.Fprintf(w, "  State:      %s\n", state)
}

// serve serves srv on ln and runs its workers until ctx is done, then
// stops accepting requests, lets those in flight finish (up to
// shutdownTimeout) and stops the workers.
func serve(ctx context.Context, srv *Server, ln net.Listener, logger *slog.Logger) error {
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = srv.Run(workCtx) })

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	var errs []error
	select {
	case <-ctx.Done():
		logger.Info("sandbox: shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if err := httpSrv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("sandbox: shutdown: %w", err))
		}
		if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	case err := <-serveErr:
		errs = append(errs, fmt.Errorf("sandbox: serve: %w", err))
	}
	// Workers stop after the last request, so a webhook queued by a request
	// that finished during shutdown is still persisted (and resumed later).
	stopWork()
	wg.Wait()
	if runErr != nil {
		errs = append(errs, runErr)
	}
	return errors.Join(errs...)
}
