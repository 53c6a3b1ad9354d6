// Changing an order's customer: a shopper who corrects their name or email before
// paying gets a payment carrying the new one, while the old payment stays
// reconciled.

package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// changeCustomer gives a payable order the customer c, as a shopper's re-checkout
// of an unchanged cart does after correcting their name or email, and returns the
// order. Orchestrate keeps the customer a payment was created with and offers no
// way to change or cancel one, so the order's live attempts are superseded: the
// next Start creates a payment carrying c, while a superseded one is still
// reconciled and may yet be paid (money wins; a second completed payment flags the
// order for refund). A paid or reviewed order keeps the customer it was paid by.
func (p *Payments) changeCustomer(ctx context.Context, orderID int64, c Customer) (*Order, error) {
	var order *Order
	err := inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := scanOrder(tx.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1 FOR UPDATE`, orderID))
		if err != nil {
			return err
		}
		order = o
		if !o.Status.Payable() || (o.CustomerName == c.Name && o.CustomerEmail == c.Email) {
			return nil
		}
		changed := "name"
		switch {
		case o.CustomerName == c.Name:
			changed = "email"
		case o.CustomerEmail != c.Email:
			changed = "name and email"
		}
		if order, err = scanOrder(tx.Query(ctx, `
			UPDATE orders SET customer_name = $2, customer_email = $3, updated_at = now()
			WHERE id = $1
			RETURNING `+orderColumns, o.ID, c.Name, c.Email)); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, Event{OrderID: o.ID, Subject: "flag", FromStatus: ptr(string(o.Status)),
			ToStatus: "customer_changed", Cause: "checkout", Detail: "the shopper changed their " + changed + " at checkout"}); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE payment_attempts SET superseded_at = now(), updated_at = now()
			WHERE order_id = $1 AND superseded_at IS NULL AND status IN ('creating', 'open', 'unknown')
			RETURNING id::text, status`, o.ID)
		if err != nil {
			return fmt.Errorf("supersede attempts: %w", err)
		}
		superseded, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
			ID     string
			Status string
		}])
		if err != nil {
			return fmt.Errorf("supersede attempts: %w", err)
		}
		for _, a := range superseded {
			if err := recordEvent(ctx, tx, Event{OrderID: o.ID, AttemptID: &a.ID, Subject: "flag", FromStatus: ptr(a.Status),
				ToStatus: "superseded", Cause: "checkout",
				Detail: "its payment carries the customer as it was; the next payment carries the new " + changed}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return order, nil
}
