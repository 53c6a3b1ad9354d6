package mailer_test

import (
	"context"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/mailer"
)

// TestLatestPrefersTheSentReceipt: once a receipt was sent, a resend still
// queued or failing does not make the order page say it was not.
func TestLatestPrefersTheSentReceipt(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	var orderID int64
	if err := db.Pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email, status, paid_at)
		VALUES (md5(random()::text), 'USD', 1999, 'Ada', 'ada@example.com', 'paid', now()) RETURNING id`).Scan(&orderID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO mail_outbox (order_id, kind, sequence, message_id, recipient, status, sent_at)
		VALUES ($1, 'receipt', 0, 'first@shop.test', 'ada@example.com', 'sent', now()),
		       ($1, 'receipt', 1, 'resend@shop.test', 'ada@example.com', 'failed', NULL)`, orderID); err != nil {
		t.Fatal(err)
	}
	m, err := mailer.NewOutbox(db.Pool, "shop.test", nil).Latest(ctx, orderID, mailer.KindReceipt)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || m.Sequence != 0 {
		t.Errorf("Latest = %+v, want the sent receipt (sequence 0)", m)
	}
}
