package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// testMerchantSecret signs the outbound webhooks in these tests.
const testMerchantSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// merchantReceiver is the merchant's system: a real HTTP server answering each
// webhook as its script says (a status, or 0 to hang until the sender gives
// up), then 200.
type merchantReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	script []int
	bodies map[int]string // the answer's body for a status
	got    []receivedWebhook
}

type receivedWebhook struct {
	header http.Header
	body   []byte
	query  url.Values
}

func newMerchantReceiver(t *testing.T, script ...int) *merchantReceiver {
	t.Helper()
	m := &merchantReceiver{script: script, bodies: map[int]string{}}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		n := len(m.got)
		m.got = append(m.got, receivedWebhook{header: r.Header.Clone(), body: body, query: r.URL.Query()})
		code := http.StatusOK
		if n < len(m.script) {
			code = m.script[n]
		}
		answer := m.bodies[code]
		m.mu.Unlock()
		if code == 0 {
			<-r.Context().Done() // the sender's timeout ends the request
			return
		}
		w.WriteHeader(code)
		io.WriteString(w, answer)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchantReceiver) received() []receivedWebhook {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]receivedWebhook(nil), m.got...)
}

// newHookedApp is the app sending its webhooks to m, with a short attempt
// timeout and retries 50 ms apart, logging to logs.
func newHookedApp(t *testing.T, m *merchantReceiver, logs io.Writer) *app {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	return newAppWith(t, testdb.New(t).Pool, appOptions{
		config: func(c *checkout.Config) {
			c.MerchantWebhookURL = m.srv.URL + "/orders-hook?token=s3cr3t-token"
			c.MerchantWebhookSecret = testMerchantSecret
		},
		options: []checkout.Option{
			checkout.WithWebhookDelivery(500*time.Millisecond, func(int) time.Duration { return 50 * time.Millisecond }),
			checkout.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		},
	})
}

// outbound is one outbox row.
type outbound struct {
	id, typ, status string
	attempts        int
}

func (a *app) outbound(t *testing.T) []outbound {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `SELECT id, type, status, attempts FROM outbound_webhooks ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outbound
	for rows.Next() {
		var o outbound
		if err := rows.Scan(&o.id, &o.typ, &o.status, &o.attempts); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// payOne checks out one mug and pays for it; the sandbox's webhook makes the
// order paid.
func (a *app) payOne(t *testing.T) *checkedOut {
	t.Helper()
	o := a.checkoutOne(t)
	payOnHostedPage(t, o.link, "4242424242424242")
	eventually(t, "the order to be paid", func() bool { return a.orderStatus(t, o.ref) == "paid" })
	return o
}

// TestOutboundWebhookRetriedUntilDelivered: the merchant's system answers 500,
// then does not answer in time, then 200. The order.paid webhook is delivered on
// the third attempt, with the same webhook-id and body each time, every attempt
// verifiable with the Standard Webhooks library, and recorded.
func TestOutboundWebhookRetriedUntilDelivered(t *testing.T) {
	m := newMerchantReceiver(t, http.StatusInternalServerError, 0, http.StatusOK)
	logs := &syncBuffer{}
	a := newHookedApp(t, m, logs)
	o := a.payOne(t)
	eventually(t, "the webhook to be delivered", func() bool {
		rows := a.outbound(t)
		return len(rows) == 1 && rows[0].status == orders.WebhookDelivered
	})
	row := a.outbound(t)[0]
	if row.typ != "order.paid" || row.attempts != 3 {
		t.Errorf("outbox row %+v, want order.paid after 3 attempts", row)
	}
	got := m.received()
	if len(got) != 3 {
		t.Fatalf("the receiver got %d requests, want 3", len(got))
	}
	verifier, err := standardwebhooks.NewWebhook(testMerchantSecret)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if id := r.header.Get("webhook-id"); id != row.id {
			t.Errorf("attempt %d: webhook-id %q, want %q on every attempt", i+1, id, row.id)
		}
		if err := verifier.Verify(r.body, r.header); err != nil {
			t.Errorf("attempt %d does not verify: %v", i+1, err)
		}
		if string(r.body) != string(got[0].body) {
			t.Errorf("attempt %d body differs from the first:\n%s\n%s", i+1, r.body, got[0].body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("attempt %d Content-Type %q", i+1, ct)
		}
		if r.query.Get("token") != "s3cr3t-token" {
			t.Errorf("attempt %d lost the URL's query: %v", i+1, r.query)
		}
	}

	// The body: the event's type, an RFC 3339 timestamp and the order.
	var body struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			Order struct {
				Number     string `json:"number"`
				Status     string `json:"status"`
				Currency   string `json:"currency"`
				TotalMinor int64  `json:"total_minor"`
				Total      string `json:"total"`
				Items      []struct {
					Name     string `json:"name"`
					Quantity int    `json:"quantity"`
				} `json:"items"`
			} `json:"order"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got[0].body)
	}
	if _, err := time.Parse(time.RFC3339, body.Timestamp); err != nil || body.Type != "order.paid" {
		t.Errorf("type %q timestamp %q, want order.paid and RFC 3339", body.Type, body.Timestamp)
	}
	var number, currency string
	var total int64
	if err := a.pool.QueryRow(context.Background(), `SELECT number, currency, total_minor FROM orders WHERE public_ref = $1`, o.ref).
		Scan(&number, &currency, &total); err != nil {
		t.Fatal(err)
	}
	ord := body.Data.Order
	if ord.Number != number || ord.Status != "paid" || ord.Currency != currency || ord.TotalMinor != total ||
		ord.Total != (orders.Money{Minor: total, Currency: currency}).Decimal() || !strings.Contains(ord.Total, ".") {
		t.Errorf("order in the body = %+v, want %s paid %d %s", ord, number, total, currency)
	}
	if len(ord.Items) != 1 || ord.Items[0].Quantity != 1 || ord.Items[0].Name == "" {
		t.Errorf("items = %+v, want the one mug", ord.Items)
	}

	// Each attempt is recorded: the 500, the timeout, the 200.
	rows, err := a.pool.Query(context.Background(), `
		SELECT coalesce(http_status::text, error) FROM outbound_webhook_attempts WHERE webhook_id = $1 ORDER BY id`, row.id)
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		results = append(results, s)
	}
	if len(results) != 3 || results[0] != "500" || !strings.Contains(results[1], "no answer within") || results[2] != "200" {
		t.Errorf("attempts recorded %q, want 500, a timeout, 200", results)
	}

	// The logs name the webhook, and neither the shopper, the URL's token nor the secret.
	out := logs.String()
	if !strings.Contains(out, row.id) {
		t.Errorf("the logs do not mention the webhook %s", row.id)
	}
	for _, secret := range []string{"Ada Lovelace", "ada@example.com", "s3cr3t-token", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

// TestOutboundWebhookOncePerPaidOrder: the order is confirmed again and again —
// duplicate webhooks, the success page, the admin's Sync — and the merchant's
// system still gets one order.paid.
func TestOutboundWebhookOncePerPaidOrder(t *testing.T) {
	m := newMerchantReceiver(t)
	a := newHookedApp(t, m, nil)
	o := a.payOne(t)
	var paymentID string
	if err := a.pool.QueryRow(context.Background(), `SELECT orchestrate_payment_id FROM payment_attempts`).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	body := succeededEvent(paymentID)
	sig := orchestrate.Sign(body, testWebhookSecret)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() { a.postWebhook(t, body, sig) })
	}
	wg.Wait()
	o.get("/orders/" + o.ref + "/success")
	admin := a.newAdmin(t)
	admin.post("/admin/orders/"+a.orderIDByRef(t, o.ref)+"/sync", nil)
	eventually(t, "every confirmation job to finish", func() bool {
		return a.count(t, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded') AND kind <> 'sweep_attempts'`) == 0
	})
	rows := a.outbound(t)
	if len(rows) != 1 || rows[0].typ != "order.paid" || rows[0].status != orders.WebhookDelivered {
		t.Fatalf("outbox %+v, want one delivered order.paid", rows)
	}
	if got := m.received(); len(got) != 1 {
		t.Errorf("the receiver got %d webhooks, want 1", len(got))
	}
}

// TestNoOutboundWebhooksWithoutURL: with no MERCHANT_WEBHOOK_URL a paid order
// writes no webhook and queues no job, and the admin's page says so.
func TestNoOutboundWebhooksWithoutURL(t *testing.T) {
	a := newApp(t)
	a.payOne(t)
	eventually(t, "every confirmation job to finish", func() bool {
		return a.count(t, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded') AND kind <> 'sweep_attempts'`) == 0
	})
	if n := a.count(t, `SELECT count(*) FROM outbound_webhooks`); n != 0 {
		t.Errorf("%d outbound webhooks written without a URL", n)
	}
	if n := a.count(t, `SELECT count(*) FROM river_job WHERE kind = 'deliver_webhook'`); n != 0 {
		t.Errorf("%d delivery jobs queued without a URL", n)
	}
	admin := a.newAdmin(t)
	p := admin.get("/admin/outgoing-webhooks")
	if p.StatusCode != http.StatusOK || p.doc.Find("#not-configured").Length() != 1 {
		t.Errorf("outgoing webhooks page = %d, without saying none are configured", p.StatusCode)
	}
}

// TestAdminOutgoingWebhooksAndResend: the admin sees each webhook with its
// attempts and the receiver's answers (escaped), and Resend sends the same
// webhook-id again; a forged or hostile resend changes nothing.
func TestAdminOutgoingWebhooksAndResend(t *testing.T) {
	m := newMerchantReceiver(t, http.StatusServiceUnavailable)
	m.bodies[http.StatusServiceUnavailable] = `<script>alert("pwned")</script>`
	a := newHookedApp(t, m, nil)
	o := a.payOne(t)
	eventually(t, "the webhook to be delivered", func() bool {
		rows := a.outbound(t)
		return len(rows) == 1 && rows[0].status == orders.WebhookDelivered
	})
	id := a.outbound(t)[0].id
	admin := a.newAdmin(t)
	p := admin.get("/admin/outgoing-webhooks")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("outgoing webhooks page = %d", p.StatusCode)
	}
	if p.doc.Find(`nav a[href="/admin/outgoing-webhooks"]`).Length() != 1 {
		t.Error("the admin nav does not link to the outgoing webhooks")
	}
	tr := p.doc.Find(`#outgoing tr[data-webhook="` + id + `"]`)
	if tr.Length() != 1 {
		t.Fatalf("webhook %s is not listed:\n%s", id, p.body)
	}
	if got := tr.Find("td").Eq(1).Text(); got != "order.paid" {
		t.Errorf("type shown %q", got)
	}
	if tr.Find(`a[href="/admin/orders/`+a.orderIDByRef(t, o.ref)+`"]`).Length() != 1 {
		t.Error("the webhook does not link to its order")
	}
	if got := tr.Find(".status .badge").Text(); got != "delivered" {
		t.Errorf("status shown %q, want delivered", got)
	}
	if got := tr.Find(".last-result").Text(); got != "HTTP 200" {
		t.Errorf("last result shown %q, want HTTP 200", got)
	}
	if got := tr.Find(".attempt-log li").Length(); got != 2 {
		t.Errorf("%d attempts shown, want 2", got)
	}
	if p.doc.Find("script:contains('pwned')").Length() != 0 || !strings.Contains(tr.Find(".attempt-log").Text(), `<script>alert("pwned")</script>`) {
		t.Error("the receiver's answer is not shown escaped")
	}

	// Resend: a new attempt with the same webhook-id.
	resend := "/admin/outgoing-webhooks/" + id + "/resend"
	if p := admin.postRaw(resend, url.Values{}); p.StatusCode != http.StatusForbidden {
		t.Errorf("resend without a CSRF token = %d, want 403", p.StatusCode)
	}
	if n := len(m.received()); n != 2 {
		t.Fatalf("the receiver got %d webhooks before the resend, want 2", n)
	}
	p = admin.post(resend, nil)
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/outgoing-webhooks" {
		t.Fatalf("resend = %d %q, want 303 to the list", p.StatusCode, p.Header.Get("Location"))
	}
	eventually(t, "the resent webhook to arrive", func() bool {
		return len(m.received()) == 3 && a.outbound(t)[0].attempts == 3
	})
	if got := m.received()[2].header.Get("webhook-id"); got != id {
		t.Errorf("resent webhook-id %q, want %q", got, id)
	}
	if got := a.outbound(t)[0].status; got != orders.WebhookDelivered {
		t.Errorf("after the resend the webhook is %s", got)
	}
	if flash := admin.get("/admin/outgoing-webhooks").doc.Find("#flash").Text(); !strings.Contains(flash, "queued") {
		t.Errorf("flash after resend = %q", flash)
	}

	// Hostile input: a clear 4xx, nothing queued.
	before := a.count(t, `SELECT count(*) FROM river_job WHERE kind = 'deliver_webhook'`)
	for _, bad := range []string{"msg_doesnotexist0000000000", "%3Cscript%3E", "msg_%E2%80%AEabc", strings.Repeat("x", 500)} {
		if p := admin.post("/admin/outgoing-webhooks/"+bad+"/resend", nil); p.StatusCode != http.StatusNotFound {
			t.Errorf("resend of %q = %d, want 404", bad, p.StatusCode)
		}
	}
	for _, bad := range []string{"<script>", "msg_\u202e", "1"} {
		if p := admin.get("/admin/outgoing-webhooks?before=" + url.QueryEscape(bad)); p.StatusCode != http.StatusBadRequest {
			t.Errorf("page before %q = %d, want 400", bad, p.StatusCode)
		}
	}
	if after := a.count(t, `SELECT count(*) FROM river_job WHERE kind = 'deliver_webhook'`); after != before {
		t.Errorf("hostile resends queued %d jobs", after-before)
	}
	if n := len(m.received()); n != 3 {
		t.Errorf("the receiver got %d webhooks, want 3", n)
	}
}
