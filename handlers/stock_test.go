package handlers_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// shelve sets a product's units on hand, tracking it if it was not, as the
// merchant's recount does: the units held stay held.
func (a *app) shelve(t *testing.T, productID string, onHand int) {
	t.Helper()
	a.exec(t, `
		INSERT INTO stock (product_id, on_hand) VALUES ($1, $2)
		ON CONFLICT (product_id) DO UPDATE SET on_hand = excluded.on_hand`, productID, onHand)
}

// stockHeld returns a product's on_hand and held, and the sum of its holds.
func (a *app) stockHeld(t *testing.T, productID string) (onHand, held, holds int) {
	t.Helper()
	if err := a.pool.QueryRow(context.Background(), `
		SELECT on_hand, held, (SELECT coalesce(sum(quantity), 0) FROM stock_holds WHERE product_id = s.product_id)
		FROM stock s WHERE product_id = $1`, productID).Scan(&onHand, &held, &holds); err != nil {
		t.Fatal(err)
	}
	return onHand, held, holds
}

// cartID returns the cart id the shopper's signed cart cookie holds.
func (s *shopper) cartID() string {
	s.t.Helper()
	u, _ := url.Parse(s.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "cart" {
			id, _, _ := strings.Cut(c.Value, ".")
			return id
		}
	}
	s.t.Fatal("the shopper has no cart cookie")
	return ""
}

// cartRows returns a cart's lines ("product_id × quantity", in product order)
// and the order it stands for, straight from the database.
func (a *app) cartRows(t *testing.T, cartID string) string {
	t.Helper()
	var s string
	if err := a.pool.QueryRow(context.Background(), `
		SELECT coalesce((SELECT string_agg(product_id || ' × ' || quantity, ', ' ORDER BY product_id)
		                 FROM cart_items WHERE cart_id = $1), '') ||
		       ' order ' || coalesce((SELECT order_id::text FROM carts WHERE id = $1), 'none')`, cartID).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// cartRowsOf is how cartRows writes the lines of m (product id → quantity) and no
// order.
func cartRowsOf(m map[string]int) string {
	ids := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id + " × " + strconv.Itoa(m[id])
	}
	return strings.Join(parts, ", ") + " order none"
}

// card returns the catalog card of the product named name.
func card(d *goquery.Document, name string) *goquery.Selection {
	return d.Find(".product").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Find("h2").Text() == name
	})
}

// TestFiftyShoppersTenKettles is the drop: 50 shoppers, each with one kettle in
// their own cart, check out at once while 10 are on hand. Exactly 10 are sent
// to their payment, the other 40 get the 409 sold-out page with their carts as
// they were, and exactly 10 orders hold the 10 kettles.
func TestFiftyShoppersTenKettles(t *testing.T) {
	a := newApp(t)
	kettle := a.productIDs(t)["gooseneck-kettle"]
	a.shelve(t, kettle, 10)

	const n = 50
	shoppers := make([]*shopper, n)
	tokens := make([]string, n)
	carts := make([]string, n)
	for i := range n {
		shoppers[i] = a.newShopper(t)
		shoppers[i].addToCart(kettle, "1")
		tokens[i], carts[i] = shoppers[i].csrf(), shoppers[i].cartID()
	}
	before := make([]string, n)
	for i := range n {
		before[i] = a.cartRows(t, carts[i])
	}

	answers := make([]*page, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			answers[i] = shoppers[i].post("/checkout", withAddress(url.Values{"_csrf": {tokens[i]}, "name": {fmt.Sprintf("Shopper %d", i)}, "email": {"shopper@example.com"}}))
		})
	}
	wg.Wait()

	links := map[string]bool{}
	for _, p := range a.payments(t) {
		links[p.PaymentLink] = true
	}
	paying, soldOut := 0, 0
	for i, p := range answers {
		switch p.StatusCode {
		case http.StatusSeeOther:
			paying++
			if loc := p.Header.Get("Location"); !links[loc] {
				t.Errorf("shopper %d sent to %q, not a payment link of the sandbox", i, loc)
			}
		case http.StatusConflict:
			soldOut++
			line := p.doc.Find("#short-lines tbody tr")
			if got := [3]string{line.Find(".name").Text(), line.Find(".wanted").Text(), strings.TrimSpace(line.Find(".available").Text())}; got != [3]string{"Gooseneck kettle", "1", "Sold out"} {
				t.Errorf("shopper %d's sold-out page lists %q, want the kettle: 1 wanted, sold out", i, got)
			}
			if after := a.cartRows(t, carts[i]); after != before[i] {
				t.Errorf("shopper %d's cart after the sold-out page = %q, want it as it was: %q", i, after, before[i])
			}
		default:
			t.Errorf("shopper %d's checkout = %d; body %s", i, p.StatusCode, p.body)
		}
	}
	if paying != 10 || soldOut != 40 {
		t.Errorf("%d shoppers sent to pay and %d told it sold out, want 10 and 40", paying, soldOut)
	}
	if got := len(links); got != 10 {
		t.Errorf("the sandbox holds %d payments, want 10", got)
	}
	if got := a.count(t, `SELECT count(*) FROM orders`); got != 10 {
		t.Errorf("%d orders, want 10", got)
	}
	if onHand, held, holds := a.stockHeld(t, kettle); onHand != 10 || held != 10 || holds != 10 {
		t.Errorf("kettles: on hand %d, held %d, holds summing to %d; want 10, 10, 10", onHand, held, holds)
	}
}

// TestCatalogShowsStock: a tracked product none of which is available says
// "Sold out" and offers no add button; one with 1 to 5 available says "Only N
// left" (what is held for orders awaiting payment is not available); more, or
// untracked, says nothing.
func TestCatalogShowsStock(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	a.shelve(t, ids["gooseneck-kettle"], 0)
	a.shelve(t, ids["enamel-mug"], 6)
	a.shelve(t, ids["brass-scoop"], 5)
	a.shelve(t, ids["house-blend-beans"], 7)
	holder := a.newShopper(t)
	holder.addToCart(ids["house-blend-beans"], "3")
	if p := holder.checkout("Ada Lovelace", "ada@example.com"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout of 3 beans = %d; body %s", p.StatusCode, p.body)
	}

	d := a.newShopper(t).get("/").doc
	tests := []struct {
		name      string
		wantStock string // the card's .stock text; "" for none
		wantAdd   bool
	}{
		{"Gooseneck kettle", "Sold out", false},
		{"Enamel camp mug", "", true},
		{"Brass coffee scoop", "Only 5 left", true},
		{"House blend beans, 250 g", "Only 4 left", true},
		{"Ceramic pour-over dripper", "", true},
	}
	for _, tc := range tests {
		c := card(d, tc.name)
		if c.Length() != 1 {
			t.Fatalf("the catalog has %d cards for %s", c.Length(), tc.name)
		}
		if got := c.Find(".stock").Text(); got != tc.wantStock {
			t.Errorf("%s says %q, want %q", tc.name, got, tc.wantStock)
		}
		if got := c.Find(`form[action="/cart/items"] button`).Length() == 1; got != tc.wantAdd {
			t.Errorf("%s has an add button: %v, want %v", tc.name, got, tc.wantAdd)
		}
	}
}

// TestCartCapsAtStock: adding more than is available caps the line at what is
// available and the cart says so; adding a product sold out adds nothing and
// says it is sold out; raising a line's quantity on the cart is capped the same
// way; an untracked product is not capped below MaxQuantity.
func TestCartCapsAtStock(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	mug, kettle, dripper := ids["enamel-mug"], ids["gooseneck-kettle"], ids["pour-over-dripper"]
	a.shelve(t, mug, 3)
	a.shelve(t, kettle, 0)
	s := a.newShopper(t)

	// cartSays follows a cart change to the cart and returns its status, its
	// notice and its error.
	cartSays := func(p *page) (int, string, string) {
		t.Helper()
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/cart" {
			t.Fatalf("cart change = %d to %q, want 303 to /cart; body %s", p.StatusCode, p.Header.Get("Location"), p.body)
		}
		cart := s.get("/cart")
		return cart.StatusCode, strings.TrimSpace(cart.doc.Find("#cart-notice").Text()), strings.TrimSpace(cart.doc.Find("#cart-error").Text())
	}
	steps := []struct {
		name       string
		path       string
		form       url.Values
		wantStatus int
		wantNotice string
		wantError  string
		wantCart   string // as cartRowsOf writes it
	}{
		{"add 5 of 3", "/cart/items", url.Values{"product_id": {mug}, "quantity": {"5"}}, 200,
			"Enamel camp mug: only 3 left, so your cart has 3, not 5.", "", cartRowsOf(map[string]int{mug: 3})},
		{"add 1 more", "/cart/items", url.Values{"product_id": {mug}}, 200,
			"Enamel camp mug: only 3 left, so your cart has 3, not 4.", "", cartRowsOf(map[string]int{mug: 3})},
		{"add a product sold out", "/cart/items", url.Values{"product_id": {kettle}}, 422,
			"", "Gooseneck kettle is sold out.", cartRowsOf(map[string]int{mug: 3})},
		{"add an untracked product", "/cart/items", url.Values{"product_id": {dripper}, "quantity": {"40"}}, 200,
			"", "", cartRowsOf(map[string]int{mug: 3, dripper: 40})},
		{"lower a line", "/cart/items/" + mug, url.Values{"quantity": {"2"}}, 200,
			"", "", cartRowsOf(map[string]int{mug: 2, dripper: 40})},
		{"raise a line past stock", "/cart/items/" + mug, url.Values{"quantity": {"7"}}, 200,
			"Enamel camp mug: only 3 left, so your cart has 3, not 7.", "", cartRowsOf(map[string]int{mug: 3, dripper: 40})},
		{"raise an untracked line", "/cart/items/" + dripper, url.Values{"quantity": {"99"}}, 200,
			"", "", cartRowsOf(map[string]int{mug: 3, dripper: 99})},
	}
	for _, st := range steps {
		status, notice, errText := cartSays(s.post(st.path, st.form))
		if status != st.wantStatus || notice != st.wantNotice || errText != st.wantError {
			t.Errorf("%s: the cart = %d with notice %q and error %q; want %d, %q, %q",
				st.name, status, notice, errText, st.wantStatus, st.wantNotice, st.wantError)
		}
		if got, want := a.cartRows(t, s.cartID()), st.wantCart; got != want {
			t.Errorf("%s: the cart holds %q, want %q", st.name, got, want)
		}
	}

	// The mug sells out while it is in the cart: a new quantity for its line is
	// refused, the line kept, and the cart says why.
	a.shelve(t, mug, 0)
	status, _, errText := cartSays(s.post("/cart/items/"+mug, url.Values{"quantity": {"1"}}))
	if status != http.StatusUnprocessableEntity || errText != "Enamel camp mug is sold out. Remove it to check out the rest." {
		t.Errorf("setting a sold-out line: the cart = %d saying %q", status, errText)
	}
	if got, want := a.cartRows(t, s.cartID()), cartRowsOf(map[string]int{mug: 3, dripper: 99}); got != want {
		t.Errorf("after the refused change the cart holds %q, want %q", got, want)
	}
}

// TestCartMarksShortLines: a line that asks for more than is available now says
// how many are left (or that it sold out) before the shopper checks out; the
// units the cart's own order holds count as its own.
func TestCartMarksShortLines(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	mug, kettle, dripper := ids["enamel-mug"], ids["gooseneck-kettle"], ids["pour-over-dripper"]
	a.shelve(t, mug, 5)
	a.shelve(t, kettle, 2)

	// marks returns the shopper's cart's marked lines (product id → stock note)
	// and what the cart says of them.
	marks := func(s *shopper) (map[string]string, string) {
		t.Helper()
		cart := s.get("/cart")
		if cart.StatusCode != http.StatusOK {
			t.Fatalf("GET /cart = %d", cart.StatusCode)
		}
		got := map[string]string{}
		cart.doc.Find("tr.short").Each(func(_ int, tr *goquery.Selection) {
			id, _ := tr.Attr("data-product-id")
			got[id] = tr.Find(".stock").Text()
			if d, _ := tr.Find("input.qty").Attr("aria-describedby"); d != "stock-"+id {
				t.Errorf("the short line's quantity is described by %q, want stock-%s", d, id)
			}
		})
		return got, strings.TrimSpace(cart.doc.Find("#cart-short").Text())
	}
	check := func(who string, s *shopper, want map[string]string, wantNotice string) {
		t.Helper()
		got, notice := marks(s)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: marked lines (-want +got):\n%s", who, diff)
		}
		if notice != wantNotice {
			t.Errorf("%s: the cart says %q, want %q", who, notice, wantNotice)
		}
	}

	ada := a.newShopper(t)
	ada.addToCart(mug, "3")
	ada.addToCart(kettle, "2")
	ada.addToCart(dripper, "1")
	check("within stock", ada, nil, "")
	// Checked out: Ada's order holds 3 mugs and both kettles, still her cart's.
	if p := ada.checkout("Ada Lovelace", "ada@example.com"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d; body %s", p.StatusCode, p.body)
	}
	check("the cart of the order holding its units", ada, nil, "")

	grace := a.newShopper(t)
	grace.addToCart(mug, "2")
	check("Grace within stock", grace, nil, "")

	a.shelve(t, mug, 4) // recounted: 3 held for Ada, 1 left
	check("Ada after a recount to 4", ada, nil, "")
	check("Grace after a recount to 4", grace, map[string]string{mug: "Only 1 left"},
		"Not enough in stock now: Enamel camp mug (only 1 left). Lower that quantity before you check out.")

	a.shelve(t, mug, 2) // fewer than Ada's order holds
	check("Ada after a recount to 2", ada, map[string]string{mug: "Only 2 left"},
		"Not enough in stock now: Enamel camp mug (only 2 left). Lower that quantity before you check out.")
	check("Grace after a recount to 2", grace, map[string]string{mug: "Sold out"},
		"Not enough in stock now: Enamel camp mug (sold out). Lower that quantity before you check out.")
}

// TestCheckoutShortOffersFit: a checkout that meets a shortage answers 409
// naming each short line and what is available, changes nothing, and offers a
// button that fits the cart to what is left and returns to the checkout form
// with the name and email kept; the checkout then goes through.
func TestCheckoutShortOffersFit(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	mug, kettle, dripper := ids["enamel-mug"], ids["gooseneck-kettle"], ids["pour-over-dripper"]
	a.shelve(t, mug, 5)
	a.shelve(t, kettle, 5)
	s := a.newShopper(t)
	s.addToCart(kettle, "3")
	s.addToCart(mug, "2")
	s.addToCart(dripper, "1")
	a.shelve(t, kettle, 1) // sold meanwhile
	a.shelve(t, mug, 0)

	cartBefore, dbBefore, stockBefore := a.cartRows(t, s.cartID()), a.dbState(t), a.stockState(t)
	p := s.checkout("Ada Lovelace", "ada@example.com")
	if p.StatusCode != http.StatusConflict {
		t.Fatalf("checkout short of stock = %d, want 409; body %s", p.StatusCode, p.body)
	}
	var lines [][3]string
	p.doc.Find("#short-lines tbody tr").Each(func(_ int, tr *goquery.Selection) {
		lines = append(lines, [3]string{tr.Find(".name").Text(), tr.Find(".wanted").Text(), strings.TrimSpace(tr.Find(".available").Text())})
	})
	want := [][3]string{{"Gooseneck kettle", "3", "1"}, {"Enamel camp mug", "2", "Sold out"}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("short lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(dbBefore, a.dbState(t)); diff != "" {
		t.Errorf("the refused checkout wrote (-before +after):\n%s", diff)
	}
	if got := a.stockState(t); got != stockBefore {
		t.Errorf("the refused checkout moved stock: %q, was %q", got, stockBefore)
	}
	if got := a.cartRows(t, s.cartID()); got != cartBefore {
		t.Errorf("the cart after the refused checkout = %q, want %q", got, cartBefore)
	}
	if p.doc.Find(`main a[href="/cart"]`).Length() == 0 {
		t.Error("the 409 page has no link to the cart")
	}

	form := p.doc.Find(`form[action="/cart/fit"]`)
	if form.Length() != 1 || form.Find("#fit-button").Length() != 1 {
		t.Fatalf("the 409 page has no fit form: %s", p.body)
	}
	sent := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		value, _ := in.Attr("value")
		sent.Set(name, value)
	})
	if sent.Get("_csrf") == "" || sent.Get("name") != "Ada Lovelace" || sent.Get("email") != "ada@example.com" {
		t.Errorf("the fit form sends %v, want the CSRF token and the customer", sent)
	}
	fitted := s.postRaw("/cart/fit", sent)
	if fitted.StatusCode != http.StatusSeeOther || fitted.Header.Get("Location") != "/checkout" {
		t.Fatalf("fit = %d to %q, want 303 to /checkout; body %s", fitted.StatusCode, fitted.Header.Get("Location"), fitted.body)
	}
	if got, want := a.cartRows(t, s.cartID()), cartRowsOf(map[string]int{dripper: 1, kettle: 1}); got != want {
		t.Errorf("the fitted cart holds %q, want %q", got, want)
	}
	form2 := s.get("/checkout")
	if form2.StatusCode != http.StatusOK {
		t.Fatalf("GET /checkout after the fit = %d", form2.StatusCode)
	}
	if v, _ := form2.doc.Find("#name").Attr("value"); v != "Ada Lovelace" {
		t.Errorf("name kept as %q", v)
	}
	if v, _ := form2.doc.Find("#email").Attr("value"); v != "ada@example.com" {
		t.Errorf("email kept as %q", v)
	}
	wantNotice := "Your cart now holds what is in stock: 1 × Gooseneck kettle (you asked for 3); Enamel camp mug sold out and was removed. Check the total, then continue to payment."
	if got := strings.TrimSpace(form2.doc.Find("#checkout-notice").Text()); got != wantNotice {
		t.Errorf("the checkout form says %q, want %q", got, wantNotice)
	}
	if p := s.checkout("Ada Lovelace", "ada@example.com"); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), a.sandbox.URL+"/") {
		t.Fatalf("checkout of the fitted cart = %d to %q, want 303 to the payment; body %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	if _, held, holds := a.stockHeld(t, kettle); held != 1 || holds != 1 {
		t.Errorf("kettles held %d (holds %d) after the fitted checkout, want 1", held, holds)
	}

	// A cart all of which sold out is emptied by the fit, and the cart says so.
	empty := a.newShopper(t)
	a.shelve(t, mug, 2)
	empty.addToCart(mug, "2")
	a.shelve(t, mug, 0)
	if p := empty.checkout("Grace Hopper", "grace@example.com"); p.StatusCode != http.StatusConflict {
		t.Fatalf("checkout of a sold-out cart = %d, want 409", p.StatusCode)
	}
	fitted = empty.post("/cart/fit", url.Values{"name": {"Grace Hopper"}, "email": {"grace@example.com"}})
	if fitted.StatusCode != http.StatusSeeOther || fitted.Header.Get("Location") != "/cart" {
		t.Fatalf("fit of a sold-out cart = %d to %q, want 303 to /cart", fitted.StatusCode, fitted.Header.Get("Location"))
	}
	cart := empty.get("/cart")
	if got, want := strings.TrimSpace(cart.doc.Find("#cart-notice").Text()), "Everything in your cart sold out: Enamel camp mug sold out and was removed."; got != want {
		t.Errorf("the emptied cart says %q, want %q", got, want)
	}
	if got := a.cartRows(t, empty.cartID()); got != " order none" {
		t.Errorf("the emptied cart holds %q", got)
	}
}

// TestPayAgainSoldOutSince: an order whose payment failed and whose kettle was
// then bought by someone else cannot be paid again: 409 saying the kettle sold
// out since, nothing changed, and the order's page still shows it.
func TestPayAgainSoldOutSince(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // the return page's own read alone
	kettle := a.productIDs(t)["gooseneck-kettle"]
	a.shelve(t, kettle, 1)
	s := a.newShopper(t)
	s.addToCart(kettle, "1")
	p := s.checkout("Ada Lovelace", "ada@example.com")
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d; body %s", p.StatusCode, p.body)
	}
	var ref, number string
	if err := a.pool.QueryRow(context.Background(), `SELECT public_ref, number FROM orders`).Scan(&ref, &number); err != nil {
		t.Fatal(err)
	}
	cancelOnHostedPage(t, p.Header.Get("Location"))
	if got := statusOf(s.get("/orders/" + ref + "/cancel")); got != "failed" {
		t.Fatalf("order after cancelling = %q, want failed", got)
	}
	if _, held, _ := a.stockHeld(t, kettle); held != 0 {
		t.Fatalf("the failed payment left %d kettles held", held)
	}

	other := a.newShopper(t)
	other.addToCart(kettle, "1")
	if p := other.checkout("Grace Hopper", "grace@example.com"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other checkout = %d; body %s", p.StatusCode, p.body)
	}

	before, stockBefore, payments := a.dbState(t), a.stockState(t), len(a.payments(t))
	again := s.post("/orders/"+ref+"/pay", nil)
	if again.StatusCode != http.StatusConflict {
		t.Fatalf("pay again with the kettle sold = %d, want 409; body %s", again.StatusCode, again.body)
	}
	if got := again.doc.Find("#sold-out-since").Text(); !strings.Contains(got, number) {
		t.Errorf("the sold-out page says %q, want the order number %s", got, number)
	}
	line := again.doc.Find("#short-lines tbody tr")
	if got := [3]string{line.Find(".name").Text(), line.Find(".wanted").Text(), strings.TrimSpace(line.Find(".available").Text())}; got != [3]string{"Gooseneck kettle", "1", "Sold out"} {
		t.Errorf("the sold-out page lists %q, want the kettle: 1, sold out", got)
	}
	if again.doc.Find(`main a[href="/"]`).Length() == 0 {
		t.Error("the sold-out page has no way back to the shop")
	}
	if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
		t.Errorf("the refused pay-again wrote (-before +after):\n%s", diff)
	}
	if got := a.stockState(t); got != stockBefore {
		t.Errorf("the refused pay-again moved stock: %q, was %q", got, stockBefore)
	}
	if got := len(a.payments(t)); got != payments {
		t.Errorf("the refused pay-again created a payment: %d, was %d", got, payments)
	}
	if order := s.get("/orders/" + ref); order.StatusCode != http.StatusOK || statusOf(order) != "failed" {
		t.Errorf("the order's page after = %d %q, want 200 failed", order.StatusCode, statusOf(order))
	}

	// Checking the unchanged cart out again pays that same order: it is short
	// the same way, and says so as any checkout short of stock does.
	p = s.checkout("Ada Lovelace", "ada@example.com")
	if p.StatusCode != http.StatusConflict || p.doc.Find(`form[action="/cart/fit"]`).Length() != 1 {
		t.Fatalf("checkout of the unchanged cart = %d, want 409 with the fit form; body %s", p.StatusCode, p.body)
	}
	line = p.doc.Find("#short-lines tbody tr")
	if got := [3]string{line.Find(".name").Text(), line.Find(".wanted").Text(), strings.TrimSpace(line.Find(".available").Text())}; got != [3]string{"Gooseneck kettle", "1", "Sold out"} {
		t.Errorf("the checkout's 409 page lists %q, want the kettle: 1, sold out", got)
	}
	if got := a.count(t, `SELECT count(*) FROM orders`); got != 2 {
		t.Errorf("%d orders after checking the unchanged cart out again, want 2 (Ada's and Grace's)", got)
	}
}

// TestFitRefusesHostileInput: POST /cart/fit without the CSRF token, from
// another site, with a body too large, by GET, or without a cart changes nothing
// and answers 4xx or the cart; hostile bytes in the kept name and email are
// only shown, marked, in the form.
func TestFitRefusesHostileInput(t *testing.T) {
	a := newApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	a.shelve(t, mug, 3)
	s := a.newShopper(t)
	s.addToCart(mug, "3")
	a.shelve(t, mug, 1)
	token := s.csrf()

	tests := []struct {
		name     string
		send     func() *page
		want     int
		location string
	}{
		{"no token", func() *page { return s.postRaw("/cart/fit", url.Values{"name": {"Ada"}}) }, 403, ""},
		{"forged token", func() *page { return s.postRaw("/cart/fit", url.Values{"_csrf": {"forged"}}) }, 403, ""},
		{"cross-site", func() *page {
			return s.postRaw("/cart/fit", url.Values{"_csrf": {token}}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		}, 403, ""},
		{"too large", func() *page {
			return s.postRaw("/cart/fit", url.Values{"_csrf": {token}, "name": {strings.Repeat("a", 70<<10)}})
		}, 413, ""},
		{"GET", func() *page { return s.get("/cart/fit") }, 405, ""},
		{"product ids are not taken", func() *page {
			return a.newShopper(t).post("/cart/fit", url.Values{"product_id": {mug, "-1", "\x00"}, "quantity": {"99"}})
		}, 303, "/cart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, stockBefore := a.dbState(t), a.stockState(t)
			p := tc.send()
			if p.StatusCode != tc.want || p.Header.Get("Location") != tc.location {
				t.Errorf("POST /cart/fit = %d to %q, want %d to %q", p.StatusCode, p.Header.Get("Location"), tc.want, tc.location)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused fit wrote (-before +after):\n%s", diff)
			}
			if got := a.stockState(t); got != stockBefore {
				t.Errorf("the refused fit moved stock: %q, was %q", got, stockBefore)
			}
		})
	}
	if got, want := a.cartRows(t, s.cartID()), cartRowsOf(map[string]int{mug: 3}); got != want {
		t.Fatalf("the cart after refused fits holds %q, want %q", got, want)
	}

	// Hostile bytes in the fields are only kept for the form, marked; the form
	// then refuses them as it refuses them typed.
	p := s.post("/cart/fit", url.Values{"name": {"Null\x00byte"}, "email": {"ada\xff@example.com"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/checkout" {
		t.Fatalf("fit with hostile fields = %d to %q, want 303 to /checkout", p.StatusCode, p.Header.Get("Location"))
	}
	form := s.get("/checkout")
	if v, _ := form.doc.Find("#name").Attr("value"); v != "Null\uFFFDbyte" {
		t.Errorf("name kept as %q, want it marked", v)
	}
	if v, _ := form.doc.Find("#email").Attr("value"); v != "ada\uFFFD@example.com" {
		t.Errorf("email kept as %q, want it marked", v)
	}
	if got, want := a.cartRows(t, s.cartID()), cartRowsOf(map[string]int{mug: 1}); got != want {
		t.Errorf("the fitted cart holds %q, want %q", got, want)
	}
}
