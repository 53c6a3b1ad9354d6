package orders_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// fixture is an order of $19.99 with attempts whose payments the test invents.
type fixture struct {
	pool     *pgxpool.Pool
	payments *orders.Payments
	orderID  int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testdb.New(t)
	var id int64
	if err := db.Pool.QueryRow(context.Background(), `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email)
		VALUES ('ref-0123456789012345678901', 'USD', 1999, 'Ada', 'ada@example.com') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// Apply never calls Orchestrate, so no client is needed here.
	return &fixture{pool: db.Pool, payments: orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil), orderID: id}
}

// attempt inserts an attempt in the given status and returns its id.
func (f *fixture) attempt(t *testing.T, status string) string {
	t.Helper()
	var id string
	if err := f.pool.QueryRow(context.Background(), `
		INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency)
		VALUES (gen_random_uuid(), $1, $2, 1999, 'USD') RETURNING id::text`, f.orderID, status).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func payment(id string, status orchestrate.Status, amount int64, currency orchestrate.Currency) *orchestrate.Payment {
	now := time.Now()
	return &orchestrate.Payment{ID: id, Status: status, Amount: amount, Currency: currency,
		PaymentLink: "http://sandbox.test/payments/" + id + "/collection", ExpiresAt: &now}
}

// state returns the order's status, its refund flag and its events as from→to.
func (f *fixture) state(t *testing.T) (string, bool, []string) {
	t.Helper()
	ctx := context.Background()
	var status string
	var refund bool
	if err := f.pool.QueryRow(ctx, `SELECT status, refund_needed FROM orders WHERE id = $1`, f.orderID).Scan(&status, &refund); err != nil {
		t.Fatal(err)
	}
	rows, err := f.pool.Query(ctx, `
		SELECT subject || ':' || coalesce(from_status, '') || '>' || to_status
		FROM order_events WHERE order_id = $1 ORDER BY id`, f.orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var events []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	return status, refund, events
}

func TestApply(t *testing.T) {
	type step struct {
		payment string // which invented payment: "a" or "b"
		status  orchestrate.Status
		amount  int64
	}
	tests := []struct {
		name       string
		steps      []step
		wantStatus string
		wantRefund bool
		wantEvents []string
	}{
		{
			name:       "completed pays the order",
			steps:      []step{{"a", orchestrate.StatusCompleted, 1999}},
			wantStatus: "paid",
			wantEvents: []string{"attempt:open>completed", "order:awaiting_payment>paid"},
		},
		{
			name:       "a replay is a no-op",
			steps:      []step{{"a", orchestrate.StatusCompleted, 1999}, {"a", orchestrate.StatusCompleted, 1999}, {"a", orchestrate.StatusPending, 1999}},
			wantStatus: "paid",
			wantEvents: []string{"attempt:open>completed", "order:awaiting_payment>paid"},
		},
		{
			name:       "paid is never left",
			steps:      []step{{"a", orchestrate.StatusCompleted, 1999}, {"a", orchestrate.StatusExpired, 1999}, {"a", orchestrate.StatusFailed, 1999}},
			wantStatus: "paid",
			wantEvents: []string{"attempt:open>completed", "order:awaiting_payment>paid"},
		},
		{
			name:       "money received after expiry wins",
			steps:      []step{{"a", orchestrate.StatusExpired, 1999}, {"a", orchestrate.StatusCompleted, 1999}},
			wantStatus: "paid",
			wantEvents: []string{"attempt:open>expired", "order:awaiting_payment>expired", "attempt:expired>completed", "order:expired>paid"},
		},
		{
			name:       "failed",
			steps:      []step{{"a", orchestrate.StatusFailed, 1999}},
			wantStatus: "failed",
			wantEvents: []string{"attempt:open>failed", "order:awaiting_payment>failed"},
		},
		{
			name:       "amount mismatch needs review",
			steps:      []step{{"a", orchestrate.StatusCompleted, 1000}},
			wantStatus: "needs_review",
			wantEvents: []string{"attempt:open>completed", "order:awaiting_payment>needs_review"},
		},
		{
			name:       "a second completed payment is flagged for refund, not applied",
			steps:      []step{{"a", orchestrate.StatusCompleted, 1999}, {"b", orchestrate.StatusCompleted, 1999}},
			wantStatus: "paid",
			wantRefund: true,
			wantEvents: []string{"attempt:open>completed", "order:awaiting_payment>paid", "attempt:unknown>completed", "flag:paid>refund_needed"},
		},
		{
			name:       "an old attempt expiring leaves the order waiting for the live one",
			steps:      []step{{"b", orchestrate.StatusExpired, 1999}},
			wantStatus: "awaiting_payment",
			wantEvents: []string{"attempt:unknown>expired"},
		},
		{
			name:       "an unknown status changes nothing",
			steps:      []step{{"a", orchestrate.Status("refunded"), 1999}},
			wantStatus: "awaiting_payment",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ids := map[string]string{"a": f.attempt(t, "open"), "b": f.attempt(t, "unknown")}
			for _, s := range tc.steps {
				if _, err := f.payments.Apply(context.Background(), ids[s.payment], payment("pay-"+s.payment, s.status, s.amount, orchestrate.USD), "test", ""); err != nil {
					t.Fatalf("Apply(%+v): %v", s, err)
				}
			}
			status, refund, events := f.state(t)
			if status != tc.wantStatus || refund != tc.wantRefund {
				t.Errorf("order = %s refund %v, want %s refund %v", status, refund, tc.wantStatus, tc.wantRefund)
			}
			if diff := cmp.Diff(tc.wantEvents, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyRefusesAnotherPaymentForTheAttempt: an attempt keeps the payment it
// adopted first. Applying a different payment to it is ErrConflict and changes
// nothing (Apply adopts before it compares, so this proves the rollback), and an
// attempt that does not exist is ErrNotFound.
func TestApplyRefusesAnotherPaymentForTheAttempt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.attempt(t, "creating")
	if _, err := f.payments.Apply(ctx, id, payment("pay_first", orchestrate.StatusPending, 1999, "USD"), "create", ""); err != nil {
		t.Fatalf("Apply the first payment: %v", err)
	}
	other := payment("pay_other", orchestrate.StatusCompleted, 1999, "USD")
	other.PaymentLink = "http://sandbox.test/elsewhere"
	if _, err := f.payments.Apply(ctx, id, other, "webhook", ""); !errors.Is(err, orders.ErrConflict) {
		t.Fatalf("Apply another payment = %v, want ErrConflict", err)
	}
	var payID, link, status string
	if err := f.pool.QueryRow(ctx, `SELECT orchestrate_payment_id, payment_link, status FROM payment_attempts WHERE id = $1`, id).Scan(&payID, &link, &status); err != nil {
		t.Fatal(err)
	}
	if payID != "pay_first" || link != "http://sandbox.test/payments/pay_first/collection" || status != "open" {
		t.Errorf("attempt after the refused payment = %s %s %s, want pay_first, its link, open", payID, link, status)
	}
	if got, _, _ := f.state(t); got != "awaiting_payment" {
		t.Errorf("order = %s after the refused payment, want awaiting_payment", got)
	}

	if _, err := f.payments.Apply(ctx, "00000000-0000-0000-0000-000000000000", other, "webhook", ""); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("Apply to a missing attempt = %v, want ErrNotFound", err)
	}
}
