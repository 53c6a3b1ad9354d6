// The merchant's actions on an order: cancel it before it is paid, mark it
// shipped, record a refund made outside the app, add a note, resend the receipt.
// Each is one transaction that locks the order first (as Apply does, so a payment
// completing at the same moment is applied wholly before or after it), records an
// order_events row naming the admin, and queues the change's effects.

package orders

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// ErrNotAllowed means the order's state does not allow the action (cancelling a
// paid order, shipping an unpaid one); nothing changed.
var ErrNotAllowed = fmt.Errorf("not allowed for this order now: %w", ErrConflict)

// ErrNoReceiptMail means no receipt mail is wired in to resend.
var ErrNoReceiptMail = errors.New("the receipt mail is not set up")

// Limits of the merchant's free text.
const (
	MaxCarrierLength  = 60
	MaxTrackingLength = 60
	MaxNoteLength     = 2000
)

// Shipment is one parcel of an order that left.
type Shipment struct {
	ID        int64     `db:"id"`
	OrderID   int64     `db:"order_id"`
	Carrier   string    `db:"carrier"`
	Tracking  string    `db:"tracking"`
	ShippedAt time.Time `db:"shipped_at"`
	Actor     string    `db:"actor"`
}

// Refund is a refund the merchant made outside the app and recorded here.
type Refund struct {
	ID          int64     `db:"id"`
	OrderID     int64     `db:"order_id"`
	AmountMinor int64     `db:"amount_minor"`
	Currency    string    `db:"currency"`
	Note        string    `db:"note"`
	RecordedAt  time.Time `db:"recorded_at"`
	Actor       string    `db:"actor"`
}

// Amount is the refund's amount.
func (r Refund) Amount() Money { return Money{r.AmountMinor, r.Currency} }

// trackingChars: carriers' tracking numbers are letters, digits and, as some
// print them, spaces and hyphens.
var trackingChars = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]*$`)

// ShipmentErrors are the problems of a "mark shipped" form, by field.
type ShipmentErrors struct{ Carrier, Tracking string }

// Any reports whether a field has a problem.
func (e ShipmentErrors) Any() bool { return e.Carrier != "" || e.Tracking != "" }

// CleanShipment returns the carrier and tracking number as they are stored (both
// optional, trimmed), or the problems with them: a carrier CheckText refuses or
// longer than MaxCarrierLength, a tracking number of other than letters, digits,
// spaces and hyphens or longer than MaxTrackingLength.
func CleanShipment(carrier, tracking string) (string, string, ShipmentErrors) {
	var e ShipmentErrors
	carrier, tracking = strings.TrimSpace(carrier), strings.TrimSpace(tracking)
	switch {
	case CheckText(carrier) != nil:
		e.Carrier = "Use letters, digits, spaces and punctuation only."
	case utf8.RuneCountInString(carrier) > MaxCarrierLength:
		e.Carrier = fmt.Sprintf("At most %d characters.", MaxCarrierLength)
	}
	switch {
	case tracking != "" && !trackingChars.MatchString(tracking):
		e.Tracking = "Use letters, digits, spaces and hyphens only."
	case len(tracking) > MaxTrackingLength:
		e.Tracking = fmt.Sprintf("At most %d characters.", MaxTrackingLength)
	}
	return carrier, tracking, e
}

// CleanNote returns a note as it is stored (line breaks as "\n", trimmed), or
// ErrInvalid when it is empty, ErrBadText for a character CheckText refuses, and
// ErrTooLong past MaxNoteLength characters.
func CleanNote(s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return "", fmt.Errorf("empty note: %w", ErrInvalid)
	}
	for line := range strings.SplitSeq(s, "\n") {
		if err := CheckText(line); err != nil {
			return "", err
		}
	}
	if utf8.RuneCountInString(s) > MaxNoteLength {
		return "", fmt.Errorf("note of %d characters: %w", utf8.RuneCountInString(s), ErrTooLong)
	}
	return s, nil
}

// Fulfilment says where the order's goods stand: FulfilmentShipped once a
// shipment left, FulfilmentToShip while it is paid and none has, "" otherwise.
func (o *Order) Fulfilment() string {
	switch {
	case o.ShippedAt != nil:
		return FulfilmentShipped
	case o.Status == StatusPaid:
		return FulfilmentToShip
	}
	return ""
}

// lockOrder reads the order for update: every writer of an order locks it first.
func lockOrder(ctx context.Context, tx pgx.Tx, orderID int64) (*Order, error) {
	return scanOrder(tx.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1 FOR UPDATE`, orderID))
}

// Cancel cancels an order awaiting payment (or whose payment failed or expired)
// for the merchant actor: no payment can start for it any more (its live
// attempts are superseded, so none is offered again, though each is still
// reconciled), its held units go back on sale, and ChangeCancelled's effects are
// queued. A payment that completes afterwards still pays it, flagged for refund.
// It returns ErrNotAllowed for an order in any other status (paid, under review,
// cancelled already) and ErrNotFound for an unknown one.
func (p *Payments) Cancel(ctx context.Context, orderID int64, actor, reason string) (*Order, error) {
	var out *Order
	err := inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if !o.Status.CanBecome(StatusCancelled) {
			return fmt.Errorf("cancel order %s, which is %s: %w", o.Number, o.Status.Label(), ErrNotAllowed)
		}
		ev := Event{Cause: "merchant", Actor: actor, Detail: reason}
		if err := transitionOrder(ctx, tx, o, StatusCancelled, ev); err != nil {
			return err
		}
		if o.Status != StatusCancelled {
			return fmt.Errorf("order %s moved under its lock: %w", o.Number, ErrConflict)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE payment_attempts SET superseded_at = now(), updated_at = now()
			WHERE order_id = $1 AND superseded_at IS NULL AND status IN ('creating', 'open', 'unknown')`, o.ID); err != nil {
			return fmt.Errorf("withdraw payments: %w", err)
		}
		if err := releaseHolds(ctx, tx, o.ID, Event{Cause: "cancelled", Actor: actor}); err != nil {
			return err
		}
		out = o
		return p.enqueueEffects(ctx, tx, o.ID, ChangeCancelled, "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkShipped records a shipment of a paid order by the merchant actor (carrier
// and tracking as CleanShipment returns them), clears its oversold flag (the
// units were back-ordered) and queues ChangeShipped's effects
// (the shopper's "shipped" email, the merchant's webhook) once for it, with the
// shipment's id as the change's detail. formKey is the key the form was rendered
// with (NewFormKey): the same form submitted again records nothing more and
// returns the first shipment with created false. It returns ErrNotAllowed for
// an order that is not paid, ErrInvalid for a malformed formKey and ErrNotFound
// for an unknown order.
func (p *Payments) MarkShipped(ctx context.Context, orderID int64, actor, formKey, carrier, tracking string) (shipment *Shipment, created bool, err error) {
	if !validRef(formKey) {
		return nil, false, fmt.Errorf("form key %q: %w", formKey, ErrInvalid)
	}
	var out *Shipment
	err = inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if o.Status != StatusPaid {
			return fmt.Errorf("ship order %s, which is %s: %w", o.Number, o.Status.Label(), ErrNotAllowed)
		}
		rows, err := tx.Query(ctx, `
			WITH s AS (
				INSERT INTO shipments (order_id, carrier, tracking, shipped_at, actor, form_key)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (order_id, form_key) DO NOTHING
				RETURNING id, order_id, carrier, tracking, shipped_at, actor
			), o AS (
				-- Shipping an oversold order means the short units were found or
				-- back-ordered: it no longer needs the merchant's attention.
				UPDATE orders SET shipped_at = coalesce(shipped_at, $4), oversold = false, updated_at = now()
				WHERE id = $1 AND EXISTS (SELECT 1 FROM s)
			)
			SELECT * FROM s`, o.ID, carrier, tracking, p.cfg.Clock.Now(), actor, formKey)
		if err != nil {
			return fmt.Errorf("record shipment: %w", err)
		}
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Shipment])
		if errors.Is(err, pgx.ErrNoRows) {
			// The form was submitted before: its shipment stands, once.
			rows, err := tx.Query(ctx, `
				SELECT id, order_id, carrier, tracking, shipped_at, actor FROM shipments
				WHERE order_id = $1 AND form_key = $2`, o.ID, formKey)
			if err != nil {
				return fmt.Errorf("read shipment: %w", err)
			}
			if out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Shipment]); err != nil {
				return fmt.Errorf("read shipment: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("record shipment: %w", err)
		}
		created = true
		detail := shipmentDetail(out)
		if o.Oversold {
			detail += "; cleared oversold"
		}
		if err := recordEvent(ctx, tx, Event{OrderID: o.ID, Subject: "fulfilment", ToStatus: "shipped",
			Cause: "merchant", Actor: actor, SourceID: ptr("shipment:" + strconv.FormatInt(out.ID, 10)),
			Detail: detail}); err != nil {
			return err
		}
		return p.enqueueEffects(ctx, tx, o.ID, ChangeShipped, strconv.FormatInt(out.ID, 10))
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// NewFormKey returns a fresh key for a form whose submit must take effect once
// (MarkShipped's formKey).
func NewFormKey() string { return randomToken(16) }

// shipmentDetail says how a shipment went, for the timeline.
func shipmentDetail(s *Shipment) string {
	var parts []string
	if s.Carrier != "" {
		parts = append(parts, "carrier "+s.Carrier)
	}
	if s.Tracking != "" {
		parts = append(parts, "tracking "+s.Tracking)
	}
	if len(parts) == 0 {
		return "no carrier or tracking number given"
	}
	return strings.Join(parts, ", ")
}

// RecordRefund records a refund of amountMinor (in the order's currency) that
// the merchant actor made outside the app, for an order flagged refund needed or
// oversold: the refund is stored, both flags are cleared, the timeline says so
// and ChangeRefundRecorded's effects are queued. It returns ErrNotAllowed for an
// order with neither flag, ErrInvalid for an amount of zero or more than the
// payments the order received, and ErrNotFound for an unknown order.
func (p *Payments) RecordRefund(ctx context.Context, orderID int64, actor string, amountMinor int64, note string) (*Refund, error) {
	var out *Refund
	err := inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if !o.RefundNeeded && !o.Oversold {
			return fmt.Errorf("record a refund for order %s, which is flagged for none: %w", o.Number, ErrNotAllowed)
		}
		var received int64
		if err := tx.QueryRow(ctx, `
			SELECT coalesce(sum(amount_minor), 0) FROM payment_attempts
			WHERE order_id = $1 AND status = 'completed'`, o.ID).Scan(&received); err != nil {
			return fmt.Errorf("payments received: %w", err)
		}
		if amountMinor <= 0 || amountMinor > received {
			return fmt.Errorf("refund of %s for order %s, which received %s: %w",
				Money{amountMinor, o.Currency}, o.Number, Money{received, o.Currency}, ErrRefundAmount)
		}
		rows, err := tx.Query(ctx, `
			WITH r AS (
				INSERT INTO refunds (order_id, amount_minor, currency, note, recorded_at, actor)
				VALUES ($1, $2, $3, $4, $5, $6)
				RETURNING id, order_id, amount_minor, currency, note, recorded_at, actor
			), o AS (
				UPDATE orders SET refund_needed = false, oversold = false, updated_at = now() WHERE id = $1
			)
			SELECT * FROM r`, o.ID, amountMinor, o.Currency, note, p.cfg.Clock.Now(), actor)
		if err != nil {
			return fmt.Errorf("record refund: %w", err)
		}
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Refund])
		if err != nil {
			return fmt.Errorf("record refund: %w", err)
		}
		var cleared []string
		if o.RefundNeeded {
			cleared = append(cleared, "refund needed")
		}
		if o.Oversold {
			cleared = append(cleared, "oversold")
		}
		detail := out.Amount().String() + " refunded outside the app; cleared " + strings.Join(cleared, " and ")
		if note != "" {
			detail += " — " + note
		}
		if err := recordEvent(ctx, tx, Event{OrderID: o.ID, Subject: "refund", ToStatus: "recorded",
			Cause: "merchant", Actor: actor, SourceID: ptr("refund:" + strconv.FormatInt(out.ID, 10)),
			Detail: detail}); err != nil {
			return err
		}
		return p.enqueueEffects(ctx, tx, o.ID, ChangeRefundRecorded, strconv.FormatInt(out.ID, 10))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErrRefundAmount: a refund of nothing, or of more than the order received.
var ErrRefundAmount = fmt.Errorf("the refund is more than the order received, or nothing: %w", ErrInvalid)

// AddNote adds the merchant actor's note (as CleanNote returns it) to the
// order's timeline. It returns ErrNotFound for an unknown order.
func (p *Payments) AddNote(ctx context.Context, orderID int64, actor, note string) error {
	return inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		return recordEvent(ctx, tx, Event{OrderID: o.ID, Subject: "note", ToStatus: "added",
			Cause: "merchant", Actor: actor, Detail: note})
	})
}

// ReceiptResender queues, in tx, the order's receipt mail once more (a job of
// its own, not deduplicated against the first). The mail wires it in with
// SetReceiptResender.
type ReceiptResender func(ctx context.Context, tx pgx.Tx, orderID int64) ([]river.InsertManyParams, error)

// SetReceiptResender sets what ResendReceipt queues. Call it before the app
// serves.
func (p *Payments) SetReceiptResender(r ReceiptResender) { p.resendReceipt = r }

// ResendReceipt queues the receipt of a paid order again at the merchant actor's
// request, recorded on the timeline. It returns ErrNotAllowed for an order that
// is not paid, ErrNoReceiptMail when no mail is wired in, and ErrNotFound for an
// unknown order.
func (p *Payments) ResendReceipt(ctx context.Context, orderID int64, actor string) error {
	return inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if o.Status != StatusPaid {
			return fmt.Errorf("resend the receipt of order %s, which is %s: %w", o.Number, o.Status.Label(), ErrNotAllowed)
		}
		if p.resendReceipt == nil {
			return ErrNoReceiptMail
		}
		jobs, err := p.resendReceipt(ctx, tx, o.ID)
		if err != nil {
			return fmt.Errorf("resend receipt of order %s: %w", o.Number, err)
		}
		if len(jobs) > 0 {
			if p.jobs == nil {
				return errNoJobs
			}
			if _, err := p.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
				return fmt.Errorf("queue receipt of order %s: %w", o.Number, err)
			}
		}
		return recordEvent(ctx, tx, Event{OrderID: o.ID, Subject: "mail", ToStatus: "receipt_resent",
			Cause: "merchant", Actor: actor, Detail: "receipt queued again to " + o.CustomerEmail})
	})
}

// Shipments returns an order's shipments, oldest first.
func (s *Orders) Shipments(ctx context.Context, orderID int64) ([]Shipment, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, order_id, carrier, tracking, shipped_at, actor FROM shipments
		WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("shipments: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Shipment])
}

// Refunds returns the refunds recorded for an order, oldest first.
func (s *Orders) Refunds(ctx context.Context, orderID int64) ([]Refund, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, order_id, amount_minor, currency, note, recorded_at, actor FROM refunds
		WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("refunds: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Refund])
}
