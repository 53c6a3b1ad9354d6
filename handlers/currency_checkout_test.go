package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// cartPrices returns every amount the cart page shows: each line's unit price
// and total, and the cart's total.
func cartPrices(p *page) []string {
	var out []string
	p.doc.Find("tr[data-product-id]").Each(func(_ int, tr *goquery.Selection) {
		out = append(out, tr.Find("td.num").First().Text(), tr.Find(".line-total").Text())
	})
	return append(out, p.doc.Find("#cart-total").Text())
}

// createSent is the currency and amount (as the JSON number sent) of a payment
// create the sandbox received.
type createSent struct {
	Currency string      `json:"currency"`
	Amount   json.Number `json:"amount"`
}

// lastCreate returns what the last payment create the sandbox received asked for.
func (a *app) lastCreate(t *testing.T) createSent {
	t.Helper()
	bodies := a.sb.createBodies()
	if len(bodies) == 0 {
		t.Fatal("the sandbox received no payment create")
	}
	var sent createSent
	d := json.NewDecoder(bytes.NewReader(bodies[len(bodies)-1]))
	d.UseNumber()
	if err := d.Decode(&sent); err != nil {
		t.Fatalf("the create's body %s: %v", bodies[len(bodies)-1], err)
	}
	return sent
}

// lastOrder returns the newest order's reference, currency and total.
func (a *app) lastOrder(t *testing.T) (ref, currency string, total int64) {
	t.Helper()
	if err := a.pool.QueryRow(context.Background(),
		`SELECT public_ref, currency, total_minor FROM orders ORDER BY id DESC LIMIT 1`).Scan(&ref, &currency, &total); err != nil {
		t.Fatal(err)
	}
	return ref, currency, total
}

// TestSwitchingCurrencyRepricesTheCart: the whole cart is priced again in the
// currency switched to, at the merchant's prices in it; no amount stays in the
// one before.
func TestSwitchingCurrencyRepricesTheCart(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	s := a.newShopper(t)
	s.addToCart(ids["pour-over-dripper"], "1")
	s.addToCart(ids["enamel-mug"], "2")

	tests := []struct {
		query string
		want  []string // dripper price and line, mug price and line, total
	}{
		{"", []string{"US$34.00", "US$34.00", "US$19.99", "US$39.98", "US$73.98"}},
		{"?currency=EUR", []string{"€32.00", "€32.00", "€19.00", "€38.00", "€70.00"}},
		{"?currency=gbp", []string{"£28.00", "£28.00", "£16.00", "£32.00", "£60.00"}},
		{"?currency=CAD", []string{"CA$46.00", "CA$46.00", "CA$27.00", "CA$54.00", "CA$100.00"}},
		{"?currency=usd", []string{"US$34.00", "US$34.00", "US$19.99", "US$39.98", "US$73.98"}},
	}
	for _, tc := range tests {
		p := s.get("/cart" + tc.query)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("GET /cart%s = %d", tc.query, p.StatusCode)
		}
		if got := cartPrices(p); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("GET /cart%s shows %v, want %v", tc.query, got, tc.want)
		}
	}
	s.get("/?currency=CAD")
	p := s.get("/checkout")
	if got := p.doc.Find("#checkout-total").Text(); got != "CA$100.00" {
		t.Errorf("the checkout's total is %q, want CA$100.00", got)
	}
	if got, _ := p.doc.Find(`form input[name="currency"]`).Attr("value"); got != "CAD" {
		t.Errorf("the checkout form sends currency %q, want CAD", got)
	}
	if strings.Contains(p.doc.Find(".summary").Text(), "US$") {
		t.Errorf("the CAD checkout still shows US$: %q", p.doc.Find(".summary").Text())
	}
}

// TestUnavailableLineBlocksCheckout: a line whose product has no price in the
// shopper's currency is shown as not sold in it, and the cart cannot be checked
// out in that currency until the line is removed.
func TestUnavailableLineBlocksCheckout(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	a.exec(t, `DELETE FROM product_prices WHERE product_id = $1 AND currency = 'GBP'`, ids["enamel-mug"])
	s := a.newShopper(t)
	s.addToCart(ids["pour-over-dripper"], "1")
	s.addToCart(ids["enamel-mug"], "1")

	p := s.get("/cart?currency=GBP")
	mug := p.doc.Find(`tr[data-product-id="` + ids["enamel-mug"] + `"]`)
	if !mug.HasClass("unavailable") || mug.Find(".line-total").Text() != "Not sold in GBP" {
		t.Errorf("the mug's line = class %q, total %q; want unavailable, Not sold in GBP", mug.AttrOr("class", ""), mug.Find(".line-total").Text())
	}
	if got := p.doc.Find("#cart-unavailable").Text(); !strings.Contains(got, "Not sold in GBP: Enamel camp mug. Remove it to check out") {
		t.Errorf("the cart says %q, want why it cannot be checked out", got)
	}
	if n := p.doc.Find(`main a[href="/checkout"]`).Length(); n != 0 {
		t.Errorf("the blocked cart offers %d check out links", n)
	}
	if got := p.doc.Find("#cart-total").Text(); got != "£28.00" {
		t.Errorf("the total is %q, want £28.00 (the dripper)", got)
	}
	if r := s.get("/checkout"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/cart" {
		t.Errorf("GET /checkout = %d to %q, want 303 to /cart", r.StatusCode, r.Header.Get("Location"))
	}
	r := s.post("/checkout", withAddress(url.Values{"name": {"Ann Lee"}, "email": {"ann@example.com"}, "currency": {"GBP"}}))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/cart" {
		t.Errorf("POST /checkout = %d to %q, want 303 to /cart", r.StatusCode, r.Header.Get("Location"))
	}
	if n := a.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders made from a cart with a line not sold in GBP", n)
	}
	r = s.post("/cart/items", url.Values{"product_id": {ids["enamel-mug"]}})
	if got := s.followRefused(t, r, "/cart").doc.Find("#cart-error").Text(); !strings.Contains(got, "That product is not sold in GBP.") {
		t.Errorf("adding the mug in GBP says %q", got)
	}

	// In EUR the mug is sold: nothing is blocked.
	if p := s.get("/cart?currency=EUR"); p.doc.Find("#cart-unavailable, tr.unavailable").Length() != 0 || p.doc.Find(`main a[href="/checkout"]`).Length() != 1 {
		t.Error("the cart in EUR, where every line is sold, is blocked")
	}

	s.get("/?currency=GBP")
	if r := s.post("/cart/items/"+ids["enamel-mug"]+"/remove", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove = %d", r.StatusCode)
	}
	if p := s.get("/cart"); p.doc.Find("#cart-unavailable").Length() != 0 || p.doc.Find(`main a[href="/checkout"]`).Length() != 1 {
		t.Error("the cart is still blocked once the mug is removed")
	}
	r = s.post("/checkout", withAddress(url.Values{"name": {"Ann Lee"}, "email": {"ann@example.com"}, "currency": {"GBP"}}))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), a.sandbox.URL) {
		t.Fatalf("checkout = %d to %q, want 303 to the sandbox", r.StatusCode, r.Header.Get("Location"))
	}
	if got, want := a.lastCreate(t), (createSent{"GBP", "28.00"}); got != want {
		t.Errorf("the sandbox was asked for %+v, want %+v", got, want)
	}
}

// TestCheckoutInEachCurrency: an order is made in the shopper's currency at the
// merchant's prices in it, and the Orchestrate payment is created in that
// currency for that amount in major units; the order page shows it so.
func TestCheckoutInEachCurrency(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	tests := []struct {
		currency string
		minor    int64
		sent     string // the amount in major units, as sent
		shown    string
	}{ // two drippers and a brass scoop
		{"USD", 2*3400 + 1400, "82.00", "US$82.00"},
		{"EUR", 2*3200 + 1300, "77.00", "€77.00"},
		{"GBP", 2*2800 + 1100, "67.00", "£67.00"},
		{"CAD", 2*4600 + 1900, "111.00", "CA$111.00"},
	}
	for _, tc := range tests {
		t.Run(tc.currency, func(t *testing.T) {
			s := a.newShopper(t)
			s.get("/?currency=" + strings.ToLower(tc.currency))
			s.addToCart(ids["pour-over-dripper"], "2")
			s.addToCart(ids["brass-scoop"], "1")
			r := s.post("/checkout", withAddress(url.Values{"name": {"Ann Lee"}, "email": {"ann@example.com"}, "currency": {tc.currency}}))
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), a.sandbox.URL) {
				t.Fatalf("checkout = %d to %q, want 303 to the sandbox; body %s", r.StatusCode, r.Header.Get("Location"), r.body)
			}
			if got, want := a.lastCreate(t), (createSent{tc.currency, json.Number(tc.sent)}); got != want {
				t.Errorf("the sandbox was asked for %+v, want %+v", got, want)
			}
			pay := a.payments(t)[0]
			if pay.Currency != orchestrate.Currency(tc.currency) || pay.Amount != tc.minor {
				t.Errorf("the sandbox's payment is %d %s, want %d %s", pay.Amount, pay.Currency, tc.minor, tc.currency)
			}
			ref, currency, total := a.lastOrder(t)
			if currency != tc.currency || total != tc.minor {
				t.Errorf("the order is %d %s, want %d %s", total, currency, tc.minor, tc.currency)
			}
			if got := s.get("/orders/" + ref).doc.Find("#order-total").Text(); got != tc.shown {
				t.Errorf("the order page's total is %q, want %q", got, tc.shown)
			}
		})
	}
}

// TestCurrencyChangedCartIsANewOrder: a cart checked out in one currency and
// then in another gets a new order in the second, with its own payment, and the
// first order keeps its currency and amount.
func TestCurrencyChangedCartIsANewOrder(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	s := a.newShopper(t)
	s.addToCart(ids["enamel-mug"], "1")
	first := s.checkout("Ann Lee", "ann@example.com")
	firstRef, _, _ := a.lastOrder(t)
	if again := s.checkout("Ann Lee", "ann@example.com"); again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("a second checkout in USD went to %q, not the first's payment %q", again.Header.Get("Location"), first.Header.Get("Location"))
	}

	s.get("/cart?currency=EUR")
	second := s.checkout("Ann Lee", "ann@example.com")
	if second.StatusCode != http.StatusSeeOther || second.Header.Get("Location") == first.Header.Get("Location") {
		t.Fatalf("the checkout in EUR = %d to %q, want 303 to a new payment", second.StatusCode, second.Header.Get("Location"))
	}
	ref, currency, total := a.lastOrder(t)
	if ref == firstRef || currency != "EUR" || total != 1900 {
		t.Errorf("the checkout in EUR made order %s in %d %s, want a new order of 1900 EUR", ref, total, currency)
	}
	if got, want := a.lastCreate(t), (createSent{"EUR", "19.00"}); got != want {
		t.Errorf("the sandbox was asked for %+v, want %+v", got, want)
	}
	if n := len(a.sb.createBodies()); n != 2 {
		t.Errorf("the sandbox received %d creates, want 2 (USD, then EUR)", n)
	}
	var firstCurrency string
	var firstTotal int64
	if err := a.pool.QueryRow(context.Background(), `SELECT currency, total_minor FROM orders WHERE public_ref = $1`, firstRef).Scan(&firstCurrency, &firstTotal); err != nil {
		t.Fatal(err)
	}
	if firstCurrency != "USD" || firstTotal != 1999 {
		t.Errorf("the first order became %d %s, want 1999 USD", firstTotal, firstCurrency)
	}
}

// TestCheckoutRefusesACurrencyNotShown: a checkout form shown in one currency,
// submitted after the shopper switched to another (in another tab), makes no
// order: the checkout is shown again in the new currency, with the input kept.
func TestCheckoutRefusesACurrencyNotShown(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	s.get("/checkout?currency=EUR")
	s.get("/?currency=GBP") // another tab
	r := s.post("/checkout", withAddress(url.Values{"name": {"Ann Lee"}, "email": {"ann@example.com"}, "currency": {"EUR"}}))
	p := s.followRefused(t, r, "/checkout")
	if got := p.doc.Find("#checkout-currency").Text(); !strings.Contains(got, "now priced in GBP") {
		t.Errorf("the checkout says %q, want that the cart is now in GBP", got)
	}
	if got := p.doc.Find("#checkout-total").Text(); got != "£16.00" {
		t.Errorf("the total shown is %q, want £16.00", got)
	}
	if got, _ := p.doc.Find("#name").Attr("value"); got != "Ann Lee" {
		t.Errorf("the name was not kept: %q", got)
	}
	if n := a.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders made in a currency the shopper was not shown", n)
	}
}

// otherCurrencyAPI reports every completed payment in the next of the shop's
// currencies, with the same digits: Orchestrate collecting a currency the order
// was not made in.
type otherCurrencyAPI struct{ orders.PaymentsAPI }

func (o otherCurrencyAPI) GetPayment(ctx context.Context, id string) (*orchestrate.Payment, error) {
	p, err := o.PaymentsAPI.GetPayment(ctx, id)
	if err == nil && p.Status == orchestrate.StatusCompleted {
		next := map[orchestrate.Currency]orchestrate.Currency{"USD": "EUR", "EUR": "GBP", "GBP": "CAD", "CAD": "USD"}
		p.Currency = next[p.Currency]
	}
	return p, err
}

// TestPaymentInAnotherCurrencyNeedsReview: in each currency, a completed payment
// whose currency is not the order's puts the order in needs review, and the
// timeline says what was collected against what was owed.
func TestPaymentInAnotherCurrencyNeedsReview(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{api: func(api orders.PaymentsAPI) orders.PaymentsAPI { return otherCurrencyAPI{api} }})
	ids := a.productIDs(t)
	tests := []struct{ currency, detail string }{
		{"USD", "Orchestrate collected €34.00 for an order of US$34.00"},
		{"EUR", "Orchestrate collected £32.00 for an order of €32.00"},
		{"GBP", "Orchestrate collected CA$28.00 for an order of £28.00"},
		{"CAD", "Orchestrate collected US$46.00 for an order of CA$46.00"},
	}
	for _, tc := range tests {
		t.Run(tc.currency, func(t *testing.T) {
			s := a.newShopper(t)
			s.get("/?currency=" + tc.currency)
			s.addToCart(ids["pour-over-dripper"], "1")
			r := s.checkout("Ann Lee", "ann@example.com")
			ref, _, _ := a.lastOrder(t)
			payOnHostedPage(t, r.Header.Get("Location"), "4242 4242 4242 4242")
			p := s.get("/orders/" + ref + "/success")
			eventually(t, "the payment to be confirmed", func() bool { return a.orderStatus(t, ref) == "needs_review" })
			if got := a.orderEvents(t, ref, "order"); strings.Join(got, " ") != ">awaiting_payment awaiting_payment>needs_review" {
				t.Errorf("the order's transitions are %v, want created then needs_review", got)
			}
			var detail string
			if err := a.pool.QueryRow(context.Background(), `
				SELECT e.detail FROM order_events e JOIN orders o ON o.id = e.order_id
				WHERE o.public_ref = $1 AND e.to_status = 'needs_review'`, ref).Scan(&detail); err != nil {
				t.Fatal(err)
			}
			if detail != tc.detail {
				t.Errorf("the event says %q, want %q", detail, tc.detail)
			}
			if p = s.get("/orders/" + ref); statusOf(p) != "needs_review" {
				t.Errorf("the order page shows %q, want needs_review", statusOf(p))
			}
		})
	}
}
