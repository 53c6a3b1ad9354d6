package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/orders"
)

// setStock posts the stock form of product id with the field stock as given.
func (s *shopper) setStock(id, stock string) *page {
	s.t.Helper()
	return s.post("/admin/products/"+id+"/stock", url.Values{"stock": {stock}})
}

// stockRow is a product's stock row as "on_hand/held", or "untracked".
func (a *app) stockRow(t *testing.T, id string) string {
	t.Helper()
	var row string
	err := a.pool.QueryRow(context.Background(), `
		SELECT coalesce((SELECT on_hand || '/' || held FROM stock WHERE product_id = $1::bigint), 'untracked')`, id).Scan(&row)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// stockState fingerprints the stock tables, which dbState does not cover.
func (a *app) stockState(t *testing.T) string {
	t.Helper()
	var s string
	err := a.pool.QueryRow(context.Background(), `
		SELECT (SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM stock t) || ' # ' ||
		       (SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM stock_holds t)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkHeldIsSumOfHolds fails the test unless every product's held count is the
// sum of its holds.
func (a *app) checkHeldIsSumOfHolds(t *testing.T) {
	t.Helper()
	if n := a.count(t, `SELECT count(*) FROM stock s
		WHERE held <> (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.product_id = s.product_id)`); n != 0 {
		t.Errorf("%d products whose held count is not the sum of their holds", n)
	}
}

// stockShown is the stock panel of a product page: on hand, held, available,
// or "untracked".
func stockShown(p *page) string {
	if p.doc.Find("#stock-untracked").Length() == 1 {
		return "untracked"
	}
	return strings.TrimSpace(p.doc.Find("#stock-on-hand").Text()) + "/" +
		strings.Fields(p.doc.Find("#stock-held").Text())[0] + "/" + strings.TrimSpace(p.doc.Find("#stock-available").Text())
}

// TestAdminSetStock: the merchant starts tracking a product's stock, recounts it
// while a shopper's order holds units (the hold is kept: held is untouched and
// the order still holds them), recounts below what is held (accepted, and the
// page says plainly what that means), and stops tracking (the row and its holds
// go). Every change says what it did and is recorded — who, when, from, to — and
// shown; a count equal to the current one records nothing.
func TestAdminSetStock(t *testing.T) {
	a, _ := newProductApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)

	p := admin.productPage(mug)
	if got := stockShown(p); got != "untracked" {
		t.Fatalf("a seeded product's stock shows %q, want untracked", got)
	}
	if action, _ := p.doc.Find(`#stock form`).Attr("action"); action != "/admin/products/"+mug+"/stock" {
		t.Errorf("the stock form posts to %q", action)
	}
	if fieldValue(p, "stock-input") != "" {
		t.Errorf("an untracked product's field holds %q, want empty", fieldValue(p, "stock-input"))
	}

	r := admin.setStock(mug, " 10 ")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/products/"+mug {
		t.Fatalf("set stock = %d %q, want 303 to the product; body %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if got := a.stockRow(t, mug); got != "10/0" {
		t.Errorf("stock after setting 10 = %s, want 10/0", got)
	}
	p = admin.productPage(mug)
	if got, want := strings.TrimSpace(p.doc.Find("#flash").Text()), "Enamel camp mug now has 10 on hand (it was not tracked): 0 held, 10 available."; got != want {
		t.Errorf("flash = %q, want %q", got, want)
	}
	if got := stockShown(p); got != "10/0/10" {
		t.Errorf("the page shows %s, want 10/0/10", got)
	}
	if fieldValue(p, "stock-input") != "10" {
		t.Errorf("the field holds %q, want 10", fieldValue(p, "stock-input"))
	}

	// A shopper's order holds 3; the merchant recounts 8: the 3 stay held.
	shopper := a.newShopper(t)
	shopper.addToCart(mug, "3")
	if r := shopper.checkout("Ada Lovelace", "ada@example.com"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d; body %s", r.StatusCode, r.body)
	}
	if got := a.stockRow(t, mug); got != "10/3" {
		t.Fatalf("after a checkout of 3 the stock is %s, want 10/3", got)
	}
	if got := stockShown(admin.productPage(mug)); got != "10/3/7" {
		t.Errorf("the page shows %s, want 10/3/7", got)
	}
	admin.setStock(mug, "8")
	if got := a.stockRow(t, mug); got != "8/3" {
		t.Errorf("after recounting 8 the stock is %s, want 8/3: the holds kept", got)
	}
	if n := a.count(t, `SELECT count(*) FROM stock_holds WHERE product_id = $1::bigint AND quantity = 3`, mug); n != 1 {
		t.Errorf("the order's hold of 3 is gone after a recount (%d holds)", n)
	}
	a.checkHeldIsSumOfHolds(t)
	p = admin.productPage(mug)
	if got := strings.TrimSpace(p.doc.Find("#flash").Text()); got != "Enamel camp mug now has 8 on hand (it had 10): 3 held, 5 available." {
		t.Errorf("flash = %q", got)
	}
	if p.doc.Find("#stock-over-held").Length() != 0 {
		t.Error("the page warns of more held than on hand with 8 on hand and 3 held")
	}

	// Recounting below what is held is the merchant's call: accepted, and said plainly.
	admin.setStock(mug, "2")
	if got := a.stockRow(t, mug); got != "2/3" {
		t.Errorf("after recounting 2 the stock is %s, want 2/3", got)
	}
	p = admin.productPage(mug)
	if got := strings.TrimSpace(p.doc.Find("#flash").Text()); !strings.Contains(got, "orders awaiting payment hold 3: if they are all paid, 1 will be short") {
		t.Errorf("flash = %q, want it to say 1 will be short", got)
	}
	if got := strings.Join(strings.Fields(p.doc.Find("#stock-over-held").Text()), " "); !strings.Contains(got, "hold 3 units, more than the 2 on hand") ||
		!strings.Contains(got, "1 of the units paid for will not be there") {
		t.Errorf("the page's warning = %q", got)
	}
	if got := stockShown(p); got != "2/3/0" {
		t.Errorf("the page shows %s, want 2/3/0", got)
	}

	// The same count again writes nothing.
	admin.setStock(mug, "2")
	if got := admin.productPage(mug).doc.Find("#flash").Text(); !strings.Contains(got, "already had 2 on hand; nothing changed") {
		t.Errorf("the same count again says %q", got)
	}

	// Empty stops tracking: the row and its holds go; the order stays.
	admin.setStock(mug, "")
	if got := a.stockRow(t, mug); got != "untracked" {
		t.Errorf("after emptying the field the stock is %s, want untracked", got)
	}
	if n := a.count(t, `SELECT count(*) FROM stock_holds`); n != 0 {
		t.Errorf("%d holds left on an untracked product", n)
	}
	p = admin.productPage(mug)
	if got := strings.TrimSpace(p.doc.Find("#flash").Text()); got != "Enamel camp mug's stock is no longer tracked (it had 2 on hand): the shop sells any quantity." {
		t.Errorf("flash = %q", got)
	}
	if got := stockShown(p); got != "untracked" {
		t.Errorf("the page shows %s, want untracked", got)
	}
	admin.setStock(mug, "")
	if got := admin.productPage(mug).doc.Find("#flash").Text(); !strings.Contains(got, "was not tracked; nothing changed") {
		t.Errorf("untracking twice says %q", got)
	}

	want := []string{
		"merchant stock untracked→10 @2026-03-14 09:30:00",
		"merchant stock 10→8 @2026-03-14 09:30:00",
		"merchant stock 8→2 @2026-03-14 09:30:00",
		"merchant stock 2→untracked @2026-03-14 09:30:00",
	}
	if diff := cmp.Diff(want, a.changesRecorded(t, mug)); diff != "" {
		t.Errorf("recorded changes (-want +got):\n%s", diff)
	}
	wantShown := []string{
		"2026-03-14 09:30:00 UTC | merchant | Stock on hand | 2 | untracked",
		"2026-03-14 09:30:00 UTC | merchant | Stock on hand | 8 | 2",
		"2026-03-14 09:30:00 UTC | merchant | Stock on hand | 10 | 8",
		"2026-03-14 09:30:00 UTC | merchant | Stock on hand | untracked | 10",
	}
	if diff := cmp.Diff(wantShown, changesShown(admin.productPage(mug))); diff != "" {
		t.Errorf("changes shown, newest first (-want +got):\n%s", diff)
	}
	if p := admin.setStock("999999", "5"); p.StatusCode != http.StatusNotFound {
		t.Errorf("stock of an unknown product = %d, want 404", p.StatusCode)
	}
	if p := admin.setStock("abc", "5"); p.StatusCode != http.StatusNotFound {
		t.Errorf("stock of product \"abc\" = %d, want 404", p.StatusCode)
	}
}

// TestAdminSetStockRefused: a count that is not a whole number from 0 to
// 1,000,000 is a 422 with what was typed kept, a message beside the field and
// in the summary, and nothing written.
func TestAdminSetStockRefused(t *testing.T) {
	a, _ := newProductApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)
	if r := admin.setStock(mug, "5"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set stock = %d", r.StatusCode)
	}
	const (
		format = "Enter the units on hand as a whole number, like 12, without a sign, decimals or separators; or leave it empty to stop tracking stock."
		rng    = "Enter at most 1,000,000 units on hand; or leave it empty to stop tracking stock."
	)
	tests := []struct {
		name, typed, wantKept, wantMessage string
	}{
		{"negative", "-1", "-1", format},
		{"plus sign", "+3", "+3", format},
		{"decimals", "1.5", "1.5", format},
		{"decimal comma", "1,5", "1,5", format},
		{"thousands separator", "1 000", "1 000", format},
		{"letters", "ten", "ten", format},
		{"exponent", "1e3", "1e3", format},
		{"NUL", "3\x00", "3\uFFFD", format},
		{"invalid UTF-8", "\xff3", "\uFFFD3", format},
		{"Arabic-Indic digits", "٣", "٣", format},
		{"above the maximum", "1000001", "1000001", rng},
		{"huge", strings.Repeat("9", 40), strings.Repeat("9", 40), rng},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, stockBefore := a.dbState(t), a.stockState(t)
			p := admin.setStock(mug, tc.typed)
			if p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("stock %q = %d, want 422; body %s", tc.typed, p.StatusCode, p.body)
			}
			if got := strings.TrimSpace(p.doc.Find("#stock-error").Text()); got != tc.wantMessage {
				t.Errorf("message = %q, want %q", got, tc.wantMessage)
			}
			if got := strings.TrimSpace(p.doc.Find(`#error-summary a[href="#stock-input"]`).Text()); got != tc.wantMessage {
				t.Errorf("the summary says %q, want %q", got, tc.wantMessage)
			}
			if inv, _ := p.doc.Find("#stock-input").Attr("aria-invalid"); inv != "true" {
				t.Error("the field is not marked invalid")
			}
			if got := fieldValue(p, "stock-input"); got != tc.wantKept {
				t.Errorf("kept as %q, want %q", got, tc.wantKept)
			}
			if got := stockShown(p); got != "5/0/5" {
				t.Errorf("the page shows the stock as %s, want 5/0/5", got)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused count wrote (-before +after):\n%s", diff)
			}
			if after := a.stockState(t); after != stockBefore {
				t.Errorf("the refused count changed the stock: %s → %s", stockBefore, after)
			}
		})
	}
	// The largest count is accepted, and so is zero.
	for _, ok := range []string{"1000000", "0"} {
		if r := admin.setStock(mug, ok); r.StatusCode != http.StatusSeeOther || a.stockRow(t, mug) != ok+"/0" {
			t.Errorf("stock %s = %d, stock now %s", ok, r.StatusCode, a.stockRow(t, mug))
		}
	}
}

// oversoldOrder makes an order paid after its hold was released and its one
// mug sold to someone else, the way it happens: the merchant sets 1 mug on
// hand, Ada checks out, her hold lapses (the sweeper, a day later), Bob checks
// out and holds the mug, then Ada pays and the merchant syncs her order. It
// returns the admin, Ada's and Bob's order ids, and Bob's payment link.
func oversoldOrder(t *testing.T) (a *app, admin *shopper, ada, bob, bobLink string) {
	t.Helper()
	a, _ = newProductApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	mug := a.productIDs(t)["enamel-mug"]
	admin = a.newAdmin(t)
	if r := admin.setStock(mug, "1"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set stock = %d", r.StatusCode)
	}
	adaOrder := a.checkoutOne(t)
	sweeper := orders.NewPayments(a.pool, nil, orders.PaymentsConfig{Clock: clockwork.NewFakeClockAt(productEpoch.Add(24 * time.Hour))}, nil)
	if n, err := sweeper.ReleaseExpiredHolds(context.Background(), 10); err != nil || n != 1 {
		t.Fatalf("the sweeper released %d orders (%v), want Ada's", n, err)
	}
	bobOrder := a.checkoutOne(t)
	if resp := payOnHostedPage(t, adaOrder.link, "4242 4242 4242 4242"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hosted page = %d", resp.StatusCode)
	}
	ada, bob = a.orderIDByRef(t, adaOrder.ref), a.orderIDByRef(t, bobOrder.ref)
	if r := admin.post("/admin/orders/"+ada+"/sync", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync = %d", r.StatusCode)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE id = $1::bigint AND status = 'paid' AND oversold`, ada); n != 1 {
		t.Fatal("Ada's order is not paid and oversold after the sync")
	}
	if got := a.stockRow(t, mug); got != "0/1" {
		t.Fatalf("stock after Ada paid = %s, want 0/1 (Bob holds the mug)", got)
	}
	return a, admin, ada, bob, bobOrder.link
}

// TestAdminShowsOversold: an order paid after its units were sold to someone
// else says so everywhere the merchant looks — its page (a banner naming what is
// short and what to do, and a timeline of the stock's movements in words), its
// row in the list, the list's oversold filter, the CSV, and the overview's
// attention queue — and no other order does.
func TestAdminShowsOversold(t *testing.T) {
	a, admin, ada, bob, bobLink := oversoldOrder(t)

	p := admin.get("/admin/orders/" + ada)
	banner := strings.Join(strings.Fields(p.doc.Find("#oversold").Text()), " ")
	for _, want := range []string{"Oversold", "1 × Enamel camp mug short", "Refund the customer for what is short, or back-order it"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the order page's banner %q does not say %q", banner, want)
		}
	}
	var titles []string
	p.doc.Find(`#timeline li[data-kind="event"] strong`).Each(func(_ int, s *goquery.Selection) { titles = append(titles, s.Text()) })
	wantTitles := []string{
		"Stock held for this order until its payment ends",
		"Stock released: the held units are back on sale",
		"Stock taken: the paid units left stock",
		"Oversold: paid after its units were sold to someone else",
	}
	for _, w := range wantTitles {
		if !slices.Contains(titles, w) {
			t.Errorf("the timeline %q lacks %q", titles, w)
		}
	}
	if p := admin.get("/admin/orders/" + bob); p.doc.Find("#oversold").Length() != 0 || strings.Contains(p.doc.Find("h1").Text(), "Oversold") {
		t.Error("Bob's order, which held its mug, shows as oversold")
	}

	// The list: a badge and what is short on Ada's row only; the filter lists hers only.
	list := admin.get("/admin/orders")
	number := func(id string) string {
		var n string
		if err := a.pool.QueryRow(context.Background(), `SELECT number FROM orders WHERE id = $1::bigint`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	adaRow := list.doc.Find(`#orders tr[data-number="` + number(ada) + `"] .status`)
	if got := strings.TrimSpace(adaRow.Find(".badge.oversold").Text()); got != "Oversold" {
		t.Errorf("Ada's row's badge says %q, want Oversold", got)
	}
	if got := strings.TrimSpace(adaRow.Find(".short").Text()); got != "1 × Enamel camp mug short" {
		t.Errorf("Ada's row says %q is short", got)
	}
	if got := list.doc.Find(`#orders tr[data-number="` + number(bob) + `"] .status`).Text(); strings.Contains(got, "Oversold") {
		t.Errorf("Bob's row says %q", got)
	}
	if v, _ := list.doc.Find(`#flag option[value="oversold"]`).Attr("value"); v != "oversold" {
		t.Error("the flag filter offers no oversold")
	}
	numbers, _, _ := admin.listAll("/admin/orders?flag=oversold")
	if diff := cmp.Diff([]string{number(ada)}, numbers); diff != "" {
		t.Errorf("the oversold filter lists (-want +got):\n%s", diff)
	}

	// The CSV: an oversold column and what is short.
	csvPage := admin.get("/admin/orders.csv")
	records, err := csv.NewReader(strings.NewReader(csvPage.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	got := map[string][2]string{}
	for _, r := range records[1:] {
		got[r[0]] = [2]string{r[col["oversold"]], r[col["short"]]}
	}
	wantCSV := map[string][2]string{number(ada): {"true", "1 × Enamel camp mug"}, number(bob): {"false", ""}}
	if diff := cmp.Diff(wantCSV, got); diff != "" {
		t.Errorf("CSV oversold and short (-want +got):\n%s", diff)
	}
	if records, _ := csv.NewReader(strings.NewReader(admin.get("/admin/orders.csv?flag=oversold").body)).ReadAll(); len(records) != 2 || records[1][0] != number(ada) {
		t.Errorf("the oversold CSV has %d records, want the header and Ada's", len(records))
	}

	// The overview: counted in the attention queue, linking to the filter, and named.
	ov := admin.get("/admin")
	card := ov.doc.Find(`#attention a[data-status="oversold"]`)
	if got := strings.TrimSpace(card.Find(".value").Text()); got != "1" {
		t.Errorf("the overview counts %q oversold, want 1", got)
	}
	if href, _ := card.Attr("href"); href != "/admin/orders?flag=oversold" {
		t.Errorf("the oversold count links to %q", href)
	}
	if got := strings.Join(strings.Fields(ov.doc.Find("#oversold li").Text()), " "); got != number(ada)+": 1 × Enamel camp mug short" {
		t.Errorf("the overview names %q", got)
	}
	if href, _ := ov.doc.Find("#oversold li a").Attr("href"); href != "/admin/orders/"+ada {
		t.Errorf("the overview links the oversold order to %q", href)
	}
	a.checkHeldIsSumOfHolds(t)

	// The mug's page: Bob holds the one unit, none is on hand.
	mug := a.productIDs(t)["enamel-mug"]
	if got := strings.Join(strings.Fields(admin.productPage(mug).doc.Find("#stock-over-held").Text()), " "); !strings.Contains(got, "hold 1 units, more than the 0 on hand") {
		t.Errorf("the mug's page says %q with 1 held and 0 on hand", got)
	}
	// Bob pays too: he held his unit, so he is not short, and on hand goes to -1.
	if resp := payOnHostedPage(t, bobLink, "4242 4242 4242 4242"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Bob's hosted page = %d", resp.StatusCode)
	}
	admin.post("/admin/orders/"+bob+"/sync", nil)
	if got := a.stockRow(t, mug); got != "-1/0" {
		t.Fatalf("stock after both paid = %s, want -1/0", got)
	}
	p = admin.productPage(mug)
	note := p.doc.Find("#stock-taken-past")
	if got := strings.Join(strings.Fields(note.Text()), " "); !strings.Contains(got, "Paid orders took 1 more than were on hand") {
		t.Errorf("the mug's page says %q with -1 on hand", got)
	}
	if href, _ := note.Find("a").Attr("href"); href != "/admin/orders?flag=oversold" {
		t.Errorf("the note links to %q, want the oversold orders", href)
	}
	if p.doc.Find("#stock-over-held").Length() != 0 || fieldValue(p, "stock-input") != "0" {
		t.Errorf("with -1 on hand and none held the page warns of holds (%d) or loads %q into the form, want 0",
			p.doc.Find("#stock-over-held").Length(), fieldValue(p, "stock-input"))
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE oversold`); n != 1 {
		t.Errorf("%d orders oversold after Bob paid for the unit he held, want Ada's alone", n)
	}
}

// TestAdminOverviewLowStock: the overview lists the listed products whose
// tracked stock has at most 5 available — sold out first (on hand below what
// is held counts as none), then the fewest available — each linking to its
// page; plenty, untracked and inactive products are not listed.
func TestAdminOverviewLowStock(t *testing.T) {
	a, _ := newProductApp(t)
	ids := a.productIDs(t)
	// held without holds: the overview reads only the counts.
	a.exec(t, `INSERT INTO stock (product_id, on_hand, held) VALUES
		($1::bigint, 9, 4), ($2::bigint, 3, 0), ($3::bigint, 6, 0), ($4::bigint, 2, 2), ($5::bigint, 1, 0)`,
		ids["enamel-mug"], ids["gooseneck-kettle"], ids["brass-scoop"], ids["house-blend-beans"], ids["linen-towel"])
	a.exec(t, `UPDATE stock SET on_hand = 1 WHERE product_id = $1::bigint`, ids["house-blend-beans"]) // a recount below what is held
	a.exec(t, `UPDATE products SET active = false WHERE id = $1::bigint`, ids["linen-towel"])
	p := a.newAdmin(t).get("/admin")
	var rows []string
	p.doc.Find("#low-stock tbody tr").Each(func(_ int, tr *goquery.Selection) {
		href, _ := tr.Find("a").Attr("href")
		var cells []string
		tr.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
		rows = append(rows, strings.Join(cells, " | ")+" → "+href)
	})
	want := []string{
		"House blend beans, 250 g | Sold out | 2 | 1 → /admin/products/" + ids["house-blend-beans"],
		"Gooseneck kettle | 3 | 0 | 3 → /admin/products/" + ids["gooseneck-kettle"],
		"Enamel camp mug | 5 | 4 | 9 → /admin/products/" + ids["enamel-mug"],
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("low stock (-want +got):\n%s", diff)
	}
	a.exec(t, `DELETE FROM stock`)
	if p := a.newAdmin(t).get("/admin"); p.doc.Find("#low-stock").Length() != 0 || p.doc.Find("#low-stock-none").Length() != 1 {
		t.Error("with nothing tracked the overview still lists low stock")
	}
}

// TestStockEditsThroughAdminInterleavedWithCheckouts is the interleaving over
// HTTP: 30 shoppers check out one mug each at once through the shop (the
// sandbox creating their payments), trying again while sold out (409); each
// that reaches the hosted page pays (two in three) or cancels there, and the
// merchant syncs the order; meanwhile the merchant recounts the mug through the
// stock form 8 times. Afterwards no order is oversold, on hand never went below
// zero (a trigger watches every write), nothing is held, and on hand is exactly
// what the recounts set less what the paid orders took.
func TestStockEditsThroughAdminInterleavedWithCheckouts(t *testing.T) {
	a, _ := newProductApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	ctx := context.Background()
	mug := a.productIDs(t)["enamel-mug"]
	admin := a.newAdmin(t)
	a.exec(t, `
		CREATE TABLE stock_below_zero (product_id bigint, on_hand integer);
		CREATE FUNCTION stock_below_zero() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.on_hand < 0 THEN INSERT INTO stock_below_zero VALUES (NEW.product_id, NEW.on_hand); END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER stock_below_zero AFTER INSERT OR UPDATE ON stock FOR EACH ROW EXECUTE FUNCTION stock_below_zero();`)
	if r := admin.setStock(mug, "5"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set stock = %d", r.StatusCode)
	}

	const shoppers, edits = 30, 8
	var (
		wg                             sync.WaitGroup
		mu                             sync.Mutex
		paid, cancelled, soldOut, busy int
		start                          = make(chan struct{})
		progress                       = make(chan struct{}, shoppers)
		editsDone                      atomic.Bool
		hosted                         = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	)
	for i := range shoppers {
		s := a.newShopper(t)
		s.addToCart(mug, "1")
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var link string
			for link == "" {
				last := editsDone.Load()
				r := s.checkout("Ada Lovelace", "ada@example.com")
				select {
				case progress <- struct{}{}:
				default:
				}
				switch r.StatusCode {
				case http.StatusSeeOther:
					link = r.Header.Get("Location")
				case http.StatusServiceUnavailable:
					// The units changed hands faster than the checkout could read
					// them (orders.ErrBusy): the page asks to try again.
					mu.Lock()
					busy++
					mu.Unlock()
				case http.StatusConflict:
					if last {
						mu.Lock()
						soldOut++
						mu.Unlock()
						return
					}
					mu.Lock()
					busy++
					mu.Unlock()
				default:
					t.Errorf("shopper %d: checkout = %d", i, r.StatusCode)
					return
				}
			}
			action := "/pay"
			if i%3 == 0 {
				action = "/cancel"
			}
			resp, err := hosted.PostForm(strings.TrimSuffix(link, "/collection")+action, url.Values{"card_number": {"4242 4242 4242 4242"}})
			if err != nil {
				t.Errorf("shopper %d: hosted page: %v", i, err)
				return
			}
			resp.Body.Close()
			var id string
			if err := a.pool.QueryRow(ctx, `SELECT order_id::text FROM payment_attempts WHERE payment_link = $1`, link).Scan(&id); err != nil {
				t.Errorf("shopper %d: %v", i, err)
				return
			}
			if r := admin.post("/admin/orders/"+id+"/sync", nil); r.StatusCode != http.StatusSeeOther {
				t.Errorf("shopper %d: sync = %d", i, r.StatusCode)
				return
			}
			mu.Lock()
			if action == "/pay" {
				paid++
			} else {
				cancelled++
			}
			mu.Unlock()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer editsDone.Store(true)
		<-start
		for i := range edits {
			for range 3 {
				<-progress
			}
			var onHand int
			if err := a.pool.QueryRow(ctx, `SELECT on_hand FROM stock WHERE product_id = $1::bigint`, mug).Scan(&onHand); err != nil {
				t.Error(err)
				return
			}
			if r := admin.setStock(mug, strconv.Itoa(onHand+i%3)); r.StatusCode != http.StatusSeeOther {
				t.Errorf("edit %d = %d", i, r.StatusCode)
				return
			}
		}
	}()
	close(start)
	wg.Wait()
	t.Logf("%d paid, %d cancelled, %d sold out, %d sold-out answers retried", paid, cancelled, soldOut, busy)
	if busy == 0 || paid+cancelled <= 5 {
		t.Fatalf("%d paid, %d cancelled, %d sold-out answers: the checkouts did not contend for the stock, or bought none of what the recounts added",
			paid, cancelled, busy)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid'`); n != paid {
		t.Errorf("%d orders paid, want the %d whose shoppers paid", n, paid)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE oversold`); n != 0 {
		t.Errorf("%d orders oversold", n)
	}
	if n := a.count(t, `SELECT count(*) FROM stock_below_zero`); n != 0 {
		t.Errorf("on hand went below zero %d times", n)
	}
	a.checkHeldIsSumOfHolds(t)
	if got := a.stockRow(t, mug); !strings.HasSuffix(got, "/0") {
		t.Errorf("stock %s: something is still held after every payment ended", got)
	}
	unitsPaid := a.count(t, `SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id
		WHERE o.status = 'paid' AND oi.product_id = $1::bigint`, mug)
	edited := a.count(t, `SELECT coalesce(sum(to_value::int - CASE WHEN from_value = 'untracked' THEN 0 ELSE from_value::int END), 0)
		FROM product_changes WHERE product_id = $1::bigint AND field = 'stock'`, mug)
	onHand := a.count(t, `SELECT on_hand FROM stock WHERE product_id = $1::bigint`, mug)
	if onHand != edited-unitsPaid || unitsPaid > edited {
		t.Errorf("on hand %d, %d units paid, %d set by the recounts: want on hand = set - paid, and paid <= set", onHand, unitsPaid, edited)
	}
}
