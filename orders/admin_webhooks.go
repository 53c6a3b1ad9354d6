// The admin's webhook inbox: the stored deliveries, filtered by type, result and
// payment, as the admin's webhooks page and an order's timeline show them.

package orders

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebhookDelivery is one stored delivery in the webhook inbox. Every stored
// delivery passed signature verification: one that failed is answered 401 and
// never written.
type WebhookDelivery struct {
	ID          int64      `db:"id"`
	EventID     *string    `db:"event_id"`
	EventType   *string    `db:"event_type"`
	PaymentID   *string    `db:"payment_id"`
	RawBody     []byte     `db:"raw_body"`
	ReceivedAt  time.Time  `db:"received_at"`
	ProcessedAt *time.Time `db:"processed_at"`
	Result      *string    `db:"result"`
	Error       *string    `db:"error"`
	OrderID     *int64     `db:"order_id"`
	OrderNumber *string    `db:"order_number"`
}

const webhookColumns = `w.id, w.event_id, w.event_type, w.payment_id, w.raw_body, w.received_at,
	w.processed_at, w.result, w.error, o.id AS order_id, o.number AS order_number`

// Outcome says in words what processing made of the delivery.
func (d WebhookDelivery) Outcome() string {
	switch {
	case d.ProcessedAt == nil && d.Error != nil:
		return "not processed yet; last error: " + *d.Error
	case d.ProcessedAt == nil:
		return "waiting to be processed"
	case d.Error != nil:
		return deref(d.Result) + ": " + *d.Error
	}
	return deref(d.Result)
}

// WebhookFilter selects deliveries in the inbox. Result is a stored result
// (applied, unchanged, unknown_payment, invalid), "pending" for deliveries not
// processed yet, or "error" for those with an error.
type WebhookFilter struct {
	Type      string
	Result    string
	PaymentID string
	Before    int64 // only deliveries with a smaller id (the next page)
}

// WebhookResults are the values WebhookFilter.Result accepts besides "".
var WebhookResults = []string{"applied", "unchanged", "unknown_payment", "invalid", "pending", "error"}

// Validate returns ErrInvalid for a result the inbox does not know, and
// ErrBadText for a type or payment id CheckText refuses.
func (f WebhookFilter) Validate() error {
	if f.Result != "" && !slices.Contains(WebhookResults, f.Result) {
		return fmt.Errorf("webhook result %q: %w", f.Result, ErrInvalid)
	}
	for _, s := range []string{f.Type, f.PaymentID} {
		if err := CheckText(s); err != nil {
			return fmt.Errorf("webhook filter: %w", err)
		}
	}
	return nil
}

// WebhookList returns up to limit deliveries f selects, newest first, each with
// the order its payment belongs to when we know it. It returns f.Validate's
// error for a filter it refuses.
func (s *Orders) WebhookList(ctx context.Context, f WebhookFilter, limit int) ([]WebhookDelivery, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var args queryArgs
	conds := []string{"true"}
	if f.Type != "" {
		conds = append(conds, "w.event_type = "+args.add(f.Type))
	}
	if f.PaymentID != "" {
		conds = append(conds, "w.payment_id = "+args.add(f.PaymentID))
	}
	switch f.Result {
	case "":
	case "pending":
		conds = append(conds, "w.processed_at IS NULL")
	case "error":
		conds = append(conds, "w.error IS NOT NULL")
	default:
		conds = append(conds, "w.result = "+args.add(f.Result))
	}
	if f.Before > 0 {
		conds = append(conds, "w.id < "+args.add(f.Before))
	}
	where := conds[0]
	for _, c := range conds[1:] {
		where += " AND " + c
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+webhookColumns+`
		FROM webhook_events w
		LEFT JOIN payment_attempts a ON a.orchestrate_payment_id = w.payment_id
		LEFT JOIN orders o ON o.id = a.order_id
		WHERE `+where+`
		ORDER BY w.id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("webhook list: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[WebhookDelivery])
	if err != nil {
		return nil, fmt.Errorf("webhook list: %w", err)
	}
	return list, nil
}

// WebhookTypes returns the event types seen in the inbox, for the filter.
func (s *Orders) WebhookTypes(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT event_type FROM webhook_events WHERE event_type IS NOT NULL ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("webhook types: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
