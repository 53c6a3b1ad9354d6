// Starting a payment: the Payments service, its configuration and errors, and
// Start, which writes an attempt before calling Orchestrate, creates at most one
// payment per order however many requests race, handles an unknown create outcome,
// and checks the payment link before a shopper is sent to it.

package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/singleflight"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// PaymentsAPI is the part of the Orchestrate client that payments use.
type PaymentsAPI interface {
	CreatePayment(ctx context.Context, params *orchestrate.CreatePaymentParams) (*orchestrate.Payment, error)
	GetPayment(ctx context.Context, id string) (*orchestrate.Payment, error)
	FindPaymentByMetadata(ctx context.Context, key, value string, maxPages int) (*orchestrate.Payment, error)
}

// Errors of starting a payment. Each wraps the cause.
var (
	// ErrPaymentUnavailable: Orchestrate could not be reached or answered with a
	// temporary error. The order is saved and the shopper may try again.
	ErrPaymentUnavailable = errors.New("the payment service is unavailable")
	// ErrPaymentRejected: Orchestrate refused the payment for good (a 4xx).
	ErrPaymentRejected = errors.New("the payment service refused the payment")
	// ErrBadPaymentLink: Orchestrate returned a payment link we will not send a
	// shopper to (another host, or not https in production).
	ErrBadPaymentLink = errors.New("the payment service returned an unexpected payment link")
	// ErrNotPayable: the order is paid or under review; nothing is owed.
	ErrNotPayable = errors.New("the order cannot be paid now")
)

// PaymentsConfig is what Payments needs from the app's configuration.
type PaymentsConfig struct {
	PublicURL   *url.URL      // base of success_url and cancel_url
	MCC         int           // merchant category code
	Expiry      time.Duration // expires_in of each payment
	Description string        // prefix of each payment's description, e.g. the store name
	// LinkOrigin is the only scheme and host a payment link may have: Orchestrate's.
	LinkOrigin   *url.URL
	RequireHTTPS bool // refuse http payment links (production)
	// CreateTimeout bounds one create call, so a shopper hears back within seconds.
	CreateTimeout time.Duration
	// RecheckYoung is how often the sweeper re-reads an attempt in its first two
	// minutes, while the shopper is most likely paying (default 20s).
	RecheckYoung time.Duration
	// HoldGrace is how long past a payment's expiry its order's units stay held
	// when no news of the payment's end arrives (default 10 minutes): then the
	// sweeper releases them.
	HoldGrace time.Duration
	// Metrics counts confirmations and transitions; nil counts nothing.
	Metrics *Metrics
	// Clock decides when a payment is past its expiry, when an attempt left
	// creating is orphaned and when the sweeper reads an attempt next; nil is the
	// real clock.
	Clock clockwork.Clock
}

// Payments starts and confirms Orchestrate payments for orders.
type Payments struct {
	pool   *pgxpool.Pool
	api    PaymentsAPI
	cfg    PaymentsConfig
	logger *slog.Logger
	// starts collapses concurrent starts for one order inside this process; the
	// partial unique index does the same across processes.
	starts singleflight.Group
	// effects are the side effects of orders' changes, their jobs inserted with
	// jobs (effects.go).
	effects []Effect
	jobs    jobInserter
	// resendReceipt queues a receipt again at the merchant's request (actions.go).
	resendReceipt ReceiptResender
}

// NewPayments returns a Payments. logger may be nil.
func NewPayments(pool *pgxpool.Pool, api PaymentsAPI, cfg PaymentsConfig, logger *slog.Logger) *Payments {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CreateTimeout == 0 {
		cfg.CreateTimeout = 8 * time.Second
	}
	if cfg.RecheckYoung == 0 {
		cfg.RecheckYoung = 20 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.HoldGrace == 0 {
		cfg.HoldGrace = holdGraceDefault
	}
	return &Payments{pool: pool, api: api, cfg: cfg, logger: logger}
}

// Start returns the link of the order's open payment, creating the payment first
// when the order has none. However many requests call it at once for one order,
// at most one payment is created and all of them get its link.
//
// It returns ErrNotPayable for a paid order, ErrPaymentUnavailable when
// Orchestrate is down or its answer was lost (the attempt is then marked unknown
// and reconciliation finds out), ErrPaymentRejected when Orchestrate refuses, and
// ErrBadPaymentLink when the link it returned is not on Orchestrate's origin.
func (p *Payments) Start(ctx context.Context, orderID int64) (string, error) {
	// The work outlives a cancelled request: the shopper who double-clicked is
	// waiting on the same result through another request.
	v, err, _ := p.starts.Do(strconv.FormatInt(orderID, 10), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.startTimeout())
		defer cancel()
		return p.start(ctx, orderID)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (p *Payments) start(ctx context.Context, orderID int64) (string, error) {
	for range 5 {
		live, unknown, err := p.attemptsInPlay(ctx, orderID)
		if err != nil {
			return "", err
		}
		switch {
		case live == nil:
			// Fall through to create one below.
		case live.Status == AttemptOpen && live.ExpiresAt != nil && p.cfg.Clock.Now().After(*live.ExpiresAt):
			// Past its expiry: find out what became of it before offering another.
			if _, err := p.ConfirmByAttempt(ctx, live.ID, "start", ""); err != nil {
				return "", err
			}
			continue
		case live.Status == AttemptOpen:
			return p.checkLink(live)
		case live.Status == AttemptCreating:
			if p.cfg.Clock.Since(live.CreatedAt) > p.orphanedAfter() {
				// Whoever was creating it died; reconciliation will look it up.
				if err := p.markUnknown(ctx, live.ID, "the app stopped while creating the payment"); err != nil {
					return "", err
				}
				continue
			}
			if err := p.waitWhileCreating(ctx, live.ID); err != nil {
				return "", err
			}
			continue
		}

		// A payment of an unknown attempt found open is adopted, and the new attempt
		// below then conflicts with it and goes round to use it.
		if err := p.resolveUnknown(ctx, unknown); err != nil {
			return "", err
		}
		order, attempt, err := p.newAttempt(ctx, orderID)
		if errors.Is(err, ErrConflict) {
			continue // another request or instance has a live attempt; go round and use it
		}
		if holdRefused(err) {
			short, serr := orderShortages(ctx, p.pool, orderID)
			if serr != nil {
				return "", serr
			}
			if len(short) > 0 {
				return "", &ShortageError{Lines: short}
			}
			continue // released between the refusal and the read: try again
		}
		if err != nil {
			return "", err
		}
		link, err := p.create(ctx, order, attempt)
		if errors.Is(err, errSuperseded) {
			continue // the customer changed meanwhile; go round to the attempt that carries them
		}
		return link, err
	}
	return "", fmt.Errorf("order %d: no stable payment attempt: %w", orderID, ErrPaymentUnavailable)
}

// startTimeout bounds one Start: the create call plus the database work around it.
func (p *Payments) startTimeout() time.Duration { return 2 * p.cfg.CreateTimeout }

// orphanedAfter is the age past which an attempt still marked creating cannot have
// a live creator any more (every Start ends within startTimeout): the instance
// creating it died, and the payment must be looked up instead.
func (p *Payments) orphanedAfter() time.Duration { return p.startTimeout() + 2*time.Second }

// attemptsInPlay returns, in one query, the order's creating or open attempt (or
// nil) and the ids of its attempts whose create outcome is unknown and whose
// payment has not been found yet; superseded attempts are not in play.
func (p *Payments) attemptsInPlay(ctx context.Context, orderID int64) (*Attempt, []string, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT `+attemptColumns+` FROM payment_attempts
		WHERE order_id = $1 AND superseded_at IS NULL
		  AND (status IN ('creating', 'open') OR (status = 'unknown' AND orchestrate_payment_id IS NULL))`, orderID)
	if err != nil {
		return nil, nil, fmt.Errorf("attempts in play: %w", err)
	}
	attempts, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[Attempt])
	if err != nil {
		return nil, nil, fmt.Errorf("attempts in play: %w", err)
	}
	var live *Attempt
	var unknown []string
	for _, a := range attempts {
		if a.Status == AttemptUnknown {
			unknown = append(unknown, a.ID)
		} else {
			live = a // at most one: payment_attempts_one_offered_per_order
		}
	}
	return live, unknown, nil
}

// waitWhileCreating waits until another request or instance has finished creating
// the attempt's payment.
func (p *Payments) waitWhileCreating(ctx context.Context, attemptID string) error {
	delay := 25 * time.Millisecond
	for {
		var status AttemptStatus
		if err := p.pool.QueryRow(ctx, `SELECT status FROM payment_attempts WHERE id = $1`, attemptID).Scan(&status); err != nil {
			return fmt.Errorf("wait for attempt: %w", err)
		}
		if status != AttemptCreating {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for another checkout of this order: %w", ErrPaymentUnavailable)
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// resolveUnknown looks up, by our attempt id in the metadata, the payments of
// attempts whose create outcome is unknown, and adopts any it finds. One found
// open means the shopper is sent to it rather than to a second payment.
func (p *Payments) resolveUnknown(ctx context.Context, ids []string) error {
	for _, id := range ids {
		lookupCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		pay, err := p.api.FindPaymentByMetadata(lookupCtx, MetadataAttemptID, id, 3)
		cancel()
		switch {
		case errors.Is(err, orchestrate.ErrNotFound):
			// Not (yet) visible: it stays unknown and the sweeper keeps looking, so
			// a payment that does turn up later is still recorded against the order.
		case err != nil:
			p.logger.Warn("looking up a payment of unknown outcome", "attempt_id", id, "error", err)
		default:
			if _, err := p.Apply(ctx, id, pay, "lookup", ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// newAttempt writes a creating attempt for the order (and moves a failed or expired
// order back to awaiting payment) before Orchestrate is called, holds the order's
// units again (or extends its holds) for the new payment's life, and returns the
// order as it read it with the attempt. It returns ErrConflict when the order
// already has a live attempt, ErrNotPayable when the order is paid or under
// review, and the database's refusal (holdRefused) when a unit is gone.
func (p *Payments) newAttempt(ctx context.Context, orderID int64) (*Order, *Attempt, error) {
	var order *Order
	var attempt *Attempt
	err := inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
		o, err := scanOrder(tx.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1 FOR UPDATE`, orderID))
		if err != nil {
			return err
		}
		order = o
		if !o.Status.Payable() {
			return fmt.Errorf("order %s is %s: %w", o.Number, o.Status, ErrNotPayable)
		}
		// Stamped by the clock that later judges its age (orphaned, sweep schedule).
		now := p.cfg.Clock.Now()
		rows, err := tx.Query(ctx, `
			INSERT INTO payment_attempts (id, order_id, amount_minor, currency, created_at, next_check_at)
			VALUES (gen_random_uuid(), $1, $2, $3, $4, $4::timestamptz + $5::interval)
			RETURNING `+attemptColumns, o.ID, o.TotalMinor, o.Currency, now, p.cfg.RecheckYoung)
		if err != nil {
			return fmt.Errorf("new attempt: %w", err)
		}
		attempt, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Attempt])
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("order %d already has a live attempt: %w", orderID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("new attempt: %w", err)
		}
		if err := recordEvent(ctx, tx, Event{OrderID: o.ID, AttemptID: &attempt.ID, Subject: "attempt",
			ToStatus: string(AttemptCreating), Cause: "checkout"}); err != nil {
			return err
		}
		cause := "checkout"
		if o.Status != StatusAwaitingPayment {
			cause = "pay again"
		}
		if err := holdOrder(ctx, tx, o.ID, p.holdUntil(now), cause); err != nil {
			return err
		}
		if o.Status != StatusAwaitingPayment {
			return transitionOrder(ctx, tx, o, StatusAwaitingPayment, Event{AttemptID: &attempt.ID, Cause: "pay again"})
		}
		return nil
	})
	return order, attempt, err
}

// Metadata keys the app puts on every payment. MetadataAttemptID finds the payment
// of an attempt whose create outcome was unknown.
const (
	MetadataOrderID     = "order_id"
	MetadataOrderNumber = "order_number"
	MetadataAttemptID   = "attempt_id"
)

// errSuperseded: the order's customer changed while its payment was being created.
var errSuperseded = errors.New("the attempt was superseded")

// create asks Orchestrate for the attempt's payment and records the outcome. The
// order is the one newAttempt read with the attempt: a change of its customer
// since supersedes the attempt, and create then returns errSuperseded.
func (p *Payments) create(ctx context.Context, o *Order, a *Attempt) (string, error) {
	base := p.cfg.PublicURL.String() + "/orders/" + url.PathEscape(o.PublicRef)
	params := &orchestrate.CreatePaymentParams{
		Amount:         a.AmountMinor,
		Currency:       orchestrate.Currency(a.Currency),
		MCC:            p.cfg.MCC,
		Customer:       orchestrate.Customer{Name: o.CustomerName, Email: o.CustomerEmail},
		Description:    fmt.Sprintf("%s order %s", p.cfg.Description, o.Number),
		SuccessURL:     base + "/success",
		CancelURL:      base + "/cancel",
		Metadata:       map[string]string{MetadataOrderID: strconv.FormatInt(o.ID, 10), MetadataOrderNumber: o.Number, MetadataAttemptID: a.ID},
		ExpiresIn:      p.cfg.Expiry,
		IdempotencyKey: a.ID,
	}
	createCtx, cancel := context.WithTimeout(ctx, p.cfg.CreateTimeout)
	pay, err := p.api.CreatePayment(createCtx, params)
	cancel()
	if err != nil {
		log := p.logger.With("order", o.Number, "attempt_id", a.ID, "error", err)
		if orchestrate.IsOutcomeUnknown(err) || errors.Is(err, context.DeadlineExceeded) {
			log.Warn("payment create outcome unknown; reconciliation will look it up")
			if merr := p.markUnknown(ctx, a.ID, err.Error()); merr != nil {
				return "", merr
			}
			return "", fmt.Errorf("%w: %w", ErrPaymentUnavailable, err)
		}
		if ferr := p.markCreateFailed(ctx, a.ID, err.Error()); ferr != nil {
			return "", ferr
		}
		if orchestrate.IsPermanent(err) {
			log.Error("Orchestrate refused the payment")
			return "", fmt.Errorf("%w: %w", ErrPaymentRejected, err)
		}
		log.Warn("payment create failed; the shopper may retry")
		return "", fmt.Errorf("%w: %w", ErrPaymentUnavailable, err)
	}
	updated, err := p.applyCreated(ctx, a, pay)
	if err != nil {
		return "", err
	}
	if updated.Status != AttemptOpen {
		// Already paid, failed or expired by the time we stored it (a webhook won the
		// race); the caller shows the order instead of a link.
		return "", fmt.Errorf("payment is %s: %w", updated.Status, ErrNotPayable)
	}
	if updated.SupersededAt != nil {
		return "", fmt.Errorf("attempt %s: %w", a.ID, errSuperseded)
	}
	return p.checkLink(updated)
}

// checkLink returns the attempt's payment link if it is on Orchestrate's origin
// (and https when required), so a compromised or buggy answer can never turn the
// checkout into an open redirect.
func (p *Payments) checkLink(a *Attempt) (string, error) {
	if a.PaymentLink == nil {
		return "", fmt.Errorf("attempt %s has no payment link: %w", a.ID, ErrBadPaymentLink)
	}
	u, err := url.Parse(*a.PaymentLink)
	origin := p.cfg.LinkOrigin
	if err != nil || u.Scheme != origin.Scheme || u.Host != origin.Host || u.User != nil ||
		(p.cfg.RequireHTTPS && u.Scheme != "https") {
		p.logger.Error("refusing a payment link that is not on Orchestrate's origin",
			"attempt_id", a.ID, "link_host", hostOf(u), "want_host", origin.Host)
		return "", fmt.Errorf("attempt %s: %w", a.ID, ErrBadPaymentLink)
	}
	return u.String(), nil
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// markUnknown moves a creating attempt to unknown, recording why.
func (p *Payments) markUnknown(ctx context.Context, attemptID, why string) error {
	return p.setAttemptStatus(ctx, attemptID, AttemptUnknown, "create", why)
}

// markCreateFailed moves a creating attempt to create_failed, recording why.
func (p *Payments) markCreateFailed(ctx context.Context, attemptID, why string) error {
	return p.setAttemptStatus(ctx, attemptID, AttemptCreateFailed, "create", why)
}
