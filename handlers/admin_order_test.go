package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// orderIDByRef returns the database id of the order with public reference ref.
func (a *app) orderIDByRef(t *testing.T, ref string) string {
	t.Helper()
	var id int64
	if err := a.pool.QueryRow(context.Background(), `SELECT id FROM orders WHERE public_ref = $1`, ref).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

// TestAdminSyncFixesOrderWithoutWebhook: the shopper pays, Orchestrate's webhook
// never comes and the shopper never returns; the merchant's "Sync with
// Orchestrate" reads the payment and the order becomes paid, with the change on
// the page and in the timeline.
func TestAdminSyncFixesOrderWithoutWebhook(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.checkoutOne(t)
	if resp := payOnHostedPage(t, o.link, "4242 4242 4242 4242"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hosted page = %d, want 303", resp.StatusCode)
	}
	if got := a.orderStatus(t, o.ref); got != "awaiting_payment" {
		t.Fatalf("before the sync the order is %s; the test needs it still awaiting payment", got)
	}
	if n := a.count(t, `SELECT count(*) FROM webhook_events`); n != 0 {
		t.Fatalf("%d webhooks arrived although they are disabled", n)
	}
	id := a.orderIDByRef(t, o.ref)
	admin := a.newAdmin(t)

	p := admin.get("/admin/orders/" + id)
	if got := strings.TrimSpace(p.doc.Find("#order-status").Text()); got != "Awaiting payment" {
		t.Fatalf("order page shows %q before the sync", got)
	}
	if p.doc.Find("#attempts tbody tr").Length() != 1 || p.doc.Find("#attempts code").Text() == "" {
		t.Errorf("the attempt and its Orchestrate id are not shown")
	}

	p = admin.post("/admin/orders/"+id+"/sync", nil)
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/orders/"+id {
		t.Fatalf("sync = %d %q, want 303 back to the order", p.StatusCode, p.Header.Get("Location"))
	}
	if got := a.orderStatus(t, o.ref); got != "paid" {
		t.Fatalf("after the sync the order is %s, want paid", got)
	}
	p = admin.get("/admin/orders/" + id)
	if got := strings.TrimSpace(p.doc.Find("#order-status").Text()); got != "Paid" {
		t.Errorf("order page shows %q after the sync, want Paid", got)
	}
	flash := p.doc.Find("#flash").Text()
	if !strings.Contains(flash, "Awaiting payment → Paid") || !strings.Contains(flash, "open → completed") {
		t.Errorf("flash = %q, want the order and payment changes", flash)
	}
	var syncEvent bool
	p.doc.Find("#timeline li[data-kind=event]").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "awaiting_payment → paid") && strings.Contains(s.Text(), "admin sync") {
			syncEvent = true
		}
	})
	if !syncEvent {
		t.Errorf("the timeline has no awaiting_payment → paid event caused by the admin sync:\n%s", p.doc.Find("#timeline").Text())
	}
	if p.doc.Find("#timeline li[data-kind=confirmation]").Length() != 1 {
		t.Error("the timeline does not show the confirmation read")
	}
	// The flash is shown once.
	if admin.get("/admin/orders/"+id).doc.Find("#flash").Length() != 0 {
		t.Error("the flash message is shown twice")
	}
	// A second sync changes nothing and says so.
	admin.post("/admin/orders/"+id+"/sync", nil)
	if flash := admin.get("/admin/orders/" + id).doc.Find("#flash").Text(); !strings.Contains(flash, "nothing changed") {
		t.Errorf("second sync flash = %q, want nothing changed", flash)
	}
	if n := a.count(t, `SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.public_ref = $1 AND e.to_status = 'paid'`, o.ref); n != 1 {
		t.Errorf("%d paid events, want 1", n)
	}
	// Without the CSRF token the sync is refused.
	if p := admin.postRaw("/admin/orders/"+id+"/sync", url.Values{"_csrf": {"forged"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("sync with a forged token = %d, want 403", p.StatusCode)
	}
	if p := admin.get("/admin/orders/999999"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order = %d, want 404", p.StatusCode)
	}
}

// TestAdminEscapesEverything: markup and formulas in a customer's name, email and
// in a webhook's body come out as inert text on every admin page and in the CSV.
func TestAdminEscapesEverything(t *testing.T) {
	a := newApp(t)
	const xss = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	const formula = `=HYPERLINK("https://evil.example","click")`
	now := time.Now()
	xssID, _ := a.insertOrder(t, xss, "x@example.com", "failed", "USD", now.Add(-time.Minute), "pay_xss")
	a.insertOrder(t, formula, formula+"@example.com", "failed", "USD", now.Add(-2*time.Minute), "")
	body := `{"id":"evt_xss","type":"payment.failed","data":{"id":"pay_xss","note":"</pre><script>alert(3)</script>"}}`
	if _, err := a.pool.Exec(context.Background(), `
		INSERT INTO webhook_events (dedup_key, event_id, event_type, payment_id, raw_body, result, error, processed_at)
		VALUES ('event:evt_xss', 'evt_xss', 'payment.failed', 'pay_xss', $1, 'unchanged', '<b>bold</b>', now())`, []byte(body)); err != nil {
		t.Fatal(err)
	}
	admin := a.newAdmin(t)
	pages := []string{"/admin/orders", "/admin/orders?q=script", "/admin/orders/" + strconv.FormatInt(xssID, 10), "/admin/webhooks"}
	for _, path := range pages {
		p := admin.get(path)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, p.StatusCode)
		}
		if n := p.doc.Find("script").Not(`[src^="/static/js/"]`).Length(); n != 0 {
			t.Errorf("%s has %d script elements besides our own (htmx, forms.js)", path, n)
		}
		if n := p.doc.Find("img[onerror], b").Length(); n != 0 {
			t.Errorf("%s rendered injected markup", path)
		}
		if strings.Contains(p.body, "<script>alert") {
			t.Errorf("%s contains the raw payload", path)
		}
	}
	if got := admin.get("/admin/orders").doc.Find("#orders td.customer").First().Text(); !strings.Contains(got, xss) {
		t.Errorf("the list does not show the name as text: %q", got)
	}
	detail := admin.get("/admin/orders/" + strconv.FormatInt(xssID, 10))
	if got := detail.doc.Find("#customer dd").First().Text(); got != xss {
		t.Errorf("detail shows name %q, want it as text", got)
	}
	if got := detail.doc.Find("#timeline pre.payload").Text(); got != body {
		t.Errorf("timeline payload = %q, want the raw body as text", got)
	}
	inbox := admin.get("/admin/webhooks")
	if got := inbox.doc.Find("#deliveries pre.payload").First().Text(); got != body {
		t.Errorf("inbox payload = %q, want the raw body as text", got)
	}
	if !strings.Contains(inbox.doc.Find("#deliveries .outcome").Text(), "<b>bold</b>") {
		t.Error("the delivery's error is not shown as text")
	}

	p := admin.get("/admin/orders.csv")
	records, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, r := range records[1:] {
		names[r[7]] = r[8]
	}
	if _, ok := names[xss]; !ok {
		t.Errorf("CSV lacks the markup name as plain text: %v", names)
	}
	if email, ok := names["'"+formula]; !ok || email != "'"+formula+"@example.com" {
		t.Errorf("CSV formula cells not neutralised: %v", names)
	}
}

// TestAdminSyncWhenOrchestrateFails: the sync cannot read the payment; the page
// says so plainly, nothing changes, and a later sync works.
func TestAdminSyncWhenOrchestrateFails(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.checkoutOne(t)
	payOnHostedPage(t, o.link, "4242 4242 4242 4242")
	id := a.orderIDByRef(t, o.ref)
	admin := a.newAdmin(t)
	a.setFaults(t, `{"webhooks_disabled": true, "get_errors": 100, "error_status": 500}`)
	p := admin.post("/admin/orders/"+id+"/sync", nil)
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync with Orchestrate failing = %d, want 303", p.StatusCode)
	}
	page := admin.get("/admin/orders/" + id)
	flash := page.doc.Find("#flash")
	if !flash.HasClass("bad") || !strings.Contains(flash.Text(), "could not be read from Orchestrate") || !strings.Contains(flash.Text(), "unchanged: Awaiting payment") {
		t.Errorf("flash = %q (class %q), want a plain failure and no change", flash.Text(), flash.AttrOr("class", ""))
	}
	if got := a.orderStatus(t, o.ref); got != "awaiting_payment" {
		t.Errorf("order is %s after a failed sync, want awaiting_payment", got)
	}
	a.setFaults(t, `{"webhooks_disabled": true}`)
	admin.post("/admin/orders/"+id+"/sync", nil)
	if got := a.orderStatus(t, o.ref); got != "paid" {
		t.Errorf("order is %s after the sync once Orchestrate answers, want paid", got)
	}
}
