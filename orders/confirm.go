// Confirming a payment: reading it back from Orchestrate, whatever a webhook or a
// return URL claimed, and handing it to Apply. ConfirmByAttempt and
// ConfirmByPaymentID are the entry points, named for what the caller knows;
// Refresh and Poll confirm an order's live attempts for the pages a shopper is
// watching, at most once per interval.

package orders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// ConfirmByAttempt reads the payment of the attempt with our id attemptID from
// Orchestrate and applies that state: the API is the truth, whatever a webhook or a
// return URL claimed. An attempt whose create outcome is unknown is looked up by
// our attempt id in the metadata. It returns nil, nil when there is nothing to read
// yet, and ErrNotFound for an unknown attempt.
func (p *Payments) ConfirmByAttempt(ctx context.Context, attemptID, cause, sourceID string) (applied *Applied, err error) {
	defer func() { p.cfg.Metrics.confirmed(cause, outcome(applied, err)) }()
	var paymentID *string
	var status AttemptStatus
	err = p.pool.QueryRow(ctx, `SELECT orchestrate_payment_id, status FROM payment_attempts WHERE id = $1`, attemptID).Scan(&paymentID, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("attempt %s: %w", attemptID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("confirm attempt %s: %w", attemptID, err)
	}
	var pay *orchestrate.Payment
	if paymentID == nil {
		if status != AttemptUnknown && status != AttemptCreating {
			return nil, nil // created nothing
		}
		pay, err = p.api.FindPaymentByMetadata(ctx, MetadataAttemptID, attemptID, 5)
		if errors.Is(err, orchestrate.ErrNotFound) {
			return nil, nil
		}
	} else {
		pay, err = p.api.GetPayment(ctx, *paymentID)
	}
	if err != nil {
		return nil, fmt.Errorf("confirm attempt %s: read payment: %w", attemptID, err)
	}
	return p.Apply(ctx, attemptID, pay, cause, sourceID)
}

// outcome names a confirmation's result for the metrics.
func outcome(a *Applied, err error) string {
	switch {
	case err != nil:
		return "error"
	case a == nil:
		return "nothing_to_read"
	case a.Changed:
		return "applied"
	}
	return "unchanged"
}

// ConfirmByPaymentID reads the payment with Orchestrate's id paymentID and applies
// it to the attempt it belongs to: found by its payment id, or — when the webhook
// beat the create response — by our attempt id in its metadata. It returns the
// result recorded on the inbox rows: "applied", "unchanged" or "unknown_payment".
func (p *Payments) ConfirmByPaymentID(ctx context.Context, paymentID, cause, sourceID string) (result string, err error) {
	defer func() {
		outcome := result
		if err != nil {
			outcome = "error"
		}
		p.cfg.Metrics.confirmed(cause, outcome)
	}()
	pay, err := p.api.GetPayment(ctx, paymentID)
	if errors.Is(err, orchestrate.ErrNotFound) {
		return "unknown_payment", nil
	}
	if err != nil {
		return "", fmt.Errorf("read payment %s: %w", paymentID, err)
	}
	var attemptID string
	err = p.pool.QueryRow(ctx, `SELECT id::text FROM payment_attempts WHERE orchestrate_payment_id = $1`, paymentID).Scan(&attemptID)
	if errors.Is(err, pgx.ErrNoRows) {
		attemptID, err = p.attemptFromMetadata(ctx, pay)
	}
	if err != nil {
		return "", err
	}
	if attemptID == "" {
		return "unknown_payment", nil
	}
	applied, err := p.Apply(ctx, attemptID, pay, cause, sourceID)
	if err != nil {
		return "", err
	}
	if applied.Changed {
		return "applied", nil
	}
	return "unchanged", nil
}

// attemptFromMetadata returns our attempt named in the payment's metadata, checking
// that its order matches too, or "" when the payment is not ours.
func (p *Payments) attemptFromMetadata(ctx context.Context, pay *orchestrate.Payment) (string, error) {
	id := pay.Metadata[MetadataAttemptID]
	if _, err := uuid.Parse(id); err != nil {
		return "", nil
	}
	orderID, err := strconv.ParseInt(pay.Metadata[MetadataOrderID], 10, 64)
	if err != nil {
		return "", nil
	}
	var found string
	err = p.pool.QueryRow(ctx, `SELECT id::text FROM payment_attempts WHERE id = $1 AND order_id = $2`, id, orderID).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return found, err
}

// claimDue selects, in an UPDATE of payment_attempts that sets last_checked_at,
// the live attempts not read in the last $2 interval: Refresh and Poll claim with
// it so that however many tabs poll, Orchestrate is read once per interval.
const claimDue = `status IN ('open', 'unknown')
	AND (last_checked_at IS NULL OR last_checked_at < now() - $2::interval)`

// Refresh confirms the order's live attempts that were not read in the last
// interval, so a page polled by many tabs asks Orchestrate at most once per
// interval. Errors reading Orchestrate are logged, not returned: the page shows
// the stored state and the next poll tries again.
func (p *Payments) Refresh(ctx context.Context, orderID int64, interval time.Duration) error {
	rows, err := p.pool.Query(ctx, `
		UPDATE payment_attempts SET last_checked_at = now()
		WHERE order_id = $1 AND `+claimDue+`
		RETURNING id::text`, orderID, interval)
	if err != nil {
		return fmt.Errorf("claim attempts to confirm: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("claim attempts to confirm: %w", err)
	}
	p.confirmClaimed(ctx, ids)
	return nil
}

// confirmClaimed confirms the attempts a caller claimed.
func (p *Payments) confirmClaimed(ctx context.Context, ids []string) {
	for _, id := range ids {
		if _, err := p.ConfirmByAttempt(ctx, id, "return page", ""); err != nil {
			p.logger.Warn("confirming a payment", "attempt_id", id, "error", err)
		}
	}
}

// polledOrder is an order read together with the attempts its read claimed.
type polledOrder struct {
	Order
	Claimed []string `db:"claimed"`
}

// Poll returns the order with the given public reference after confirming, as
// Refresh does, its live attempts not read in the last interval; an order in a
// final status is only read. Reading the order and claiming its attempts is one
// statement, and the order is read again only after confirming something, so a
// poll with nothing to confirm (nearly every poll: at most one per interval asks
// Orchestrate) costs one round trip. It returns ErrNotFound for an unknown
// reference.
func (p *Payments) Poll(ctx context.Context, ref string, interval time.Duration) (*Order, error) {
	if !validRef(ref) {
		return nil, fmt.Errorf("order %q: %w", ref, ErrNotFound)
	}
	rows, err := p.pool.Query(ctx, `
		WITH o AS (SELECT `+orderColumns+` FROM orders WHERE public_ref = $1),
		claimed AS (
			UPDATE payment_attempts SET last_checked_at = now()
			WHERE order_id = (SELECT id FROM o) AND (SELECT status FROM o) <> ALL($3)
			  AND `+claimDue+`
			RETURNING id::text AS id)
		SELECT o.*, ARRAY(SELECT id FROM claimed) AS claimed FROM o`,
		ref, interval, finalStatuses())
	if err != nil {
		return nil, fmt.Errorf("poll order: %w", err)
	}
	polled, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[polledOrder])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("order: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("poll order: %w", err)
	}
	if len(polled.Claimed) == 0 {
		return &polled.Order, nil
	}
	p.confirmClaimed(ctx, polled.Claimed)
	return scanOrder(p.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, polled.ID))
}
