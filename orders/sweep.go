package orders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

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
// River's backoff for about a day while Orchestrate is down.
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

// ConfirmPayment reads the payment and applies it to the attempt it belongs to:
// found by its payment id, or — when the webhook beat the create response — by our
// attempt id in its metadata. It returns the result recorded on the inbox rows:
// "applied", "unchanged" or "unknown_payment".
func (p *Payments) ConfirmPayment(ctx context.Context, paymentID, cause, sourceID string) (result string, err error) {
	defer func() {
		outcome := result
		if err != nil {
			outcome = "error"
		}
		p.cfg.Metrics.confirmed(cause, outcome)
	}()
	pay, err := p.api.GetPayment(ctx, paymentID)
	if errors.Is(err, orchestrate.ErrNotFound) {
		return "unknown_payment", nil
	}
	if err != nil {
		return "", fmt.Errorf("read payment %s: %w", paymentID, err)
	}
	var attemptID string
	err = p.pool.QueryRow(ctx, `SELECT id::text FROM payment_attempts WHERE orchestrate_payment_id = $1`, paymentID).Scan(&attemptID)
	if errors.Is(err, pgx.ErrNoRows) {
		attemptID, err = p.attemptFromMetadata(ctx, pay)
	}
	if err != nil {
		return "", err
	}
	if attemptID == "" {
		return "unknown_payment", nil
	}
	applied, err := p.Apply(ctx, attemptID, pay, cause, sourceID)
	if err != nil {
		return "", err
	}
	if applied.Changed {
		return "applied", nil
	}
	return "unchanged", nil
}

// attemptFromMetadata returns our attempt named in the payment's metadata, checking
// that its order matches too, or "" when the payment is not ours.
func (p *Payments) attemptFromMetadata(ctx context.Context, pay *orchestrate.Payment) (string, error) {
	id := pay.Metadata[MetadataAttemptID]
	if _, err := uuid.Parse(id); err != nil {
		return "", nil
	}
	orderID, err := strconv.ParseInt(pay.Metadata[MetadataOrderID], 10, 64)
	if err != nil {
		return "", nil
	}
	var found string
	err = p.pool.QueryRow(ctx, `SELECT id::text FROM payment_attempts WHERE id = $1 AND order_id = $2`, id, orderID).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return found, err
}

// nextCheck is when the sweeper should next read an attempt of the given age:
// every young interval while a shopper is likely paying, then less and less often.
func nextCheck(age, young time.Duration) time.Duration {
	switch {
	case age < 2*time.Minute:
		return young
	case age < 10*time.Minute:
		return time.Minute
	case age < time.Hour:
		return 5 * time.Minute
	default:
		return 30 * time.Minute
	}
}

// ConfirmAttemptNow confirms one attempt for the sweeper, then schedules its next
// check: by its age, but never later than just after its expiry. An attempt whose
// create outcome is unknown and whose payment still cannot be found long after it
// would have expired is closed as create_failed.
func (p *Payments) ConfirmAttemptNow(ctx context.Context, attemptID, sourceID string) error {
	var started time.Time
	if err := p.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&started); err != nil {
		return err
	}
	applied, err := p.Confirm(ctx, attemptID, "sweep", sourceID)
	if err != nil {
		return err
	}
	var status AttemptStatus
	var created time.Time
	var paymentID *string
	err = p.pool.QueryRow(ctx, `SELECT status, created_at, orchestrate_payment_id FROM payment_attempts WHERE id = $1`, attemptID).
		Scan(&status, &created, &paymentID)
	if err != nil {
		return err
	}
	if applied != nil && paymentID != nil {
		// The payment just read covers every delivery about it received before the
		// read, including one whose job died with its instance.
		if err := p.MarkWebhooksProcessed(ctx, *paymentID, started, "confirmed by sweep"); err != nil {
			return err
		}
	}
	now := p.cfg.Clock.Now()
	age := now.Sub(created)
	if status == AttemptCreating && paymentID == nil {
		// Due only once orphaned (DueAttempts) and its payment is not found (yet):
		// it is unknown now, so a shopper paying again looks it up before creating.
		if err := p.setAttemptStatus(ctx, attemptID, AttemptUnknown, "sweep", "the app stopped while creating the payment"); err != nil {
			return err
		}
	}
	if status == AttemptUnknown && paymentID == nil && age > p.cfg.Expiry+time.Hour {
		return p.setAttemptStatus(ctx, attemptID, AttemptCreateFailed, "sweep", "no payment found for this attempt long after it would have expired")
	}
	_, err = p.pool.Exec(ctx, `
		UPDATE payment_attempts SET next_check_at = CASE
			WHEN expires_at IS NOT NULL AND expires_at > $3 THEN least($3::timestamptz + $2::interval, expires_at + interval '5 seconds')
			ELSE $3::timestamptz + $2::interval END
		WHERE id = $1`, attemptID, nextCheck(age, p.cfg.RecheckYoung), now)
	return err
}

// DueAttempts returns up to limit live attempts whose next check is due by the
// clock, and pushes their next check ahead (a lease of five young intervals, at
// most a minute) so a slow queue does not re-queue them; the confirmation
// re-schedules it.
func (p *Payments) DueAttempts(ctx context.Context, limit int) ([]string, error) {
	lease := min(time.Minute, max(5*time.Second, 5*p.cfg.RecheckYoung))
	rows, err := p.pool.Query(ctx, `
		UPDATE payment_attempts SET next_check_at = $4::timestamptz + $3::interval
		WHERE id IN (
			SELECT id FROM payment_attempts
			WHERE status IN ('creating', 'open', 'unknown') AND next_check_at <= $4
			  AND (status <> 'creating' OR created_at < $4::timestamptz - $2::interval)
			ORDER BY next_check_at
			LIMIT $1
			FOR UPDATE SKIP LOCKED)
		RETURNING id::text`, limit, p.orphanedAfter(), lease, p.cfg.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("due attempts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// MarkWebhooksProcessed records the result on the payment's deliveries received
// before the confirmation started: the payment it read is at least as new as
// anything those deliveries said.
func (p *Payments) MarkWebhooksProcessed(ctx context.Context, paymentID string, startedAt time.Time, result string) error {
	if _, err := p.pool.Exec(ctx, `
		UPDATE webhook_events SET processed_at = now(), result = $3, error = NULL
		WHERE payment_id = $1 AND processed_at IS NULL AND received_at <= $2`,
		paymentID, startedAt, result); err != nil {
		return fmt.Errorf("mark webhooks processed: %w", err)
	}
	return nil
}

// RecordWebhookError notes a failed processing attempt on the payment's waiting
// deliveries without marking them processed; River retries the job.
func (p *Payments) RecordWebhookError(ctx context.Context, paymentID, errText string) error {
	_, err := p.pool.Exec(ctx, `UPDATE webhook_events SET error = $2 WHERE payment_id = $1 AND processed_at IS NULL`, paymentID, truncate(errText, 500))
	return err
}
