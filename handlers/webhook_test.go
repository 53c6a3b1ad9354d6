package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (a *app) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// exec runs a statement on the app's database, failing the test on error.
func (a *app) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := a.pool.Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (a *app) orderStatus(t *testing.T, ref string) string {
	t.Helper()
	var s string
	if err := a.pool.QueryRow(context.Background(), `SELECT status FROM orders WHERE public_ref = $1`, ref).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// postWebhook sends body to the app's webhook endpoint with the given signature.
func (a *app) postWebhook(t *testing.T, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.server(t).URL+"/webhooks/orchestrate", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(orchestrate.SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebhookPaysOrder: the shopper pays and never comes back; the sandbox's signed
// webhook alone brings the order to paid.
func TestWebhookPaysOrder(t *testing.T) {
	a := newApp(t)
	o := a.checkoutOne(t)
	payOnHostedPage(t, o.link, "4242424242424242")
	eventually(t, "the webhook to pay the order", func() bool { return a.orderStatus(t, o.ref) == "paid" })
	eventually(t, "the deliveries to be marked processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	if n := a.count(t, `SELECT count(*) FROM order_events WHERE subject = 'order' AND to_status = 'paid'`); n != 1 {
		t.Errorf("%d paid transitions, want 1", n)
	}

	// The metrics tell the same story as the tables. They are counted just after
	// the commits the test has seen, so give them a moment. A webhook's job that
	// changed something wrote events under its own source: payment.succeeded's,
	// and payment.created's too when it beat the create response (creating → open).
	applied := a.count(t, `SELECT count(DISTINCT source_id) FROM order_events WHERE cause = 'webhook'`)
	wants := []string{
		`order_transitions_total{from="awaiting_payment",subject="order",to="paid"} 1`,
		`order_transitions_total{from="open",subject="attempt",to="completed"} 1`,
		`payment_confirmations_total{cause="webhook",outcome="applied"} ` + strconv.Itoa(applied),
		`webhooks_received_total{result="accepted",type="payment.succeeded"} 1`,
		"payment_attempt_oldest_open_seconds 0\n",
	}
	var metrics string
	deadline := time.Now().Add(5 * time.Second)
	for {
		metrics = a.scrape(t)
		missing := slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(metrics, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var ours []string
			for _, line := range strings.Split(metrics, "\n") {
				if strings.HasPrefix(line, "order_") || strings.HasPrefix(line, "payment_") || strings.HasPrefix(line, "webhooks_") {
					ours = append(ours, line)
				}
			}
			t.Fatalf("/metrics lacks %q; it has:\n%s", missing, strings.Join(ours, "\n"))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestOldestOpenAttemptMetric: an attempt waiting for its payment shows its age.
func TestOldestOpenAttemptMetric(t *testing.T) {
	a := newApp(t)
	a.checkoutOne(t)
	if _, err := a.pool.Exec(context.Background(), `UPDATE payment_attempts SET created_at = now() - interval '90 seconds'`); err != nil {
		t.Fatal(err)
	}
	if age := a.metric(t, "payment_attempt_oldest_open_seconds"); age < 90 || age > 120 {
		t.Errorf("oldest open attempt is %v s old, want about 90", age)
	}
}

func succeededEvent(paymentID string) []byte {
	return []byte(fmt.Sprintf(`{"id":"evt_%s","api_version":"1","type":"payment.succeeded","timestamp":"2026-11-23T10:00:00Z","payload":{"id":%q,"status":"completed","amount":"19.99","currency":"USD"}}`, paymentID, paymentID))
}

// TestWebhookSignatures: anything but a valid signature is 401 and writes nothing.
func TestWebhookSignatures(t *testing.T) {
	a := newApp(t)
	body := succeededEvent("pay_1")
	good := orchestrate.Sign(body, testWebhookSecret)
	tests := []struct {
		name      string
		body      []byte
		signature string
	}{
		{"missing", body, ""},
		{"malformed", body, "not-hex"},
		{"wrong secret", body, orchestrate.Sign(body, "whsec_other")},
		{"tampered body", bytes.Replace(body, []byte("19.99"), []byte("0.01"), 1), good},
		{"truncated signature", body, good[:20]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.postWebhook(t, tc.body, tc.signature); got != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", got)
			}
		})
	}
	if n := a.count(t, `SELECT count(*) FROM webhook_events`) + a.count(t, `SELECT count(*) FROM river_job WHERE kind = 'confirm_payment'`); n != 0 {
		t.Errorf("rejected deliveries wrote %d rows", n)
	}
	if got := a.postWebhook(t, body, "sha256="+good); got != http.StatusOK {
		t.Errorf("a valid sha256= signature = %d, want 200", got)
	}
}

func TestWebhookBadBodies(t *testing.T) {
	a := newApp(t)
	sign := func(b []byte) string { return orchestrate.Sign(b, testWebhookSecret) }
	invalid := []byte(`{"type": "payment.succeeded", "payload": `)
	if got := a.postWebhook(t, invalid, sign(invalid)); got != http.StatusBadRequest {
		t.Errorf("invalid JSON with a valid signature = %d, want 400", got)
	}
	if n := a.count(t, `SELECT count(*) FROM webhook_events WHERE result = 'invalid'`); n != 1 {
		t.Errorf("the invalid delivery was not kept for inspection (%d rows)", n)
	}
	unknownType := []byte(`{"type":"payment.refunded","payload":{"id":"pay_unknown"}}`)
	if got := a.postWebhook(t, unknownType, sign(unknownType)); got != http.StatusOK {
		t.Errorf("unknown event type = %d, want 200", got)
	}
	eventually(t, "the unknown payment to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE payment_id = 'pay_unknown' AND result = 'unknown_payment'`) == 1
	})
	// Orchestrate may send the amount as a string or as a number; both are
	// accepted, stored and processed (the API's read decides, not the payload).
	for i, amount := range []string{`"19.99"`, `19.99`} {
		body := []byte(fmt.Sprintf(`{"id":"evt_amount_%d","type":"payment.succeeded","payload":{"id":"pay_amount_%d","status":"completed","amount":%s,"currency":"USD"}}`, i, i, amount))
		if got := a.postWebhook(t, body, sign(body)); got != http.StatusOK {
			t.Errorf("amount %s = %d, want 200", amount, got)
		}
	}
	eventually(t, "both amount forms to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE payment_id LIKE 'pay_amount_%' AND processed_at IS NOT NULL`) == 2
	})
	huge := bytes.Repeat([]byte("x"), 10<<20)
	if got := a.postWebhook(t, huge, sign(huge)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("10 MiB body = %d, want 413", got)
	}
}

// TestWebhookStorm delivers one signed payment.succeeded 1,000 times at once:
// one inbox row, one transition, no 5xx.
func TestWebhookStorm(t *testing.T) {
	a := newApp(t)
	o := a.checkoutOne(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // only our storm reaches the app
	var paymentID string
	if err := a.pool.QueryRow(context.Background(), `SELECT orchestrate_payment_id FROM payment_attempts`).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	payOnHostedPage(t, o.link, "4242424242424242")
	body := succeededEvent(paymentID)
	sig := orchestrate.Sign(body, testWebhookSecret)

	const n = 1000
	codes := make(chan int, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			codes <- a.postWebhook(t, body, sig)
		})
	}
	wg.Wait()
	close(codes)
	byCode := map[int]int{}
	for c := range codes {
		byCode[c]++
	}
	if byCode[http.StatusOK] != n {
		t.Errorf("status codes %v, want %d × 200", byCode, n)
	}
	eventually(t, "the storm to pay the order", func() bool { return a.orderStatus(t, o.ref) == "paid" })
	if got := a.count(t, `SELECT count(*) FROM webhook_events WHERE event_id = $1`, "evt_"+paymentID); got != 1 {
		t.Errorf("%d inbox rows for the stormed event, want 1", got)
	}
	if got := a.count(t, `SELECT count(*) FROM order_events WHERE subject = 'order' AND to_status = 'paid'`); got != 1 {
		t.Errorf("%d paid transitions, want 1", got)
	}
}

// TestWebhookSaysSucceededButAPISaysPending: the API wins.
func TestWebhookSaysSucceededButAPISaysPending(t *testing.T) {
	a := newApp(t)
	o := a.checkoutOne(t)
	var paymentID string
	if err := a.pool.QueryRow(context.Background(), `SELECT orchestrate_payment_id FROM payment_attempts`).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	body := succeededEvent(paymentID) // forged content, but correctly signed
	if got := a.postWebhook(t, body, orchestrate.Sign(body, testWebhookSecret)); got != http.StatusOK {
		t.Fatalf("webhook = %d", got)
	}
	eventually(t, "the delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE event_id = $1 AND processed_at IS NOT NULL`, "evt_"+paymentID) == 1
	})
	if got := a.orderStatus(t, o.ref); got != "awaiting_payment" {
		t.Errorf("order = %s, want awaiting_payment: the API says pending", got)
	}
}
