// Applying a payment's state: Apply records what Orchestrate says about a payment
// against its attempt and moves the attempt and its order as the state machine in
// status.go allows, one transaction per payment read, with an order_events row per
// transition. Every path that learns a payment's state ends here.

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
			ev.Detail = fmt.Sprintf("Orchestrate collected %s for an order of %s",
				Money{pay.Amount, string(pay.Currency)}, o.Total())
			if o.Status == StatusPaid {
				return flagRefund(ctx, tx, o, ev)
			}
			wasUnderReview := o.Status == StatusNeedsReview
			if err := transitionOrder(ctx, tx, o, StatusNeedsReview, ev); err != nil || wasUnderReview || o.Status != StatusNeedsReview {
				return err
			}
			// Money arrived: the units leave stock once, as for a paid order;
			// otherwise the holds of an order no action can move would keep
			// them for good.
			return takeStock(ctx, tx, o, Event{AttemptID: &a.ID, Cause: cause, SourceID: ptr(sourceID)})
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
		wasCancelled := o.Status == StatusCancelled
		if err := transitionOrder(ctx, tx, o, StatusPaid, ev); err != nil {
			return err
		}
		if o.Status != StatusPaid {
			return nil
		}
		if wasCancelled {
			// Money wins over the merchant's cancel; what it is owed back is said
			// by the flag, recorded in the same transaction.
			ev.Detail = "paid after the merchant cancelled the order: refund it"
			if err := flagRefund(ctx, tx, o, ev); err != nil {
				return err
			}
		}
		// The units leave stock, and the effects of the payment (the receipt, the
		// merchant's webhook) are queued, in the transaction that marks the
		// order paid.
		if err := takeStock(ctx, tx, o, Event{AttemptID: &a.ID, Cause: cause, SourceID: ptr(sourceID)}); err != nil {
			return err
		}
		if err := p.enqueueEffects(ctx, tx, o.ID, ChangePaid, ""); err != nil {
			return err
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
		if err := transitionOrder(ctx, tx, o, to, ev); err != nil {
			return err
		}
		if o.Status != to {
			return nil
		}
		// The order can no longer be paid until the shopper pays again, which
		// holds the units again: release them in the transaction that records it.
		return releaseHolds(ctx, tx, o.ID, Event{AttemptID: &a.ID, Cause: cause, SourceID: ptr(sourceID)})
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

// setAttemptStatus applies one attempt transition with its event, or nothing when
// the attempt has already moved on.
func (p *Payments) setAttemptStatus(ctx context.Context, attemptID string, to AttemptStatus, cause, why string) error {
	return inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		var orderID int64
		var from AttemptStatus
		err := tx.QueryRow(ctx, `
			UPDATE payment_attempts a SET status = $2, last_error = $3, updated_at = now()
			FROM (SELECT id, status FROM payment_attempts WHERE id = $1 FOR UPDATE) old
			WHERE a.id = old.id AND a.status = ANY($4)
			RETURNING a.order_id, old.status`, attemptID, to, TruncateText(why, 500), attemptPredecessors(to)).Scan(&orderID, &from)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // moved on already: a no-op writes nothing
		}
		if err != nil {
			return fmt.Errorf("attempt %s → %s: %w", attemptID, to, err)
		}
		return recordEvent(ctx, tx, Event{OrderID: orderID, AttemptID: &attemptID, Subject: "attempt",
			FromStatus: ptr(string(from)), ToStatus: string(to), Cause: cause, Detail: TruncateText(why, 500)})
	})
}
