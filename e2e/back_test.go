package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// back presses the browser's Back button: it goes to the previous history entry
// and waits until the main frame has navigated there, whether the page is fetched
// again or shown from the back/forward cache (chromedp's NavigateBack waits for a
// network response, which a page shown from that cache never has).
func (b *browser) back() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.FrameNavigated,
		func(ev page.EventFrameNavigated) bool { return ev.Frame.ParentID == "" },
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			h, err := cdp.Call(ctx, t, page.GetNavigationHistory, cdp.Empty{})
			if err != nil {
				return err
			}
			if h.CurrentIndex < 1 {
				return fmt.Errorf("no page to go back to")
			}
			_, err = cdp.Call(ctx, t, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: h.Entries[h.CurrentIndex-1].ID})
			return err
		})))
	if err != nil {
		b.t.Fatalf("going back from %s: %v", b.location(), err)
	}
}

// shown waits until the page in the tab is at url (an absolute URL), fully
// loaded and has an element matching sel, and fails the test naming what it shows
// instead — Chrome's "Confirm Form Resubmission" page (ERR_CACHE_MISS) when the
// browser would have to send a form again. It asks every 100ms, as a page may be
// reloaded meanwhile (a read during the reload fails and is asked again).
func (b *browser) shown(url, sel string) {
	b.t.Helper()
	check := fmt.Sprintf(`location.href === %q && document.readyState === "complete" && document.querySelector(%q) !== null`, url, sel)
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](check))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			ctx, cancel := context.WithTimeout(b.ctx, time.Second)
			what, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + ": " + document.body.innerText.slice(0, 300)`))
			cancel()
			b.t.Fatalf("waited %s for %s with %s; the tab shows %s", stepTimeout, url, sel, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// retype replaces what the field matching sel holds with text, typed key by key.
// Unlike typeInto it also clears a value the browser restored when going back
// (chromedp's Clear only empties the value attribute).
func (b *browser) retype(sel, text string) {
	b.t.Helper()
	b.mustHave(sel)
	b.do("clear "+sel, evalVoid(fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)))
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// customerEmail returns the customer email the sandbox holds for a payment.
func (a *app) customerEmail(t *testing.T, paymentID string) string {
	t.Helper()
	var p struct {
		Customer struct {
			Email string `json:"email"`
		} `json:"customer"`
	}
	if err := json.Unmarshal([]byte(a.sandboxControl(t, http.MethodGet, "/api/v1/payments/"+paymentID, "")), &p); err != nil {
		t.Fatal(err)
	}
	return p.Customer.Email
}

// TestBackAfterCheckout: the shopper checks out with an invalid email, then a
// valid one, and presses Back on the hosted payment page. They are on the shop's
// checkout page again — not on Chrome's "Confirm Form Resubmission" — so they fix a
// typo in their email and submit: a new payment carrying it. They pay, and Back
// from the success page shows the hosted page as it is now: paid, without a Pay
// form.
func TestBackAfterCheckout(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	b := newBrowser(t, a)

	products := b.catalog()
	b.addToCart(products[0])
	if status := b.checkoutFromCart("Ada Lovelace", "ada@example"); status != http.StatusUnprocessableEntity {
		t.Errorf("checkout with an invalid email: the page answered %d, want 422", status)
	}
	b.waitVisible("#email-error", stepTimeout)
	b.checkpoint("checkout-invalid-email")
	b.typeInto("#email", "ada@exmaple.com")
	if status := b.click(`form[action="/checkout"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("checkout: the hosted page answered %d", status)
	}
	typo := b.onHostedPage()
	b.checkpoint("hosted-page-with-typo")

	b.back()
	b.shown(a.URL+"/checkout", `form[action="/checkout"] #email`)
	b.checkpoint("back-on-checkout")

	b.retype("#name", "Ada Lovelace")
	b.retype("#email", "ada@example.com")
	b.fillAddress() // the page was loaded again, empty: it holds no personal data (no-store)
	if status := b.click(`form[action="/checkout"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("checkout again: the hosted page answered %d", status)
	}
	fixed := b.onHostedPage()
	b.checkpoint("hosted-page-fixed")
	if fixed == typo {
		t.Errorf("the corrected checkout is on the payment with the typo, %s", typo)
	}
	if got := a.customerEmail(t, paymentID(fixed)); got != "ada@example.com" {
		t.Errorf("the new payment's customer email at the sandbox = %q, want ada@example.com", got)
	}

	if status := b.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d", status)
	}
	b.waitStatus("paid")
	b.checkpoint("success-paid")

	b.back()
	b.shown(fixed, ".state-completed")
	b.checkpoint("back-on-hosted-page-paid")
	if eval[bool](b, "look for the Pay form", `document.querySelector(".pay-form") !== null`) {
		t.Error("Back after paying shows the hosted page with its Pay form")
	}
	if msg := b.text(".state-completed"); !strings.Contains(msg, "paid") {
		t.Errorf("the hosted page after Back says %q, want that the payment is paid", msg)
	}
}
