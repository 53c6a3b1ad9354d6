package sandbox

import (
	"context"
	"time"
)

// Store persists the sandbox's payments and webhook deliveries.
// NewMemoryStore and NewPostgresStore are its implementations. Its methods
// are unexported on purpose: the stored model is the sandbox's own business
// and may change without breaking callers, who only choose where state lives.
//
// Every payment change is a compare-and-set on the payment's status, done
// together with inserting the webhook deliveries it causes, so an event is
// queued exactly when its change is stored (a transactional outbox).
type Store interface {
	// createPayment stores p with the deliveries announcing it and returns
	// it with created true. When p has an idempotency key already used in
	// the same key scope, it stores nothing and returns the earlier payment
	// with created false.
	createPayment(ctx context.Context, p payment, ds []delivery) (stored payment, created bool, err error)
	// getPayment returns the payment with that id, or errNotFound.
	getPayment(ctx context.Context, id string) (payment, error)
	// listPayments returns a page of payments, newest first, and how many
	// payments exist in all.
	listPayments(ctx context.Context, offset, limit int) ([]payment, int, error)
	// updatePayment replaces the stored payment p.ID with p only if its
	// stored status is still from, and adds ds in the same step. It returns
	// errNotFound or errConflict (the status had changed).
	updatePayment(ctx context.Context, p payment, from status, ds []delivery) error
	// duePayments returns up to limit pending payments whose expires_at is
	// not after now.
	duePayments(ctx context.Context, now time.Time, limit int) ([]payment, error)

	// addDeliveries queues new deliveries (a resend).
	addDeliveries(ctx context.Context, ds []delivery) error
	// getDelivery returns the delivery with that id, or errNotFound.
	getDelivery(ctx context.Context, id string) (delivery, error)
	// pendingDeliveries returns every delivery still to be attempted, in
	// the order they were queued (Seq set).
	pendingDeliveries(ctx context.Context) ([]delivery, error)
	// listDeliveries returns up to limit deliveries, newest first.
	listDeliveries(ctx context.Context, limit int) ([]delivery, error)
	// updateDelivery records the outcome of an attempt on delivery d.ID.
	updateDelivery(ctx context.Context, d delivery) error
}
