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
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/seed"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
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

func TestAdminWebhookInbox(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // the test writes the inbox itself
	o := a.checkoutOne(t)
	var paymentID string
	if err := a.pool.QueryRow(context.Background(), `
		SELECT orchestrate_payment_id FROM payment_attempts a JOIN orders o ON o.id = a.order_id WHERE o.public_ref = $1`, o.ref).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rows := []struct{ key, typ, payment, result, errText string }{
		{"event:evt_1", "payment.created", paymentID, "unchanged", ""},
		{"event:evt_2", "payment.succeeded", paymentID, "", "read payment: 503"},
		{"event:evt_3", "payment.failed", "pay_someone_else", "unknown_payment", ""},
		{"sha256:abc", "", "", "invalid", "not JSON"},
	}
	for _, r := range rows {
		if _, err := a.pool.Exec(ctx, `
			INSERT INTO webhook_events (dedup_key, event_type, payment_id, raw_body, result, error, processed_at)
			VALUES ($1, nullif($2, ''), nullif($3, ''), '{}', nullif($4, ''), nullif($5, ''), CASE WHEN $4 = '' THEN NULL ELSE now() END)`,
			r.key, r.typ, r.payment, r.result, r.errText); err != nil {
			t.Fatal(err)
		}
	}
	admin := a.newAdmin(t)
	ids := func(path string) []string {
		p := admin.get(path)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, p.StatusCode)
		}
		var out []string
		p.doc.Find("#deliveries tbody tr").Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.Find("td").Eq(1).Contents().First().Text())
		})
		return out
	}
	tests := []struct {
		path string
		want int
	}{
		{"/admin/webhooks", 4},
		{"/admin/webhooks?type=payment.succeeded", 1},
		{"/admin/webhooks?result=pending", 1},
		{"/admin/webhooks?result=error", 2},
		{"/admin/webhooks?result=unknown_payment", 1},
		{"/admin/webhooks?payment=" + paymentID, 2},
	}
	for _, tt := range tests {
		if got := ids(tt.path); len(got) != tt.want {
			t.Errorf("%s lists %d deliveries %q, want %d", tt.path, len(got), got, tt.want)
		}
	}
	if p := admin.get("/admin/webhooks?result=bogus"); p.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown result filter = %d, want 400", p.StatusCode)
	}
	p := admin.get("/admin/webhooks?payment=" + paymentID)
	if p.doc.Find(`#deliveries a[href="/admin/orders/`+a.orderIDByRef(t, o.ref)+`"]`).Length() != 2 {
		t.Error("deliveries do not link to their order")
	}

	// Re-process the delivery that failed: its result is cleared, a job confirms
	// the payment again, and the admin is sent back to the filtered inbox.
	var id int64
	if err := a.pool.QueryRow(ctx, `SELECT id FROM webhook_events WHERE dedup_key = 'event:evt_2'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	here := "/admin/webhooks?result=error"
	p = admin.post("/admin/webhooks/"+strconv.FormatInt(id, 10)+"/reprocess", url.Values{"next": {here}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != here {
		t.Fatalf("re-process = %d %q, want 303 to %s", p.StatusCode, p.Header.Get("Location"), here)
	}
	if flash := admin.get(here).doc.Find("#flash").Text(); !strings.Contains(flash, "queued") {
		t.Errorf("flash after re-process = %q", flash)
	}
	eventually(t, "the re-processed delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE id = $1 AND processed_at IS NOT NULL AND error IS NULL`, id) == 1
	})
	// A delivery naming no payment cannot be re-processed, and says why.
	var invalid int64
	if err := a.pool.QueryRow(ctx, `SELECT id FROM webhook_events WHERE dedup_key = 'sha256:abc'`).Scan(&invalid); err != nil {
		t.Fatal(err)
	}
	admin.post("/admin/webhooks/"+strconv.FormatInt(invalid, 10)+"/reprocess", nil)
	if flash := admin.get("/admin/webhooks").doc.Find("#flash").Text(); !strings.Contains(flash, "names no payment") {
		t.Errorf("flash after re-processing an invalid delivery = %q", flash)
	}
	if p := admin.post("/admin/webhooks/987654/reprocess", nil); p.StatusCode != http.StatusNotFound {
		t.Errorf("re-process of an unknown delivery = %d, want 404", p.StatusCode)
	}
}

// TestAdminOverview: on a Wednesday afternoon (the clock is pinned; the
// boundaries have a test of their own) every figure of the overview matches the
// database and links to exactly the orders behind it.
func TestAdminOverview(t *testing.T) {
	now := time.Date(2026, time.November, 25, 15, 0, 0, 0, time.UTC)
	a := newAppWith(t, testdb.New(t).Pool, appOptions{clock: clockwork.NewFakeClockAt(now)})
	ctx := context.Background()
	if err := seed.Orders(ctx, a.pool, seed.Options{Orders: 500, Now: now, Span: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	admin := a.newAdmin(t)
	p := admin.get("/admin")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin = %d", p.StatusCode)
	}
	for _, status := range []string{"awaiting_payment", "paid", "failed", "expired", "needs_review"} {
		sel := p.doc.Find(`#by-status a[data-status="` + status + `"]`)
		want := strconv.Itoa(a.count(t, `SELECT count(*) FROM orders WHERE status = $1`, status))
		if got := strings.TrimSpace(sel.Find(".value").Text()); got != want {
			t.Errorf("%s count = %q, want %s", status, got, want)
		}
		if href, _ := sel.Attr("href"); href != "/admin/orders?status="+status {
			t.Errorf("%s links to %q", status, href)
		}
	}
	attention := map[string]string{}
	p.doc.Find("#attention a").Each(func(_ int, s *goquery.Selection) {
		attention[strings.TrimSpace(s.Find(".label").Text())] = strings.TrimSpace(s.Find(".value").Text())
	})
	wantStuckOpen := strconv.Itoa(a.count(t, `SELECT count(*) FROM payment_attempts WHERE status = 'open' AND expires_at < $1`, now))
	wantUnknown := strconv.Itoa(a.count(t, `SELECT count(*) FROM payment_attempts WHERE status = 'unknown'`))
	wantRefund := strconv.Itoa(a.count(t, `SELECT count(*) FROM orders WHERE refund_needed`))
	if attention["Payments open past expiry"] != wantStuckOpen || attention["Payments of unknown outcome"] != wantUnknown ||
		attention["Refund needed"] != wantRefund || wantStuckOpen == "0" || wantUnknown == "0" {
		t.Errorf("attention = %v, want open past expiry %s, unknown %s, refund %s", attention, wantStuckOpen, wantUnknown, wantRefund)
	}
	// Today's and this week's revenue per currency match the database and link
	// to exactly those orders.
	for _, w := range []struct {
		id    string
		start time.Time
	}{
		{"revenue-today", time.Date(2026, time.November, 25, 0, 0, 0, 0, time.UTC)},
		{"revenue-week", time.Date(2026, time.November, 23, 0, 0, 0, 0, time.UTC)},
	} {
		links := p.doc.Find("#" + w.id + " a")
		if links.Length() != 4 {
			t.Fatalf("%s lists %d currencies; the seed pays orders in all four every day", w.id, links.Length())
		}
		links.Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			u, err := url.Parse(href)
			if err != nil {
				t.Fatal(err)
			}
			cur := u.Query().Get("currency")
			n := a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid' AND currency = $1 AND paid_at >= $2`, cur, w.start)
			if !strings.Contains(s.Text(), "· "+strconv.Itoa(n)+" orders") || u.Query().Get("paid_since") != w.start.Format(time.DateOnly) {
				t.Errorf("%s %s = %q (link %s), want %d orders since %s", w.id, cur, s.Text(), href, n, w.start.Format(time.DateOnly))
			}
			numbers, _, _ := admin.listAll(href)
			if len(numbers) != n {
				t.Errorf("the %s %s link lists %d orders, want %d", w.id, cur, len(numbers), n)
			}
		})
	}
	// The stuck link lists the orders whose attempt is stuck at the clock's time.
	stuck := a.count(t, `SELECT count(DISTINCT order_id) FROM payment_attempts
		WHERE status = 'unknown' OR (status = 'open' AND expires_at < $1)`, now)
	if numbers, _, _ := admin.listAll("/admin/orders?flag=stuck"); len(numbers) != stuck {
		t.Errorf("the stuck orders list %d orders, want %d", len(numbers), stuck)
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
