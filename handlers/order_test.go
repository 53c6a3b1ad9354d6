package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// checkedOut is a shopper who has placed an order and been sent to Orchestrate.
type checkedOut struct {
	*shopper
	ref  string
	link string
}

// checkoutOne puts one mug in a new shopper's cart and checks out.
func (a *app) checkoutOne(t *testing.T) *checkedOut {
	t.Helper()
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	p := s.checkout("Ada Lovelace", "ada@example.com")
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d, want 303; body %s", p.StatusCode, p.body)
	}
	var ref string
	if err := a.pool.QueryRow(context.Background(), `SELECT public_ref FROM orders ORDER BY id DESC LIMIT 1`).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	return &checkedOut{shopper: s, ref: ref, link: p.Header.Get("Location")}
}

// payOnHostedPage submits a card on the sandbox's hosted page as a browser would
// and returns where the sandbox sends the shopper.
func payOnHostedPage(t *testing.T, link, card string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	payURL := strings.TrimSuffix(link, "/collection") + "/pay"
	resp, err := c.PostForm(payURL, url.Values{"card_number": {card}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func cancelOnHostedPage(t *testing.T, link string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(strings.TrimSuffix(link, "/collection")+"/cancel", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// statusOf returns the data-status of the page's payment status box.
func statusOf(p *page) string {
	s, _ := p.doc.Find("#payment-status").Attr("data-status")
	return s
}

func TestSuccessPageShowsPaidAfterPayment(t *testing.T) {
	a := newApp(t)
	o := a.checkoutOne(t)
	resp := payOnHostedPage(t, o.link, "4242 4242 4242 4242")
	want := "http://shop.test/orders/" + o.ref + "/success"
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("hosted page answered %d %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	// No webhook reaches this app in the test: the success page itself confirms
	// by reading the payment from Orchestrate.
	p := o.get("/orders/" + o.ref + "/success")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("success page = %d", p.StatusCode)
	}
	if got := statusOf(p); got != "paid" {
		t.Errorf("success page status = %q, want paid", got)
	}
	if got := p.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("order page Cache-Control = %q, want no-store", got)
	}
	if _, polling := p.doc.Find("#payment-status").Attr("data-hx-get"); polling {
		t.Error("a paid order page still polls")
	}
	if got := p.doc.Find("#order-total").Text(); got != "US$19.99" {
		t.Errorf("order total = %q, want US$19.99", got)
	}
	if got := o.get("/cart").doc.Find(".notice").Text(); !strings.Contains(got, "empty") {
		t.Errorf("the cart was not emptied once paid: %q", got)
	}
	var events int
	if err := a.pool.QueryRow(context.Background(), `
		SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.public_ref = $1 AND e.subject = 'order' AND e.to_status = 'paid'`, o.ref).Scan(&events); err != nil || events != 1 {
		t.Errorf("paid events = %d (%v), want 1", events, err)
	}
	// Opening it again changes nothing (the receipt's mail events, which arrive
	// when its job runs, left out).
	o.get("/orders/" + o.ref + "/success")
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM order_events WHERE subject <> 'mail'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	o.get("/orders/" + o.ref + "/success")
	var again int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM order_events WHERE subject <> 'mail'`).Scan(&again); err != nil || again != events {
		t.Errorf("a reload wrote %d events", again-events)
	}
}

func TestSuccessPageWithoutPaymentIsNotPaid(t *testing.T) {
	a := newApp(t)
	// The page's own reads alone: a webhook's job reading the payment at the
	// same moment would leave a poll showing the state stored before it.
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.checkoutOne(t)
	// The shopper types the success URL without paying.
	p := o.get("/orders/" + o.ref + "/success")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("success page = %d", p.StatusCode)
	}
	if got := statusOf(p); got != "awaiting_payment" {
		t.Errorf("status = %q, want awaiting_payment", got)
	}
	if hx, _ := p.doc.Find("#payment-status").Attr("data-hx-get"); hx != "/orders/"+o.ref+"/status?return=success" {
		t.Errorf("the page does not poll its status (data-hx-get %q)", hx)
	}
	if !strings.Contains(p.doc.Find("#payment-status").Text(), "Confirming your payment") {
		t.Errorf("status text = %q", p.doc.Find("#payment-status").Text())
	}
	frag := o.get("/orders/" + o.ref + "/status?return=success")
	if frag.StatusCode != http.StatusOK || statusOf(frag) != "awaiting_payment" {
		t.Errorf("status fragment = %d %q", frag.StatusCode, statusOf(frag))
	}
	// Now pay; the polled fragment turns paid and stops polling.
	payOnHostedPage(t, o.link, "4242424242424242")
	if _, err := a.pool.Exec(context.Background(), `UPDATE payment_attempts SET last_checked_at = NULL`); err != nil {
		t.Fatal(err) // let the next poll ask Orchestrate without waiting out the throttle
	}
	frag = o.get("/orders/" + o.ref + "/status?return=success")
	if got := statusOf(frag); got != "paid" {
		t.Errorf("status fragment after paying = %q, want paid", got)
	}
	if _, polling := frag.doc.Find("#payment-status").Attr("data-hx-trigger"); polling {
		t.Error("the final fragment keeps polling")
	}
}

func TestPendingCardStaysAwaiting(t *testing.T) {
	a := newApp(t)
	o := a.checkoutOne(t)
	resp := payOnHostedPage(t, o.link, "4000 0000 0000 0077")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pending card = %d", resp.StatusCode)
	}
	if got := statusOf(o.get("/orders/" + o.ref + "/success")); got != "awaiting_payment" {
		t.Errorf("status after a pending card = %q, want awaiting_payment", got)
	}
}

func TestCancelThenPayAgain(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // the return pages' own reads alone, as above
	o := a.checkoutOne(t)
	resp := cancelOnHostedPage(t, o.link)
	if want := "http://shop.test/orders/" + o.ref + "/cancel"; resp.Header.Get("Location") != want {
		t.Fatalf("cancel sent the shopper to %q, want %q", resp.Header.Get("Location"), want)
	}
	p := o.get("/orders/" + o.ref + "/cancel")
	if got := statusOf(p); got != "failed" {
		t.Errorf("cancel page status = %q, want failed", got)
	}
	if p.doc.Find("#pay-button").Text() != "Pay again" {
		t.Error("the cancel page offers no Pay again button")
	}
	if _, ok := p.doc.Find(`a[href="/cart"]`).Attr("href"); !ok {
		t.Error("the cancel page offers no way back to the cart")
	}

	again := o.post("/orders/"+o.ref+"/pay", nil)
	if again.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay again = %d; body %s", again.StatusCode, again.body)
	}
	if again.Header.Get("Location") == o.link {
		t.Error("pay again reused the failed payment's link")
	}
	if n := len(a.payments(t)); n != 2 {
		t.Errorf("sandbox holds %d payments, want 2 (failed + new)", n)
	}
	if got := statusOf(o.get("/orders/" + o.ref)); got != "awaiting_payment" {
		t.Errorf("order after pay again = %q, want awaiting_payment", got)
	}
	payOnHostedPage(t, again.Header.Get("Location"), "4242424242424242")
	if got := statusOf(o.get("/orders/" + o.ref + "/success")); got != "paid" {
		t.Errorf("order after paying the second attempt = %q, want paid", got)
	}
	// A paid order cannot be paid again: the button is gone and a forged POST
	// only shows the order.
	p = o.post("/orders/"+o.ref+"/pay", nil)
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/orders/"+o.ref {
		t.Errorf("paying a paid order = %d %q, want 303 to the order", p.StatusCode, p.Header.Get("Location"))
	}
	if n := len(a.payments(t)); n != 2 {
		t.Errorf("sandbox holds %d payments after paying a paid order, want 2", n)
	}
}

func TestOrderPageUnknownReference(t *testing.T) {
	a := newApp(t)
	a.checkoutOne(t)
	other := a.newShopper(t)
	for _, path := range []string{
		"/orders/AAAAAAAAAAAAAAAAAAAAAA",
		"/orders/AAAAAAAAAAAAAAAAAAAAAA/success",
		"/orders/short",
		"/orders/AAAAAAAAAAAAAAAAAAAAAA/status",
	} {
		if p := other.get(path); p.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, p.StatusCode)
		}
	}
	if p := other.post("/orders/AAAAAAAAAAAAAAAAAAAAAA/pay", nil); p.StatusCode != http.StatusNotFound {
		t.Errorf("POST pay for an unknown order = %d, want 404", p.StatusCode)
	}
}

// TestOrchestrateTrouble makes the sandbox fail the create in each way and checks
// the shopper sees the clear page, the order stays payable, and a retry after the
// trouble lands on exactly one live payment.
func TestOrchestrateTrouble(t *testing.T) {
	tests := []struct {
		name   string
		faults string
		// lost: the payment was created though the shopper saw an error.
		lost bool
	}{
		{"500", `{"create_errors": 5, "error_status": 500}`, false},
		{"429", `{"create_errors": 5, "error_status": 429}`, false},
		{"dropped connection", `{"drop_connections": 5}`, false},
		{"lost create response", `{"lose_create_response": 1}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t)
			s := a.newShopper(t)
			s.addToCart(a.productIDs(t)["enamel-mug"], "1")
			a.setFaults(t, tc.faults)
			var ref, status string
			posted := s.checkout("Ada Lovelace", "ada@example.com")
			if err := a.pool.QueryRow(context.Background(), `SELECT public_ref, status FROM orders`).Scan(&ref, &status); err != nil {
				t.Fatal(err)
			}
			if posted.StatusCode != http.StatusSeeOther || posted.Header.Get("Location") != "/orders/"+ref {
				t.Fatalf("checkout with Orchestrate failing = %d to %q, want 303 to the order's page", posted.StatusCode, posted.Header.Get("Location"))
			}
			p := s.get("/orders/" + ref)
			if p.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("the order's page after the failed checkout = %d, want 503; body %s", p.StatusCode, p.body)
			}
			if got := p.doc.Find("h1").Text(); got != "The payment service is unavailable" {
				t.Errorf("heading = %q", got)
			}
			if !strings.Contains(p.doc.Text(), "is saved") {
				t.Error("the page does not say the order is saved")
			}
			if p.doc.Find("#retry-button").Length() != 1 {
				t.Error("no Try again button")
			}
			if again := s.get("/orders/" + ref); again.StatusCode != http.StatusOK || statusOf(again) != "awaiting_payment" {
				t.Errorf("the order's page shown again = %d %q, want the order awaiting payment", again.StatusCode, statusOf(again))
			}
			if status != "awaiting_payment" {
				t.Errorf("order status = %q, want awaiting_payment", status)
			}

			a.setFaults(t, `{}`)
			retry := s.post("/orders/"+ref+"/pay", nil)
			if retry.StatusCode != http.StatusSeeOther {
				t.Fatalf("retry = %d, want 303; body %s", retry.StatusCode, retry.body)
			}
			pays := a.payments(t)
			if len(pays) != 1 {
				t.Fatalf("sandbox holds %d payments after the retry, want 1", len(pays))
			}
			if retry.Header.Get("Location") != pays[0].PaymentLink {
				t.Errorf("retry went to %q, want the one payment %q", retry.Header.Get("Location"), pays[0].PaymentLink)
			}
			var open int
			if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM payment_attempts WHERE status = 'open'`).Scan(&open); err != nil || open != 1 {
				t.Errorf("%d open attempts (%v), want 1", open, err)
			}
			// A second checkout of the same cart lands on the same payment too.
			again := s.checkout("Ada Lovelace", "ada@example.com")
			if again.Header.Get("Location") != pays[0].PaymentLink {
				t.Errorf("second checkout went to %q, want %q", again.Header.Get("Location"), pays[0].PaymentLink)
			}
		})
	}
}
