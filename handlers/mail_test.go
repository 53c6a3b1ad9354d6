package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	checkout "github.com/orchestrate-checkout/checkout/internal/app"

	"github.com/orchestrate-checkout/checkout/internal/mailcatcher"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/mailer"
	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// startCatcher runs a real SMTP server for the test, on addr ("127.0.0.1:0" for
// any port).
func startCatcher(t *testing.T, addr string) *mailcatcher.Catcher {
	t.Helper()
	c, err := mailcatcher.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// withSMTP points the app's SMTP_URL at addr.
func withSMTP(t *testing.T, addr string, opts appOptions) appOptions {
	t.Helper()
	smtp, err := mailer.ParseSMTPURL("smtp://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	opts.config = func(cfg *checkout.Config) { cfg.SMTP = smtp }
	return opts
}

// mailIdle: no mail job waits or runs.
func (a *app) mailIdle(t *testing.T) bool {
	return a.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_mail' AND state NOT IN ('completed', 'discarded', 'cancelled')`) == 0
}

// messagesTo counts the messages the catcher received for rcpt whose subject
// contains subject.
func messagesTo(c *mailcatcher.Catcher, rcpt, subject string) []mailcatcher.Message {
	var out []mailcatcher.Message
	for _, m := range c.Messages() {
		if len(m.To) == 1 && m.To[0] == rcpt && strings.Contains(m.Subject, subject) {
			out = append(out, m)
		}
	}
	return out
}

// TestReceiptSentOnceUnderDuplicatesSweepAndSync: the shopper pays; 100
// duplicate payment.succeeded deliveries, the sweeper (every 50 ms) and the
// merchant's Sync race to apply it. The SMTP server receives exactly one
// receipt, with the order's number, items, total and link, and the order page
// says when it was sent.
func TestReceiptSentOnceUnderDuplicatesSweepAndSync(t *testing.T) {
	catcher := startCatcher(t, "127.0.0.1:0")
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, catcher.Addr(), appOptions{sweep: 50 * time.Millisecond}))
	o := a.checkoutOne(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // only our duplicates reach the app
	admin := a.newAdmin(t)
	id := a.orderIDByRef(t, o.ref)
	var paymentID string
	if err := a.pool.QueryRow(context.Background(), `SELECT orchestrate_payment_id FROM payment_attempts`).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	if n := len(catcher.Messages()); n != 0 {
		t.Fatalf("%d messages before the payment, want none", n)
	}
	payOnHostedPage(t, o.link, "4242424242424242")
	body := succeededEvent(paymentID)
	sig := orchestrate.Sign(body, testWebhookSecret)

	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 100 {
		wg.Go(func() { <-start; a.postWebhook(t, body, sig) })
	}
	wg.Go(func() { <-start; admin.post("/admin/orders/"+id+"/sync", nil) })
	close(start)
	wg.Wait()

	eventually(t, "the order to be paid", func() bool { return a.orderStatus(t, o.ref) == "paid" })
	eventually(t, "the receipt to be sent", func() bool {
		return a.count(t, `SELECT count(*) FROM mail_outbox WHERE status = 'sent'`) >= 1
	})
	eventually(t, "the deliveries to be processed and the mail jobs to finish", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0 && a.mailIdle(t)
	})
	// One more sync of the paid order, after everything settled, queues nothing.
	admin.post("/admin/orders/"+id+"/sync", nil)
	eventually(t, "the mail jobs to finish", func() bool { return a.mailIdle(t) })

	receipts := messagesTo(catcher, "ada@example.com", "confirmed")
	if len(receipts) != 1 || len(catcher.Messages()) != 1 {
		t.Fatalf("the SMTP server received %d receipts (%d messages), want exactly 1", len(receipts), len(catcher.Messages()))
	}
	if n := a.count(t, `SELECT count(*) FROM mail_outbox`); n != 1 {
		t.Errorf("%d outbox rows, want 1", n)
	}
	var number, messageID string
	if err := a.pool.QueryRow(context.Background(), `SELECT o.number, m.message_id FROM orders o JOIN mail_outbox m ON m.order_id = o.id`).Scan(&number, &messageID); err != nil {
		t.Fatal(err)
	}
	raw := string(receipts[0].Raw)
	for _, want := range []string{number, "Enamel camp mug", "US$19.99", "http://shop.test/orders/" + o.ref, "Field Kettle", "text/plain", "text/html"} {
		if !strings.Contains(raw, want) {
			t.Errorf("the receipt lacks %q:\n%s", want, raw)
		}
	}
	if !strings.Contains(raw, "\r\nTotal: US$19.99\r\n") {
		t.Errorf("the plain text has no line \"Total: US$19.99\":\n%s", raw)
	}
	if got := a.orderEvents(t, o.ref, "mail"); strings.Join(got, ",") != ">queued,queued>sent" {
		t.Errorf("the order's mail events are %q, want queued then sent, once", got)
	}
	if receipts[0].MessageID != "<"+messageID+">" {
		t.Errorf("Message-ID %q, want the outbox's <%s>", receipts[0].MessageID, messageID)
	}
	page := o.shopper.get("/orders/" + o.ref)
	if !strings.Contains(page.body, "We emailed your receipt to ada@example.com at") {
		t.Errorf("the order page does not say the receipt was sent:\n%s", page.body)
	}
}

// TestNoMailForFailedOrExpiredOrders: an order whose payment is cancelled
// (failed) and one whose payment expires send nothing.
func TestNoMailForFailedOrExpiredOrders(t *testing.T) {
	catcher := startCatcher(t, "127.0.0.1:0")
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, catcher.Addr(), appOptions{}))
	failed := a.checkoutOne(t)
	cancelOnHostedPage(t, failed.link)
	expired := a.checkoutOne(t)
	a.control(t, "/_sandbox/payments/"+paymentIDOf(t, expired.link)+"/expire")
	eventually(t, "the orders to fail and expire", func() bool {
		return a.orderStatus(t, failed.ref) == "failed" && a.orderStatus(t, expired.ref) == "expired"
	})
	eventually(t, "the deliveries to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0 && a.mailIdle(t)
	})
	if n := a.count(t, `SELECT count(*) FROM mail_outbox`); n != 0 {
		t.Errorf("%d messages queued for failed and expired orders, want none", n)
	}
	if n := len(catcher.Messages()); n != 0 {
		t.Errorf("the SMTP server received %d messages, want none", n)
	}
}

// TestReceiptRetriedWhileSMTPDown: the SMTP server is down when the order is
// paid; the send fails, is recorded and retried with River's backoff, and the
// receipt arrives once the server is back. The order page says so meanwhile.
func TestReceiptRetriedWhileSMTPDown(t *testing.T) {
	down := startCatcher(t, "127.0.0.1:0")
	addr := down.Addr()
	down.Close()
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, addr, appOptions{}))
	o := a.checkoutOne(t)
	payOnHostedPage(t, o.link, "4242424242424242")
	eventually(t, "a failed attempt to send the receipt", func() bool {
		return a.count(t, `SELECT count(*) FROM mail_outbox WHERE status = 'failed' AND attempts >= 1 AND last_error IS NOT NULL`) == 1
	})
	if p := o.shopper.get("/orders/" + o.ref); !strings.Contains(p.body, "We could not email your receipt to ada@example.com yet") {
		t.Errorf("the order page does not say the receipt failed and is retried")
	}
	up := startCatcher(t, addr)
	eventually(t, "the receipt to arrive after the server came back", func() bool { return len(up.Messages()) == 1 })
	eventually(t, "the receipt to be marked sent", func() bool {
		return a.count(t, `SELECT count(*) FROM mail_outbox WHERE status = 'sent' AND sent_at IS NOT NULL`) == 1
	})
	eventually(t, "the mail jobs to finish", func() bool { return a.mailIdle(t) })
	if n := len(up.Messages()); n != 1 {
		t.Errorf("%d messages after the retry, want 1", n)
	}
	if got := a.orderEvents(t, o.ref, "mail"); strings.Join(got, ",") != ">queued,queued>failed,failed>sent" {
		t.Errorf("the order's mail events are %q, want queued, the first failure, sent", got)
	}
}

// TestOrderLookup: malformed input is 422 with the input kept; an unknown
// number and a wrong address get the same answer as a match; only the match
// is mailed the order page's link; a burst of lookups from one address is 429.
func TestOrderLookup(t *testing.T) {
	catcher := startCatcher(t, "127.0.0.1:0")
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, catcher.Addr(), appOptions{}))
	o := a.checkoutOne(t)
	var number string
	if err := a.pool.QueryRow(context.Background(), `SELECT number FROM orders WHERE public_ref = $1`, o.ref).Scan(&number); err != nil {
		t.Fatal(err)
	}
	s := a.newShopper(t)
	if p := s.get("/orders/lookup"); p.StatusCode != http.StatusOK || p.doc.Find(`form[action="/orders/lookup"] input[name="_csrf"]`).Length() != 1 {
		t.Fatalf("GET /orders/lookup = %d, want 200 with a CSRF-protected form", p.StatusCode)
	}
	if p := s.postRaw("/orders/lookup", url.Values{"email": {"ada@example.com"}, "number": {number}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("lookup without CSRF = %d, want 403", p.StatusCode)
	}
	before := a.dbState(t)
	p := s.post("/orders/lookup", url.Values{"email": {"ada@example.com\u202e"}, "number": {"FK-1; DROP TABLE orders"}})
	if p.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("hostile lookup = %d, want 422", p.StatusCode)
	}
	if v, _ := p.doc.Find(`input[name="number"]`).Attr("value"); v != "FK-1; DROP TABLE ORDERS" {
		t.Errorf("the number was not kept: %q", v)
	}
	if after := a.dbState(t); after["orders"] != before["orders"] || a.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'lookup'`) != 0 {
		t.Errorf("a hostile lookup changed the orders or queued mail")
	}

	answers := map[string]string{}
	for name, form := range map[string]url.Values{
		"unknown number": {"email": {"ada@example.com"}, "number": {"FK-999999"}},
		"wrong email":    {"email": {"eve@example.com"}, "number": {number}},
		"match":          {"email": {"ADA@example.com"}, "number": {strings.ToLower(number)}},
	} {
		p := s.post("/orders/lookup", form)
		if p.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: lookup = %d, want 303", name, p.StatusCode)
		}
		answers[name] = p.Header.Get("Location") + "|" + s.get(p.Header.Get("Location")).doc.Find("main").Text()
	}
	if answers["unknown number"] != answers["match"] || answers["wrong email"] != answers["match"] {
		t.Errorf("the answers differ, revealing which orders exist: %q", answers)
	}
	eventually(t, "the lookup's link to arrive", func() bool { return len(messagesTo(catcher, "ada@example.com", "link to your order")) == 1 })
	eventually(t, "the mail jobs to finish", func() bool { return a.mailIdle(t) })
	if n := len(catcher.Messages()); n != 1 {
		t.Errorf("%d messages, want the one link to the matching order", n)
	}
	if raw := string(catcher.Messages()[0].Raw); !strings.Contains(raw, "http://shop.test/orders/"+o.ref) {
		t.Errorf("the lookup mail lacks the order's link:\n%s", raw)
	}

	// Four posts so far from this address (the one refused for CSRF never
	// reached the limit): the burst allows five, the sixth waits.
	if p := s.post("/orders/lookup", url.Values{"email": {"ada@example.com"}, "number": {number}}); p.StatusCode != http.StatusSeeOther {
		t.Errorf("fifth lookup in a burst = %d, want 303", p.StatusCode)
	}
	if p := s.post("/orders/lookup", url.Values{"email": {"ada@example.com"}, "number": {number}}); p.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sixth lookup in a burst = %d, want 429", p.StatusCode)
	}
}

// TestOutboxQueueIsIdempotent: a receipt queued again (a replayed paid
// transition) keeps its row and Message-ID; a lookup is a new message with its
// own.
func TestOutboxQueueIsIdempotent(t *testing.T) {
	catcher := startCatcher(t, "127.0.0.1:0")
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, catcher.Addr(), appOptions{}))
	o := a.checkoutOne(t)
	payOnHostedPage(t, o.link, "4242424242424242")
	eventually(t, "the receipt", func() bool { return a.count(t, `SELECT count(*) FROM mail_outbox WHERE status = 'sent'`) == 1 })
	id, _ := strconv.ParseInt(a.orderIDByRef(t, o.ref), 10, 64)
	outbox := mailer.NewOutbox(a.pool, "shop.test", clockwork.NewRealClock())
	tx, err := a.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	jobs, err := outbox.Queue(context.Background(), tx, id, mailer.KindReceipt, 0)
	if err != nil || len(jobs) != 0 {
		t.Errorf("queueing the receipt again = %d jobs, %v; want none", len(jobs), err)
	}
	jobs, err = outbox.QueueNext(context.Background(), tx, id, mailer.KindReceipt)
	if err != nil || len(jobs) != 1 {
		t.Errorf("a resent receipt = %d jobs, %v; want 1", len(jobs), err)
	}
	var ids int
	if err := tx.QueryRow(context.Background(), `SELECT count(DISTINCT message_id) FROM mail_outbox WHERE order_id = $1`, id).Scan(&ids); err != nil || ids != 2 {
		t.Errorf("%d distinct Message-IDs for a receipt and its resend, want 2 (%v)", ids, err)
	}
}

// TestOrderLookupCapsLinksPerOrder: one order is mailed at most three lookup
// links an hour of the app's clock; the fourth ask is answered the same and
// sends nothing, and an hour later a link is sent again.
func TestOrderLookupCapsLinksPerOrder(t *testing.T) {
	catcher := startCatcher(t, "127.0.0.1:0")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, catcher.Addr(), appOptions{clock: clock}))
	o := a.checkoutOne(t)
	var number string
	if err := a.pool.QueryRow(context.Background(), `SELECT number FROM orders WHERE public_ref = $1`, o.ref).Scan(&number); err != nil {
		t.Fatal(err)
	}
	s := a.newShopper(t)
	ask := func() {
		t.Helper()
		if p := s.post("/orders/lookup", url.Values{"email": {"ada@example.com"}, "number": {number}}); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("lookup = %d, want 303", p.StatusCode)
		}
	}
	for range 4 {
		ask()
	}
	if n := a.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'lookup'`); n != 3 {
		t.Errorf("%d lookup links queued for four asks in an hour, want 3", n)
	}
	clock.Advance(time.Hour + time.Second)
	ask()
	if n := a.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'lookup'`); n != 4 {
		t.Errorf("%d lookup links queued after an hour passed, want 4", n)
	}
	eventually(t, "the links to arrive", func() bool { return len(messagesTo(catcher, "ada@example.com", "link to your order")) == 4 })
}

// TestShippedMailOncePerShipmentAndReceiptResent: with real SMTP, each shipment
// the merchant records mails the shopper one "shipped" message naming its
// carrier and tracking number (a form sent twice is one shipment, one mail), and
// the merchant's Resend mails the receipt again as a new message with a
// Message-ID of its own.
func TestShippedMailOncePerShipmentAndReceiptResent(t *testing.T) {
	catcher := startCatcher(t, "127.0.0.1:0")
	a := newAppWith(t, testdb.New(t).Pool, withSMTP(t, catcher.Addr(), appOptions{}))
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.paidOrder(t)
	admin := a.newAdmin(t)
	id := a.orderIDByRef(t, o.ref)
	eventually(t, "the receipt to be sent", func() bool { return len(messagesTo(catcher, "ada@example.com", "confirmed")) == 1 })

	first := shipForm(t, admin, id, "carrier", "UPS", "tracking", "1Z999AA10123456784")
	for range 2 { // the same form twice: one shipment
		if p := admin.post("/admin/orders/"+id+"/ship", first); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("ship = %d, want 303", p.StatusCode)
		}
	}
	if p := admin.post("/admin/orders/"+id+"/ship", shipForm(t, admin, id, "carrier", "DHL", "tracking", "JD0002")); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("second shipment = %d", p.StatusCode)
	}
	eventually(t, "two shipped mails", func() bool { return len(messagesTo(catcher, "ada@example.com", "shipped")) >= 2 && a.mailIdle(t) })
	shipped := messagesTo(catcher, "ada@example.com", "shipped")
	if len(shipped) != 2 {
		t.Fatalf("%d shipped mails for 2 shipments, want 2", len(shipped))
	}
	raws := string(shipped[0].Raw) + string(shipped[1].Raw)
	for _, want := range []string{"1Z999AA10123456784", "UPS", "JD0002", "DHL"} {
		if !strings.Contains(raws, want) {
			t.Errorf("the shipped mails do not name %q", want)
		}
	}

	if p := admin.post("/admin/orders/"+id+"/receipt", url.Values{"confirm": {"yes"}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend the receipt = %d, want 303", p.StatusCode)
	}
	eventually(t, "the receipt to be resent", func() bool {
		return len(messagesTo(catcher, "ada@example.com", "confirmed")) >= 2 && a.mailIdle(t)
	})
	receipts := messagesTo(catcher, "ada@example.com", "confirmed")
	if len(receipts) != 2 || receipts[0].MessageID == receipts[1].MessageID {
		t.Errorf("after one resend: %d receipts with Message-IDs %q; want 2, different", len(receipts), messageIDs(receipts))
	}
}

func messageIDs(ms []mailcatcher.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.MessageID)
	}
	return out
}

// TestOrderLookupWithoutMailServer: with no mail server at all (development
// with the catcher off) a lookup of a real order answers like any other, and
// queues nothing that could never be sent.
func TestOrderLookupWithoutMailServer(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{config: func(c *checkout.Config) { c.SMTP, c.MailCatcherAddr = nil, "" }})
	o := a.checkoutOne(t)
	var number string
	if err := a.pool.QueryRow(context.Background(), `SELECT number FROM orders WHERE public_ref = $1`, o.ref).Scan(&number); err != nil {
		t.Fatal(err)
	}
	s := a.newShopper(t)
	for _, form := range []url.Values{
		{"email": {"ada@example.com"}, "number": {"FK-999999"}},
		{"email": {"ada@example.com"}, "number": {number}},
	} {
		if p := s.post("/orders/lookup", form); p.StatusCode != http.StatusSeeOther {
			t.Errorf("lookup of %s = %d, want 303", form.Get("number"), p.StatusCode)
		}
	}
	if n := a.count(t, `SELECT count(*) FROM mail_outbox`); n != 0 {
		t.Errorf("%d messages queued with no mail server", n)
	}
}
