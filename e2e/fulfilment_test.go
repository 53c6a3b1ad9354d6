package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// caughtMail is one message as the local mail catcher's page lists it.
type caughtMail struct {
	Subject string `json:"subject"`
	To      string `json:"to"`
	Body    string `json:"body"`
}

// catcherPage is where the development mail catcher lists what the app sent:
// beside the sandbox's dashboard, on the sandbox's listener.
const catcherPage = "/_sandbox/mail"

// caughtMails opens the mail catcher's page, opens the messages it lists whose
// subject contains subjectPart and that went to email, and returns them as the
// page shows them.
func (b *browser) caughtMails(email, subjectPart string) []caughtMail {
	b.t.Helper()
	b.open(b.app.SandboxURL + catcherPage)
	return eval[[]caughtMail](b, "read the caught mail", `[...document.querySelectorAll("details.message")].map(d => ({
		details: d,
		subject: d.querySelector(".subject").textContent.trim(),
		to: d.querySelector(".to").textContent.trim()}))
	.filter(m => m.to.includes(`+strconv.Quote(email)+`) && m.subject.includes(`+strconv.Quote(subjectPart)+`))
	.map(m => {
		if (!m.details.open) m.details.querySelector("summary").click();
		return {subject: m.subject, to: m.to, body: m.details.querySelector(".body").innerText};
	})`)
}

// reloadUntilText reloads the page every half second until the text of sel
// contains want, for up to timeout, and returns that text.
func (b *browser) reloadUntilText(sel, want string, timeout time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := b.text(sel); strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s did not say %q within %s of reloading %s: %q", sel, want, timeout, b.location(), b.text(sel))
		}
		<-tick.C
		b.navigate("reload", chromedp.Reload())
	}
}

// TestFulfilmentJourney: a shopper checks out with a shipping address and
// Express, pays on the hosted page, and the order page says the receipt was
// emailed; the local mail catcher holds exactly one receipt for the order with
// its number, total and address. The merchant marks it shipped with a carrier
// and tracking number; the timeline and the shopper's order page show the
// shipment, and the catcher then holds exactly one "shipped" mail with the
// tracking number.
func TestFulfilmentJourney(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	const (
		name     = "Ada Lovelace"
		email    = "ada@example.com"
		carrier  = "UPS"
		tracking = "1Z999AA10123456784"
	)

	// The shopper: cart, checkout with an address and Express, pay.
	b := newBrowser(t, a)
	products := b.catalog()
	b.addToCart(products[0])
	b.checkpoint("cart")
	if status := b.click(`.actions a[href="/checkout"]`); status != http.StatusOK {
		t.Fatalf("opening the checkout: status %d", status)
	}
	b.typeInto("#name", name)
	b.typeInto("#email", email)
	b.fillAddress()
	b.mustHave("#method-express")
	b.do("choose Express", chromedp.Click(chromedp.CSS("#method-express")))
	b.checkpoint("checkout-filled")
	if status := b.click(`form[action="/checkout"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("checkout: the hosted page answered %d", status)
	}
	b.onHostedPage()
	b.checkpoint("hosted-payment-page")
	if status := b.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d", status)
	}
	ref := orderRef(b.path())
	if ref == "" {
		t.Fatalf("after paying the page is %s, want /orders/<ref>/success", b.path())
	}
	b.waitStatus("paid")
	b.checkpoint("success-paid")

	// The order page, reloaded until it says the receipt went out.
	b.open("/orders/" + ref)
	b.waitStatus("paid")
	b.reloadUntilText("#payment-status", "We emailed your receipt to "+email, confirmTimeout)
	b.checkpoint("order-page-receipt-sent")
	number := b.text("main h1")
	number = strings.TrimSpace(strings.TrimPrefix(number, "Order"))
	total := b.text("#order-total")
	if got := b.text("#order-shipping"); minorUnits(got) <= 0 {
		t.Errorf("the order's shipping is %q, want Express's price", got)
	}
	if got := b.text("#shipping-method"); !strings.HasPrefix(got, "Express") {
		t.Errorf("the order ships by %q, want Express", got)
	}
	addr := b.text("#shipping-address")
	for _, part := range []string{"1 Main St", "Austin", "78701"} {
		if !strings.Contains(addr, part) {
			t.Errorf("the order page's address %q has no %q", addr, part)
		}
	}

	// The local mail catcher holds exactly one receipt for the order.
	receipts := b.caughtMails(email, "order "+number+" confirmed")
	b.checkpoint("mail-catcher-receipt")
	if len(receipts) != 1 {
		t.Fatalf("the mail catcher holds %d receipts for order %s to %s, want 1: %+v", len(receipts), number, email, receipts)
	}
	orderPage := a.URL + "/orders/" + ref
	for _, part := range []string{number, total, "Express", "1 Main St", "Austin", "78701", orderPage} {
		if !strings.Contains(receipts[0].Body, part) {
			t.Errorf("the receipt has no %q:\n%s", part, receipts[0].Body)
		}
	}
	if n := len(b.caughtMails(email, "has shipped")); n != 0 {
		t.Errorf("the mail catcher holds %d shipped mails before the order shipped", n)
	}

	// The merchant marks the order shipped.
	m := newBrowser(t, a)
	m.signIn()
	m.open("/admin/orders")
	row := fmt.Sprintf(`#orders tbody tr[data-number=%q] a`, number)
	if status := m.click(row); status != http.StatusOK {
		t.Fatalf("opening order %s in the admin: status %d", number, status)
	}
	m.mustHave("#not-shipped")
	m.typeInto("#carrier", carrier)
	m.typeInto("#tracking", tracking)
	m.do("tick the confirmation", chromedp.Click(chromedp.CSS("#ship-confirm")))
	m.checkpoint("merchant-mark-shipped")
	if status := m.click("#ship-button"); status != http.StatusOK {
		t.Fatalf("marking shipped: the page answered %d", status)
	}
	m.checkpoint("merchant-shipped")
	if got := m.text("#fulfilment #shipments"); !strings.Contains(got, carrier) || !strings.Contains(got, tracking) {
		t.Errorf("the admin's fulfilment says %q, want the shipment by %s with %s", got, carrier, tracking)
	}
	shippedEntries := eval[[]string](m, "read the timeline's shipments", `[...document.querySelectorAll("#timeline li")]
		.filter(li => li.querySelector("strong").textContent.trim() === "Marked shipped")
		.map(li => li.textContent.replace(/\s+/g, " ").trim())`)
	if len(shippedEntries) != 1 || !strings.Contains(shippedEntries[0], "by "+adminUser) ||
		!strings.Contains(shippedEntries[0], carrier) || !strings.Contains(shippedEntries[0], tracking) {
		t.Errorf("the timeline's shipments are %q, want one, by %s, with %s and %s", shippedEntries, adminUser, carrier, tracking)
	}

	// The shopper's order page shows the shipment.
	b.open("/orders/" + ref)
	b.checkpoint("order-page-shipped")
	if got := b.text("#shipments"); !strings.Contains(got, carrier) || !strings.Contains(got, tracking) {
		t.Errorf("the shopper's order page says %q, want the shipment by %s with %s", got, carrier, tracking)
	}

	// The catcher gets exactly one "shipped" mail, with the tracking number.
	var shipped []caughtMail
	b.poll("the shipped mail to reach the mail catcher", func() bool {
		shipped = b.caughtMails(email, "order "+number+" has shipped")
		return len(shipped) > 0
	})
	b.checkpoint("mail-catcher-shipped")
	if len(shipped) != 1 {
		t.Fatalf("the mail catcher holds %d shipped mails for order %s, want 1: %+v", len(shipped), number, shipped)
	}
	for _, part := range []string{number, carrier, tracking} {
		if !strings.Contains(shipped[0].Body, part) {
			t.Errorf("the shipped mail has no %q:\n%s", part, shipped[0].Body)
		}
	}
	if n := len(b.caughtMails(email, "order "+number+" confirmed")); n != 1 {
		t.Errorf("after shipping the mail catcher holds %d receipts, want still 1", n)
	}
}
