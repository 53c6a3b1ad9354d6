package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// getWith is get with request headers (name, value, ...).
func (s *shopper) getWith(path string, headers ...string) *page {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url(path), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(req)
}

// currencyCookie returns the value of the shopper's currency cookie, or "".
func (s *shopper) currencyCookie() string {
	u, _ := url.Parse(s.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "currency" {
			return c.Value
		}
	}
	return ""
}

// dripperPrice is the first product's price on a catalog page.
func dripperPrice(p *page) string {
	return p.doc.Find(".product").First().Find(".price").Text()
}

// TestCurrencyFromAcceptLanguage: a first visit is priced in the currency of the
// browser's region, and the guess is not remembered as a choice.
func TestCurrencyFromAcceptLanguage(t *testing.T) {
	a := newApp(t)
	tests := []struct {
		header, want, price string
	}{
		{"de-AT,de;q=0.9", "EUR", "€32.00"},
		{"fr-CA", "CAD", "CA$46.00"},
		{"en-GB,en;q=0.8", "GBP", "£28.00"},
		{"en", "USD", "US$34.00"},
		{"*", "USD", "US$34.00"},
		{"", "USD", "US$34.00"},
		{"en-GB;q=nonsense", "USD", "US$34.00"},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			s := a.newShopper(t)
			p := s.getWith("/", "Accept-Language", tc.header)
			if p.StatusCode != http.StatusOK {
				t.Fatalf("GET / = %d", p.StatusCode)
			}
			if got := dripperPrice(p); got != tc.price {
				t.Errorf("the dripper costs %q, want %q", got, tc.price)
			}
			if got, _ := p.doc.Find("#currency-select option[selected]").Attr("value"); got != tc.want {
				t.Errorf("the switcher shows %q, want %q", got, tc.want)
			}
			if c := s.currencyCookie(); c != "" {
				t.Errorf("a guess was remembered in the cookie: %q", c)
			}
			if !strings.Contains(strings.Join(p.Header.Values("Vary"), ","), "Accept-Language") {
				t.Errorf("Vary = %q, want Accept-Language in it", p.Header.Values("Vary"))
			}
		})
	}
}

// TestCurrencySwitcher: every shop page's header has a form that works without
// JavaScript — a labelled select of the four currencies and a submit button,
// sent by GET to the page itself — and ?currency= (any case) switches and is
// remembered, over the browser's languages, while a currency the shop does not
// sell in is ignored.
func TestCurrencySwitcher(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	o := a.checkoutOne(t)
	s := o.shopper
	s.addToCart(ids["pour-over-dripper"], "1") // the checkout page needs a cart
	ref := o.ref

	for _, path := range []string{"/", "/cart", "/checkout", "/orders/" + ref, "/no-such-page"} {
		t.Run(path, func(t *testing.T) {
			p := s.get(path)
			form := p.doc.Find("header form.currency-switcher")
			if form.Length() != 1 {
				t.Fatalf("GET %s (%d) has %d currency switchers in its header, want 1", path, p.StatusCode, form.Length())
			}
			method, _ := form.Attr("method")
			if action, ok := form.Attr("action"); method != "get" || ok {
				t.Errorf("the switcher is %s to %q, want get to the page itself (no action)", method, action)
			}
			id, _ := form.Find("select").Attr("id")
			name, _ := form.Find("select").Attr("name")
			if form.Find(`label[for="`+id+`"]`).Text() != "Currency" || name != "currency" {
				t.Errorf("the select (id %q, name %q) has no label Currency, or is not named currency", id, name)
			}
			var options []string
			form.Find("option").Each(func(_ int, o *goquery.Selection) {
				v, _ := o.Attr("value")
				options = append(options, v+" "+o.Text())
			})
			want := []string{"USD USD (US$)", "EUR EUR (€)", "GBP GBP (£)", "CAD CAD (CA$)"}
			if diff := cmp.Diff(want, options); diff != "" {
				t.Errorf("the switcher's options (-want +got):\n%s", diff)
			}
			if got := form.Find(`button[type="submit"]`).Text(); got != "Change currency" {
				t.Errorf("the switcher's button reads %q, want Change currency", got)
			}
		})
	}

	german := []string{"Accept-Language", "de-DE"}
	if got := dripperPrice(s.getWith("/", german...)); got != "€32.00" {
		t.Fatalf("a German browser sees %q, want €32.00", got)
	}
	p := s.getWith("/?currency=gbp", german...)
	if got := dripperPrice(p); got != "£28.00" {
		t.Errorf("/?currency=gbp shows %q, want £28.00", got)
	}
	if got := s.currencyCookie(); got != "GBP" {
		t.Errorf("the currency cookie is %q after ?currency=gbp, want GBP", got)
	}
	for _, ignored := range []string{"JPY", "EURO", "", "%00", "US%20D"} {
		p := s.getWith("/cart?currency="+ignored, german...)
		if p.StatusCode != http.StatusOK {
			t.Errorf("GET /cart?currency=%s = %d, want 200", ignored, p.StatusCode)
		}
		if got, _ := p.doc.Find("#currency-select option[selected]").Attr("value"); got != "GBP" {
			t.Errorf("after ?currency=%s the shopper's currency is %q, want GBP kept", ignored, got)
		}
		if p.Header.Get("Set-Cookie") != "" && strings.Contains(p.Header.Get("Set-Cookie"), "currency=") {
			t.Errorf("?currency=%s set %q", ignored, p.Header.Get("Set-Cookie"))
		}
	}
	if got := dripperPrice(s.getWith("/", german...)); got != "£28.00" {
		t.Errorf("the remembered GBP gave way to the browser's language: %q", got)
	}
	// A form's query string switches nothing: only a GET does.
	if p := s.post("/cart/items?currency=CAD", url.Values{"product_id": {ids["enamel-mug"]}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /cart/items?currency=CAD = %d, want 303", p.StatusCode)
	}
	if got := s.currencyCookie(); got != "GBP" {
		t.Errorf("a POST's ?currency=CAD changed the cookie to %q", got)
	}
	// A form's error page has no GET of its own: its switcher goes to the catalog.
	refused := s.post("/cart/items", url.Values{"product_id": {"mug"}})
	if action, _ := refused.doc.Find("header form.currency-switcher").Attr("action"); refused.StatusCode != http.StatusBadRequest || action != "/" {
		t.Errorf("a malformed POST = %d with a switcher to %q, want 400 with one to /", refused.StatusCode, action)
	}
}
