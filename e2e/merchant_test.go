package e2e

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// shopper is someone who pays for an order before the merchant looks.
type shopper struct {
	name, email string
	number      string // the order number the shop gave the paid order
}

// adminOrderRow is one row of the admin's orders table.
type adminOrderRow struct {
	Number string `json:"number"`
	Email  string `json:"email"`
	Status string `json:"status"`
	Total  string `json:"total"`
}

// adminOrders reads the orders table of /admin/orders.
func (b *browser) adminOrders() []adminOrderRow {
	b.t.Helper()
	b.mustHave("#orders")
	return eval[[]adminOrderRow](b, "read the orders table", `[...document.querySelectorAll("#orders tbody tr")].map(tr => ({
		number: tr.cells[0].textContent.trim(),
		email: tr.querySelector(".customer .muted").textContent.trim(),
		status: [...tr.querySelector("td.status .badge").classList].find(c => c !== "badge"),
		total: tr.querySelector("td.total").textContent.trim()}))`)
}

// timelineEntry is one entry of the admin's order timeline.
type timelineEntry struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
}

// payAsShopper makes one paid order as s in a fresh browser and returns the
// order's number as the shopper's order page shows it.
func payAsShopper(t *testing.T, a *app, s shopper) string {
	b := newBrowser(t, a)
	b.checkoutOne(s.name, s.email)
	if status := b.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d", status)
	}
	ref := orderRef(b.path())
	if ref == "" {
		t.Fatalf("after paying the page is %s, want /orders/<ref>/success", b.path())
	}
	b.waitStatus("paid")
	b.checkpoint("success-paid")
	b.open("/orders/" + ref)
	b.waitStatus("paid")
	b.checkpoint("order-page")
	number := eval[string](b, "read the order number", `(() => {
		const dt = [...document.querySelectorAll("dl.facts dt")].find(dt => dt.textContent.trim() === "Order");
		return dt ? dt.nextElementSibling.textContent.trim() : "";
	})()`)
	if number == "" {
		t.Fatal("the order page shows no order number")
	}
	return number
}

// TestMerchantJourney is the merchant's way through the admin after two shoppers
// paid: the admin is closed → sign in → the orders list shows both paid orders →
// a search by email finds exactly one → its detail page shows the timeline with
// the webhook and the paid transition → the CSV export of the search contains it
// → sign out → the admin is closed again.
func TestMerchantJourney(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	shoppers := []*shopper{
		{name: "Ada Lovelace", email: "ada@example.com"},
		{name: "Grace Hopper", email: "grace@example.com"},
	}
	for _, s := range shoppers {
		if !t.Run("shopper "+s.email, func(t *testing.T) { s.number = payAsShopper(t, a, *s) }) {
			t.FailNow()
		}
	}
	if shoppers[0].number == shoppers[1].number {
		t.Fatalf("both shoppers got order %s", shoppers[0].number)
	}
	t.Run("merchant", func(t *testing.T) { merchantJourney(t, a, shoppers, shoppers[1]) })
	t.Run("merchant on a phone", func(t *testing.T) { merchantOnPhone(t, a, shoppers) })
}

// merchantOnPhone signs in on a 390×844 phone and reads the overview and the
// orders list: every order's status and total are on the screen, not hidden off
// to the side of a table that scrolls (the page checks also fail on anything
// cut off or covered).
func merchantOnPhone(t *testing.T, a *app, shoppers []*shopper) {
	b := newBrowser(t, a, phoneViewport)
	b.open("/admin/login")
	b.checkpoint("sign-in")
	b.typeInto("#username", adminUser)
	b.typeInto("#password", adminPassword)
	if status := b.click(`form[action="/admin/login"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("signing in: the page answered %d", status)
	}
	if got := b.path(); got != "/admin" {
		t.Fatalf("after signing in the page is %s, want the overview /admin", got)
	}
	b.checkpoint("overview")
	if status := b.click(`.site-nav a[href="/admin/orders"]`); status != http.StatusOK {
		t.Fatalf("opening the orders list: status %d", status)
	}
	b.waitVisible("#totals .total", stepTimeout)
	b.checkpoint("orders")
	offScreen := eval[[]string](b, "look for values off the screen", `[...document.querySelectorAll("#orders tbody td")]
		.filter(td => { const r = td.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > window.innerWidth; })
		.map(td => td.closest("tr").dataset.number + " " + td.className)`)
	if len(offScreen) > 0 {
		t.Errorf("on a phone these cells of the orders list are not on the screen: %v", offScreen)
	}
	if rows := b.adminOrders(); len(rows) != len(shoppers) {
		t.Errorf("the orders list on a phone shows %d orders, want %d: %+v", len(rows), len(shoppers), rows)
	}
	if status := b.click(`#orders tbody tr a`); status != http.StatusOK {
		t.Fatalf("opening an order: status %d", status)
	}
	b.checkpoint("order-detail")
	if status := b.click(`.site-nav a[href="/admin/webhooks"]`); status != http.StatusOK {
		t.Fatalf("opening the webhook inbox: status %d", status)
	}
	b.checkpoint("webhooks")
}

func merchantJourney(t *testing.T, a *app, shoppers []*shopper, found *shopper) {
	b := newBrowser(t, a)

	// The admin is closed: its orders list sends the merchant to sign in, and
	// back to the list afterwards.
	if status := b.navigate("open /admin/orders", chromedp.Navigate(a.URL+"/admin/orders")); status != http.StatusOK {
		t.Fatalf("/admin/orders signed out: the sign-in page answered %d", status)
	}
	if got := b.path(); got != "/admin/login" {
		t.Fatalf("/admin/orders signed out led to %s, want /admin/login", got)
	}
	b.checkpoint("sign-in")
	b.typeInto("#username", adminUser)
	b.typeInto("#password", adminPassword)
	if status := b.click(`form[action="/admin/login"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("signing in: the page answered %d", status)
	}
	if got := b.path(); got != "/admin/orders" {
		t.Fatalf("after signing in the page is %s, want /admin/orders (where the merchant was going)", got)
	}

	// Both paid orders are in the list; the totals load after it (htmx).
	b.waitVisible("#totals .total", stepTimeout)
	b.checkpoint("orders")
	b.readmeScreenshot("admin")
	rows := b.adminOrders()
	for _, s := range shoppers {
		i := slices.IndexFunc(rows, func(r adminOrderRow) bool { return r.Number == s.number })
		if i < 0 {
			t.Errorf("the orders list does not show %s's order %s: %+v", s.email, s.number, rows)
			continue
		}
		if r := rows[i]; r.Email != s.email || r.Status != "paid" || minorUnits(r.Total) <= 0 {
			t.Errorf("the orders list shows %s as %+v, want %s, paid, with a total", s.number, r, s.email)
		}
	}

	// Search by one shopper's email: exactly that order.
	b.typeInto("#q", found.email)
	if status := b.click(`form.filters button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("searching: the page answered %d", status)
	}
	b.waitVisible("#totals .total", stepTimeout)
	b.checkpoint("orders-search")
	listURL := b.location()
	if u, err := url.Parse(listURL); err != nil || u.Query().Get("q") != found.email {
		t.Errorf("the search's page is %s, want q=%s in its address", listURL, found.email)
	}
	rows = b.adminOrders()
	if len(rows) != 1 || rows[0].Number != found.number || rows[0].Email != found.email {
		t.Fatalf("searching for %s lists %+v, want exactly order %s", found.email, rows, found.number)
	}

	// The detail page: the paid order with its timeline, which shows the
	// webhook delivery once it has arrived (the shopper's page may have been
	// confirmed by reading the payment first).
	if status := b.click(`#orders tbody tr[data-number="` + found.number + `"] a`); status != http.StatusOK {
		t.Fatalf("opening order %s: status %d", found.number, status)
	}
	if p := b.path(); !strings.HasPrefix(p, "/admin/orders/") {
		t.Fatalf("the order's link led to %s, want /admin/orders/<id>", p)
	}
	if h1 := b.text("main h1"); !strings.Contains(h1, found.number) {
		t.Errorf("the detail page's heading is %q, want order %s", h1, found.number)
	}
	if got := b.text("#order-status"); got != "Paid" {
		t.Errorf("the detail page's status is %q, want Paid", got)
	}
	if got := b.text("#customer"); !strings.Contains(got, found.email) || !strings.Contains(got, found.name) {
		t.Errorf("the detail page's customer is %q, want %s <%s>", got, found.name, found.email)
	}
	const webhookEntry = `#timeline li[data-kind="webhook"]`
	if !eval[bool](b, "look for the webhook", `document.querySelector('`+webhookEntry+`') !== null`) {
		b.reloadUntil(webhookEntry, confirmTimeout)
	}
	b.checkpoint("order-detail")
	timeline := eval[[]timelineEntry](b, "read the timeline", `[...document.querySelectorAll("#timeline li")].map(li => ({
		kind: li.dataset.kind, title: li.querySelector("strong").textContent.trim()}))`)
	hasEntry := func(kind, titlePart string) bool {
		return slices.ContainsFunc(timeline, func(e timelineEntry) bool {
			return e.Kind == kind && strings.Contains(e.Title, titlePart)
		})
	}
	if !hasEntry("webhook", "payment.succeeded") {
		t.Errorf("the timeline has no payment.succeeded webhook: %+v", timeline)
	}
	if !hasEntry("event", "→ paid") {
		t.Errorf("the timeline has no transition to paid: %+v", timeline)
	}

	// Back to the search; its CSV export holds exactly that order.
	b.open(listURL)
	b.checkpoint("orders-search-again")
	name, content := b.download("#csv-link")
	if !strings.HasPrefix(name, "orders-") || !strings.HasSuffix(name, ".csv") {
		t.Errorf("the export is named %q, want orders-<time>.csv", name)
	}
	records, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, content)
	}
	if len(records) != 2 {
		t.Fatalf("the export of the search has %d records, want a header and one order:\n%s", len(records), content)
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	for _, h := range []string{"order_number", "status", "customer_email", "paid_at"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("the export has no %s column: %v", h, records[0])
		}
	}
	row := records[1]
	if row[col["order_number"]] != found.number || row[col["customer_email"]] != found.email || row[col["status"]] != "paid" {
		t.Errorf("the export's row is %v, want order %s of %s, paid", row, found.number, found.email)
	}
	if _, err := time.Parse(time.RFC3339, row[col["paid_at"]]); err != nil {
		t.Errorf("the export's paid_at is %q, want an RFC 3339 time", row[col["paid_at"]])
	}
	b.checkpoint("after-export")

	// Sign out: the admin is closed again.
	if status := b.click(`form[action="/admin/logout"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("signing out: the page answered %d", status)
	}
	if got := b.path(); got != "/admin/login" {
		t.Fatalf("after signing out the page is %s, want /admin/login", got)
	}
	b.checkpoint("signed-out")
	if status := b.navigate("open /admin/orders", chromedp.Navigate(a.URL+"/admin/orders")); status != http.StatusOK {
		t.Fatalf("/admin/orders after signing out: the page answered %d", status)
	}
	if got := b.path(); got != "/admin/login" {
		t.Fatalf("/admin/orders after signing out led to %s, want /admin/login", got)
	}
	if b.mustHave("#password"); eval[bool](b, "look for the orders table", `document.querySelector("#orders") !== null`) {
		t.Error("the sign-in page after signing out shows the orders table")
	}
	b.checkpoint("closed-again")
}
