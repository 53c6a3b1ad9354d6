package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/handlers"
	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestPlantedCartCookieIsRefused: a cart cookie the server did not sign — a
// shopper's bare cart id learnt somehow, a made-up value, or an id signed with
// another shop's secret — is no cart: the page shows an empty cart, and adding to
// it starts a new cart of the shopper's own. Only the server's signature opens a
// cart.
func TestPlantedCartCookieIsRefused(t *testing.T) {
	a := newApp(t)
	mug := a.productIDs(t)["enamel-mug"]

	mugID, err := strconv.ParseInt(mug, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	victim := orders.NewCartID()
	if err := orders.NewCarts(a.pool).Add(t.Context(), victim, mugID, 2, "USD"); err != nil {
		t.Fatal(err)
	}
	// showsVictimsCart reports whether the cart page with cookie lists the mug.
	showsVictimsCart := func(cookie string) bool {
		t.Helper()
		rec := a.get(t, "/cart", "Cookie", cookie)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /cart = %d", rec.Code)
		}
		return doc(t, rec).Find("#qty-"+mug).Length() > 0
	}

	token := setCookie(a.get(t, "/"), "_csrf").Value
	for _, tc := range []struct{ name, value string }{
		{"bare cart id", victim},
		{"made-up signature", victim + ".bm90LWEtbWFj"},
		{"another shop's signature", handlers.CartCookieValue([]byte("another shop's cookie secret, 32+ bytes"), victim)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cookie := "cart=" + tc.value + "; _csrf=" + token
			if showsVictimsCart(cookie) {
				t.Error("GET /cart shows the victim's cart")
			}
			body := url.Values{"product_id": {mug}, "_csrf": {token}}.Encode()
			rec := a.do(t, http.MethodPost, "/cart/items", strings.NewReader(body), formPost(cookie)...)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("POST /cart/items = %d, want 303", rec.Code)
			}
			issued := setCookie(rec, "cart")
			if issued == nil {
				t.Fatal("no new cart cookie issued")
			}
			if id, _, _ := strings.Cut(issued.Value, "."); id == victim {
				t.Error("the new cart cookie names the victim's cart")
			}
		})
	}
	if !showsVictimsCart("cart=" + handlers.CartCookieValue([]byte(testCookieSecret), victim)) {
		t.Error("the victim's own signed cookie does not show their cart")
	}
	if n := a.count(t, `SELECT quantity FROM cart_items WHERE cart_id = $1`, victim); n != 2 {
		t.Errorf("the victim's cart holds %d mugs, want the 2 they put there", n)
	}
}

// TestProductionCookies: in production every cookie the app sets is __Host-
// (Secure, Path=/, no Domain: no other host can set or shadow it), HttpOnly and
// SameSite=Lax, and the development names are not read.
func TestProductionCookies(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{config: func(c *checkout.Config) {
		c.Env = "production"
		c.PublicURL = mustURL(t, "https://shop.test")
	}})
	mug := a.productIDs(t)["enamel-mug"]

	page := a.get(t, "/")
	csrf := setCookie(page, "__Host-csrf")
	if csrf == nil {
		t.Fatalf("GET / set %v, want a __Host-csrf cookie", page.Header().Values("Set-Cookie"))
	}
	if setCookie(page, "_csrf") != nil {
		t.Error("GET / also set the development _csrf cookie")
	}
	post := func(path, cookie string, form url.Values) *http.Response {
		t.Helper()
		form.Set("_csrf", csrf.Value)
		return a.do(t, http.MethodPost, path, strings.NewReader(form.Encode()), formPost(cookie)...).Result()
	}
	// The development name is not read in production.
	if resp := post("/cart/items", "_csrf="+csrf.Value, url.Values{"product_id": {mug}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with the token in a _csrf cookie = %d, want 403", resp.StatusCode)
	}
	cartResp := post("/cart/items", "__Host-csrf="+csrf.Value, url.Values{"product_id": {mug}})
	if cartResp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /cart/items = %d, want 303", cartResp.StatusCode)
	}
	signIn := post("/admin/login", "__Host-csrf="+csrf.Value, url.Values{"username": {testAdminUser}, "password": {testAdminPassword}})
	if signIn.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in = %d, want 303", signIn.StatusCode)
	}

	switched := a.get(t, "/?currency=EUR")
	for cookie, want := range map[string]string{"currency=GBP": "US$34.00", "__Host-currency=GBP": "£28.00"} {
		if got := doc(t, a.get(t, "/", "Cookie", cookie)).Find(".product .price").First().Text(); got != want {
			t.Errorf("GET / with %s shows %q, want %q", cookie, got, want)
		}
	}

	want := map[string]bool{"__Host-csrf": false, "__Host-cart": false, "__Host-admin_session": false, "__Host-currency": false}
	for _, resp := range []*http.Response{page.Result(), cartResp, signIn, switched.Result()} {
		for _, c := range resp.Cookies() {
			if _, ok := want[c.Name]; !ok {
				t.Errorf("production cookie %q lacks the __Host- prefix", c.Name)
				continue
			}
			want[c.Name] = true
			if !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("%s: Secure=%v Path=%q Domain=%q HttpOnly=%v SameSite=%v; want Secure, Path=/, no Domain, HttpOnly, Lax",
					c.Name, c.Secure, c.Path, c.Domain, c.HttpOnly, c.SameSite)
			}
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("no %s cookie was set", name)
		}
	}
}
