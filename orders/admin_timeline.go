package orders

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of timeline entries.
const (
	TimelineEvent        = "event"        // an applied transition (order_events)
	TimelineWebhook      = "webhook"      // a delivery in the inbox
	TimelineConfirmation = "confirmation" // the last read of a payment from Orchestrate
)

// TimelineEntry is one line of an order's history as the admin shows it.
type TimelineEntry struct {
	At    time.Time
	Kind  string // TimelineEvent, TimelineWebhook or TimelineConfirmation
	Title string
	// Detail says more: an event's cause and detail, a delivery's result or error.
	Detail    string
	PaymentID string
	// For deliveries: the inbox row and its raw body, shown escaped.
	WebhookID int64
	Payload   string
}

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
	Deliveries  int        `db:"deliveries"`
	ProcessedAt *time.Time `db:"processed_at"`
	Result      *string    `db:"result"`
	Error       *string    `db:"error"`
	OrderID     *int64     `db:"order_id"`
	OrderNumber *string    `db:"order_number"`
}

const webhookColumns = `w.id, w.event_id, w.event_type, w.payment_id, w.raw_body, w.received_at, w.deliveries,
	w.processed_at, w.result, w.error, o.id AS order_id, o.number AS order_number`

// Timeline merges an order's applied transitions, the webhook deliveries for its
// payments and the last confirmation read of each attempt into one history,
// oldest first. It returns ErrNotFound for an unknown order.
func (s *Orders) Timeline(ctx context.Context, orderID int64) ([]TimelineEntry, error) {
	if _, err := s.ByID(ctx, orderID); err != nil {
		return nil, err
	}
	events, err := s.Events(ctx, orderID)
	if err != nil {
		return nil, err
	}
	attempts, err := s.Attempts(ctx, orderID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+webhookColumns+`
		FROM webhook_events w
		JOIN payment_attempts a ON a.orchestrate_payment_id = w.payment_id
		JOIN orders o ON o.id = a.order_id
		WHERE a.order_id = $1
		ORDER BY w.received_at, w.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("order webhooks: %w", err)
	}
	deliveries, err := pgx.CollectRows(rows, pgx.RowToStructByName[WebhookDelivery])
	if err != nil {
		return nil, fmt.Errorf("order webhooks: %w", err)
	}

	paymentOf := map[string]string{}
	var out []TimelineEntry
	for _, a := range attempts {
		if a.PaymentID != nil {
			paymentOf[a.ID] = *a.PaymentID
		}
		if a.LastCheckedAt != nil {
			out = append(out, TimelineEntry{At: *a.LastCheckedAt, Kind: TimelineConfirmation,
				Title:     "Payment read from Orchestrate (latest read)",
				Detail:    "attempt " + a.ID + " was " + string(a.Status) + " after this read",
				PaymentID: deref(a.PaymentID)})
		}
	}
	for _, e := range events {
		title := eventTitle(e)
		detail := "cause: " + e.Cause
		if e.SourceID != nil {
			detail += " (" + *e.SourceID + ")"
		}
		if e.Detail != "" {
			detail += " — " + e.Detail
		}
		entry := TimelineEntry{At: e.CreatedAt, Kind: TimelineEvent, Title: title, Detail: detail}
		if e.AttemptID != nil {
			entry.PaymentID = paymentOf[*e.AttemptID]
		}
		out = append(out, entry)
	}
	for _, d := range deliveries {
		out = append(out, TimelineEntry{At: d.ReceivedAt, Kind: TimelineWebhook,
			Title: "Webhook " + cmp.Or(deref(d.EventType), "(no type)") + " received", Detail: d.Outcome(),
			PaymentID: deref(d.PaymentID), WebhookID: d.ID, Payload: string(d.RawBody)})
	}
	slices.SortStableFunc(out, func(a, b TimelineEntry) int { return a.At.Compare(b.At) })
	return out, nil
}

// eventTitle says what an applied transition did.
func eventTitle(e Event) string {
	subject := "Order"
	switch e.Subject {
	case "attempt":
		subject = "Payment attempt"
	case "flag":
		if e.AttemptID != nil {
			return "Payment attempt flagged " + e.ToStatus
		}
		return "Order flagged " + e.ToStatus
	}
	if e.FromStatus == nil {
		return subject + " created as " + e.ToStatus
	}
	return subject + " " + *e.FromStatus + " → " + e.ToStatus
}

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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
