// The transaction helper: inTx runs a function in a transaction, and recordEvent
// writes an applied transition inside it; the transitions are counted in the
// metrics once the transaction commits, never for one that rolls back.

package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// eventTx is a transaction that remembers the events recorded in it, so they are
// counted only once it commits.
type eventTx struct {
	pgx.Tx
	events []Event
}

// inTx runs fn in a transaction and, once it has committed, counts the
// transitions fn recorded with recordEvent.
func inTx(ctx context.Context, pool *pgxpool.Pool, m *Metrics, fn func(pgx.Tx) error) error {
	var etx *eventTx
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		etx = &eventTx{Tx: tx}
		return fn(etx)
	})
	if err == nil {
		m.committed(etx.events)
	}
	return err
}

// recordEvent writes one applied transition; call it in the transaction that made
// the change. Empty strings are stored as NULL, and an empty Actor as ActorSystem.
func recordEvent(ctx context.Context, tx pgx.Tx, e Event) error {
	if etx, ok := tx.(*eventTx); ok {
		etx.events = append(etx.events, e)
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO order_events (order_id, attempt_id, subject, from_status, to_status, cause, source_id, detail, actor)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce(nullif($9, ''), 'system'))`,
		e.OrderID, e.AttemptID, e.Subject, e.FromStatus, e.ToStatus, e.Cause, e.SourceID, e.Detail, e.Actor)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}
