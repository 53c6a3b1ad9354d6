package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// productIDs returns the catalog's product ids by slug.
func (a *app) productIDs(t *testing.T) map[string]string {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `SELECT slug, id::text FROM products`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]string{}
	for rows.Next() {
		var slug, id string
		if err := rows.Scan(&slug, &id); err != nil {
			t.Fatal(err)
		}
		ids[slug] = id
	}
	return ids
}

func TestCartAddUpdateRemove(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	s := a.newShopper(t)

	s.addToCart(ids["enamel-mug"], "1")
	s.addToCart(ids["enamel-mug"], "2") // adds up on the same line
	s.addToCart(ids["brass-scoop"], "1")
	cart := s.get("/cart")
	if cart.StatusCode != http.StatusOK {
		t.Fatalf("GET /cart = %d", cart.StatusCode)
	}
	if got := cart.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("cart Cache-Control = %q, want no-store", got)
	}
	if got, want := cart.doc.Find("#cart-total").Text(), "US$73.97"; got != want { // 3 × 19.99 + 14.00
		t.Errorf("cart total = %q, want %q", got, want)
	}
	if got, want := cart.doc.Find(".cart-count").Text(), "4"; got != want {
		t.Errorf("header count = %q, want %q", got, want)
	}

	if p := s.post("/cart/items/"+ids["enamel-mug"], url.Values{"quantity": {"1"}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("update quantity = %d", p.StatusCode)
	}
	cart = s.get("/cart")
	if got, want := cart.doc.Find("#cart-total").Text(), "US$33.99"; got != want {
		t.Errorf("after update total = %q, want %q", got, want)
	}
	mugRow := cart.doc.Find(`tr[data-product-id="` + ids["enamel-mug"] + `"]`)
	if got, want := mugRow.Find(".line-total").Text(), "US$19.99"; got != want {
		t.Errorf("mug line total = %q, want %q", got, want)
	}

	if p := s.post("/cart/items/"+ids["brass-scoop"]+"/remove", nil); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove = %d", p.StatusCode)
	}
	if p := s.post("/cart/items/"+ids["enamel-mug"], url.Values{"quantity": {"0"}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("quantity 0 = %d", p.StatusCode)
	}
	if got := s.get("/cart").doc.Find(".notice").Text(); !strings.Contains(got, "Your cart is empty") {
		t.Errorf("cart after removing everything says %q", got)
	}
}

func TestCartCookie(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	p := s.post("/cart/items", url.Values{"product_id": {a.productIDs(t)["enamel-mug"]}})
	var cookie *http.Cookie
	for _, c := range p.Cookies() {
		if c.Name == "cart" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no cart cookie set when adding to the cart")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Errorf("cart cookie = %+v, want HttpOnly, SameSite=Lax, Path=/", cookie)
	}
	id, signature, _ := strings.Cut(cookie.Value, ".")
	if len(id) < 43 || signature == "" {
		t.Errorf("cart cookie %q is not a signed id long enough to be unguessable", cookie.Value)
	}
	var rows int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM carts WHERE id = $1`, id).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("cart row for the cookie: %d, %v", rows, err)
	}
}

func TestCartRejectsTampering(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	s := a.newShopper(t)
	s.addToCart(ids["enamel-mug"], "1")

	// A change a shopper can make by mistake is refused on the cart page: 303 there,
	// which then answers 422 with why. Malformed requests no form sends are 400.
	tests := []struct {
		name       string
		path       string
		form       url.Values
		wantStatus int
		wantError  string // on the cart page the 303 leads to
	}{
		{"negative quantity", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"-3"}}, 303, "You can add between 1 and 99"},
		{"zero quantity", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"0"}}, 303, "You can add between 1 and 99"},
		{"huge quantity", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"1000000"}}, 303, "You can add between 1 and 99"},
		{"overflowing quantity", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"99999999999999999999"}}, 400, ""},
		{"non-numeric quantity", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"two"}}, 400, ""},
		{"unknown product", "/cart/items", url.Values{"product_id": {"987654"}}, 303, "That product is not available."},
		{"malformed product", "/cart/items", url.Values{"product_id": {"mug"}}, 400, ""},
		{"negative line quantity", "/cart/items/" + ids["enamel-mug"], url.Values{"quantity": {"-1"}}, 303, "Enter a quantity from 0 to 99"},
		{"huge line quantity", "/cart/items/" + ids["enamel-mug"], url.Values{"quantity": {"100"}}, 303, "Enter a quantity from 0 to 99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := s.post(tc.path, tc.form)
			if p.StatusCode != tc.wantStatus {
				t.Fatalf("POST %s %v = %d, want %d", tc.path, tc.form, p.StatusCode, tc.wantStatus)
			}
			if tc.wantError == "" {
				return
			}
			if got := p.Header.Get("Location"); got != "/cart" {
				t.Fatalf("POST %s redirects to %q, want /cart", tc.path, got)
			}
			cart := s.get("/cart")
			if cart.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(cart.doc.Find("#cart-error").Text(), tc.wantError) {
				t.Errorf("the cart then = %d saying %q, want 422 saying %q", cart.StatusCode, cart.doc.Find("#cart-error").Text(), tc.wantError)
			}
			if again := s.get("/cart"); again.StatusCode != http.StatusOK || again.doc.Find("#cart-error").Length() != 0 {
				t.Errorf("the cart shown again = %d with %d errors, want 200 and the message gone", again.StatusCode, again.doc.Find("#cart-error").Length())
			}
		})
	}
	// The line is as it was, and the 422 cart page kept what was typed.
	s.post("/cart/items/"+ids["enamel-mug"], url.Values{"quantity": {"-1"}})
	p := s.get("/cart")
	if got, _ := p.doc.Find("#qty-" + ids["enamel-mug"]).Attr("value"); got != "-1" {
		t.Errorf("re-rendered quantity = %q, want the typed -1", got)
	}
	if got, _ := p.doc.Find("#qty-" + ids["enamel-mug"]).Attr("aria-invalid"); got != "true" {
		t.Error("the invalid quantity is not marked aria-invalid")
	}
	if got := s.get("/cart").doc.Find("#cart-total").Text(); got != "US$19.99" {
		t.Errorf("cart total after rejected changes = %q, want US$19.99", got)
	}
}

func TestCheckoutValidation(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")

	tests := []struct {
		name, fullName, email string
		wantErrors            map[string]string
	}{
		{"both missing", "", "", map[string]string{"name": "Enter your name.", "email": "Enter your email address."}},
		{"bad email", "Ada Lovelace", "ada.example.com", map[string]string{"email": "Enter an email address like name@example.com."}},
		{"email with display name", "Ada", "Ada <ada@example.com>", map[string]string{"email": "Enter an email address like name@example.com."}},
		{"email without a dotted domain", "Ada", "ada@localhost", map[string]string{"email": "Enter an email address like name@example.com."}},
		{"long name", strings.Repeat("a", 101), "ada@example.com", map[string]string{"name": "Your name must be 100 characters or fewer."}},
		{"long email", "Ada", strings.Repeat("a", 250) + "@example.com", map[string]string{"email": "Your email address must be 254 characters or fewer."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Post/redirect/get: the form comes back at GET /checkout, with 422.
			posted := s.checkout(tc.fullName, tc.email)
			if posted.StatusCode != http.StatusSeeOther || posted.Header.Get("Location") != "/checkout" {
				t.Fatalf("checkout = %d to %q, want 303 to /checkout", posted.StatusCode, posted.Header.Get("Location"))
			}
			p := s.get("/checkout")
			if p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("GET /checkout after the rejected form = %d, want 422", p.StatusCode)
			}
			got := map[string]string{}
			p.doc.Find(".field .error").Each(func(_ int, e *goquery.Selection) {
				id, _ := e.Attr("id")
				got[strings.TrimSuffix(id, "-error")] = e.Text()
			})
			if diff := cmp.Diff(tc.wantErrors, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if v, _ := p.doc.Find("#name").Attr("value"); v != tc.fullName {
				t.Errorf("name kept as %q, want %q", v, tc.fullName)
			}
			if v, _ := p.doc.Find("#email").Attr("value"); v != tc.email {
				t.Errorf("email kept as %q, want %q", v, tc.email)
			}
		})
	}
	var orders int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&orders); err != nil || orders != 0 {
		t.Errorf("invalid checkouts created %d orders (%v)", orders, err)
	}
}

func TestCheckoutRedirectsToOrchestrate(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	s := a.newShopper(t)
	s.addToCart(ids["enamel-mug"], "2")
	s.addToCart(ids["house-blend-beans"], "1")
	// A posted price is ignored: the server prices the cart from the database.
	p := s.post("/checkout", withAddress(url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}, "price": {"1"}, "total": {"0.01"}, "amount": {"1"}}))
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d, want 303; body %s", p.StatusCode, p.body)
	}
	pays := a.payments(t)
	if len(pays) != 1 {
		t.Fatalf("sandbox holds %d payments, want 1", len(pays))
	}
	pay := pays[0]
	if got, want := p.Header.Get("Location"), pay.PaymentLink; got != want {
		t.Errorf("redirect to %q, want the payment link %q", got, want)
	}
	if !strings.HasPrefix(pay.PaymentLink, a.sandbox.URL+"/") {
		t.Errorf("payment link %q is not on the sandbox", pay.PaymentLink)
	}

	var orderID, number, ref, attemptID string
	var total int64
	if err := a.pool.QueryRow(context.Background(), `
		SELECT o.id::text, o.number, o.public_ref, o.total_minor, a.id::text
		FROM orders o JOIN payment_attempts a ON a.order_id = o.id`).Scan(&orderID, &number, &ref, &total, &attemptID); err != nil {
		t.Fatal(err)
	}
	if total != 2*1999+1650 {
		t.Errorf("order total = %d, want %d", total, 2*1999+1650)
	}
	if pay.Amount != total || pay.Currency != "USD" {
		t.Errorf("sandbox amount = %d %s, want the server-computed %d USD", pay.Amount, pay.Currency, total)
	}
	wantMeta := map[string]string{"order_id": orderID, "order_number": number, "attempt_id": attemptID}
	if diff := cmp.Diff(wantMeta, map[string]string(pay.Metadata)); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if got, want := pay.SuccessURL, "http://shop.test/orders/"+ref+"/success"; got != want {
		t.Errorf("success_url = %q, want %q", got, want)
	}
	if got, want := pay.CancelURL, "http://shop.test/orders/"+ref+"/cancel"; got != want {
		t.Errorf("cancel_url = %q, want %q", got, want)
	}
	if pay.Customer.Email != "ada@example.com" || pay.Customer.Name != "Ada Lovelace" {
		t.Errorf("customer = %+v", pay.Customer)
	}
	if !strings.Contains(pay.Description, number) {
		t.Errorf("description %q does not name the order", pay.Description)
	}
	var status, link string
	if err := a.pool.QueryRow(context.Background(), `
		SELECT status, payment_link FROM payment_attempts WHERE id = $1`, attemptID).Scan(&status, &link); err != nil {
		t.Fatal(err)
	}
	if status != "open" || link != pay.PaymentLink {
		t.Errorf("attempt = %s %q, want open with the payment link", status, link)
	}
}

// TestConcurrentCheckoutOnePayment submits one cart's checkout 50 times at once:
// one order, one payment, and every request lands on the same link.
func TestConcurrentCheckoutOnePayment(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["gooseneck-kettle"], "1")
	token := s.csrf()

	const n = 50
	locations := make([]string, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := s.post("/checkout", withAddress(url.Values{"_csrf": {token}, "name": {"Grace Hopper"}, "email": {"grace@example.com"}}))
			statuses[i], locations[i] = p.StatusCode, p.Header.Get("Location")
		})
	}
	wg.Wait()
	pays := a.payments(t)
	if len(pays) != 1 {
		t.Fatalf("sandbox holds %d payments after %d concurrent checkouts, want 1", len(pays), n)
	}
	for i := range n {
		if statuses[i] != http.StatusSeeOther || locations[i] != pays[0].PaymentLink {
			t.Errorf("request %d = %d %q, want 303 to %q", i, statuses[i], locations[i], pays[0].PaymentLink)
		}
	}
	var orders, attempts int
	if err := a.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM payment_attempts)`).Scan(&orders, &attempts); err != nil {
		t.Fatal(err)
	}
	if orders != 1 || attempts != 1 {
		t.Errorf("%d orders and %d attempts, want 1 and 1", orders, attempts)
	}
}

func TestCheckoutCrossSitePostIsRefused(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	form := url.Values{"name": {"Mallory"}, "email": {"mallory@example.com"}}

	tests := []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", form, nil},
		{"wrong token", url.Values{"_csrf": {"forged"}, "name": form["name"], "email": form["email"]}, nil},
		{"cross-site browser request", form, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := s.postRaw("/checkout", tc.form, tc.headers...)
			if p.StatusCode != http.StatusForbidden {
				t.Errorf("POST /checkout = %d, want 403", p.StatusCode)
			}
		})
	}
	var orders int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&orders); err != nil || orders != 0 {
		t.Errorf("refused posts created %d orders (%v)", orders, err)
	}
	if pays := a.payments(t); len(pays) != 0 {
		t.Errorf("refused posts created %d payments", len(pays))
	}
}
