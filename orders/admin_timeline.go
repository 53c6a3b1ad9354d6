// An order's timeline for the admin: its applied transitions, the webhook
// deliveries about its payments and the last read of each payment from
// Orchestrate, in the order they happened.

package orders

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	// Actor is who did it: ActorSystem or the admin's username (events only).
	Actor string
	// Detail says more: an event's cause and detail, a delivery's result or error.
	Detail    string
	PaymentID string
	// For deliveries: the inbox row and its raw body, shown escaped.
	WebhookID int64
	Payload   string
}

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
		entry := TimelineEntry{At: e.CreatedAt, Kind: TimelineEvent, Title: title, Detail: detail, Actor: e.Actor}
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
	case "stock":
		switch e.ToStatus {
		case "held":
			return "Stock held for this order until its payment ends"
		case "released":
			return "Stock released: the held units are back on sale"
		case "taken":
			return "Stock taken: the paid units left stock"
		}
		return "Stock " + e.ToStatus
	case "fulfilment":
		return "Marked shipped"
	case "refund":
		return "Refund recorded (made outside the app)"
	case "note":
		return "Note"
	case "mail":
		if e.ToStatus == "receipt_resent" {
			return "Receipt sent again"
		}
		return "Mail " + e.ToStatus
	case "flag":
		if e.ToStatus == "oversold" {
			return "Oversold: paid after its units were sold to someone else"
		}
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
