package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// Applied is the state of an attempt and its order after a payment was applied.
type Applied struct {
	Attempt Attempt
	Order   Order
	// Changed reports whether anything moved; a replay changes nothing.
	Changed bool
}

// attemptStatusFor maps Orchestrate's payment status to an attempt status; ok is
// false for a status we do not know, which changes nothing.
func attemptStatusFor(s orchestrate.Status) (AttemptStatus, bool) {
	switch s {
	case orchestrate.StatusPending:
		return AttemptOpen, true
	case orchestrate.StatusCompleted:
		return AttemptCompleted, true
	case orchestrate.StatusFailed:
		return AttemptFailed, true
	case orchestrate.StatusExpired:
		return AttemptExpired, true
	}
	return "", false
}

// Confirm reads the attempt's payment from Orchestrate and applies that state: the
// API is the truth, whatever a webhook or a return URL claimed. An attempt whose
// create outcome is unknown is looked up by our attempt id in the metadata. It
// returns nil, nil when there is nothing to read yet.
func (p *Payments) Confirm(ctx context.Context, attemptID, cause, sourceID string) (applied *Applied, err error) {
	defer func() { p.cfg.Metrics.confirmed(cause, outcome(applied, err)) }()
	var paymentID *string
	var status AttemptStatus
	err = p.pool.QueryRow(ctx, `SELECT orchestrate_payment_id, status FROM payment_attempts WHERE id = $1`, attemptID).Scan(&paymentID, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("attempt %s: %w", attemptID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("confirm attempt %s: %w", attemptID, err)
	}
	var pay *orchestrate.Payment
	if paymentID == nil {
		if status != AttemptUnknown && status != AttemptCreating {
			return nil, nil // created nothing
		}
		pay, err = p.api.FindPaymentByMetadata(ctx, MetadataAttemptID, attemptID, 5)
		if errors.Is(err, orchestrate.ErrNotFound) {
			return nil, nil
		}
	} else {
		pay, err = p.api.GetPayment(ctx, *paymentID)
	}
	if err != nil {
		return nil, fmt.Errorf("confirm attempt %s: read payment: %w", attemptID, err)
	}
	return p.Apply(ctx, attemptID, pay, cause, sourceID)
}

// outcome names a confirmation's result for the metrics.
func outcome(a *Applied, err error) string {
	switch {
	case err != nil:
		return "error"
	case a == nil:
		return "nothing_to_read"
	case a.Changed:
		return "applied"
	}
	return "unchanged"
}

// claimDue selects, in an UPDATE of payment_attempts that sets last_checked_at,
// the live attempts not read in the last $2 interval: Refresh and Poll claim with
// it so that however many tabs poll, Orchestrate is read once per interval.
const claimDue = `status IN ('open', 'unknown')
	AND (last_checked_at IS NULL OR last_checked_at < now() - $2::interval)`

// Refresh confirms the order's live attempts that were not read in the last
// interval, so a page polled by many tabs asks Orchestrate at most once per
// interval. Errors reading Orchestrate are logged, not returned: the page shows
// the stored state and the next poll tries again.
func (p *Payments) Refresh(ctx context.Context, orderID int64, interval time.Duration) error {
	rows, err := p.pool.Query(ctx, `
		UPDATE payment_attempts SET last_checked_at = now()
		WHERE order_id = $1 AND `+claimDue+`
		RETURNING id::text`, orderID, interval)
	if err != nil {
		return fmt.Errorf("claim attempts to confirm: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("claim attempts to confirm: %w", err)
	}
	p.confirmClaimed(ctx, ids)
	return nil
}

// confirmClaimed confirms the attempts a caller claimed.
func (p *Payments) confirmClaimed(ctx context.Context, ids []string) {
	for _, id := range ids {
		if _, err := p.Confirm(ctx, id, "return page", ""); err != nil {
			p.logger.Warn("confirming a payment", "attempt_id", id, "error", err)
		}
	}
}

// polledOrder is an order read together with the attempts its read claimed.
type polledOrder struct {
	Order
	Claimed []string `db:"claimed"`
}

// Poll returns the order with the given public reference after confirming, as
// Refresh does, its live attempts not read in the last interval; an order in a
// final status is only read. Reading the order and claiming its attempts is one
// statement, and the order is read again only after confirming something, so a
// poll with nothing to confirm (nearly every poll: at most one per interval asks
// Orchestrate) costs one round trip. It returns ErrNotFound for an unknown
// reference.
func (p *Payments) Poll(ctx context.Context, ref string, interval time.Duration) (*Order, error) {
	if !validRef(ref) {
		return nil, fmt.Errorf("order %q: %w", ref, ErrNotFound)
	}
	rows, err := p.pool.Query(ctx, `
		WITH o AS (SELECT `+orderColumns+` FROM orders WHERE public_ref = $1),
		claimed AS (
			UPDATE payment_attempts SET last_checked_at = now()
			WHERE order_id = (SELECT id FROM o) AND (SELECT status FROM o) <> ALL($3)
			  AND `+claimDue+`
			RETURNING id::text AS id)
		SELECT o.*, ARRAY(SELECT id FROM claimed) AS claimed FROM o`,
		ref, interval, finalStatuses())
	if err != nil {
		return nil, fmt.Errorf("poll order: %w", err)
	}
	polled, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[polledOrder])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("order: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("poll order: %w", err)
	}
	if len(polled.Claimed) == 0 {
		return &polled.Order, nil
	}
	p.confirmClaimed(ctx, polled.Claimed)
	return scanOrder(p.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, polled.ID))
}

// Apply records Orchestrate's payment pay against the attempt and moves the
// attempt and its order as the state machine allows, in one transaction with an
// order_events row per applied transition. A replay, or a state the attempt has
// already passed, is a no-op. A completed payment whose amount or currency differs
// from the order puts the order in needs_review; a second completed payment for a
// paid order flags it for refund, never paying it twice.
func (p *Payments) Apply(ctx context.Context, attemptID string, pay *orchestrate.Payment, cause, sourceID string) (*Applied, error) {
	var out *Applied
	err := inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		// Lock order before attempt, the order every writer uses, so none deadlock.
		o, err := scanOrder(tx.Query(ctx, `
			SELECT `+orderColumns+` FROM orders
			WHERE id = (SELECT order_id FROM payment_attempts WHERE id = $1)
			FOR UPDATE`, attemptID))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("attempt %s: %w", attemptID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		// Adopt the payment's identity and link, which never change once known,
		// locking the attempt. A payment id already there and different is a
		// conflict, and returning it rolls the adoption back.
		rows, err := tx.Query(ctx, `
			UPDATE payment_attempts SET
				orchestrate_payment_id = coalesce(orchestrate_payment_id, $2),
				payment_link = coalesce(nullif($3, ''), payment_link),
				expires_at = coalesce($4, expires_at),
				last_checked_at = now()
			WHERE id = $1
			RETURNING `+attemptColumns, attemptID, pay.ID, pay.PaymentLink, pay.ExpiresAt)
		if err != nil {
			return fmt.Errorf("adopt payment: %w", err)
		}
		a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Attempt])
		if err != nil {
			return fmt.Errorf("adopt payment: %w", err)
		}
		if *a.PaymentID != pay.ID {
			return fmt.Errorf("attempt %s belongs to payment %s, not %s: %w", a.ID, *a.PaymentID, pay.ID, ErrConflict)
		}
		out = &Applied{Attempt: *a, Order: *o}

		to, known := attemptStatusFor(pay.Status)
		if !known {
			p.logger.Warn("Orchestrate reported a payment status we do not know; nothing changed",
				"attempt_id", a.ID, "payment_id", pay.ID, "status", string(pay.Status))
			return nil
		}
		if to == a.Status || !a.Status.CanBecome(to) {
			return nil // a replay or an older state: nothing to do
		}
		if err := p.moveAttempt(ctx, tx, out, to, pay, cause, sourceID); err != nil {
			return err
		}
		out.Changed = true
		return p.settleOrder(ctx, tx, out, pay, cause, sourceID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// moveAttempt applies one attempt transition, conditioned on the statuses allowed
// to precede it.
func (p *Payments) moveAttempt(ctx context.Context, tx pgx.Tx, out *Applied, to AttemptStatus, pay *orchestrate.Payment, cause, sourceID string) error {
	from := out.Attempt.Status
	var completedAt *time.Time
	if to == AttemptCompleted {
		completedAt = pay.CompletedAt
		if completedAt == nil {
			now := p.cfg.Clock.Now()
			completedAt = &now
		}
	}
	tag, err := tx.Exec(ctx, `
		UPDATE payment_attempts SET status = $2, completed_at = coalesce($3, completed_at), updated_at = now()
		WHERE id = $1 AND status = ANY($4)`, out.Attempt.ID, to, completedAt, attemptPredecessors(to))
	if err != nil {
		return fmt.Errorf("attempt %s → %s: %w", out.Attempt.ID, to, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("attempt %s moved under its lock: %w", out.Attempt.ID, ErrConflict)
	}
	out.Attempt.Status = to
	out.Attempt.CompletedAt = completedAt
	return recordEvent(ctx, tx, Event{OrderID: out.Order.ID, AttemptID: &out.Attempt.ID, Subject: "attempt",
		FromStatus: ptr(string(from)), ToStatus: string(to), Cause: cause, SourceID: ptr(sourceID)})
}

// settleOrder moves the order after its attempt moved.
func (p *Payments) settleOrder(ctx context.Context, tx pgx.Tx, out *Applied, pay *orchestrate.Payment, cause, sourceID string) error {
	o := &out.Order
	a := &out.Attempt
	ev := Event{AttemptID: &a.ID, Cause: cause, SourceID: ptr(sourceID)}
	switch a.Status {
	case AttemptCompleted:
		if pay.Amount != o.TotalMinor || string(pay.Currency) != o.Currency {
			ev.Detail = fmt.Sprintf("Orchestrate collected %s %s for an order of %s",
				Money{pay.Amount, string(pay.Currency)}.Decimal(), pay.Currency, o.Total())
			if o.Status == StatusPaid {
				return flagRefund(ctx, tx, o, ev)
			}
			return transitionOrder(ctx, tx, o, StatusNeedsReview, ev)
		}
		if o.Status == StatusPaid || o.Status == StatusNeedsReview {
			ev.Detail = "a second completed payment for this order; refund it"
			return flagRefund(ctx, tx, o, ev)
		}
		// The partial unique index allows one applied attempt per order.
		if _, err := tx.Exec(ctx, `UPDATE payment_attempts SET applied = true WHERE id = $1`, a.ID); err != nil {
			return fmt.Errorf("apply attempt: %w", err)
		}
		a.Applied = true
		if err := transitionOrder(ctx, tx, o, StatusPaid, ev); err != nil {
			return err
		}
		if o.Status != StatusPaid {
			return nil
		}
		// What the order bought leaves the shopper's cart, however they changed it
		// since checking out, so it cannot be paid for twice.
		return removeBought(ctx, tx, o.ID)

	case AttemptFailed, AttemptExpired:
		if o.Status != StatusAwaitingPayment {
			return nil
		}
		var otherLive bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM payment_attempts
			               WHERE order_id = $1 AND id <> $2 AND status IN ('creating', 'open')
			                 AND superseded_at IS NULL)`,
			o.ID, a.ID).Scan(&otherLive); err != nil {
			return err
		}
		if otherLive {
			return nil // a newer payment is offered; the order waits for it
		}
		to := StatusFailed
		if a.Status == AttemptExpired {
			to = StatusExpired
		}
		return transitionOrder(ctx, tx, o, to, ev)
	}
	return nil
}

// transitionOrder moves the (locked) order to status to when the state machine
// allows it, recording the event; otherwise it changes nothing.
func transitionOrder(ctx context.Context, tx pgx.Tx, o *Order, to Status, ev Event) error {
	if !o.Status.CanBecome(to) {
		return nil
	}
	var paidAt *time.Time
	err := tx.QueryRow(ctx, `
		UPDATE orders SET status = $2, updated_at = now(),
			paid_at = CASE WHEN $2 = 'paid' THEN now() ELSE paid_at END
		WHERE id = $1 AND status = ANY($3)
		RETURNING paid_at`, o.ID, to, predecessors(to)).Scan(&paidAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("order %s → %s: %w", o.Number, to, err)
	}
	ev.OrderID, ev.Subject, ev.FromStatus, ev.ToStatus = o.ID, "order", ptr(string(o.Status)), string(to)
	o.Status, o.PaidAt = to, paidAt
	return recordEvent(ctx, tx, ev)
}

// flagRefund marks a paid order as owed a refund for an extra payment.
func flagRefund(ctx context.Context, tx pgx.Tx, o *Order, ev Event) error {
	if _, err := tx.Exec(ctx, `UPDATE orders SET refund_needed = true, updated_at = now() WHERE id = $1`, o.ID); err != nil {
		return fmt.Errorf("flag refund: %w", err)
	}
	o.RefundNeeded = true
	ev.OrderID, ev.Subject, ev.FromStatus, ev.ToStatus = o.ID, "flag", ptr(string(o.Status)), "refund_needed"
	return recordEvent(ctx, tx, ev)
}
