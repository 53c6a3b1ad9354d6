package handlers_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// TestOrderAmountAgreesEverywhere: an order paid in each currency shows one
// amount, in its currency, written the same way on the shopper's order page and
// in the admin's list, detail, overview and totals — never added to another
// currency's — and the CSV has it in decimal major units beside its currency.
func TestOrderAmountAgreesEverywhere(t *testing.T) {
	now := time.Date(2026, time.June, 17, 15, 0, 0, 0, time.UTC) // a Wednesday
	a := newAppWith(t, testdb.New(t).Pool, appOptions{clock: clockwork.NewFakeClockAt(now)})
	ids := a.productIDs(t)
	tests := []struct{ currency, shown, decimal string }{ // a dripper and a mug
		{"USD", "US$53.99", "53.99"},
		{"EUR", "€51.00", "51.00"},
		{"GBP", "£44.00", "44.00"},
		{"CAD", "CA$73.00", "73.00"},
	}
	numbers := map[string]string{} // currency → order number
	for _, tc := range tests {
		s := a.newShopper(t)
		s.get("/?currency=" + tc.currency)
		s.addToCart(ids["pour-over-dripper"], "1")
		s.addToCart(ids["enamel-mug"], "1")
		r := s.checkout("Ann Lee", "ann@example.com")
		ref, _, _ := a.lastOrder(t)
		payOnHostedPage(t, r.Header.Get("Location"), "4242 4242 4242 4242")
		p := s.get("/orders/" + ref + "/success")
		if statusOf(p) != "paid" {
			t.Fatalf("the %s order is %q after paying, want paid", tc.currency, statusOf(p))
		}
		if got := p.doc.Find("#order-total").Text(); got != tc.shown {
			t.Errorf("the shopper's %s order page shows %q, want %q", tc.currency, got, tc.shown)
		}
		var number string
		a.exec(t, `UPDATE orders SET paid_at = $2 WHERE public_ref = $1`, ref, now.Add(-time.Hour))
		if err := a.pool.QueryRow(t.Context(), `SELECT number FROM orders WHERE public_ref = $1`, ref).Scan(&number); err != nil {
			t.Fatal(err)
		}
		numbers[tc.currency] = number
	}

	admin := a.newAdmin(t)
	list := admin.get("/admin/orders")
	for _, tc := range tests {
		row := list.doc.Find(`tr[data-number="` + numbers[tc.currency] + `"]`)
		if got := row.Find(".total").Text(); got != tc.shown {
			t.Errorf("the admin's list shows the %s order at %q, want %q", tc.currency, got, tc.shown)
		}
		href, _ := row.Find(".number a").Attr("href")
		if got := admin.get(href).doc.Find("#order-total").Text(); got != tc.shown {
			t.Errorf("the admin's %s order page shows %q, want %q", tc.currency, got, tc.shown)
		}
	}

	var want []string
	for _, tc := range tests {
		want = append(want, tc.shown+" "+tc.currency+" · 1 order")
	}
	overview := admin.get("/admin")
	for _, id := range []string{"revenue-today", "revenue-week"} {
		var got []string
		overview.doc.Find("#" + id + " ul.totals li").Each(func(_ int, li *goquery.Selection) {
			got = append(got, strings.Join(strings.Fields(li.Text()), " "))
		})
		if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
			t.Errorf("the overview's %s, one figure per currency (-want +got):\n%s", id, diff)
		}
	}

	totals := map[string]string{}
	admin.get("/admin/orders/totals?status=paid").doc.Find(".total").Each(func(_ int, s *goquery.Selection) {
		totals[s.AttrOr("data-currency", "")] = s.Text()
	})
	wantTotals := map[string]string{}
	for _, tc := range tests {
		wantTotals[tc.currency] = tc.shown + " (1 order)"
	}
	if diff := cmp.Diff(wantTotals, totals); diff != "" {
		t.Errorf("the list's totals per currency (-want +got):\n%s", diff)
	}

	export := admin.get("/admin/orders.csv")
	if export.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/orders.csv = %d", export.StatusCode)
	}
	records, err := csv.NewReader(strings.NewReader(export.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	gotCSV := map[string]string{}
	for _, r := range records[1:] {
		gotCSV[r[col["order_number"]]] = r[col["currency"]] + " " + r[col["total"]]
	}
	wantCSV := map[string]string{}
	for _, tc := range tests {
		wantCSV[numbers[tc.currency]] = tc.currency + " " + tc.decimal
	}
	if diff := cmp.Diff(wantCSV, gotCSV); diff != "" {
		t.Errorf("the CSV's currency and total per order (-want +got):\n%s", diff)
	}
}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
