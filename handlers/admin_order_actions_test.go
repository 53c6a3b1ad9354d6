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
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// effectLog records the changes whose effects the app queued, as "change detail".
type effectLog struct {
	mu  sync.Mutex
	got []string
}

func (l *effectLog) effect(_ context.Context, _ pgx.Tx, _ int64, change orders.OrderChange, detail string) ([]river.InsertManyParams, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, strings.TrimSpace(string(change)+" "+detail))
	return nil, nil
}

func (l *effectLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, g := range l.got {
		if strings.HasPrefix(g, prefix) {
			n++
		}
	}
	return n
}

// newActionsApp is the app with its webhooks off (the test says when a payment is
// confirmed) and every queued effect logged.
func newActionsApp(t *testing.T) (*app, *effectLog) {
	t.Helper()
	log := &effectLog{}
	a := newAppWith(t, testdb.New(t).Pool, appOptions{payments: func(p *orders.Payments) { p.AddEffect(log.effect) }})
	a.setFaults(t, `{"webhooks_disabled": true}`)
	return a, log
}

// paidOrder checks one mug out and pays it, confirmed by the shopper's return.
func (a *app) paidOrder(t *testing.T) *checkedOut {
	t.Helper()
	o := a.checkoutOne(t)
	if resp := payOnHostedPage(t, o.link, "4242 4242 4242 4242"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hosted page = %d, want 303", resp.StatusCode)
	}
	o.get("/orders/" + o.ref + "/success")
	if got := a.orderStatus(t, o.ref); got != "paid" {
		t.Fatalf("order is %s after paying, want paid", got)
	}
	return o
}

// merchantEvents returns the order's events recorded by the admin, as
// "subject to_status".
func (a *app) merchantEvents(t *testing.T, ref string) []string {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `
		SELECT e.subject || ' ' || e.to_status FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.public_ref = $1 AND e.actor = $2 ORDER BY e.id`, ref, testAdminUser)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// fingerprint is what an action may change of an order, to prove a refused one
// changed nothing.
func (a *app) fingerprint(t *testing.T, ref string) string {
	t.Helper()
	var s string
	if err := a.pool.QueryRow(context.Background(), `
		SELECT concat_ws('|', o.status, o.refund_needed, o.oversold, o.shipped_at,
			-- the mail's events arrive when its jobs run, whatever the action did
			(SELECT count(*) FROM order_events WHERE order_id = o.id AND subject <> 'mail'),
			(SELECT count(*) FROM shipments WHERE order_id = o.id),
			(SELECT count(*) FROM refunds WHERE order_id = o.id),
			(SELECT count(*) FROM stock_holds WHERE order_id = o.id))
		FROM orders o WHERE o.public_ref = $1`, ref).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// shipForm is a confirmed "mark shipped" form with the key of the order page's
// form as the admin just loaded it, and the fields given.
func shipForm(t *testing.T, admin *shopper, id string, kv ...string) url.Values {
	t.Helper()
	key := admin.get("/admin/orders/"+id).doc.Find("#ship-form input[name=key]").AttrOr("value", "")
	if key == "" {
		t.Fatalf("order %s's page has no ship form with a key", id)
	}
	return confirmedForm(append([]string{"key", key}, kv...)...)
}

func confirmedForm(kv ...string) url.Values {
	f := url.Values{"confirm": {"yes"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// TestAdminMarksShipped: a paid order is marked shipped with its carrier and
// tracking number: a shipment row naming the admin, an event on the timeline,
// one ChangeShipped effect per shipment, and the shopper's page shows it.
// Hostile or unconfirmed input answers 422 with the input kept, an unpaid order
// 409, and neither changes anything.
func TestAdminMarksShipped(t *testing.T) {
	a, effects := newActionsApp(t)
	paid := a.paidOrder(t)
	unpaid := a.checkoutOne(t)
	admin := a.newAdmin(t)
	id := a.orderIDByRef(t, paid.ref)

	page := admin.get("/admin/orders/" + id)
	if page.doc.Find("#ship-form").Length() != 1 || page.doc.Find("#ship-form input[name=confirm][required]").Length() != 1 {
		t.Fatal("a paid order's page has no ship form with a required confirmation")
	}
	if admin.get("/admin/orders/"+a.orderIDByRef(t, unpaid.ref)).doc.Find("#ship-form").Length() != 0 {
		t.Error("an unpaid order's page offers to ship it")
	}

	before := a.fingerprint(t, paid.ref)
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"unconfirmed", url.Values{"carrier": {"UPS"}, "tracking": {"1Z999"}}},
		{"markup in the tracking number", confirmedForm("tracking", "<script>alert(1)</script>")},
		{"NUL in the carrier", confirmedForm("carrier", "UP\x00S")},
		{"bidi override in the carrier", confirmedForm("carrier", "UPS\u202e")},
		{"long carrier", confirmedForm("carrier", strings.Repeat("x", 61))},
		{"long tracking", confirmedForm("tracking", strings.Repeat("1", 61))},
		{"invalid UTF-8", confirmedForm("carrier", "\xff\xfe")},
		{"no form key", confirmedForm("carrier", "UPS")},
		{"hostile form key", confirmedForm("carrier", "UPS", "key", "<x>'; DROP TABLE shipments")},
	} {
		p := admin.post("/admin/orders/"+id+"/ship", tc.form)
		if p.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: ship = %d, want 422", tc.name, p.StatusCode)
			continue
		}
		if p.doc.Find("#ship-form .error").Length() == 0 && !strings.Contains(p.doc.Find("#flash").Text(), "damaged") {
			t.Errorf("%s: the page says nothing of what is wrong", tc.name)
		}
		if strings.Contains(p.body, "<script>alert") {
			t.Errorf("%s: the input is echoed unescaped", tc.name)
		}
	}
	if got := admin.post("/admin/orders/"+id+"/ship", url.Values{"tracking": {"KEEP-ME"}}); got.doc.Find("#tracking").AttrOr("value", "") != "KEEP-ME" {
		t.Error("a refused form does not keep the tracking number typed")
	}
	unpaidForm := shipForm(t, admin, id, "carrier", "UPS") // a form loaded while it was shown
	if p := admin.post("/admin/orders/"+a.orderIDByRef(t, unpaid.ref)+"/ship", unpaidForm); p.StatusCode != http.StatusConflict {
		t.Errorf("shipping an unpaid order = %d, want 409", p.StatusCode)
	}
	if p := admin.postRaw("/admin/orders/"+id+"/ship", confirmedForm("carrier", "UPS")); p.StatusCode != http.StatusForbidden {
		t.Errorf("ship without a CSRF token = %d, want 403", p.StatusCode)
	}
	if p := admin.post("/admin/orders/999999999/ship", confirmedForm()); p.StatusCode != http.StatusNotFound {
		t.Errorf("shipping an unknown order = %d, want 404", p.StatusCode)
	}
	if after := a.fingerprint(t, paid.ref); after != before {
		t.Fatalf("refused ships changed the order: %s → %s", before, after)
	}
	if n := effects.count(string(orders.ChangeShipped)); n != 0 {
		t.Fatalf("%d shipped effects queued by refused ships", n)
	}

	// Oversold (its units sold while it was unpaid): shipping it means they
	// were back-ordered, so it leaves the merchant's attention queue.
	if _, err := a.pool.Exec(context.Background(), `UPDATE orders SET oversold = true WHERE public_ref = $1`, paid.ref); err != nil {
		t.Fatal(err)
	}
	first := shipForm(t, admin, id, "carrier", "  Royal Mail ", "tracking", "AB 123-456 GB")
	p := admin.post("/admin/orders/"+id+"/ship", first)
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/orders/"+id {
		t.Fatalf("ship = %d %q, want 303 back to the order; body %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	page = admin.get("/admin/orders/" + id)
	if !strings.Contains(page.doc.Find("#flash").Text(), "Marked shipped") {
		t.Errorf("flash = %q", page.doc.Find("#flash").Text())
	}
	if got := page.doc.Find("#shipments .carrier").Text(); got != "Royal Mail" {
		t.Errorf("admin page shows carrier %q", got)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE oversold`); n != 0 || !strings.Contains(page.doc.Find("#timeline").Text(), "cleared oversold") {
		t.Errorf("shipping an oversold order left %d flagged, or its timeline does not say it cleared the flag", n)
	}
	if got := a.merchantEvents(t, paid.ref); strings.Join(got, ",") != "fulfilment shipped" {
		t.Errorf("the admin's events = %v, want one fulfilment shipped", got)
	}
	if !strings.Contains(page.doc.Find("#timeline").Text(), "Marked shipped") || !strings.Contains(page.doc.Find("#timeline .actor").Text(), testAdminUser) {
		t.Errorf("the timeline does not say who marked it shipped:\n%s", page.doc.Find("#timeline").Text())
	}
	shop := paid.get("/orders/" + paid.ref)
	if got := shop.doc.Find("#shipments .carrier").Text(); got != "Royal Mail" {
		t.Errorf("shopper's page shows carrier %q, want Royal Mail", got)
	}
	if got := shop.doc.Find("#shipments .tracking").Text(); got != "AB 123-456 GB" {
		t.Errorf("shopper's page shows tracking %q", got)
	}

	// The same form sent again records nothing more.
	if p := admin.post("/admin/orders/"+id+"/ship", first); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the form sent twice = %d, want 303", p.StatusCode)
	}
	if n := a.count(t, `SELECT count(*) FROM shipments`); n != 1 || effects.count(string(orders.ChangeShipped)) != 1 || len(a.merchantEvents(t, paid.ref)) != 1 {
		t.Errorf("the form sent twice: %d shipments, %d effects, events %v; want one of each", n, effects.count(string(orders.ChangeShipped)), a.merchantEvents(t, paid.ref))
	}

	// A second parcel is a second shipment, with its own effect.
	admin.post("/admin/orders/"+id+"/ship", shipForm(t, admin, id))
	var shipments, distinct int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT id) FROM shipments WHERE actor = $1`, testAdminUser).Scan(&shipments, &distinct); err != nil {
		t.Fatal(err)
	}
	if shipments != 2 || effects.count(string(orders.ChangeShipped)) != 2 {
		t.Errorf("%d shipments, %d shipped effects; want 2, 2 (%v)", shipments, effects.count(string(orders.ChangeShipped)), effects.got)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE shipped_at IS NOT NULL`); n != 1 {
		t.Errorf("%d orders have shipped_at, want 1", n)
	}
}

// TestAdminCancelThenPaymentCompletes: the merchant cancels an order whose
// payment is open; no payment can start for it any more, its unit goes back on
// sale, and the shopper's page says cancelled with no Pay button. The shopper
// then pays the payment they already had: money wins, the order is paid and
// flagged for refund, with the reason on the timeline.
func TestAdminCancelThenPaymentCompletes(t *testing.T) {
	a, effects := newActionsApp(t)
	mug := a.trackMug(t, 3)
	o := a.checkoutOne(t)
	id := a.orderIDByRef(t, o.ref)
	admin := a.newAdmin(t)
	if _, held := a.mugStock(t, mug); held != 1 {
		t.Fatalf("held %d before the cancel, want 1", held)
	}

	before := a.fingerprint(t, o.ref)
	if p := admin.post("/admin/orders/"+id+"/cancel", nil); p.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("cancel without confirming = %d, want 422", p.StatusCode)
	}
	if after := a.fingerprint(t, o.ref); after != before {
		t.Fatalf("an unconfirmed cancel changed the order: %s → %s", before, after)
	}

	p := admin.post("/admin/orders/"+id+"/cancel", confirmedForm())
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel = %d, want 303; body %s", p.StatusCode, p.body)
	}
	if got := a.orderStatus(t, o.ref); got != "cancelled" {
		t.Fatalf("after the cancel the order is %s", got)
	}
	if _, held := a.mugStock(t, mug); held != 0 || a.stockEvents(t, o.ref, "released") != 1 {
		t.Errorf("after the cancel: held %d, %d released events; want 0, 1", held, a.stockEvents(t, o.ref, "released"))
	}
	if n := effects.count(string(orders.ChangeCancelled)); n != 1 {
		t.Errorf("%d cancelled effects, want 1", n)
	}
	if got := a.merchantEvents(t, o.ref); strings.Join(got, ",") != "order cancelled,stock released" {
		t.Errorf("the admin's events = %v", got)
	}
	if p := admin.post("/admin/orders/"+id+"/cancel", confirmedForm()); p.StatusCode != http.StatusConflict {
		t.Errorf("cancelling twice = %d, want 409", p.StatusCode)
	}

	shop := o.get("/orders/" + o.ref)
	if got := statusOf(shop); got != "cancelled" {
		t.Errorf("shopper's page status %q, want cancelled", got)
	}
	if shop.doc.Find("#pay-button").Length() != 0 {
		t.Error("the shopper's page of a cancelled order offers to pay")
	}
	payments := len(a.payments(t))
	if p := o.post("/orders/"+o.ref+"/pay", nil); p.StatusCode == http.StatusSeeOther && strings.HasPrefix(p.Header.Get("Location"), a.sandbox.URL) {
		t.Errorf("paying a cancelled order sends the shopper to a payment: %s", p.Header.Get("Location"))
	}
	if n := len(a.payments(t)); n != payments {
		t.Errorf("paying a cancelled order created %d payments", n-payments)
	}
	if got := a.orderStatus(t, o.ref); got != "cancelled" {
		t.Errorf("after trying to pay, the order is %s", got)
	}

	// Checking the same cart out again makes a new order; the cancelled one is
	// never reused.
	if p := o.checkout("Ada Lovelace", "ada@example.com"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checking the cart out again = %d; body %s", p.StatusCode, p.body)
	}
	var newest string
	if err := a.pool.QueryRow(context.Background(), `SELECT public_ref FROM orders ORDER BY id DESC LIMIT 1`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if newest == o.ref || a.orderStatus(t, o.ref) != "cancelled" {
		t.Errorf("checking out again reused the cancelled order (newest %s, cancelled %s, now %s)", newest, o.ref, a.orderStatus(t, o.ref))
	}

	// The payment the shopper already had still completes: money wins.
	payOnHostedPage(t, o.link, "4242 4242 4242 4242")
	admin.post("/admin/orders/"+id+"/sync", nil)
	if got := a.orderStatus(t, o.ref); got != "paid" {
		t.Fatalf("after the late payment the order is %s, want paid", got)
	}
	var refund bool
	if err := a.pool.QueryRow(context.Background(), `SELECT refund_needed FROM orders WHERE public_ref = $1`, o.ref).Scan(&refund); err != nil {
		t.Fatal(err)
	}
	if !refund {
		t.Error("an order paid after it was cancelled is not flagged for refund")
	}
	page := admin.get("/admin/orders/" + id)
	if !strings.Contains(page.doc.Find("#timeline").Text(), "paid after the merchant cancelled the order") {
		t.Errorf("the timeline does not say why a refund is needed:\n%s", page.doc.Find("#timeline").Text())
	}
	if page.doc.Find("#refund-form").Length() != 1 {
		t.Error("the page of an order flagged for refund offers no refund form")
	}
	if _, held := a.mugStock(t, mug); held != 1 {
		t.Errorf("held %d after the late payment, want 1 (the new order's)", held)
	}
}

// TestAdminCancelRefusedOncePaid: the payment completes first; the cancel that
// follows is refused (409) and changes nothing.
func TestAdminCancelRefusedOncePaid(t *testing.T) {
	a, effects := newActionsApp(t)
	o := a.paidOrder(t)
	id := a.orderIDByRef(t, o.ref)
	admin := a.newAdmin(t)
	if admin.get("/admin/orders/"+id).doc.Find("#cancel-form").Length() != 0 {
		t.Error("a paid order's page offers to cancel it")
	}
	before := a.fingerprint(t, o.ref)
	if p := admin.post("/admin/orders/"+id+"/cancel", confirmedForm()); p.StatusCode != http.StatusConflict {
		t.Errorf("cancelling a paid order = %d, want 409", p.StatusCode)
	}
	if after := a.fingerprint(t, o.ref); after != before {
		t.Errorf("a refused cancel changed the order: %s → %s", before, after)
	}
	if n := effects.count(string(orders.ChangeCancelled)); n != 0 {
		t.Errorf("%d cancelled effects for a refused cancel", n)
	}
}

// TestAdminCancelRacesCompletingPayment: the cancel and the payment's
// confirmation arrive at once, many times over. Each order ends consistent with
// one of the two orders of events: cancelled then paid (cancel answered 303, the
// order paid and flagged for refund) or paid then cancel refused (409, no flag).
func TestAdminCancelRacesCompletingPayment(t *testing.T) {
	a, _ := newActionsApp(t)
	admin := a.newAdmin(t)
	const n = 6
	outcomes := map[string]int{}
	for range n {
		o := a.checkoutOne(t)
		id := a.orderIDByRef(t, o.ref)
		payOnHostedPage(t, o.link, "4242 4242 4242 4242")
		var wg sync.WaitGroup
		var cancel *page
		wg.Add(2)
		go func() { defer wg.Done(); cancel = admin.post("/admin/orders/"+id+"/cancel", confirmedForm()) }()
		go func() { defer wg.Done(); o.get("/orders/" + o.ref + "/success") }()
		wg.Wait()
		admin.post("/admin/orders/"+id+"/sync", nil) // whatever the race left unconfirmed
		var status string
		var refund bool
		if err := a.pool.QueryRow(context.Background(), `SELECT status, refund_needed FROM orders WHERE public_ref = $1`, o.ref).Scan(&status, &refund); err != nil {
			t.Fatal(err)
		}
		cancelled := a.count(t, `SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
			WHERE o.public_ref = $1 AND e.subject = 'order' AND e.to_status = 'cancelled'`, o.ref)
		switch {
		case cancel.StatusCode == http.StatusSeeOther && status == "paid" && refund && cancelled == 1:
			outcomes["cancel first"]++
		case cancel.StatusCode == http.StatusConflict && status == "paid" && !refund && cancelled == 0:
			outcomes["payment first"]++
		default:
			t.Errorf("order %s: cancel %d, status %s, refund %v, %d cancelled events: neither order of events",
				o.ref, cancel.StatusCode, status, refund, cancelled)
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestAdminRecordsRefund: an order flagged for refund gets the refund the
// merchant made outside the app recorded: the amount parsed in the order's
// currency, the note kept, the flag cleared, a refunds row and the timeline.
// Bad amounts, notes or no confirmation answer 422 and change nothing; an order
// flagged for nothing answers 409.
func TestAdminRecordsRefund(t *testing.T) {
	a, effects := newActionsApp(t)
	flagged := a.paidOrder(t)
	plain := a.paidOrder(t)
	id := a.orderIDByRef(t, flagged.ref)
	if _, err := a.pool.Exec(context.Background(), `UPDATE orders SET refund_needed = true WHERE public_ref = $1`, flagged.ref); err != nil {
		t.Fatal(err)
	}
	var total int64
	if err := a.pool.QueryRow(context.Background(), `SELECT total_minor FROM orders WHERE public_ref = $1`, flagged.ref).Scan(&total); err != nil {
		t.Fatal(err)
	}
	admin := a.newAdmin(t)
	if admin.get("/admin/orders/"+a.orderIDByRef(t, plain.ref)).doc.Find("#refund-form").Length() != 0 {
		t.Error("an order flagged for nothing offers a refund form")
	}

	before := a.fingerprint(t, flagged.ref)
	over := orders.PriceInput(total+1, "USD")
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"unconfirmed", url.Values{"amount": {"1.00"}}},
		{"empty amount", confirmedForm("amount", "")},
		{"negative", confirmedForm("amount", "-1")},
		{"zero", confirmedForm("amount", "0")},
		{"exponent", confirmedForm("amount", "1e3")},
		{"too many decimals", confirmedForm("amount", "1.001")},
		{"symbol", confirmedForm("amount", "$5")},
		{"more than received", confirmedForm("amount", over)},
		{"huge", confirmedForm("amount", "99999999999999999999999")},
		{"NUL in the note", confirmedForm("amount", "1", "note", "a\x00b")},
		{"long note", confirmedForm("amount", "1", "note", strings.Repeat("n", orders.MaxNoteLength+1))},
	} {
		p := admin.post("/admin/orders/"+id+"/refund", tc.form)
		if p.StatusCode != http.StatusUnprocessableEntity || p.doc.Find("#refund-form .error").Length() == 0 {
			t.Errorf("%s: refund = %d (errors shown: %d), want 422 saying what is wrong", tc.name, p.StatusCode, p.doc.Find("#refund-form .error").Length())
		}
	}
	if after := a.fingerprint(t, flagged.ref); after != before {
		t.Fatalf("refused refunds changed the order: %s → %s", before, after)
	}
	if p := admin.post("/admin/orders/"+a.orderIDByRef(t, plain.ref)+"/refund", confirmedForm("amount", "1")); p.StatusCode != http.StatusConflict {
		t.Errorf("a refund for an order flagged for nothing = %d, want 409", p.StatusCode)
	}

	p := admin.post("/admin/orders/"+id+"/refund", confirmedForm("amount", " 3.5 ", "note", "Refunded by bank transfer <b>ref 42</b>"))
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund = %d, want 303; body %s", p.StatusCode, p.body)
	}
	var amount int64
	var currency, note string
	var refundNeeded bool
	if err := a.pool.QueryRow(context.Background(), `
		SELECT r.amount_minor, r.currency, r.note, o.refund_needed FROM refunds r JOIN orders o ON o.id = r.order_id
		WHERE o.public_ref = $1 AND r.actor = $2`, flagged.ref, testAdminUser).Scan(&amount, &currency, &note, &refundNeeded); err != nil {
		t.Fatal(err)
	}
	if amount != 350 || currency != "USD" || note != "Refunded by bank transfer <b>ref 42</b>" || refundNeeded {
		t.Errorf("refund %d %s %q, refund needed %v; want 350 USD, the note, false", amount, currency, note, refundNeeded)
	}
	page := admin.get("/admin/orders/" + id)
	if page.doc.Find("h1 .refund_needed").Length() != 0 || page.doc.Find("#refund-form").Length() != 0 {
		t.Error("the page still shows the order as needing a refund")
	}
	if !strings.Contains(page.doc.Find("#timeline").Text(), "Refund recorded") || !strings.Contains(page.doc.Find("#timeline").Text(), "$3.50") {
		t.Errorf("the timeline does not show the refund:\n%s", page.doc.Find("#timeline").Text())
	}
	if strings.Contains(page.body, "<b>ref 42</b>") {
		t.Error("the note is shown unescaped")
	}
	if n := effects.count(string(orders.ChangeRefundRecorded)); n != 1 {
		t.Errorf("%d refund effects, want 1", n)
	}

	// An oversold order: the refund clears the flag and the page's banner.
	short := a.paidOrder(t)
	if _, err := a.pool.Exec(context.Background(), `
		WITH o AS (UPDATE orders SET oversold = true WHERE public_ref = $1 RETURNING id)
		UPDATE order_items SET short = 1 WHERE order_id = (SELECT id FROM o)`, short.ref); err != nil {
		t.Fatal(err)
	}
	shortID := a.orderIDByRef(t, short.ref)
	if admin.get("/admin/orders/"+shortID).doc.Find("#oversold").Length() != 1 {
		t.Fatal("the oversold order shows no oversold banner")
	}
	if p := admin.post("/admin/orders/"+shortID+"/refund", confirmedForm("amount", "19.99", "note", "one mug short")); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund of an oversold order = %d; body %s", p.StatusCode, p.body)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE public_ref = $1 AND oversold`, short.ref); n != 0 {
		t.Error("the refunded oversold order is still flagged oversold")
	}
	if page := admin.get("/admin/orders/" + shortID); page.doc.Find("#oversold").Length() != 0 || page.doc.Find("h1 .oversold").Length() != 0 {
		t.Error("the refunded oversold order still shows as oversold")
	}
}

// TestAdminNotesAndReceipt: a note is added to the timeline, escaped, naming the
// admin; an empty, hostile or long one answers 422 and adds nothing. Resending
// the receipt of a paid order calls the receipt mail once and records it; with
// no mail wired in, or for an unpaid order, it is refused and records nothing.
func TestAdminNotesAndReceipt(t *testing.T) {
	var resent sync.Map
	a := newAppWith(t, testdb.New(t).Pool, appOptions{payments: func(p *orders.Payments) {
		p.SetReceiptResender(func(_ context.Context, _ pgx.Tx, orderID int64) ([]river.InsertManyParams, error) {
			n, _ := resent.LoadOrStore(orderID, new(int))
			*n.(*int)++
			return nil, nil
		})
	}})
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.paidOrder(t)
	unpaid := a.checkoutOne(t)
	id := a.orderIDByRef(t, o.ref)
	admin := a.newAdmin(t)

	before := a.fingerprint(t, o.ref)
	for name, note := range map[string]string{"empty": "  ", "NUL": "a\x00", "bidi": "a\u202eb", "long": strings.Repeat("é", orders.MaxNoteLength+1)} {
		if p := admin.post("/admin/orders/"+id+"/notes", url.Values{"note": {note}}); p.StatusCode != http.StatusUnprocessableEntity || p.doc.Find("#note-error").Length() != 1 {
			t.Errorf("%s note = %d, want 422 with the problem", name, p.StatusCode)
		}
	}
	if after := a.fingerprint(t, o.ref); after != before {
		t.Fatalf("refused notes changed the order: %s → %s", before, after)
	}
	p := admin.post("/admin/orders/"+id+"/notes", url.Values{"note": {"Called the customer.\r\n<i>Leave at the door</i>"}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("note = %d, want 303; body %s", p.StatusCode, p.body)
	}
	page := admin.get("/admin/orders/" + id)
	if !strings.Contains(page.doc.Find("#timeline").Text(), "<i>Leave at the door</i>") || strings.Contains(page.body, "<i>Leave") {
		t.Errorf("the note is not on the timeline as text:\n%s", page.doc.Find("#timeline").Text())
	}

	if p := admin.post("/admin/orders/"+id+"/receipt", nil); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend = %d, want 303; body %s", p.StatusCode, p.body)
	}
	if n, ok := resent.Load(mustInt(t, id)); !ok || *n.(*int) != 1 {
		t.Errorf("the receipt resender was not called once for the order")
	}
	if p := admin.post("/admin/orders/"+a.orderIDByRef(t, unpaid.ref)+"/receipt", nil); p.StatusCode != http.StatusConflict {
		t.Errorf("resending an unpaid order's receipt = %d, want 409", p.StatusCode)
	}
	if got := a.merchantEvents(t, o.ref); strings.Join(got, ",") != "note added,mail receipt_resent" {
		t.Errorf("the admin's events = %v", got)
	}
	if len(a.merchantEvents(t, unpaid.ref)) != 0 {
		t.Error("a refused resend recorded an event")
	}
}

// TestAdminResendWithoutMail: with no receipt mail wired in, a resend is refused
// (409) and records nothing.
func TestAdminResendWithoutMail(t *testing.T) {
	log := &effectLog{}
	a := newAppWith(t, testdb.New(t).Pool, appOptions{
		payments: func(p *orders.Payments) { p.AddEffect(log.effect) },
		config:   func(cfg *checkout.Config) { cfg.MailCatcherAddr = "" }, // no SMTP_URL, no catcher: no mail
	})
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.paidOrder(t)
	before := a.fingerprint(t, o.ref)
	if p := a.newAdmin(t).post("/admin/orders/"+a.orderIDByRef(t, o.ref)+"/receipt", nil); p.StatusCode != http.StatusConflict {
		t.Errorf("resend with no mail = %d, want 409", p.StatusCode)
	}
	if after := a.fingerprint(t, o.ref); after != before {
		t.Errorf("a refused resend changed the order: %s → %s", before, after)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAdminFulfilmentList: the merchant's to-do list. The orders list and its
// CSV show each order's fulfilment and filter on it (to ship: paid and not
// shipped; shipped), and the overview counts the paid orders waiting to ship,
// linking to that filter. An unknown filter value is a 400.
func TestAdminFulfilmentList(t *testing.T) {
	a, _ := newActionsApp(t)
	shipped := a.paidOrder(t)
	waiting := a.paidOrder(t)
	unpaid := a.checkoutOne(t)
	admin := a.newAdmin(t)
	if p := admin.post("/admin/orders/"+a.orderIDByRef(t, shipped.ref)+"/ship", shipForm(t, admin, a.orderIDByRef(t, shipped.ref), "carrier", "DHL")); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("ship = %d", p.StatusCode)
	}
	number := func(ref string) string {
		var n string
		if err := a.pool.QueryRow(context.Background(), `SELECT number FROM orders WHERE public_ref = $1`, ref).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	overview := admin.get("/admin")
	var toShip *goquery.Selection
	overview.doc.Find("#attention a").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(".label").Text()) == "Paid, waiting to ship" {
			toShip = s
		}
	})
	if toShip == nil {
		t.Fatalf("the overview does not count the orders waiting to ship:\n%s", overview.doc.Find("#attention").Text())
	}
	if got := strings.TrimSpace(toShip.Find(".value").Text()); got != "1" {
		t.Errorf("waiting to ship = %s, want 1", got)
	}
	link := toShip.AttrOr("href", "")
	if link != "/admin/orders?fulfilment=to_ship" {
		t.Errorf("the overview links to %q", link)
	}

	rows := func(p *page) string {
		var got []string
		p.doc.Find("#orders tbody tr").Each(func(_ int, s *goquery.Selection) {
			got = append(got, s.AttrOr("data-number", "")+" "+s.Find("td.fulfilment").AttrOr("data-fulfilment", ""))
		})
		return strings.Join(got, ",")
	}
	if got, want := rows(admin.get(link)), number(waiting.ref)+" to_ship"; got != want {
		t.Errorf("to ship lists %v, want %v", got, want)
	}
	if got, want := rows(admin.get("/admin/orders?fulfilment=shipped")), number(shipped.ref)+" shipped"; got != want {
		t.Errorf("shipped lists %v, want %v", got, want)
	}
	if p := admin.get("/admin/orders?fulfilment=%3Cx%3E"); p.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown fulfilment filter = %d, want 400", p.StatusCode)
	}

	p := admin.get("/admin/orders.csv")
	records, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(records[0], "fulfilment")
	if col < 0 || col+1 >= len(records[0]) || records[0][col+1] != "shipped_at" {
		t.Fatalf("CSV header %v has no fulfilment and shipped_at", records[0])
	}
	byNumber := map[string][]string{}
	for _, r := range records[1:] {
		byNumber[r[0]] = r
	}
	for ref, want := range map[string]string{shipped.ref: "shipped", waiting.ref: "to_ship", unpaid.ref: ""} {
		r := byNumber[number(ref)]
		if r == nil || r[col] != want || (want == "shipped") != (r[col+1] != "") {
			t.Errorf("CSV row of %s = %v, want fulfilment %q", number(ref), r, want)
		}
	}
	if p := admin.get("/admin/orders.csv?fulfilment=to_ship"); strings.Count(p.body, "\n") != 2 || !strings.Contains(p.body, number(waiting.ref)) {
		t.Errorf("the to-ship CSV is not the header and the waiting order:\n%s", p.body)
	}
}
