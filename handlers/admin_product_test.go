package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// productEpoch is the fake clock's time in the product tests: the time every
// recorded change must carry.
var productEpoch = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// newProductApp is the app on a fake clock at productEpoch, webhooks off.
func newProductApp(t *testing.T) (*app, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(productEpoch)
	return newAppWith(t, testdb.New(t).Pool, appOptions{clock: clock}), clock
}

// productPage loads a product's admin page and fails unless it answers 200.
func (s *shopper) productPage(id string) *page {
	s.t.Helper()
	p := s.get("/admin/products/" + id)
	if p.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /admin/products/%s = %d; body %s", id, p.StatusCode, p.body)
	}
	return p
}

// priceForm is the price form of a product page as a browser sends it (its
// hidden fields included), with the fields of set changed.
func priceForm(p *page, set map[string]string) url.Values {
	form := url.Values{}
	p.doc.Find(`form[action$="/prices"] input`).Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		value, _ := in.Attr("value")
		form.Set(name, value)
	})
	for k, v := range set {
		form.Set(k, v)
	}
	return form
}

// savePrices submits a product page's price form with the fields of set changed.
func (s *shopper) savePrices(id string, from *page, set map[string]string) *page {
	s.t.Helper()
	return s.post("/admin/products/"+id+"/prices", priceForm(from, set))
}

// prices reads a product's prices from the database, by currency.
func (a *app) prices(t *testing.T, id string) map[string]int64 {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `SELECT currency, amount_minor FROM product_prices WHERE product_id = $1::bigint`, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var cur string
	var minor int64
	if _, err := pgx.ForEachRow(rows, []any{&cur, &minor}, func() error { out[cur] = minor; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// changesRecorded reads a product's recorded changes, oldest first, as
// "actor field from→to @time".
func (a *app) changesRecorded(t *testing.T, id string) []string {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `
		SELECT actor || ' ' || field || ' ' || coalesce(from_value, '-') || '→' || coalesce(to_value, '-')
		       || ' @' || to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
		FROM product_changes WHERE product_id = $1::bigint ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// changesShown is the changes table of a product page, row by row, newest first.
func changesShown(p *page) []string {
	var out []string
	p.doc.Find("#changes tbody tr").Each(func(_ int, tr *goquery.Selection) {
		var cells []string
		tr.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
		out = append(out, strings.Join(cells, " | "))
	})
	return out
}

// fieldValue is the value attribute of the input with the given id.
func fieldValue(p *page, id string) string {
	v, _ := p.doc.Find("#" + id).Attr("value")
	return v
}

// TestAdminEditPrices: the product page shows each price in major units; a save
// changes, removes and adds prices, says what changed (303, then a flash), and
// every change is recorded — who, when (the app's clock), from and to — and
// shown on the page, newest first.
func TestAdminEditPrices(t *testing.T) {
	a, clock := newProductApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)

	p := admin.productPage(mug)
	want := map[string]string{"price_USD": "19.99", "price_EUR": "19.00", "price_GBP": "16.00", "price_CAD": "27.00"}
	for id, v := range want {
		if got := fieldValue(p, id); got != v {
			t.Errorf("#%s = %q, want %q", id, got, v)
		}
	}
	if got := changesShown(p); len(got) != 0 {
		t.Errorf("a seeded product shows changes %q", got)
	}

	// Change EUR, remove GBP.
	r := admin.savePrices(mug, p, map[string]string{"price_EUR": "21.5", "price_GBP": ""})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/products/"+mug {
		t.Fatalf("save = %d %q, want 303 to the product; body %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 1999, "EUR": 2150, "CAD": 2700}, a.prices(t, mug)); diff != "" {
		t.Errorf("prices after the save (-want +got):\n%s", diff)
	}
	p = admin.productPage(mug)
	if got, want := strings.TrimSpace(p.doc.Find("#flash").Text()), "Prices saved: EUR €19.00 → €21.50; GBP £16.00 → none."; got != want {
		t.Errorf("flash = %q, want %q", got, want)
	}
	if fieldValue(p, "price_GBP") != "" || fieldValue(p, "price_EUR") != "21.50" {
		t.Errorf("after the save the form shows EUR %q and GBP %q, want 21.50 and empty", fieldValue(p, "price_EUR"), fieldValue(p, "price_GBP"))
	}

	// An hour later, add GBP back.
	clock.Advance(time.Hour)
	r = admin.savePrices(mug, p, map[string]string{"price_GBP": "15"})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding GBP = %d; body %s", r.StatusCode, r.body)
	}
	if got := a.prices(t, mug)["GBP"]; got != 1500 {
		t.Errorf("GBP = %d after adding it, want 1500", got)
	}
	wantRecorded := []string{
		"merchant price EUR 19.00→21.50 @2026-03-14 09:30:00",
		"merchant price GBP 16.00→- @2026-03-14 09:30:00",
		"merchant price GBP -→15.00 @2026-03-14 10:30:00",
	}
	if diff := cmp.Diff(wantRecorded, a.changesRecorded(t, mug)); diff != "" {
		t.Errorf("recorded changes (-want +got):\n%s", diff)
	}
	wantShown := []string{
		"2026-03-14 10:30:00 UTC | merchant | Price in GBP | none | £15.00",
		"2026-03-14 09:30:00 UTC | merchant | Price in GBP | £16.00 | none",
		"2026-03-14 09:30:00 UTC | merchant | Price in EUR | €19.00 | €21.50",
	}
	if diff := cmp.Diff(wantShown, changesShown(admin.productPage(mug))); diff != "" {
		t.Errorf("changes shown, newest first (-want +got):\n%s", diff)
	}

	// Saving the form unchanged writes nothing and says so.
	p = admin.productPage(mug)
	if r := admin.savePrices(mug, p, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("unchanged save = %d", r.StatusCode)
	}
	if got := admin.productPage(mug).doc.Find("#flash").Text(); !strings.Contains(got, "Nothing to save") {
		t.Errorf("an unchanged save says %q", got)
	}
	if got := a.changesRecorded(t, mug); len(got) != 3 {
		t.Errorf("an unchanged save recorded something: %q", got)
	}
	if p := admin.get("/admin/products/999999"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown product = %d, want 404", p.StatusCode)
	}
}

// TestAdminEditPricesRefused: a price the rules refuse is a 422 with the input
// kept, a message beside the field and in the summary, and nothing written.
func TestAdminEditPricesRefused(t *testing.T) {
	a, _ := newProductApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)
	const (
		format = "Enter the price in EUR as digits with an optional decimal point, like 32.00, without a currency sign or separators; or leave it empty."
		places = "A price in EUR has at most 2 decimals."
		rng    = "Enter a price above zero and at most €1,000,000.00."
	)
	tests := []struct {
		name, typed, wantKept, wantMessage string
	}{
		{"letters", "abc", "abc", format},
		{"currency sign", "€32.00", "€32.00", format},
		{"thousands separator", "1,000.00", "1,000.00", format},
		{"decimal comma", "32,50", "32,50", format},
		{"negative", "-5", "-5", format},
		{"NUL", "32\x00", "32\uFFFD", format},
		{"invalid UTF-8", "\xff32", "\uFFFD32", format},
		{"override", "\u202e23", "\uFFFD23", format},
		{"three decimals", "19.999", "19.999", places},
		{"zero", "0.00", "0.00", rng},
		{"above the maximum", "1000000.01", "1000000.01", rng},
		{"huge", strings.Repeat("9", 40), strings.Repeat("9", 40), rng},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := a.dbState(t)
			p := admin.savePrices(mug, admin.productPage(mug), map[string]string{"price_USD": "25.00", "price_EUR": tc.typed})
			if p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("save with EUR %q = %d, want 422; body %s", tc.typed, p.StatusCode, p.body)
			}
			if got := strings.TrimSpace(p.doc.Find("#price_EUR-error").Text()); got != tc.wantMessage {
				t.Errorf("EUR's message = %q, want %q", got, tc.wantMessage)
			}
			if got := strings.TrimSpace(p.doc.Find(`#error-summary a[href="#price_EUR"]`).Text()); got != tc.wantMessage {
				t.Errorf("the summary says %q for EUR, want %q", got, tc.wantMessage)
			}
			if inv, _ := p.doc.Find("#price_EUR").Attr("aria-invalid"); inv != "true" {
				t.Error("the EUR field is not marked invalid")
			}
			if got := fieldValue(p, "price_EUR"); got != tc.wantKept {
				t.Errorf("EUR kept as %q, want %q", got, tc.wantKept)
			}
			if got := fieldValue(p, "price_USD"); got != "25.00" {
				t.Errorf("USD kept as %q, want the 25.00 typed", got)
			}
			if p.doc.Find("#price_USD-error").Length() != 0 {
				t.Error("the valid USD price has a message")
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused save wrote (-before +after):\n%s", diff)
			}
		})
	}
	// Several refused at once: a message beside each.
	p := admin.savePrices(mug, admin.productPage(mug), map[string]string{"price_USD": "x", "price_GBP": "0", "price_CAD": "1.234"})
	if p.StatusCode != http.StatusUnprocessableEntity || p.doc.Find("#error-summary li").Length() != 3 {
		t.Errorf("three refused prices = %d with %d messages in the summary, want 422 and 3", p.StatusCode, p.doc.Find("#error-summary li").Length())
	}
	for _, id := range []string{"price_USD-error", "price_GBP-error", "price_CAD-error"} {
		if p.doc.Find("#"+id).Length() != 1 {
			t.Errorf("no #%s", id)
		}
	}
	// Hidden fields the page never writes are a 400, and nothing is written.
	before := a.dbState(t)
	for _, was := range []string{"abc", "-1", "0", "100000001", "19.99", "\x00"} {
		if p := admin.savePrices(mug, admin.productPage(mug), map[string]string{"was_EUR": was, "price_EUR": "20"}); p.StatusCode != http.StatusBadRequest {
			t.Errorf("was_EUR %q = %d, want 400", was, p.StatusCode)
		}
	}
	if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
		t.Errorf("altered forms wrote (-before +after):\n%s", diff)
	}
}

// TestAdminConcurrentPriceEdits: two admins open the same product; the second to
// save a price the first changed meanwhile gets a 409 that shows the price as
// it is now, keeps what they typed, and writes nothing; saving that page again
// replaces the price knowingly. A price they did not touch is not theirs to
// conflict on: their other changes save, and the first admin's stays.
func TestAdminConcurrentPriceEdits(t *testing.T) {
	a, _ := newProductApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	ann, bob := a.newAdmin(t), a.newAdmin(t)

	annPage, bobPage := ann.productPage(mug), bob.productPage(mug)
	if r := bob.savePrices(mug, bobPage, map[string]string{"price_EUR": "20.00"}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Bob's save = %d; body %s", r.StatusCode, r.body)
	}
	before := a.dbState(t)
	p := ann.savePrices(mug, annPage, map[string]string{"price_EUR": "22.00", "price_USD": "21.00"})
	if p.StatusCode != http.StatusConflict {
		t.Fatalf("Ann's save over Bob's = %d, want 409; body %s", p.StatusCode, p.body)
	}
	if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
		t.Errorf("the refused save wrote (-before +after):\n%s", diff)
	}
	if got := a.prices(t, mug); got["EUR"] != 2000 || got["USD"] != 1999 {
		t.Errorf("after the refused save EUR = %d and USD = %d, want Bob's 2000 and the untouched 1999", got["EUR"], got["USD"])
	}
	if got, want := strings.TrimSpace(p.doc.Find("#price_EUR-error").Text()), "Changed by someone else while you were editing: it is now €20.00 (it was €19.00 when you opened this page). Save again to replace it with yours."; got != want {
		t.Errorf("EUR's message = %q, want %q", got, want)
	}
	if !strings.Contains(p.doc.Find("#notice").Text(), "nothing was saved") {
		t.Errorf("the page's notice = %q, want it to say nothing was saved", p.doc.Find("#notice").Text())
	}
	if fieldValue(p, "price_EUR") != "22.00" || fieldValue(p, "price_USD") != "21.00" {
		t.Errorf("Ann's input kept as EUR %q USD %q, want 22.00 and 21.00", fieldValue(p, "price_EUR"), fieldValue(p, "price_USD"))
	}
	if p.doc.Find("#price_USD-error").Length() != 0 {
		t.Error("USD, which nobody else changed, has a message")
	}
	if got := a.changesRecorded(t, mug); len(got) != 1 || !strings.Contains(got[0], "price EUR 19.00→20.00") {
		t.Errorf("recorded %q, want Bob's change only", got)
	}

	// Saving the 409 page again is Ann's informed choice: it replaces Bob's price.
	if r := ann.savePrices(mug, p, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Ann's second save = %d; body %s", r.StatusCode, r.body)
	}
	if got := a.prices(t, mug); got["EUR"] != 2200 || got["USD"] != 2100 {
		t.Errorf("after Ann's second save EUR = %d, USD = %d; want 2200 and 2100", got["EUR"], got["USD"])
	}

	// Bob, still on his old page, changes only CAD: no conflict, and Ann's EUR stays.
	bobPage = bob.productPage(mug)
	annPage = ann.productPage(mug)
	if r := ann.savePrices(mug, annPage, map[string]string{"price_EUR": "23.00"}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Ann's third save = %d", r.StatusCode)
	}
	if r := bob.savePrices(mug, bobPage, map[string]string{"price_CAD": "30.00"}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Bob's CAD save on a page older than Ann's EUR save = %d, want 303; body %s", r.StatusCode, r.body)
	}
	if got := a.prices(t, mug); got["EUR"] != 2300 || got["CAD"] != 3000 {
		t.Errorf("EUR = %d and CAD = %d, want Ann's 2300 kept and Bob's 3000", got["EUR"], got["CAD"])
	}

	// A price removed meanwhile, and one added meanwhile, conflict too.
	annPage, bobPage = ann.productPage(mug), bob.productPage(mug)
	if r := bob.savePrices(mug, bobPage, map[string]string{"price_GBP": ""}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Bob removing GBP = %d", r.StatusCode)
	}
	p = ann.savePrices(mug, annPage, map[string]string{"price_GBP": "17.00"})
	if p.StatusCode != http.StatusConflict || !strings.Contains(p.doc.Find("#price_GBP-error").Text(), "it is now none") {
		t.Errorf("Ann changing a GBP price Bob removed = %d %q, want 409 saying it is now none", p.StatusCode, p.doc.Find("#price_GBP-error").Text())
	}
}

// TestAdminDeactivateProduct: deactivating a product takes it out of the shop's
// catalog (and refuses it to carts); activating lists it again. Each is
// recorded once; asking for the state it is in changes and records nothing.
func TestAdminDeactivateProduct(t *testing.T) {
	a, _ := newProductApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)
	shopper := a.newShopper(t)
	listed := func() bool {
		return shopper.get("/").doc.Find(`input[name="product_id"][value="`+mug+`"]`).Length() > 0
	}
	if !listed() {
		t.Fatal("the shop does not list the mug before the test")
	}
	p := admin.productPage(mug)
	if v, _ := p.doc.Find(`form[action$="/active"] input[name="active"]`).Attr("value"); v != "false" || strings.TrimSpace(p.doc.Find("#toggle-active").Text()) != "Deactivate" {
		t.Fatalf("an active product's page offers %q (%q), want Deactivate", p.doc.Find("#toggle-active").Text(), v)
	}

	r := admin.post("/admin/products/"+mug+"/active", url.Values{"active": {"false"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/products/"+mug {
		t.Fatalf("deactivate = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if listed() {
		t.Error("the shop still lists the deactivated mug")
	}
	if p := shopper.post("/cart/items", url.Values{"product_id": {mug}, "quantity": {"1"}}); a.count(t, `SELECT count(*) FROM cart_items WHERE product_id = $1::bigint`, mug) != 0 {
		t.Errorf("a deactivated product went into a cart (%d)", p.StatusCode)
	}
	p = admin.productPage(mug)
	if got := strings.TrimSpace(p.doc.Find("#flash").Text()); got != "Enamel camp mug is inactive: the shop no longer lists it, and carts drop it." {
		t.Errorf("flash = %q", got)
	}
	if got := strings.TrimSpace(p.doc.Find("#product-status").Text()); got != "Inactive" {
		t.Errorf("status badge = %q, want Inactive", got)
	}
	if got := admin.get("/admin/products").doc.Find(`#products tr[data-slug="enamel-mug"] .status`).Text(); strings.TrimSpace(got) != "Inactive" {
		t.Errorf("the list shows the mug as %q, want Inactive", got)
	}

	// Again: nothing changes, nothing is recorded.
	admin.post("/admin/products/"+mug+"/active", url.Values{"active": {"false"}})
	if got := admin.productPage(mug).doc.Find("#flash").Text(); !strings.Contains(got, "was already inactive") {
		t.Errorf("deactivating twice says %q", got)
	}
	if r := admin.post("/admin/products/"+mug+"/active", url.Values{"active": {"true"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate = %d", r.StatusCode)
	}
	if !listed() {
		t.Error("the shop does not list the mug once activated again")
	}
	want := []string{"merchant status active→inactive @2026-03-14 09:30:00", "merchant status inactive→active @2026-03-14 09:30:00"}
	if diff := cmp.Diff(want, a.changesRecorded(t, mug)); diff != "" {
		t.Errorf("recorded changes (-want +got):\n%s", diff)
	}
	wantShown := []string{
		"2026-03-14 09:30:00 UTC | merchant | Status | inactive | active",
		"2026-03-14 09:30:00 UTC | merchant | Status | active | inactive",
	}
	if diff := cmp.Diff(wantShown, changesShown(admin.productPage(mug))); diff != "" {
		t.Errorf("changes shown (-want +got):\n%s", diff)
	}
	before := a.dbState(t)
	for _, v := range []string{"", "yes", "TRUE", "\x00"} {
		if r := admin.post("/admin/products/"+mug+"/active", url.Values{"active": {v}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("active=%q = %d, want 400", v, r.StatusCode)
		}
	}
	if r := admin.post("/admin/products/999999/active", url.Values{"active": {"false"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("deactivating an unknown product = %d, want 404", r.StatusCode)
	}
	if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
		t.Errorf("refused requests wrote (-before +after):\n%s", diff)
	}
}

// TestPriceEditKeepsOrders: an order keeps the prices it was made at when the
// merchant changes them afterwards — in the database, on the shopper's order page
// and on the admin's.
func TestPriceEditKeepsOrders(t *testing.T) {
	a, _ := newProductApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.checkoutOne(t) // one enamel mug at $19.99
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)
	if r := admin.savePrices(mug, admin.productPage(mug), map[string]string{"price_USD": "25.00"}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("price edit = %d; body %s", r.StatusCode, r.body)
	}
	if got := a.prices(t, mug)["USD"]; got != 2500 {
		t.Fatalf("the mug's USD price is %d after the edit, want 2500", got)
	}
	var total, unit int64
	if err := a.pool.QueryRow(context.Background(), `
		SELECT o.total_minor, i.unit_price_minor FROM orders o JOIN order_items i ON i.order_id = o.id
		WHERE o.public_ref = $1`, o.ref).Scan(&total, &unit); err != nil {
		t.Fatal(err)
	}
	if total != 1999 || unit != 1999 {
		t.Errorf("the order's total and unit price = %d and %d after the edit, want 1999 as it was made", total, unit)
	}
	if got := o.get("/orders/" + o.ref).body; !strings.Contains(got, "US$19.99") || strings.Contains(got, "US$25.00") {
		t.Error("the shopper's order page does not show the $19.99 the order was made at")
	}
	page := admin.get("/admin/orders/" + a.orderIDByRef(t, o.ref))
	if got := page.doc.Find("#order-total").Text(); got != "US$19.99" {
		t.Errorf("the admin's order page totals %q, want US$19.99", got)
	}
	// The next checkout is priced, and paid at Orchestrate, at the new price.
	next := a.checkoutOne(t)
	var nextTotal int64
	if err := a.pool.QueryRow(context.Background(), `SELECT total_minor FROM orders WHERE public_ref = $1`, next.ref).Scan(&nextTotal); err != nil {
		t.Fatal(err)
	}
	if nextTotal != 2500 {
		t.Errorf("the next order totals %d, want 2500 (the new price)", nextTotal)
	}
	var paid []int64
	for _, p := range a.payments(t) {
		if p.Currency == "USD" {
			paid = append(paid, p.Amount)
		}
	}
	if !slices.Contains(paid, 2500) || !slices.Contains(paid, 1999) {
		t.Errorf("Orchestrate holds USD payments of %v, want one at the old price 1999 and one at the new 2500", paid)
	}
}

// TestAdminProductFormsNeedCSRF: the product forms — create, prices, activation,
// stock — are refused (403) without the CSRF token from a client that does not say it
// is same-origin, and from another site even with it; nothing is written.
func TestAdminProductFormsNeedCSRF(t *testing.T) {
	a, _ := newProductApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)
	forms := []struct {
		path string
		form url.Values
	}{
		{"/admin/products", newProductFormWith(nil)},
		{"/admin/products/" + mug + "/prices", priceForm(admin.productPage(mug), map[string]string{"price_EUR": "25.00"})},
		{"/admin/products/" + mug + "/active", url.Values{"active": {"false"}}},
		{"/admin/products/" + mug + "/stock", url.Values{"stock": {"7"}}},
	}
	for _, f := range forms {
		t.Run(f.path, func(t *testing.T) {
			before, stockBefore := a.dbState(t), a.stockState(t)
			forged := url.Values{}
			for k, v := range f.form {
				forged[k] = v
			}
			forged.Set("_csrf", "forged")
			if p := admin.postRaw(f.path, forged); p.StatusCode != http.StatusForbidden {
				t.Errorf("with a forged token = %d, want 403", p.StatusCode)
			}
			forged.Del("_csrf")
			if p := admin.postRaw(f.path, forged); p.StatusCode != http.StatusForbidden {
				t.Errorf("without a token = %d, want 403", p.StatusCode)
			}
			genuine := url.Values{}
			for k, v := range f.form {
				genuine[k] = v
			}
			genuine.Set("_csrf", admin.csrf())
			if p := admin.postRaw(f.path, genuine, "Sec-Fetch-Site", "cross-site"); p.StatusCode != http.StatusForbidden {
				t.Errorf("from another site = %d, want 403", p.StatusCode)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" || a.stockState(t) != stockBefore {
				t.Errorf("refused forms wrote (-before +after):\n%s", diff)
			}
			// The same form with its token goes through, so the refusals above were
			// the token's and the site's doing.
			if p := admin.postRaw(f.path, genuine); p.StatusCode != http.StatusSeeOther {
				t.Errorf("with its token = %d, want 303; body %s", p.StatusCode, p.body)
			}
		})
	}
}
