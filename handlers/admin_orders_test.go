package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/internal/seed"
	"github.com/orchestrate-checkout/checkout/orders"
)

// listedOrder is an order as the test's own oracle sees it, read straight from
// the tables.
type listedOrder struct {
	id                                    int64
	number, name, email, status, currency string
	total                                 int64
	refund                                bool
	created                               time.Time
	paid                                  *time.Time
	payments                              []string
	stuck                                 bool
}

// allOrders reads every order, newest first, with its payment ids and whether
// an attempt is stuck.
func (a *app) allOrders(t *testing.T) []listedOrder {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `
		SELECT o.id, o.number, o.customer_name, o.customer_email, o.status, o.currency, o.total_minor,
		       o.refund_needed, o.created_at, o.paid_at,
		       coalesce(array_agg(a.orchestrate_payment_id) FILTER (WHERE a.orchestrate_payment_id IS NOT NULL), '{}'),
		       coalesce(bool_or(a.status = 'unknown' OR (a.status = 'open' AND a.expires_at < now())), false)
		FROM orders o LEFT JOIN payment_attempts a ON a.order_id = o.id
		GROUP BY o.id ORDER BY o.created_at DESC, o.id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []listedOrder
	for rows.Next() {
		var o listedOrder
		if err := rows.Scan(&o.id, &o.number, &o.name, &o.email, &o.status, &o.currency, &o.total, &o.refund,
			&o.created, &o.paid, &o.payments, &o.stuck); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// matches is the list's documented filter semantics, written independently.
func (o listedOrder) matches(t *testing.T, q url.Values) bool {
	t.Helper()
	date := func(name string) time.Time {
		d, err := time.Parse(time.DateOnly, q.Get(name))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	switch {
	case q.Get("status") != "" && o.status != q.Get("status"),
		q.Get("currency") != "" && o.currency != q.Get("currency"),
		q.Get("from") != "" && o.created.Before(date("from")),
		q.Get("to") != "" && !o.created.Before(date("to").AddDate(0, 0, 1)),
		q.Get("paid_since") != "" && (o.paid == nil || o.paid.Before(date("paid_since"))),
		q.Get("flag") == "refund_needed" && !o.refund,
		q.Get("flag") == "stuck" && !o.stuck:
		return false
	}
	term := strings.TrimSpace(q.Get("q"))
	if term == "" {
		return true
	}
	// A whole address (one @, something before it, a dot in the domain, no
	// spaces) finds that customer's orders and no other: not the addresses that
	// contain it.
	if local, domain, ok := strings.Cut(term, "@"); ok && local != "" && !strings.ContainsAny(term, " <>") &&
		!strings.Contains(domain, "@") && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".") {
		return strings.EqualFold(o.email, term)
	}
	if strings.EqualFold(o.number, term) || o.number == "FK-"+term || slices.Contains(o.payments, term) {
		return true
	}
	if len([]rune(term)) < 3 {
		return false
	}
	lower := strings.ToLower(term)
	return strings.Contains(strings.ToLower(o.email), lower) || strings.Contains(strings.ToLower(o.name), lower)
}

// insertOrder adds one hand-made order with an open attempt on payment paymentID.
func (a *app) insertOrder(t *testing.T, name, email, status, currency string, created time.Time, paymentID string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	var id int64
	var number string
	err := a.pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email, created_at)
		VALUES (md5(random()::text), $1, $2, 4321, $3, $4, $5) RETURNING id, number`,
		status, currency, name, email, created).Scan(&id, &number)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(ctx, `INSERT INTO order_items (order_id, product_id, name, unit_price_minor, quantity)
		SELECT $1, id, name, 4321, 1 FROM products ORDER BY id LIMIT 1`, id); err != nil {
		t.Fatal(err)
	}
	if paymentID != "" {
		if _, err := a.pool.Exec(ctx, `INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency, orchestrate_payment_id, expires_at)
			VALUES (gen_random_uuid(), $1, 'failed', 4321, $2, $3, now())`, id, currency, paymentID); err != nil {
			t.Fatal(err)
		}
	}
	return id, number
}

// listAll follows the list's "older" links from path to the last page and
// returns every order number in the order shown, the totals shown on the first
// page, and the URLs of the pages visited.
func (s *shopper) listAll(path string) (numbers []string, totals map[string]string, pages []string) {
	s.t.Helper()
	seen := map[string]bool{}
	for path != "" {
		if seen[path] {
			s.t.Fatalf("the list links back to %s", path)
		}
		seen[path] = true
		pages = append(pages, path)
		p := s.get(path)
		if p.StatusCode != http.StatusOK {
			s.t.Fatalf("GET %s = %d: %s", path, p.StatusCode, p.body)
		}
		if totals == nil {
			totals = s.totals(p)
		}
		p.doc.Find("#orders tbody tr").Each(func(_ int, sel *goquery.Selection) {
			n, _ := sel.Attr("data-number")
			numbers = append(numbers, n)
		})
		path, _ = p.doc.Find("#next-page").Attr("href")
	}
	return numbers, totals, pages
}

// totals fetches the totals the list page loads after itself, as htmx does.
func (s *shopper) totals(list *page) map[string]string {
	s.t.Helper()
	href, ok := list.doc.Find("#totals").Attr("data-hx-get")
	if link, _ := list.doc.Find("#totals-link").Attr("href"); !ok || link != href {
		s.t.Fatalf("the list loads totals from %q but links to %q", href, link)
	}
	req, err := http.NewRequest(http.MethodGet, s.url(href), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	p := s.do(req)
	if p.StatusCode != http.StatusOK || p.doc.Find("main").Length() != 0 {
		s.t.Fatalf("GET %s as htmx = %d, want 200 and a fragment: %s", href, p.StatusCode, p.body)
	}
	totals := map[string]string{}
	p.doc.Find("#totals .total").Each(func(_ int, sel *goquery.Selection) {
		cur, _ := sel.Attr("data-currency")
		totals[cur] = strings.TrimSpace(sel.Text())
	})
	// Without JavaScript the link shows the same totals on a page of their own.
	full := s.get(href)
	if full.doc.Find("main #totals").Length() != 1 || full.doc.Find("main #totals").Text() != p.doc.Find("#totals").Text() {
		s.t.Errorf("the totals page differs from the fragment")
	}
	return totals
}

func TestAdminOrdersFiltersAndSearch(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := seed.Orders(ctx, a.pool, seed.Options{Orders: 400, Now: now, Span: 40 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, special := a.insertOrder(t, "Half 50% off_sale", "deals@shop.example", "failed", "GBP", now.Add(-36*time.Hour), "pay_special_123")
	a.insertOrder(t, "Zoë Ångström", "ZOE@Example.ORG", "awaiting_payment", "EUR", now.Add(-50*time.Hour), "")
	// Ann, and customers whose addresses contain hers.
	a.insertOrder(t, "Ann Lee", "ann@example.com", "paid", "USD", now.Add(-30*time.Hour), "")
	a.insertOrder(t, "Ann Lee", "Ann@Example.com", "failed", "USD", now.Add(-20*24*time.Hour), "")
	a.insertOrder(t, "Ann Lee", "ann@example.com", "paid", "EUR", now.Add(-35*24*time.Hour), "")
	a.insertOrder(t, "Jo Ann", "joann@example.com", "paid", "USD", now.Add(-31*time.Hour), "")
	a.insertOrder(t, "Ann Elsewhere", "ann@example.community", "paid", "USD", now.Add(-32*time.Hour), "")
	all := a.allOrders(t)
	admin := a.newAdmin(t)

	day := func(d int) string { return now.AddDate(0, 0, d).Format(time.DateOnly) }
	tests := []struct {
		name  string
		query url.Values
		least int // the oracle must select at least this many, so no case is vacuous
	}{
		{"everything", url.Values{}, 407},
		{"status", url.Values{"status": {"paid"}}, 200},
		{"status and currency", url.Values{"status": {"failed"}, "currency": {"GBP"}}, 5},
		{"currency", url.Values{"currency": {"CAD"}}, 90},
		{"date range", url.Values{"from": {day(-20)}, "to": {day(-10)}}, 80},
		{"paid since", url.Values{"status": {"paid"}, "paid_since": {day(-3)}}, 5},
		{"refund needed", url.Values{"flag": {"refund_needed"}}, 2},
		{"stuck", url.Values{"flag": {"stuck"}}, 5},
		{"order number", url.Values{"q": {special}}, 1},
		{"order number lower case", url.Values{"q": {strings.ToLower(special)}}, 1},
		{"order number digits", url.Values{"q": {strings.TrimPrefix(special, "FK-")}}, 1},
		{"payment id", url.Values{"q": {"pay_special_123"}}, 1},
		{"email substring", url.Values{"q": {"customer12"}}, 10},
		{"name any case", url.Values{"q": {"CUSTOMER 7"}}, 10},
		{"unicode name", url.Values{"q": {"zoë"}}, 1},
		{"email any case", url.Values{"q": {"zoe@example.org"}}, 1},
		{"whole email is that customer only", url.Values{"q": {"ann@example.com"}}, 3},
		{"whole email any case", url.Values{"q": {"ANN@EXAMPLE.COM"}}, 3},
		{"whole email and status", url.Values{"q": {"ann@example.com"}, "status": {"paid"}}, 2},
		{"whole email of nobody", url.Values{"q": {"nobody@example.com"}}, 0},
		{"part of an email is a substring", url.Values{"q": {"ann@example"}}, 5},
		{"a domain is a substring", url.Values{"q": {"@example.com"}}, 300},
		{"like wildcards are literal", url.Values{"q": {"50% off_"}}, 1},
		{"broad search", url.Values{"q": {"example.com"}}, 300},
		{"broad search and status", url.Values{"q": {"EXAMPLE.COM"}, "status": {"paid"}}, 200},
		{"search and filters", url.Values{"q": {"example.com"}, "status": {"expired"}, "currency": {"USD"}}, 5},
		{"no match", url.Values{"q": {"nobody-by-that-name"}}, 0},
		{"two characters match no substring", url.Values{"q": {"Cu"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			wantTotals := map[string]struct{ n, minor int64 }{}
			for _, o := range all {
				if o.matches(t, tt.query) {
					want = append(want, o.number)
					tot := wantTotals[o.currency]
					tot.n++
					tot.minor += o.total
					wantTotals[o.currency] = tot
				}
			}
			if len(want) < tt.least {
				t.Fatalf("the oracle selects %d orders, want at least %d: the case tests nothing", len(want), tt.least)
			}
			path := "/admin/orders"
			if len(tt.query) > 0 {
				path += "?" + tt.query.Encode()
			}
			got, totals, _ := admin.listAll(path)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("orders listed (-want +got):\n%s", diff)
			}
			for cur, tot := range wantTotals {
				wantText := orders.Money{Minor: tot.minor, Currency: cur}.String() + " (" + nOrders(tot.n) + ")"
				if totals[cur] != wantText {
					t.Errorf("total %s = %q, want %q", cur, totals[cur], wantText)
				}
			}
			if len(totals) != len(wantTotals) {
				t.Errorf("totals for %d currencies, want %d: %v", len(totals), len(wantTotals), totals)
			}
		})
	}

	// Filters stay in the URL: the form shows them and the CSV link carries them.
	p := admin.get("/admin/orders?status=paid&currency=EUR&q=customer")
	if v, _ := p.doc.Find("#status option[selected]").Attr("value"); v != "paid" {
		t.Errorf("status select shows %q, want paid", v)
	}
	if v, _ := p.doc.Find("#q").Attr("value"); v != "customer" {
		t.Errorf("search box shows %q, want customer", v)
	}
	if href, _ := p.doc.Find("#csv-link").Attr("href"); href != "/admin/orders.csv?currency=EUR&q=customer&status=paid" {
		t.Errorf("CSV link = %q", href)
	}
	if next, _ := p.doc.Find("#next-page").Attr("href"); !strings.Contains(next, "status=paid") || !strings.Contains(next, "after=") {
		t.Errorf("next link %q does not keep the filter and a cursor", next)
	}
	// Badges for the flags.
	p = admin.get("/admin/orders?flag=refund_needed")
	if p.doc.Find("#orders .badge.refund_needed").Length() == 0 {
		t.Error("refund-needed orders carry no badge")
	}
	p = admin.get("/admin/orders?status=needs_review")
	if p.doc.Find("#orders .badge.needs_review").Length() == 0 {
		t.Error("needs-review orders carry no badge")
	}
	for _, bad := range []string{"?status=shipped", "?currency=XXX", "?from=yesterday", "?after=garbage", "?flag=lost"} {
		if p := admin.get("/admin/orders" + bad); p.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /admin/orders%s = %d, want 400", bad, p.StatusCode)
		}
	}
}

// TestAdminOrdersWholeEmailSearch: a whole email address lists exactly that
// customer's orders, in any case, page by page in both directions, alone or with
// a status, with the same totals and CSV export; addresses that merely contain it
// are left out, and part of an address is still a substring search.
func TestAdminOrdersWholeEmailSearch(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := seed.Orders(ctx, a.pool, seed.Options{Orders: 300, Now: now, Span: 40 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	// Pat has 120 orders among everyone else's, newest first, every other one
	// paid; two customers have addresses that contain Pat's.
	var pat, patPaid []string
	for i := range 120 {
		status := "failed"
		if i%2 == 0 {
			status = "paid"
		}
		_, number := a.insertOrder(t, "Pat Doe", "Pat@Example.com", status, "USD", now.Add(-time.Duration(i+1)*7*time.Hour), "")
		pat = append(pat, number)
		if status == "paid" {
			patPaid = append(patPaid, number)
		}
	}
	_, spat := a.insertOrder(t, "Spat Doe", "spat@example.com", "paid", "USD", now.Add(-10*time.Hour), "")
	_, patAU := a.insertOrder(t, "Pat Down Under", "pat@example.com.au", "paid", "USD", now.Add(-11*time.Hour), "")
	admin := a.newAdmin(t)

	tests := []struct {
		name  string
		query url.Values
		want  []string
		pages int
	}{
		{"exact address", url.Values{"q": {"Pat@Example.com"}}, pat, 3},
		{"any case", url.Values{"q": {"pat@EXAMPLE.COM"}}, pat, 3},
		{"with a status", url.Values{"q": {"pat@example.com"}, "status": {"paid"}}, patPaid, 2},
		{"an address only others' contain", url.Values{"q": {"at@example.com"}}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/admin/orders?" + tt.query.Encode()
			got, totals, pages := admin.listAll(path)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("orders listed (-want +got):\n%s", diff)
			}
			if len(pages) != tt.pages {
				t.Errorf("%d pages, want %d: %v", len(pages), tt.pages, pages)
			}
			for _, p := range pages[1:] {
				if u, _ := url.Parse(p); u.Query().Get("after") == "" || u.Query().Get("q") != tt.query.Get("q") {
					t.Errorf("page %s does not keep the term and a cursor", p)
				}
			}
			wantTotal := ""
			if len(tt.want) > 0 {
				wantTotal = orders.Money{Minor: 4321 * int64(len(tt.want)), Currency: "USD"}.String() + " (" + nOrders(int64(len(tt.want))) + ")"
			}
			if totals["USD"] != wantTotal || len(totals) > 1 {
				t.Errorf("totals = %v, want USD %q only", totals, wantTotal)
			}
			csvPage := admin.get("/admin/orders.csv?" + tt.query.Encode())
			records, err := csv.NewReader(strings.NewReader(csvPage.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var exported []string
			for _, r := range records[1:] {
				exported = append(exported, r[0])
			}
			if diff := cmp.Diff(tt.want, exported); diff != "" {
				t.Errorf("CSV rows (-want +got):\n%s", diff)
			}
			// Back from the last page by the "newer" links: the same pages reversed.
			var back []string
			prev, _ := admin.get(pages[len(pages)-1]).doc.Find("#prev-page").Attr("href")
			for prev != "" {
				p := admin.get(prev)
				var page []string
				p.doc.Find("#orders tbody tr").Each(func(_ int, sel *goquery.Selection) {
					n, _ := sel.Attr("data-number")
					page = append(page, n)
				})
				back = append(page, back...)
				prev, _ = p.doc.Find("#prev-page").Attr("href")
			}
			if len(pages) > 1 {
				if diff := cmp.Diff(tt.want[:len(back)], back); diff != "" || len(back) != 50*(len(pages)-1) {
					t.Errorf("walking back shows %d orders (-want +got):\n%s", len(back), diff)
				}
			}
		})
	}

	// Part of an address is a substring search: it finds the others too.
	got, _, _ := admin.listAll("/admin/orders?q=" + url.QueryEscape("pat@example"))
	for _, n := range []string{spat, patAU, pat[0], pat[119]} {
		if !slices.Contains(got, n) {
			t.Errorf("searching pat@example does not list %s", n)
		}
	}
	if len(got) != 122 {
		t.Errorf("searching pat@example lists %d orders, want 122", len(got))
	}

	// The search box says how a whole address is searched.
	p := admin.get("/admin/orders")
	hint := p.doc.Find("#q-hint").Text()
	if by, _ := p.doc.Find("#q").Attr("aria-describedby"); by != "q-hint" || !strings.Contains(hint, "whole email address") ||
		!strings.Contains(hint, "exactly that customer") {
		t.Errorf("search box described by %q: %q; want the whole-address rule", by, hint)
	}
}

// TestAdminOrdersKeysetPagination walks the list page by page while new orders
// keep arriving (between every two page fetches), and back again: every order
// that existed at the start is shown exactly once, in order, including orders
// created in the same microsecond (ties broken by id).
func TestAdminOrdersKeysetPagination(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := seed.Orders(ctx, a.pool, seed.Options{Orders: 430, Now: now, Span: 10 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	// 120 orders share one created_at, straddling several page boundaries.
	if _, err := a.pool.Exec(ctx, `UPDATE orders SET created_at = $1 WHERE id IN (SELECT id FROM orders ORDER BY id LIMIT 120 OFFSET 100)`,
		now.Add(-5*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, o := range a.allOrders(t) {
		want = append(want, o.number)
	}
	admin := a.newAdmin(t)

	var got []string
	var pages []string
	path := "/admin/orders"
	inserted := 0
	for path != "" {
		pages = append(pages, path)
		p := admin.get(path)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, p.StatusCode)
		}
		p.doc.Find("#orders tbody tr").Each(func(_ int, sel *goquery.Selection) {
			n, _ := sel.Attr("data-number")
			got = append(got, n)
		})
		path, _ = p.doc.Find("#next-page").Attr("href")
		// New orders arrive while the merchant reads: newer than everything, and
		// one in the very same microsecond as the boundary of the tie block.
		a.insertOrder(t, "Late Shopper", "late@example.com", "awaiting_payment", "USD", time.Now(), "")
		a.insertOrder(t, "Tied Shopper", "tied@example.com", "awaiting_payment", "USD", now.Add(-5*24*time.Hour), "")
		inserted += 2
	}
	if len(pages) < 9 {
		t.Fatalf("only %d pages; the test needs many", len(pages))
	}
	// Orders inserted behind the reader's position (the tied ones with a higher id
	// sort before older ids of the same instant) may not appear; none may repeat,
	// and every original order must appear exactly once and in order.
	counts := map[string]int{}
	for _, n := range got {
		counts[n]++
		if counts[n] > 1 {
			t.Errorf("order %s listed twice", n)
		}
	}
	var gotOriginal []string
	original := map[string]bool{}
	for _, n := range want {
		original[n] = true
	}
	for _, n := range got {
		if original[n] {
			gotOriginal = append(gotOriginal, n)
		}
	}
	if diff := cmp.Diff(want, gotOriginal); diff != "" {
		t.Errorf("original orders across pages (-want +got):\n%s", diff)
	}

	// Walking back with "newer" links from the last page shows the same pages.
	last := admin.get(pages[len(pages)-1])
	back, _ := last.doc.Find("#prev-page").Attr("href")
	if back == "" {
		t.Fatal("the last page has no link to newer orders")
	}
	var backwards [][]string
	for back != "" {
		p := admin.get(back)
		var page []string
		p.doc.Find("#orders tbody tr").Each(func(_ int, sel *goquery.Selection) {
			n, _ := sel.Attr("data-number")
			page = append(page, n)
		})
		backwards = append(backwards, page)
		back, _ = p.doc.Find("#prev-page").Attr("href")
		if len(backwards) > len(pages)+5 {
			t.Fatal("the newer links never end")
		}
	}
	firstPage := backwards[len(backwards)-1]
	if len(firstPage) == 0 || firstPage[0] == "" {
		t.Fatal("walking back ended on an empty page")
	}
	// The newest page reached walking back starts with the newest order now.
	newest := a.allOrders(t)[0].number
	if firstPage[0] != newest {
		t.Errorf("walking back ends at %s, want the newest order %s", firstPage[0], newest)
	}
	// Pages are anchored at the page walked back from, so only the newest may be short.
	for _, page := range backwards[:len(backwards)-1] {
		if len(page) != 50 {
			t.Errorf("a page walking back has %d orders, want 50", len(page))
		}
	}
}

func TestAdminOrdersCSV(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := seed.Orders(ctx, a.pool, seed.Options{Orders: 1300, Now: now, Span: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	a.insertOrder(t, `=HYPERLINK("https://evil.example","click")`, "+1@example.com", "paid", "USD", now.Add(-time.Hour), "pay_formula")
	a.insertOrder(t, "-2+3", "@mention@example.com", "paid", "USD", now.Add(-2*time.Hour), "")
	a.insertOrder(t, "\tTabbed, \"quoted\"\nnewline", "tab@example.com", "paid", "USD", now.Add(-3*time.Hour), "")
	admin := a.newAdmin(t)

	query := url.Values{"status": {"paid"}, "currency": {"USD"}}
	numbers, _, _ := admin.listAll("/admin/orders?" + query.Encode())
	if len(numbers) < 200 {
		t.Fatalf("only %d orders in the filtered list; want several pages", len(numbers))
	}
	p := admin.get("/admin/orders.csv?" + query.Encode())
	if p.StatusCode != http.StatusOK {
		t.Fatalf("CSV = %d: %s", p.StatusCode, p.body)
	}
	if ct := p.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := p.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="orders-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition = %q, want an attachment", cd)
	}
	records, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v", err)
	}
	header := []string{"order_number", "created_at", "status", "refund_needed", "currency", "total",
		"items", "customer_name", "customer_email", "paid_at", "orchestrate_payment_id", "oversold", "short",
		"fulfilment", "shipped_at",
		"shipping_method", "shipping", "ship_recipient", "ship_line1", "ship_line2", "ship_city", "ship_region",
		"ship_postal_code", "ship_country"}
	if diff := cmp.Diff(header, records[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	var gotNumbers []string
	byNumber := map[string][]string{}
	for _, r := range records[1:] {
		gotNumbers = append(gotNumbers, r[0])
		byNumber[r[0]] = r
	}
	if diff := cmp.Diff(numbers, gotNumbers); diff != "" {
		t.Errorf("CSV rows differ from the filtered list (-list +csv):\n%s", diff)
	}
	// Every value is as the database has it: UTC ISO 8601 times, decimal amounts.
	for _, o := range a.allOrders(t) {
		r, ok := byNumber[o.number]
		if !ok {
			continue
		}
		if r[1] != o.created.UTC().Format(time.RFC3339) || !strings.HasSuffix(r[1], "Z") {
			t.Errorf("%s created_at = %q, want %q", o.number, r[1], o.created.UTC().Format(time.RFC3339))
		}
		if want := (orders.Money{Minor: o.total, Currency: o.currency}).Decimal(); r[5] != want || r[4] != "USD" || r[2] != "paid" {
			t.Errorf("%s total/currency/status = %q %q %q, want %q USD paid", o.number, r[5], r[4], r[2], want)
		}
		if o.paid != nil && r[9] != o.paid.UTC().Format(time.RFC3339) {
			t.Errorf("%s paid_at = %q", o.number, r[9])
		}
		if r[3] != strconv.FormatBool(o.refund) {
			t.Errorf("%s refund_needed = %q, want %v", o.number, r[3], o.refund)
		}
	}
	// Formulas are neutralised; text round-trips.
	cells := map[string]bool{}
	for _, r := range records[1:] {
		cells[r[7]], cells[r[8]], cells[r[10]] = true, true, true
	}
	for _, want := range []string{
		`'=HYPERLINK("https://evil.example","click")`, "'+1@example.com", "'-2+3", "'@mention@example.com",
		"'\tTabbed, \"quoted\"\nnewline", "pay_formula",
	} {
		if !cells[want] {
			t.Errorf("no CSV cell %q", want)
		}
	}
	for _, r := range records[1:] {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts like a formula", cell)
			}
		}
	}

	// No match: just the header.
	p = admin.get("/admin/orders.csv?q=nobody-at-all")
	if records, err := csv.NewReader(strings.NewReader(p.body)).ReadAll(); err != nil || len(records) != 1 {
		t.Errorf("empty export = %d records (%v), want only the header", len(records), err)
	}
}

// nOrders is how the totals count n orders: "1 order", "2 orders".
func nOrders(n int64) string {
	if n == 1 {
		return "1 order"
	}
	return strconv.FormatInt(n, 10) + " orders"
}
