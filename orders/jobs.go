// The background jobs: the River client (NewJobs), the job arguments with their
// uniqueness rules, and the workers that run webhook-driven confirmations, sweep-
// driven confirmations and the periodic sweep.

package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// JobsConfig tunes the background work.
type JobsConfig struct {
	Workers       int           // concurrent jobs per instance
	SweepInterval time.Duration // how often the leader sweeps for due attempts
	SweepBatch    int           // attempts queued per sweep
	// JobTimeout bounds one job (default 1m or RescueAfter if less). RescueAfter is when a job still
	// marked running — its instance was killed — is run again (default 2m; River's
	// own default is an hour, long for a payment a shopper is waiting on).
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// Hooks delivers outbound webhooks; nil registers no delivery worker.
	Hooks *Hooks
	// Register adds the workers of jobs other packages queue (the mail's).
	Register []func(*river.Workers)
	// SessionPool, when set, carries River's own queries, its LISTEN and its
	// leader election: a direct connection to PostgreSQL where pool goes through
	// a transaction pooler. Jobs are still queued in the callers' transactions.
	SessionPool *pgxpool.Pool
}

// NewJobs returns the River client that runs reconciliation: webhook-driven
// confirmations, sweeper-driven confirmations, and the periodic sweep, which only
// the elected leader among several instances schedules. Start it with Start and
// stop it with Stop.
func NewJobs(pool *pgxpool.Pool, p *Payments, cfg JobsConfig, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	if cfg.Workers == 0 {
		cfg.Workers = 10
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 15 * time.Second
	}
	if cfg.SweepBatch == 0 {
		cfg.SweepBatch = 1000
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = 2 * time.Minute
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = min(time.Minute, cfg.RescueAfter)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &confirmPaymentWorker{p: p})
	river.AddWorker(workers, &confirmAttemptWorker{p: p})
	river.AddWorker(workers, &sweepWorker{p: p, batch: cfg.SweepBatch, spread: cfg.SweepInterval})
	if cfg.Hooks != nil {
		river.AddWorker(workers, &deliverWebhookWorker{h: cfg.Hooks})
	}
	for _, register := range cfg.Register {
		register(workers)
	}
	driverPool := pool
	if cfg.SessionPool != nil {
		driverPool = cfg.SessionPool
	}
	client, err := river.NewClient(riverpgxv5.New(driverPool), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.SweepInterval),
				func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
		// River fetches jobs at most once per FetchCooldown (default 100 ms), which
		// would cap an instance at Workers confirmations per 100 ms, however fast
		// Orchestrate answers; a fetch is one indexed query, so 10 ms costs little.
		FetchCooldown:        10 * time.Millisecond,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		Logger:               logger,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// uniqueWhileQueued makes a job unique by its arguments while it waits or runs, so
// a storm of duplicate webhooks becomes one confirmation.
var uniqueWhileQueued = river.UniqueOpts{
	ByArgs: true,
	ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	},
}

// ConfirmPaymentArgs queues reading one Orchestrate payment and applying its state;
// a webhook delivery queues it.
type ConfirmPaymentArgs struct {
	PaymentID string `json:"payment_id"`
	// FollowUp is set (to the delivery's inbox id) on a job queued because the
	// payment's unique job was already running when the delivery arrived: that run
	// may have read the payment too early, so this one reads it again.
	FollowUp int64 `json:"follow_up,omitempty"`
}

// Kind names the job in River.
func (ConfirmPaymentArgs) Kind() string { return "confirm_payment" }

// InsertOpts keeps one such job per payment while it is queued, retried with
// River's backoff (attempt⁴ seconds) for about a week while Orchestrate is down.
func (ConfirmPaymentArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: uniqueWhileQueued}
}

// ConfirmAttemptArgs queues confirming one payment attempt; the sweeper queues it.
type ConfirmAttemptArgs struct {
	AttemptID string `json:"attempt_id"`
}

// Kind names the job in River.
func (ConfirmAttemptArgs) Kind() string { return "confirm_attempt" }

// InsertOpts keeps one such job per attempt while it is queued.
func (ConfirmAttemptArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: uniqueWhileQueued}
}

// SweepArgs is the periodic sweep for attempts that got no webhook.
type SweepArgs struct{}

// Kind names the job in River.
func (SweepArgs) Kind() string { return "sweep_attempts" }

// InsertOpts keeps one sweep queued at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: uniqueWhileQueued}
}

// confirmPaymentWorker processes webhook deliveries: it reads the payment and
// applies it, then marks the deliveries it covered.
type confirmPaymentWorker struct {
	river.WorkerDefaults[ConfirmPaymentArgs]
	p *Payments
}

func (w *confirmPaymentWorker) Work(ctx context.Context, job *river.Job[ConfirmPaymentArgs]) error {
	// Deliveries received up to now are covered by the read below; one that comes
	// later while this job runs gets a follow-up job (queueConfirmation).
	var started time.Time
	if err := w.p.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&started); err != nil {
		return err
	}
	result, err := w.p.ConfirmByPaymentID(orchestrate.Background(ctx), job.Args.PaymentID, "webhook", "job:"+strconv.FormatInt(job.ID, 10))
	if snooze := snoozeIfRateLimited(err); snooze != nil {
		return snooze
	}
	if err != nil {
		if rerr := w.p.RecordWebhookError(ctx, job.Args.PaymentID, err.Error()); rerr != nil {
			w.p.logger.Warn("recording a webhook error", "error", rerr)
		}
		return err
	}
	return w.p.MarkWebhooksProcessed(ctx, job.Args.PaymentID, started, result)
}

// confirmAttemptWorker confirms one attempt the sweeper found due.
type confirmAttemptWorker struct {
	river.WorkerDefaults[ConfirmAttemptArgs]
	p *Payments
}

func (w *confirmAttemptWorker) Work(ctx context.Context, job *river.Job[ConfirmAttemptArgs]) error {
	err := w.p.ConfirmDueAttempt(orchestrate.Background(ctx), job.Args.AttemptID, "job:"+strconv.FormatInt(job.ID, 10))
	if snooze := snoozeIfRateLimited(err); snooze != nil {
		return snooze
	}
	return err
}

// snoozeJitter spreads jobs snoozed together over a second, so they do not
// all come back at the same moment.
func snoozeJitter() time.Duration { return rand.N(time.Second) }

// snoozeIfRateLimited returns a River snooze until Orchestrate may be asked
// again when err is a rate limit, Orchestrate's own (429) or this instance's:
// waiting for the rate is not a failed attempt. It returns nil for any other
// error.
func snoozeIfRateLimited(err error) error {
	if rl, ok := errors.AsType[*orchestrate.RateLimitedError](err); ok {
		return river.JobSnooze(max(rl.RetryAfter, 100*time.Millisecond) + snoozeJitter())
	}
	if apiErr, ok := errors.AsType[*orchestrate.Error](err); ok && apiErr.StatusCode == http.StatusTooManyRequests {
		return river.JobSnooze(max(apiErr.RetryAfter, time.Second) + snoozeJitter())
	}
	return nil
}

// sweepWorker queues a confirmation for every live attempt whose check is due:
// payments that got no webhook still reach their true state.
type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	p     *Payments
	batch int
	// spread is the time over which one sweep's confirmations are scheduled,
	// evenly, so they reach Orchestrate at a steady rate rather than at once.
	spread time.Duration
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	if _, err := w.p.ReleaseExpiredHolds(ctx, w.batch); err != nil {
		return err
	}
	ids, err := w.p.DueAttempts(ctx, w.batch)
	if err != nil || len(ids) == 0 {
		return err
	}
	params := make([]river.InsertManyParams, len(ids))
	// River schedules by the wall clock, so this is real time, not the business clock.
	now := time.Now()
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: ConfirmAttemptArgs{AttemptID: id}}
		if i > 0 {
			at := now.Add(w.spread * time.Duration(i) / time.Duration(len(ids)))
			params[i].InsertOpts = &river.InsertOpts{ScheduledAt: at}
		}
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("queue due attempts: %w", err)
	}
	return nil
}
