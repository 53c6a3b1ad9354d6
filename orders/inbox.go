// What happens when a webhook arrives: the inbox stores each verified delivery,
// deduplicated, and queues its payment's confirmation in the same transaction, so
// an acknowledged event is never lost; the admin can queue it again (Reprocess).
// Once confirmed, the deliveries a read covered are marked processed.

package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// Inbox stores verified webhook deliveries and queues their processing.
type Inbox struct {
	pool *pgxpool.Pool
	jobs *river.Client[pgx.Tx]
}

// NewInbox returns an Inbox that queues processing on jobs.
func NewInbox(pool *pgxpool.Pool, jobs *river.Client[pgx.Tx]) *Inbox {
	return &Inbox{pool: pool, jobs: jobs}
}

// Receipt says what the inbox did with a delivery.
type Receipt struct {
	ID        int64
	Duplicate bool  // the same event (id, or body when it has none) was stored before
	Invalid   error // the body is not an event; stored for inspection, nothing queued
	Event     *orchestrate.Event
}

// Receive stores a delivery whose signature the caller has verified, and in the
// same transaction queues the confirmation of its payment, so an acknowledged event
// can never be lost. A duplicate writes nothing. The error is non-nil only when
// the database failed, and then nothing was stored: the caller must not
// acknowledge the delivery.
func (in *Inbox) Receive(ctx context.Context, body []byte, headers map[string]string) (*Receipt, error) {
	ev, perr := orchestrate.ParseEvent(body)
	r := &Receipt{Invalid: perr, Event: ev}
	sum := sha256.Sum256(body)
	key := "sha256:" + hex.EncodeToString(sum[:])
	var eventID, eventType, paymentID *string
	if ev != nil {
		if ev.ID != "" {
			key = "event:" + ev.ID
		}
		eventID, eventType, paymentID = ptr(ev.ID), ptr(string(ev.Type)), ptr(ev.PaymentID)
	}
	hdr, err := json.Marshal(headers)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, in.pool, func(tx pgx.Tx) error {
		var result, errText *string
		if perr != nil {
			result, errText = ptr("invalid"), ptr(perr.Error())
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO webhook_events (dedup_key, event_id, event_type, payment_id, raw_body, headers, result, error, processed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7::text IS NULL THEN NULL ELSE now() END)
			ON CONFLICT (dedup_key) DO NOTHING
			RETURNING id`, key, eventID, eventType, paymentID, body, hdr, result, errText).Scan(&r.ID)
		if err == pgx.ErrNoRows {
			r.Duplicate = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("store webhook: %w", err)
		}
		if perr != nil {
			return nil
		}
		return queueConfirmation(ctx, in.jobs, tx, ev.PaymentID, r.ID)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Reprocess queues the confirmation of a stored delivery's payment again, for the
// admin's re-process action. It returns ErrNotFound for an unknown delivery and
// ErrInvalid for one that names no payment.
func (in *Inbox) Reprocess(ctx context.Context, id int64) error {
	var paymentID *string
	if err := in.pool.QueryRow(ctx, `SELECT payment_id FROM webhook_events WHERE id = $1`, id).Scan(&paymentID); err != nil {
		if err == pgx.ErrNoRows {
			return fmt.Errorf("webhook %d: %w", id, ErrNotFound)
		}
		return err
	}
	if paymentID == nil || *paymentID == "" {
		return fmt.Errorf("webhook %d names no payment: %w", id, ErrInvalid)
	}
	return pgx.BeginFunc(ctx, in.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE webhook_events SET processed_at = NULL, result = NULL, error = NULL WHERE id = $1`, id); err != nil {
			return err
		}
		return queueConfirmation(ctx, in.jobs, tx, *paymentID, id)
	})
}

// queueConfirmation queues the payment's confirmation in tx. A storm of deliveries
// for one payment collapses into its one queued job; but a job already running may
// have read the payment before this delivery's news, so then a follow-up job is
// queued too. Every delivery is thus covered by a read that starts after it.
func queueConfirmation(ctx context.Context, jobs *river.Client[pgx.Tx], tx pgx.Tx, paymentID string, deliveryID int64) error {
	res, err := jobs.InsertTx(ctx, tx, ConfirmPaymentArgs{PaymentID: paymentID}, nil)
	if err != nil {
		return fmt.Errorf("queue confirmation: %w", err)
	}
	if res.UniqueSkippedAsDuplicate && res.Job.State == rivertype.JobStateRunning {
		if _, err := jobs.InsertTx(ctx, tx, ConfirmPaymentArgs{PaymentID: paymentID, FollowUp: deliveryID}, nil); err != nil {
			return fmt.Errorf("queue follow-up confirmation: %w", err)
		}
	}
	return nil
}

// MarkWebhooksProcessed records the result on the payment's deliveries received
// before the confirmation started: the payment it read is at least as new as
// anything those deliveries said.
func (p *Payments) MarkWebhooksProcessed(ctx context.Context, paymentID string, startedAt time.Time, result string) error {
	if _, err := p.pool.Exec(ctx, `
		UPDATE webhook_events SET processed_at = now(), result = $3, error = NULL
		WHERE payment_id = $1 AND processed_at IS NULL AND received_at <= $2`,
		paymentID, startedAt, result); err != nil {
		return fmt.Errorf("mark webhooks processed: %w", err)
	}
	return nil
}

// RecordWebhookError notes a failed processing attempt on the payment's waiting
// deliveries without marking them processed; River retries the job.
func (p *Payments) RecordWebhookError(ctx context.Context, paymentID, errText string) error {
	_, err := p.pool.Exec(ctx, `UPDATE webhook_events SET error = $2 WHERE payment_id = $1 AND processed_at IS NULL`, paymentID, TruncateText(errText, 500))
	return err
}
