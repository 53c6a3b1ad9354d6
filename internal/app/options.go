package app

import (
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// An Option changes what New builds, for a test or the benchmarks; main passes
// none but WithLogOutput. Everything else comes from the Config.
type Option func(*options)

type options struct {
	pool       *pgxpool.Pool
	tracer     pgx.QueryTracer
	logger     *slog.Logger
	logOutput  io.Writer
	clock      clockwork.Clock
	noJobs     bool
	jobWorkers int
	wrapAPI    func(orders.PaymentsAPI) orders.PaymentsAPI
	clientOpts []orchestrate.Option
	hooks      orders.HooksConfig
}

// WithPool makes the app use pool (already open, on any database New may
// migrate) instead of opening Config.DatabaseURL. Close leaves pool open.
func WithPool(pool *pgxpool.Pool) Option {
	return func(o *options) { o.pool = pool }
}

// WithPoolTracer traces every statement of the pool New opens. It cannot be
// combined with WithPool.
func WithPoolTracer(tracer pgx.QueryTracer) Option {
	return func(o *options) { o.tracer = tracer }
}

// WithLogger makes the app log to logger instead of one built from the Config.
func WithLogger(logger *slog.Logger) Option {
	return func(o *options) { o.logger = logger }
}

// WithLogOutput writes the app's logs, in the Config's format and level (text in
// development, JSON in production), to w instead of standard output.
func WithLogOutput(w io.Writer) Option {
	return func(o *options) { o.logOutput = w }
}

// WithClock is the clock every business rule reads (payment expiry, the
// sweeper's schedule, the admin's today, the sign-in throttle); the default is
// the real one.
func WithClock(clock clockwork.Clock) Option {
	return func(o *options) { o.clock = clock }
}

// WithoutJobs keeps Run from starting River: App.Jobs still queues jobs, and the
// caller starts and stops it when it wants them run.
func WithoutJobs() Option {
	return func(o *options) { o.noJobs = true }
}

// WithJobWorkers sets how many jobs River runs at once (orders.JobsConfig.Workers).
func WithJobWorkers(n int) Option {
	return func(o *options) { o.jobWorkers = n }
}

// WithOrchestrateAPI wraps the Orchestrate client the payments call, to hold or
// observe their calls. App.Client stays the unwrapped client.
func WithOrchestrateAPI(wrap func(orders.PaymentsAPI) orders.PaymentsAPI) Option {
	return func(o *options) { o.wrapAPI = wrap }
}

// WithOrchestrateOptions adds options to the Orchestrate client, after the
// app's own (a test shortens its retries).
func WithOrchestrateOptions(opts ...orchestrate.Option) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// WithWebhookDelivery sets how outbound webhooks are attempted: each attempt's
// timeout and the delay before the next (orders.HooksConfig); a test shortens
// both. Zero values keep the defaults.
func WithWebhookDelivery(timeout time.Duration, backoff func(attempt int) time.Duration) Option {
	return func(o *options) { o.hooks.Timeout, o.hooks.Backoff = timeout, backoff }
}
