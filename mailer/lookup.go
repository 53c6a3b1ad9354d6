package mailer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// lookupsPerHour is how many lookup links one order is sent per hour; more
// asks are answered the same and send nothing, so the form cannot flood a
// shopper's inbox.
const lookupsPerHour = 3

// Lookup queues the order page's link to email when an order numbered number
// was placed with that address (compared without case). It returns nil whether
// or not one was: the caller must answer the same either way.
func (o *Outbox) Lookup(ctx context.Context, email, number string) error {
	if !o.sent {
		return nil // no mail server: nothing can be sent, and the answer is the same
	}
	tx, err := o.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var orderID int64
	// FOR UPDATE: concurrent lookups of one order count each other's messages.
	err = tx.QueryRow(ctx, `SELECT id FROM orders WHERE number = $1 AND lower(customer_email) = lower($2) FOR UPDATE`,
		strings.ToUpper(strings.TrimSpace(number)), strings.TrimSpace(email)).Scan(&orderID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var recent int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE order_id = $1 AND kind = 'lookup'
		AND created_at > $2`, orderID, o.clock.Now().Add(-time.Hour)).Scan(&recent); err != nil {
		return err
	}
	if recent >= lookupsPerHour {
		return nil
	}
	if _, err := o.Enqueue(ctx, tx, orderID, KindLookup, -1); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
