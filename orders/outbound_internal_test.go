package orders

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// The Standard Webhooks specification's own test vector, from its reference
// libraries' tests (python/tests/test_webhooks.py test_sign_function, the same
// secret, id and payload as go/webhook_test.go).
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// TestWebhookSignatureMatchesSpecVector: the request we send for the spec's
// vector carries exactly the spec's headers and signature, and the reference
// library verifies it (and refuses it once the body is changed).
func TestWebhookSignatureMatchesSpecVector(t *testing.T) {
	h, err := NewHooks(nil, HooksConfig{URL: "https://erp.example/hooks", Secret: specSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := h.signedRequest(context.Background(), specMsgID, time.Unix(specTimestamp, 0), []byte(specPayload))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"webhook-id":        specMsgID,
		"webhook-timestamp": "1614265330",
		"webhook-signature": specSignature,
		"Content-Type":      "application/json",
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil || string(body) != specPayload {
		t.Fatalf("body %q (%v), want the payload unchanged", body, err)
	}
	lib, err := standardwebhooks.NewWebhook(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := lib.VerifyIgnoringTimestamp(body, req.Header); err != nil {
		t.Errorf("the reference library refuses our signature: %v", err)
	}
	if err := lib.VerifyIgnoringTimestamp([]byte(`{"test": 2432232315}`), req.Header); err == nil {
		t.Error("the reference library accepts a changed body")
	}
}

// TestWebhookBackoffSpansThreeDays: the first retries come within a minute,
// each wait is at least the one before, and the retries span at least three days.
func TestWebhookBackoffSpansThreeDays(t *testing.T) {
	if d := WebhookBackoff(1) + WebhookBackoff(2); d > time.Minute {
		t.Errorf("the first two retries come after %s, want within a minute", d)
	}
	var total time.Duration
	for n := 1; n < WebhookMaxAttempts; n++ {
		if n > 1 && WebhookBackoff(n) < WebhookBackoff(n-1) {
			t.Errorf("retry %d waits %s, less than retry %d's %s", n, WebhookBackoff(n), n-1, WebhookBackoff(n-1))
		}
		total += WebhookBackoff(n)
	}
	if total < 72*time.Hour || total > 96*time.Hour {
		t.Errorf("%d attempts span %s, want three to four days", WebhookMaxAttempts, total)
	}
}

func TestParseWebhookSecret(t *testing.T) {
	tests := []struct {
		name, secret string
		ok           bool
	}{
		{"spec secret", specSecret, true},
		{"32 bytes", "whsec_" + strings.Repeat("QUJD", 11), true},
		{"no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
		{"not base64", "whsec_not*base64*at*all*!!!!!!!!!!", false},
		{"too short", "whsec_QUJD", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		err := ParseWebhookSecret(tt.secret)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && tt.secret != "" && strings.Contains(err.Error(), strings.TrimPrefix(tt.secret, "whsec_")) {
			t.Errorf("%s: the error repeats the secret: %v", tt.name, err)
		}
	}
}

// TestWebhookEffectOnePerChange: the effect writes one webhook per order, change
// and detail (a second shipment is a second webhook, the same change again is
// none), with the order as it was, its shipping columns included when the order
// has them, and nothing at all without a URL.
func TestWebhookEffectOnePerChange(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	var orderID int64
	if err := db.Pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email, status)
		VALUES ('ref-0123456789012345678901', 'EUR', 123450, 'Ada', 'ada@example.com', 'paid') RETURNING id`).Scan(&orderID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO order_items (order_id, product_id, name, unit_price_minor, quantity)
		SELECT $1, id, name, 61725, 2 FROM products ORDER BY id LIMIT 1`, orderID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `
		UPDATE orders SET ship_line1 = '3 rue de la République', ship_city = 'Lyon', ship_postal_code = '69002',
			ship_country = 'FR', shipping_method = 'express', shipping_method_name = 'Express', shipping_minor = 990`); err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	off, err := NewHooks(db.Pool, HooksConfig{Clock: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	on, err := NewHooks(db.Pool, HooksConfig{URL: "https://erp.example/hooks", Secret: specSecret, Clock: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs := 0
	effect := func(h *Hooks, change OrderChange, detail string) {
		t.Helper()
		if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			ps, err := h.Effect(ctx, tx, orderID, change, detail)
			jobs += len(ps)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	effect(off, ChangePaid, "")
	effect(on, ChangePaid, "")
	effect(on, ChangePaid, "")
	effect(on, ChangeShipped, "shipment-1")
	effect(on, ChangeShipped, "shipment-2")
	effect(on, ChangeShipped, "shipment-2")
	effect(on, ChangeCancelled, "")
	if jobs != 4 {
		t.Errorf("%d jobs queued, want 4 (paid, two shipments, cancelled)", jobs)
	}
	rows, err := db.Pool.Query(ctx, `SELECT type, payload::text FROM outbound_webhooks ORDER BY type, detail`)
	if err != nil {
		t.Fatal(err)
	}
	type event struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			ShipmentID string         `json:"shipment_id"`
			Order      map[string]any `json:"order"`
		} `json:"data"`
	}
	var events []event
	for rows.Next() {
		var typ, payload string
		if err := rows.Scan(&typ, &payload); err != nil {
			t.Fatal(err)
		}
		var e event
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != typ {
			t.Errorf("row of type %s carries %s", typ, e.Type)
		}
		events = append(events, e)
	}
	if len(events) != 4 {
		t.Fatalf("%d webhooks written, want 4", len(events))
	}
	if events[2].Data.ShipmentID != "shipment-1" || events[3].Data.ShipmentID != "shipment-2" {
		t.Errorf("shipments %q %q", events[2].Data.ShipmentID, events[3].Data.ShipmentID)
	}
	o := events[0].Data.Order
	items, _ := o["items"].([]any)
	shipping, _ := o["shipping"].(map[string]any)
	if events[0].Timestamp != "2026-03-01T12:00:00Z" || o["currency"] != "EUR" || o["total_minor"] != float64(123450) ||
		o["total"] != "1234.50" || o["status"] != "paid" || len(items) != 1 ||
		shipping["city"] != "Lyon" || shipping["method"] != "express" || shipping["price"] != "9.90" ||
		shipping["recipient"] != "Ada" || shipping["country"] != "FR" {
		t.Errorf("event %+v", events[0])
	}
	if len(items) == 1 {
		item := items[0].(map[string]any)
		if item["quantity"] != float64(2) || item["unit_price"] != "617.25" || item["total"] != "1234.50" {
			t.Errorf("item %v", item)
		}
	}
}

// TestWebhookFinalFailureKeepsURLSecret: a receiver that cannot be reached is
// recorded as an attempt whose error does not repeat the URL (its query may be
// a token), and the last attempt marks the webhook failed.
func TestWebhookFinalFailureKeepsURLSecret(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	var orderID int64
	if err := db.Pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email, status)
		VALUES ('ref-0123456789012345678901', 'USD', 1999, 'Ada', 'ada@example.com', 'paid') RETURNING id`).Scan(&orderID); err != nil {
		t.Fatal(err)
	}
	// A port that was just listening and is now closed refuses the connection.
	srv := httptest.NewServer(http.NotFoundHandler())
	closed := srv.URL
	srv.Close()
	h, err := NewHooks(db.Pool, HooksConfig{URL: closed + "/hooks?token=s3cr3t-token", Secret: specSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		_, err := h.Effect(ctx, tx, orderID, ChangePaid, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM outbound_webhooks`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := h.deliver(ctx, id, false, time.Now().Add(time.Minute)); err == nil {
		t.Fatal("an unreachable receiver counted as delivered")
	}
	if err := h.deliver(ctx, id, true, time.Time{}); err == nil {
		t.Fatal("an unreachable receiver counted as delivered")
	}
	var status, last string
	var attempts int
	var next *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT status, attempts, last_result, next_attempt_at FROM outbound_webhooks WHERE id = $1`, id).
		Scan(&status, &attempts, &last, &next); err != nil {
		t.Fatal(err)
	}
	if status != WebhookFailed || attempts != 2 || next != nil {
		t.Errorf("after the last attempt: %s, %d attempts, next %v; want failed, 2, none", status, attempts, next)
	}
	var errs string
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(error, ' | ') FROM outbound_webhook_attempts WHERE webhook_id = $1`, id).Scan(&errs); err != nil {
		t.Fatal(err)
	}
	if errs == "" || strings.Contains(errs+last, "s3cr3t-token") || strings.Contains(errs+last, "/hooks") {
		t.Errorf("attempt errors %q, last result %q: want the cause without the URL", errs, last)
	}
}
