package handlers_test

import (
	"net/http"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// cartQuantities reads the shopper's cart page as product id → quantity.
func (s *shopper) cartQuantities() map[string]string {
	s.t.Helper()
	p := s.get("/cart")
	if p.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /cart = %d", p.StatusCode)
	}
	got := map[string]string{}
	p.doc.Find("tr[data-product-id]").Each(func(_ int, tr *goquery.Selection) {
		id, _ := tr.Attr("data-product-id")
		got[id], _ = tr.Find("input.qty").Attr("value")
	})
	return got
}

// TestPaidItemsLeaveTheCart: a shopper checks out two mugs and leaves the payment
// pending, then adds a scoop and a third mug to the cart; when the payment
// completes (webhook → reconciliation), the two mugs it bought leave the cart and
// what was added since stays, so nothing can be paid for twice. A replayed
// webhook for the payment takes nothing more, and the cart's next checkout is a
// new order of what is left.
func TestPaidItemsLeaveTheCart(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	mug, scoop := ids["enamel-mug"], ids["brass-scoop"]
	s := a.newShopper(t)

	s.addToCart(mug, "2")
	p := s.checkout("Ada Lovelace", "ada@example.com")
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d, want 303; body %s", p.StatusCode, p.body)
	}
	link := p.Header.Get("Location")
	if resp := payOnHostedPage(t, link, "4000 0000 0000 0077"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the pending card = %d, want 303 to the success page", resp.StatusCode)
	}
	var ref string
	if err := a.pool.QueryRow(t.Context(), `SELECT public_ref FROM orders`).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	if got := a.orderStatus(t, ref); got != "awaiting_payment" {
		t.Fatalf("order after the pending card = %s, want awaiting_payment", got)
	}

	s.addToCart(scoop, "1")
	s.addToCart(mug, "1")
	if diff := cmp.Diff(map[string]string{mug: "3", scoop: "1"}, s.cartQuantities()); diff != "" {
		t.Fatalf("cart before the payment completes (-want +got):\n%s", diff)
	}

	payID := paymentIDOf(t, link)
	a.control(t, "/_sandbox/payments/"+payID+"/complete")
	eventually(t, "the webhook to pay the order", func() bool { return a.orderStatus(t, ref) == "paid" })

	want := map[string]string{mug: "1", scoop: "1"}
	if diff := cmp.Diff(want, s.cartQuantities()); diff != "" {
		t.Errorf("cart once the order is paid (-want +got):\n%s", diff)
	}
	if got := s.get("/cart").doc.Find(".cart-count").Text(); got != "2" {
		t.Errorf("header count once paid = %q, want 2", got)
	}

	// Orchestrate sends payment.succeeded again (a new event id, so it is stored
	// and confirmed again): the order is already paid and the cart keeps its lines.
	// The receipt's mail events are left out: they arrive when its job runs.
	events := a.count(t, `SELECT count(*) FROM order_events WHERE subject <> 'mail'`)
	replay := succeededEvent(payID)
	if status := a.postWebhook(t, replay, orchestrate.Sign(replay, testWebhookSecret)); status != http.StatusOK {
		t.Fatalf("replayed webhook = %d, want 200", status)
	}
	eventually(t, "the replayed webhook to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE event_id = $1 AND processed_at IS NOT NULL`, "evt_"+payID) == 1
	})
	if diff := cmp.Diff(want, s.cartQuantities()); diff != "" {
		t.Errorf("cart after a replayed webhook (-want +got):\n%s", diff)
	}
	if n := a.count(t, `SELECT count(*) FROM order_events WHERE subject <> 'mail'`); n != events {
		t.Errorf("the replayed webhook wrote %d order events, want none", n-events)
	}

	// What is left is a cart of its own: checking it out makes a new order.
	if p := s.checkout("Ada Lovelace", "ada@example.com"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("second checkout = %d, want 303; body %s", p.StatusCode, p.body)
	}
	var orders int
	var total int64
	if err := a.pool.QueryRow(t.Context(), `
		SELECT count(*), (SELECT total_minor FROM orders WHERE public_ref <> $1)
		FROM orders`, ref).Scan(&orders, &total); err != nil {
		t.Fatal(err)
	}
	if orders != 2 || total != 1999+1400 {
		t.Errorf("after checking out what is left: %d orders, the new one of %d cents; want 2, and 3399 (a mug and a scoop)", orders, total)
	}
}
