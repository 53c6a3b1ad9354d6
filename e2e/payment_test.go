package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// checkoutOne puts the catalog's first product in the cart, checks out as
// name/email and returns the URL of the sandbox's hosted page it lands on.
func (b *browser) checkoutOne(name, email string) string {
	b.t.Helper()
	products := b.catalog()
	b.checkpoint("catalog")
	b.addToCart(products[0])
	b.checkpoint("cart")
	if status := b.checkoutFromCart(name, email); status != http.StatusOK {
		b.t.Fatalf("checkout: the hosted page answered %d", status)
	}
	link := b.onHostedPage()
	b.checkpoint("hosted-payment-page")
	return link
}

// TestDeclineCancelPayAgain: a declined card, then Cancel on the hosted page →
// the shop's cancel page says the payment did not go through → Pay again → a new
// payment → paid.
func TestDeclineCancelPayAgain(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	b := newBrowser(t, a)
	first := b.checkoutOne("Grace Hopper", "grace@example.com")

	if status := b.pay(cardDecline); status != http.StatusUnprocessableEntity {
		t.Errorf("paying with the decline card answered %d, want 422 (the hosted page again)", status)
	}
	b.waitVisible("#card_number_error", stepTimeout)
	b.checkpoint("card-declined")
	// The declined form comes back at the form's own address, …/pay.
	if loc := b.location(); !strings.HasPrefix(loc, strings.TrimSuffix(first, "collection")) {
		t.Fatalf("after a declined card the page is %s, want the hosted page of %s", loc, first)
	}

	if status := b.click(`.cancel-form button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("cancel: the shop's cancel page answered %d", status)
	}
	path := b.path()
	ref := orderRef(path)
	if ref == "" || !strings.HasSuffix(path, "/cancel") {
		t.Fatalf("after cancelling the page is %s, want /orders/<ref>/cancel", path)
	}
	b.waitStatus("failed")
	b.checkpoint("cancel-page")
	if got := b.text("#payment-status .badge"); got != "Payment cancelled" {
		t.Errorf("the cancel page says %q, want Payment cancelled", got)
	}
	if got := b.text("#pay-button"); got != "Pay again" {
		t.Errorf("the cancel page's button says %q, want Pay again", got)
	}

	if status := b.click("#pay-button"); status != http.StatusOK {
		t.Fatalf("pay again: the hosted page answered %d", status)
	}
	second := b.onHostedPage()
	b.checkpoint("hosted-payment-page-again")
	if second == first {
		t.Errorf("pay again reused the failed payment's page %s", first)
	}
	if status := b.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d", status)
	}
	if got := orderRef(b.path()); got != ref {
		t.Errorf("paid order %q, want the same order %q", got, ref)
	}
	b.waitStatus("paid")
	b.checkpoint("success-paid")
}

// TestExpiredPaymentPayAgain: a payment left alone past its expiry → the hosted
// page and the order page say it expired → Pay again → paid. Payments expire
// after 5 s here, and the sweeper looks every second.
func TestExpiredPaymentPayAgain(t *testing.T) {
	t.Parallel()
	a := startApp(t, "PAYMENT_EXPIRY=5s", "SWEEP_INTERVAL=1s")
	b := newBrowser(t, a)
	b.checkoutOne("Katherine Johnson", "katherine@example.com")

	// The shopper walks away, then comes back to the hosted page and reloads it
	// until it says the link expired.
	b.reloadUntil(".state-expired", 30*time.Second)
	b.checkpoint("hosted-page-expired")
	if status := b.click(`main a[href*="/orders/"]`); status != http.StatusOK {
		t.Fatalf("back to the shop: status %d", status)
	}
	ref := orderRef(b.path())
	if ref == "" {
		t.Fatalf("the hosted page's link led to %s, want an order page", b.path())
	}
	b.waitStatus("expired")
	b.checkpoint("return-page-expired")

	// The bookmarkable order page says so too, and offers to pay again.
	b.open("/orders/" + ref)
	if msg := b.waitStatus("expired"); !strings.Contains(msg, "expired") {
		t.Errorf("the order page's status says %q, want it to say the payment expired", msg)
	}
	b.checkpoint("order-page-expired")
	if got := b.text("#pay-button"); got != "Pay again" {
		t.Errorf("the expired order's button says %q, want Pay again", got)
	}

	if status := b.click("#pay-button"); status != http.StatusOK {
		t.Fatalf("pay again: the hosted page answered %d", status)
	}
	b.onHostedPage()
	// No checkpoint before paying: this payment expires in 5 s too.
	if status := b.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d (the new payment may have expired first)", status)
	}
	b.waitStatus("paid")
	b.checkpoint("success-paid")
}

// TestPaidWithoutWebhooks: with the sandbox's webhooks switched off, payments
// still reach paid because the app reads them back from Orchestrate — at once
// when the shopper returns, and by polling (htmx) while the page is open.
func TestPaidWithoutWebhooks(t *testing.T) {
	t.Parallel()
	a := startApp(t, "SANDBOX_WEBHOOKS_DISABLED=true")

	t.Run("success card", func(t *testing.T) {
		b := newBrowser(t, a)
		b.checkoutOne("Hedy Lamarr", "hedy@example.com")
		if status := b.pay(cardSuccess); status != http.StatusOK {
			t.Fatalf("paying: the success page answered %d", status)
		}
		b.waitStatus("paid")
		b.checkpoint("success-paid")
	})

	t.Run("completed while the page is open", func(t *testing.T) {
		// The pending card leaves the payment open: the success page says it is
		// confirming and polls. The payment is then completed at the sandbox
		// (as its operator would); the open page must turn to paid by itself,
		// without a reload.
		b := newBrowser(t, a)
		link := b.checkoutOne("Annie Easley", "annie@example.com")
		if status := b.pay(cardPending); status != http.StatusOK {
			t.Fatalf("paying with the pending card: the success page answered %d", status)
		}
		b.waitStatus("awaiting_payment")
		b.checkpoint("success-confirming")
		b.do("mark the document", evalVoid(`window.e2eSameDocument = true`))
		if got := b.text("#cart-link .cart-count"); got != "1" {
			t.Errorf("the header counts %q items while the payment is open, want 1", got)
		}

		a.sandboxControl(t, http.MethodPost, "/_sandbox/payments/"+paymentID(link)+"/complete", "")
		b.waitStatus("paid")
		b.checkpoint("success-paid")
		if !eval[bool](b, "look for the mark", `window.e2eSameDocument === true`) {
			t.Error("the success page was reloaded; it should have turned to paid by itself")
		}
		// The poll that brought paid also emptied the header's cart count.
		b.poll("the header's cart count to turn to 0", func() bool { return b.text("#cart-link .cart-count") == "0" })
	})

	// The sandbox really sent nothing.
	var deliveries struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(a.sandboxControl(t, http.MethodGet, "/_sandbox/deliveries", "")), &deliveries); err != nil {
		t.Fatal(err)
	}
	if n := len(deliveries.Items); n != 0 {
		t.Errorf("the sandbox made %d webhook deliveries with webhooks disabled, want 0", n)
	}
}
