// Effects: what an order's change sets off outside the app — a receipt mailed to
// the shopper, an outbound webhook to the merchant's systems. Each is a job
// inserted in the transaction that records the change (River's InsertManyTx):
// it exists exactly when the change commits, never for a change rolled back, and
// its worker is idempotent, so a job run again after a crash does its work once.

package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// OrderChange names a change of an order that has effects outside the app; the
// names are the outbound webhooks' event types.
type OrderChange string

// The changes with effects.
const (
	ChangePaid           OrderChange = "order.paid"
	ChangeShipped        OrderChange = "order.shipped"
	ChangeCancelled      OrderChange = "order.cancelled"
	ChangeRefundRecorded OrderChange = "order.refund_recorded"
)

// An Effect is one kind of side effect (the receipt, the outbound webhook). Given
// a change an order made in tx, it writes in tx what it needs to remember (an
// outbox row, say) and returns the jobs that carry it out, or none when the
// change is not its business. detail identifies the change's instance when an
// order can make it more than once (a shipment's id); it is "" otherwise.
type Effect func(ctx context.Context, tx pgx.Tx, orderID int64, change OrderChange, detail string) ([]river.InsertManyParams, error)

// jobInserter inserts jobs in a transaction: River's client.
type jobInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// errNoJobs: effects are registered but no job client was given to insert them.
var errNoJobs = errors.New("payments: effects registered without a job client (SetJobs)")

// SetJobs gives Payments the River client its effects' jobs are inserted with.
// Call it once, before the app serves.
func (p *Payments) SetJobs(jobs jobInserter) { p.jobs = jobs }

// AddEffect registers an effect of orders' changes. Call it before the app
// serves.
func (p *Payments) AddEffect(e Effect) { p.effects = append(p.effects, e) }

// enqueueEffects runs every registered effect for the change an order made in tx
// and inserts their jobs in tx.
func (p *Payments) enqueueEffects(ctx context.Context, tx pgx.Tx, orderID int64, change OrderChange, detail string) error {
	if len(p.effects) == 0 {
		return nil
	}
	var params []river.InsertManyParams
	for _, e := range p.effects {
		ps, err := e(ctx, tx, orderID, change, detail)
		if err != nil {
			return fmt.Errorf("effects of %s on order %d: %w", change, orderID, err)
		}
		params = append(params, ps...)
	}
	if len(params) == 0 {
		return nil
	}
	if p.jobs == nil {
		return errNoJobs
	}
	if _, err := p.jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue effects of %s on order %d: %w", change, orderID, err)
	}
	return nil
}
