package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// withAddress adds a valid US shipping address and the Standard method to a
// checkout form that holds none, as the form the shop renders would send.
func withAddress(form url.Values) url.Values {
	for k, v := range map[string]string{"line1": "1 Main St", "city": "Austin", "region": "TX",
		"postal_code": "78701", "country": "US", "method": "standard"} {
		if _, ok := form[k]; !ok {
			form.Set(k, v)
		}
	}
	return form
}

// TestCheckoutAddressFields: every field of the checkout carries its standard
// autocomplete token; the US form asks for a State from a list and a ZIP code;
// the cart and the checkout say prices include tax.
func TestCheckoutAddressFields(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{chargeShipping: true})
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	if got := s.get("/cart").doc.Find("#cart-tax").Text(); !strings.Contains(got, "Prices include tax") {
		t.Errorf("the cart says %q, want that prices include tax", got)
	}
	p := s.get("/checkout")
	want := map[string]string{"name": "name", "email": "email", "recipient": "shipping name",
		"line1": "address-line1", "line2": "address-line2", "city": "address-level2",
		"region": "address-level1", "postal_code": "postal-code", "country": "country"}
	for id, token := range want {
		if got, _ := p.doc.Find("form #" + id).Attr("autocomplete"); got != token {
			t.Errorf("#%s autocomplete = %q, want %q", id, got, token)
		}
	}
	if got := p.doc.Find(`label[for="region"]`).Text(); got != "State" {
		t.Errorf("the region's label = %q, want State", got)
	}
	if got := p.doc.Find(`label[for="postal_code"]`).Text(); got != "ZIP code" {
		t.Errorf("the postal code's label = %q, want ZIP code", got)
	}
	if n := p.doc.Find(`select#region option[value="TX"]`).Length(); n != 1 {
		t.Error("the State list has no Texas")
	}
	if got, _ := p.doc.Find(`#country option[selected]`).Attr("value"); got != "US" {
		t.Errorf("the country chosen for a USD cart = %q, want US", got)
	}
	if got := p.doc.Find("#checkout-tax").Text(); !strings.Contains(got, "Prices include tax") {
		t.Errorf("the checkout says %q, want that prices include tax", got)
	}
	methods := map[string]string{}
	p.doc.Find(`input[name="method"]`).Each(func(_ int, r *goquery.Selection) {
		v, _ := r.Attr("value")
		id, _ := r.Attr("id")
		methods[v] = strings.Join(strings.Fields(p.doc.Find(`label[for="`+id+`"]`).Text()), " ")
	})
	if !strings.Contains(methods["standard"], "US$5.99") || !strings.Contains(methods["express"], "US$14.99") {
		t.Errorf("shipping methods offered: %v; want Standard at US$5.99 and Express at US$14.99", methods)
	}
	if got := p.doc.Find("#checkout-grand-total").Text(); got != "US$25.98" {
		t.Errorf("the total with Standard = %q, want US$25.98 (19.99 + 5.99)", got)
	}

	// Without JavaScript, a changed country comes back with its own fields.
	r := s.post("/checkout", url.Values{"shown_country": {"US"}, "country": {"IT"}, "name": {"Ann"}, "line1": {"Via Roma 1"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/checkout" {
		t.Fatalf("country update = %d to %q, want 303 to /checkout", r.StatusCode, r.Header.Get("Location"))
	}
	p = s.get("/checkout")
	if p.StatusCode != http.StatusOK || p.doc.Find(".error").Length() != 0 || !strings.Contains(p.doc.Find("#checkout-notice").Text(), "Italy") {
		t.Errorf("after the country change: %d with %d errors and notice %q, want 200, none, and a notice naming Italy",
			p.StatusCode, p.doc.Find(".error").Length(), p.doc.Find("#checkout-notice").Text())
	}
	if got := p.doc.Find(`label[for="region"]`).Text(); got != "Province" || p.doc.Find(`#region option[value="RM"]`).Length() != 1 {
		t.Errorf("Italy's region label = %q; want Province with Roma in its list", got)
	}
	if v, _ := p.doc.Find("#line1").Attr("value"); v != "Via Roma 1" {
		t.Errorf("line 1 after the country update = %q, want it kept", v)
	}
	s.post("/checkout", url.Values{"shown_country": {"IT"}, "country": {"GB"}})
	p = s.get("/checkout")
	if p.doc.Find("#region").Length() != 0 || p.doc.Find(`label[for="postal_code"]`).Text() != "Postcode" {
		t.Errorf("the UK form has a region field or its postal code is not a Postcode")
	}
}

// TestCheckoutAddressRejected: an address not in its country's format comes
// back (PRG, 422) with a message per field and everything typed kept, and makes
// no order.
func TestCheckoutAddressRejected(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	form := url.Values{"name": {"Ann Lee"}, "email": {"ann@example.com"}, "line1": {"1 Main St"}, "line2": {"Apt\u202e 4"},
		"city": {"Austin"}, "region": {""}, "postal_code": {"7870"}, "country": {"US"}, "method": {"express"}}
	r := s.post("/checkout", form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/checkout" {
		t.Fatalf("checkout = %d to %q, want 303 to /checkout", r.StatusCode, r.Header.Get("Location"))
	}
	p := s.get("/checkout")
	if p.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("GET /checkout after the rejected form = %d, want 422", p.StatusCode)
	}
	got := map[string]bool{}
	p.doc.Find(".error").Each(func(_ int, e *goquery.Selection) {
		id, _ := e.Attr("id")
		got[strings.TrimSuffix(id, "-error")] = true
	})
	if diff := cmp.Diff(map[string]bool{"region": true, "postal_code": true, "line2": true}, got); diff != "" {
		t.Errorf("fields in error (-want +got):\n%s", diff)
	}
	for id, want := range map[string]string{"name": "Ann Lee", "line1": "1 Main St", "line2": "Apt\uFFFD 4", "city": "Austin", "postal_code": "7870"} {
		if v, _ := p.doc.Find("#" + id).Attr("value"); v != want {
			t.Errorf("#%s kept as %q, want %q", id, v, want)
		}
	}
	if _, ok := p.doc.Find(`input[value="express"]`).Attr("checked"); !ok {
		t.Error("the chosen method was not kept")
	}
	var n int
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d orders after a rejected address (%v), want none", n, err)
	}
	// A country the merchant does not ship to, and a method that does not exist.
	form.Set("region", "TX")
	form.Set("postal_code", "78701")
	form.Set("line2", "")
	form.Set("country", "JP")
	s.post("/checkout", form)
	if p := s.get("/checkout"); p.doc.Find("#country-error").Length() != 1 {
		t.Error("a country not shipped to was not refused")
	} else if by, _ := p.doc.Find("select#country").Attr("aria-describedby"); by != "country-hint country-error" {
		// A second aria-describedby is dropped by the parser: the error would
		// never be announced.
		t.Errorf("the refused country's select is described by %q, want its hint and its error", by)
	}
	form.Set("country", "US")
	for _, method := range []string{"teleport", "te\x00st", "st\xffd", strings.Repeat("x", 5000)} {
		form.Set("method", method)
		if r := s.post("/checkout", form); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/checkout" {
			t.Errorf("method %q: %d to %q, want 303 to /checkout", method, r.StatusCode, r.Header.Get("Location"))
		}
		if p := s.get("/checkout"); p.StatusCode != http.StatusUnprocessableEntity || p.doc.Find("#method-error").Length() != 1 {
			t.Errorf("method %q: %d, want 422 naming the method", method, p.StatusCode)
		}
	}
}

// TestCheckoutChargesShipping: the payment Orchestrate is asked for, read back
// from the sandbox over HTTP, is the items plus the chosen method; the order's
// pages and the CSV show the address and method.
func TestCheckoutChargesShipping(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{chargeShipping: true})
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	r := s.post("/checkout", url.Values{"name": {"Ann Lee"}, "email": {"ann@example.com"}, "recipient": {"Bo Lee"},
		"line1": {"1 Main St"}, "line2": {"Apt 4"}, "city": {"Austin"}, "region": {"TX"}, "postal_code": {"78701"},
		"country": {"US"}, "method": {"express"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d, want 303; body %s", r.StatusCode, r.body)
	}
	paid := a.paymentByLink(t, r.Header.Get("Location"))
	if paid.Amount != 1999+1499 || paid.Currency != "USD" {
		t.Errorf("Orchestrate was asked for %d %s, want 3498 USD (mug 19.99 + Express 14.99)", paid.Amount, paid.Currency)
	}
	ref, _, total := a.lastOrder(t)
	if total != 3498 {
		t.Errorf("the order's total = %d, want 3498", total)
	}
	page := s.get("/orders/" + ref)
	lines := page.doc.Find("#shipping-address bdi").Map(func(_ int, l *goquery.Selection) string { return l.Text() })
	if got := strings.Join(lines, " | "); got != "Bo Lee | 1 Main St | Apt 4 | Austin, TX 78701 | United States" {
		t.Errorf("the order page ships to %q", got)
	}
	if got := page.doc.Find("#order-shipping").Text(); got != "US$14.99" {
		t.Errorf("the order page's shipping = %q, want US$14.99", got)
	}
	admin := a.newAdmin(t)
	ap := admin.get("/admin/orders/" + a.orderIDByRef(t, ref))
	if got := ap.doc.Find("#shipping-method").Text(); !strings.Contains(got, "Express") || !strings.Contains(ap.doc.Find("#shipping-address").Text(), "78701") {
		t.Errorf("the admin's order page shows method %q and address %q", got, ap.doc.Find("#shipping-address").Text())
	}
	records, err := csv.NewReader(strings.NewReader(admin.get("/admin/orders.csv").body)).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("CSV: %d records, %v", len(records), err)
	}
	row := map[string]string{}
	for i, h := range records[0] {
		row[h] = records[1][i]
	}
	wantRow := map[string]string{"total": "34.98", "shipping": "14.99", "ship_recipient": "Bo Lee", "ship_line1": "1 Main St",
		"ship_line2": "Apt 4", "ship_city": "Austin", "ship_region": "TX", "ship_postal_code": "78701", "ship_country": "US"}
	for k, v := range wantRow {
		if row[k] != v {
			t.Errorf("CSV %s = %q, want %q", k, row[k], v)
		}
	}
	if !strings.HasPrefix(row["shipping_method"], "Express") {
		t.Errorf("CSV shipping_method = %q", row["shipping_method"])
	}
}
