// Package mailer sends the shop's mail to shoppers: the receipt when an order is
// paid, a shipment's notice, an order lookup's link. Every message is a row of
// the outbox (table mail_outbox) written in the transaction that decides it,
// together with the River job that sends it over SMTP.
package mailer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/orchestrate-checkout/checkout/orders"
)

// Kind is what a message is about.
type Kind string

// The kinds of message.
const (
	KindReceipt Kind = "receipt" // the order confirmation, when the order is paid
	KindShipped Kind = "shipped" // a shipment left; its sequence is the shipment's
	KindLookup  Kind = "lookup"  // the order page's link, asked for at /orders/lookup
)

// Message statuses: queued (not tried yet), sent, failed (the last attempt
// failed; River tries again with its backoff).
const (
	StatusQueued = "queued"
	StatusSent   = "sent"
	StatusFailed = "failed"
)

// Message is one row of the outbox.
type Message struct {
	ID        int64      `db:"id"`
	OrderID   int64      `db:"order_id"`
	Kind      Kind       `db:"kind"`
	Sequence  int        `db:"sequence"`
	MessageID string     `db:"message_id"`
	Recipient string     `db:"recipient"`
	Status    string     `db:"status"`
	Attempts  int        `db:"attempts"`
	LastError *string    `db:"last_error"`
	CreatedAt time.Time  `db:"created_at"`
	SentAt    *time.Time `db:"sent_at"`
}

const messageColumns = `id, order_id, kind, sequence, message_id, recipient, status, attempts, last_error, created_at, sent_at`

// jobInserter inserts jobs in a transaction: River's client.
type jobInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Outbox is the store of messages and the way to queue one.
type Outbox struct {
	pool *pgxpool.Pool
	jobs jobInserter
	// domain is the right-hand side of every Message-ID (PUBLIC_URL's host).
	domain string
	clock  clockwork.Clock // when a message was queued (the lookups' hourly cap)
	// sent is set once a Worker sends the outbox's messages; without one no
	// job kind exists to queue them as.
	sent bool
}

// NewOutbox returns the outbox over pool; domain is the Message-IDs' domain,
// clock the app's clock.
func NewOutbox(pool *pgxpool.Pool, domain string, clock clockwork.Clock) *Outbox {
	return &Outbox{pool: pool, domain: domain, clock: clock}
}

// SetJobs gives the outbox the River client Enqueue inserts jobs with. Call it
// once, before the app serves.
func (o *Outbox) SetJobs(jobs jobInserter) { o.jobs = jobs }

// ErrNoJobs: Enqueue was called before SetJobs.
var ErrNoJobs = errors.New("mailer: no job client (SetJobs)")

// Queue writes, in tx, the message of kind and sequence for the order, and
// returns the job that sends it. A message already written for the same order,
// kind and sequence is left as it is and no job is returned: that is how a
// replayed paid transition never queues a second receipt. Returns
// orders.ErrNotFound for an unknown order.
func (o *Outbox) Queue(ctx context.Context, tx pgx.Tx, orderID int64, kind Kind, sequence int) ([]river.InsertManyParams, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO mail_outbox (order_id, kind, sequence, message_id, recipient, created_at)
		SELECT id, $2, $3, $4, customer_email, $5 FROM orders WHERE id = $1
		ON CONFLICT (order_id, kind, sequence) DO NOTHING
		RETURNING id`, orderID, kind, sequence, o.messageID(orderID, kind, sequence), o.clock.Now()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)`, orderID).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			return nil, orders.ErrNotFound
		}
		return nil, nil // already queued
	}
	if err != nil {
		return nil, fmt.Errorf("queue %s mail for order %d: %w", kind, orderID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, subject, to_status, cause, source_id, detail, created_at)
		SELECT order_id, 'mail', 'queued', kind, message_id, kind || ' to ' || recipient, created_at FROM mail_outbox WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("record %s mail for order %d: %w", kind, orderID, err)
	}
	return []river.InsertManyParams{{Args: SendArgs{MessageID: id}}}, nil
}

// QueueNext is Queue with the order's next sequence for kind: a new message,
// with a Message-ID of its own (a resent receipt, a lookup's link).
func (o *Outbox) QueueNext(ctx context.Context, tx pgx.Tx, orderID int64, kind Kind) ([]river.InsertManyParams, error) {
	// Two concurrent callers may pick the same sequence; the loser's insert does
	// nothing, and it takes the one after.
	for range 5 {
		var next int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(sequence) + 1, 0) FROM mail_outbox WHERE order_id = $1 AND kind = $2`,
			orderID, kind).Scan(&next); err != nil {
			return nil, err
		}
		jobs, err := o.Queue(ctx, tx, orderID, kind, next)
		if err != nil || len(jobs) > 0 {
			return jobs, err
		}
	}
	return nil, fmt.Errorf("queue %s mail for order %d: no free sequence", kind, orderID)
}

// Enqueue queues the message of kind for the order in tx and inserts its job in
// tx: for the merchant's actions. sequence < 0 takes the next sequence (a resend
// is a new message); otherwise it names the message (a shipment's id), written
// at most once. It returns whether a message was queued.
func (o *Outbox) Enqueue(ctx context.Context, tx pgx.Tx, orderID int64, kind Kind, sequence int) (bool, error) {
	if o.jobs == nil {
		return false, ErrNoJobs
	}
	var jobs []river.InsertManyParams
	var err error
	if sequence < 0 {
		jobs, err = o.QueueNext(ctx, tx, orderID, kind)
	} else {
		jobs, err = o.Queue(ctx, tx, orderID, kind, sequence)
	}
	if err != nil || len(jobs) == 0 {
		return false, err
	}
	if _, err := o.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
		return false, fmt.Errorf("queue %s mail for order %d: %w", kind, orderID, err)
	}
	return true, nil
}

// Effect is the outbox's orders.Effect: the paid transition queues the receipt
// (sequence 0, once per order), a shipment its "shipped" mail (once per
// shipment).
func (o *Outbox) Effect(ctx context.Context, tx pgx.Tx, orderID int64, change orders.OrderChange, detail string) ([]river.InsertManyParams, error) {
	switch change {
	case orders.ChangePaid:
		return o.Queue(ctx, tx, orderID, KindReceipt, 0)
	case orders.ChangeShipped:
		// One "shipped" mail per shipment: its sequence is the shipment's id.
		shipment, err := strconv.Atoi(detail)
		if err != nil {
			return nil, fmt.Errorf("shipped mail of order %d: shipment %q: %w", orderID, detail, err)
		}
		return o.Queue(ctx, tx, orderID, KindShipped, shipment)
	}
	return nil, nil
}

// ResendReceipt queues the order's receipt once more, as a new message (the next
// sequence, its own Message-ID): what the merchant's Resend does
// (orders.Payments.SetReceiptResender).
func (o *Outbox) ResendReceipt(ctx context.Context, tx pgx.Tx, orderID int64) ([]river.InsertManyParams, error) {
	return o.QueueNext(ctx, tx, orderID, KindReceipt)
}

// Latest returns the order's newest sent message of kind, else its newest
// message of kind, or nil when there is none: once a receipt went out, a
// resend still on its way does not make the order page say otherwise.
func (o *Outbox) Latest(ctx context.Context, orderID int64, kind Kind) (*Message, error) {
	rows, err := o.pool.Query(ctx, `SELECT `+messageColumns+` FROM mail_outbox
		WHERE order_id = $1 AND kind = $2 ORDER BY status = 'sent' DESC, sequence DESC LIMIT 1`, orderID, kind)
	if err != nil {
		return nil, err
	}
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Message])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return m, err
}

// messageID is a new Message-ID (without the angle brackets) for the order's
// message: readable, and unguessable so it reveals nothing of other orders.
func (o *Outbox) messageID(orderID int64, kind Kind, sequence int) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("order-%d.%s.%d.%s@%s", orderID, kind, sequence, hex.EncodeToString(b[:]), o.domain)
}
