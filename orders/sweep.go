// The sweep: payments that got no webhook still reach their true state.
// DueAttempts picks the live attempts whose next check is due, and
// ConfirmDueAttempt confirms one and schedules its next check by its age and
// expiry, closing an attempt whose create outcome stays unknown.

package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

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

// ConfirmDueAttempt confirms an attempt DueAttempts returned, as ConfirmByAttempt
// does, then schedules its next check: by its age, but never later than just after
// its expiry. An attempt whose create outcome is unknown and whose payment still
// cannot be found long after it would have expired is closed as create_failed.
func (p *Payments) ConfirmDueAttempt(ctx context.Context, attemptID, sourceID string) error {
	var started time.Time
	if err := p.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&started); err != nil {
		return err
	}
	applied, err := p.ConfirmByAttempt(ctx, attemptID, "sweep", sourceID)
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
