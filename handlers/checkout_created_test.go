package handlers_test

import (
	"strings"
	"testing"
)

// TestCheckoutRecordsCreatedPayment: the payment a checkout creates is recorded
// as Apply records it: the attempt adopts the payment's id, link and expiry and
// moves creating → open with its event (cause create) and its metric, and the
// order still awaits payment with its units held. Webhooks are off, so the
// create's answer is the only news.
func TestCheckoutRecordsCreatedPayment(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	if _, err := a.pool.Exec(t.Context(), `INSERT INTO stock (product_id, on_hand) SELECT id, 5 FROM products WHERE slug = 'enamel-mug'`); err != nil {
		t.Fatal(err)
	}
	o := a.checkoutOne(t)
	if n := a.count(t, `
		SELECT count(*) FROM payment_attempts a JOIN orders o ON o.id = a.order_id
		WHERE o.public_ref = $1 AND o.status = 'awaiting_payment' AND a.status = 'open'
		  AND a.payment_link = $2 AND a.orchestrate_payment_id IS NOT NULL AND a.expires_at IS NOT NULL
		  AND a.last_checked_at IS NOT NULL`, o.ref, o.link); n != 1 {
		t.Errorf("%d open attempts with the payment's id, link and expiry on an order awaiting payment, want 1", n)
	}
	if n := a.count(t, `
		SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.public_ref = $1 AND e.subject = 'attempt' AND e.from_status = 'creating' AND e.to_status = 'open'
		  AND e.cause = 'create' AND e.source_id IS NULL AND e.attempt_id IS NOT NULL`, o.ref); n != 1 {
		t.Errorf("%d creating → open events caused by the create, want 1", n)
	}
	if n := a.count(t, `SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.public_ref = $1`, o.ref); n != 4 {
		t.Errorf("%d events, want 4: the order awaiting payment, the attempt creating, the units held, the attempt open", n)
	}
	if n := a.count(t, `SELECT held FROM stock s JOIN products p ON p.id = s.product_id WHERE p.slug = 'enamel-mug'`); n != 1 {
		t.Errorf("%d units held, want 1", n)
	}
	if m := a.scrape(t); !strings.Contains(m, `order_transitions_total{from="creating",subject="attempt",to="open"} 1`) {
		t.Error("the creating → open transition was not counted in the metrics")
	}
}
