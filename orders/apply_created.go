// Recording a payment just created: the common case of Apply (the attempt still
// creating, the payment pending) in one statement, so a checkout's second
// transaction is one round trip.

package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// applyCreated records the payment Orchestrate created for attempt a and returns
// the attempt as stored. When the payment is pending and the attempt still
// creating (as the create left it), one statement, its own transaction, locks
// the order first as every writer does, adopts the payment, moves the attempt
// creating → open and writes the event: Apply's transaction for that transition,
// which moves nothing on the order. It commits without waiting for the disk
// (synchronous_commit off, for this transaction only): the payment exists at
// Orchestrate and the shopper has its link, and were this record lost in a crash
// of the database, the attempt would be creating again, which reconciliation
// already resolves by looking the payment up by our attempt id (the crash tests'
// "killed before the payment id was stored"). Otherwise (a webhook, the sweeper
// or another instance got there first, or the payment is already past pending)
// Apply decides, as for every other news of a payment.
func (p *Payments) applyCreated(ctx context.Context, a *Attempt, pay *orchestrate.Payment) (*Attempt, error) {
	if to, known := attemptStatusFor(pay.Status); known && to == AttemptOpen && AttemptCreating.CanBecome(to) {
		rows, err := p.pool.Query(ctx, `
			WITH durability AS (
				SELECT set_config('synchronous_commit', 'off', true)
			), o AS (
				SELECT id FROM orders WHERE id = $2 FOR UPDATE
			), moved AS (
				UPDATE payment_attempts SET
					status = $6, orchestrate_payment_id = $3,
					payment_link = coalesce(nullif($4, ''), payment_link),
					expires_at = coalesce($5, expires_at),
					last_checked_at = now(), updated_at = now()
				WHERE id = $1 AND order_id = $2 AND status = $7
				  AND (orchestrate_payment_id IS NULL OR orchestrate_payment_id = $3)
				  AND EXISTS (SELECT 1 FROM o) AND EXISTS (SELECT 1 FROM durability)
				RETURNING `+attemptColumns+`
			), event AS (
				INSERT INTO order_events (order_id, attempt_id, subject, from_status, to_status, cause, detail)
				SELECT order_id, id::uuid, 'attempt', $7, $6, 'create', '' FROM moved
			)
			SELECT * FROM moved`,
			a.ID, a.OrderID, pay.ID, pay.PaymentLink, pay.ExpiresAt, AttemptOpen, AttemptCreating)
		if err != nil {
			return nil, fmt.Errorf("apply created payment: %w", err)
		}
		moved, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Attempt])
		if err == nil {
			p.cfg.Metrics.committed([]Event{{OrderID: a.OrderID, AttemptID: &moved.ID, Subject: "attempt",
				FromStatus: ptr(string(AttemptCreating)), ToStatus: string(AttemptOpen), Cause: "create"}})
			return moved, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("apply created payment: %w", err)
		}
		// The attempt moved on since the create: Apply decides what this news means.
	}
	applied, err := p.Apply(ctx, a.ID, pay, "create", "")
	if err != nil {
		return nil, err
	}
	return &applied.Attempt, nil
}
