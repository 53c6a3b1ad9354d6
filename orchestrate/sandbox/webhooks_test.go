package sandbox_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// statusSequence answers the n-th webhook with codes[n-1], then 200.
func statusSequence(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= len(codes) {
			w.WriteHeader(codes[n-1])
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func TestWebhookRetriedUntilReceiverAccepts(t *testing.T) {
	const base = 20 * time.Millisecond
	rc := newReceiver(t, "whsec_retry", statusSequence(500, 500))
	e := newEnv(t, sandbox.Config{WebhookRetryBase: base})
	e.registerReceiver(rc)
	e.run()
	p := e.create(paymentRequest())

	var log deliveryLog
	eventually(t, "the delivery to succeed", func() bool {
		log = e.deliveries()
		return len(log.Items) == 1 && log.Items[0].Status == "delivered"
	})
	d := log.Items[0]
	var codes []int
	for _, a := range d.Attempts {
		codes = append(codes, a.StatusCode)
	}
	if diff := cmp.Diff([]int{500, 500, 200}, codes); diff != "" {
		t.Errorf("attempt codes (-want +got):\n%s", diff)
	}
	if d.AttemptCount != 3 || d.LastStatusCode != 200 || d.PaymentID != p.ID || d.EventType != "payment.created" || d.URL != rc.URL {
		t.Errorf("delivery = %+v", d)
	}
	// Exponential backoff: base, then twice the base.
	if gap := d.Attempts[1].At.Sub(d.Attempts[0].At); gap < base {
		t.Errorf("second attempt %v after the first, want at least %v", gap, base)
	}
	if gap := d.Attempts[2].At.Sub(d.Attempts[1].At); gap < 2*base {
		t.Errorf("third attempt %v after the second, want at least %v", gap, 2*base)
	}
	got := rc.events()
	if len(got) != 3 || !bytes.Equal(got[0].Body, got[2].Body) || got[0].Event.ID != got[2].Event.ID {
		t.Errorf("retries must resend the same event; got %d requests", len(got))
	}
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	rc := newReceiver(t, "whsec_down", func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	e := newEnv(t, sandbox.Config{WebhookRetryBase: time.Millisecond, WebhookMaxAttempts: 3})
	e.registerReceiver(rc)
	e.run()
	e.create(paymentRequest())
	var log deliveryLog
	eventually(t, "the delivery to fail", func() bool {
		log = e.deliveries()
		return len(log.Items) == 1 && log.Items[0].Status == "failed"
	})
	if n := log.Items[0].AttemptCount; n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	if a := log.Items[0].Attempts[2]; a.StatusCode != 503 || a.Error == "" {
		t.Errorf("last attempt = %+v, want 503 with an error", a)
	}
	if n := len(rc.events()); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
}

func TestWebhookAttemptTimesOut(t *testing.T) {
	rc := newReceiver(t, "whsec_slow", func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done() // hang until the sandbox gives up
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e := newEnv(t, sandbox.Config{
		HTTPClient:       &http.Client{Timeout: 100 * time.Millisecond},
		WebhookRetryBase: time.Millisecond,
	})
	e.registerReceiver(rc)
	e.run()
	e.create(paymentRequest())
	var log deliveryLog
	eventually(t, "the delivery to succeed", func() bool {
		log = e.deliveries()
		return len(log.Items) == 1 && log.Items[0].Status == "delivered"
	})
	first := log.Items[0].Attempts[0]
	if first.StatusCode != 0 || !strings.Contains(first.Error, "Timeout") || first.DurationMS < 100 {
		t.Errorf("first attempt = %+v, want a timeout after about 100ms", first)
	}
}

func TestWebhooksDisabled(t *testing.T) {
	rc := newReceiver(t, "whsec_off", nil)
	e := newEnv(t, sandbox.Config{Faults: sandbox.Faults{WebhooksDisabled: true}})
	e.registerReceiver(rc)
	e.run()
	silent := e.create(paymentRequest())
	if resp, data := e.do(http.MethodPost, "/_sandbox/payments/"+silent.ID+"/complete", nil); resp.StatusCode != 200 {
		t.Fatalf("complete: %d %s", resp.StatusCode, data)
	}

	// Events to one URL go out in the order raised, so once a later
	// payment's event has arrived, any event of the first would have too.
	e.setFaults(map[string]any{})
	marker := e.create(paymentRequest())
	got := rc.waitFor(t, 1)
	for _, ev := range got {
		if ev.Event.Payload.ID != marker.ID {
			t.Errorf("got %s for the payment completed with webhooks disabled", ev.Event.Type)
		}
	}
	for _, d := range e.deliveries().Items {
		if d.PaymentID == silent.ID {
			t.Errorf("a delivery was queued while webhooks were disabled: %+v", d)
		}
	}
}

func TestWebhookDelay(t *testing.T) {
	const delay = 300 * time.Millisecond
	rc := newReceiver(t, "whsec_late", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	e.setFaults(map[string]any{"webhook_delay": delay.String()})
	start := time.Now()
	e.create(paymentRequest())
	got := rc.waitFor(t, 1)
	if late := got[0].At.Sub(start); late < delay {
		t.Errorf("webhook arrived %v after the create, want at least %v", late, delay)
	}
	d := e.deliveries().Items[0]
	if gap := d.Attempts[0].At.Sub(d.CreatedAt); gap < delay {
		t.Errorf("first attempt %v after the event, want at least %v", gap, delay)
	}
}

func TestWebhookDuplicate(t *testing.T) {
	rc := newReceiver(t, "whsec_twice", nil)
	e := newEnv(t, sandbox.Config{Faults: sandbox.Faults{WebhookDuplicate: true}})
	e.registerReceiver(rc)
	e.run()
	e.create(paymentRequest())
	got := rc.waitFor(t, 2)
	if len(got) != 2 {
		t.Fatalf("got %d requests, want 2", len(got))
	}
	if got[0].Event.ID == "" || got[0].Event.ID != got[1].Event.ID || !bytes.Equal(got[0].Body, got[1].Body) {
		t.Errorf("duplicates differ: %s vs %s", got[0].Body, got[1].Body)
	}
	if !got[0].SignedOK || !got[1].SignedOK {
		t.Errorf("duplicates must be signed too")
	}
}

func TestWebhookReorder(t *testing.T) {
	rc := newReceiver(t, "whsec_order", nil)
	e := newEnv(t, sandbox.Config{Faults: sandbox.Faults{WebhookReorder: true, WebhookDelay: 50 * time.Millisecond}})
	e.registerReceiver(rc)
	p := e.create(paymentRequest())
	if resp, data := e.do(http.MethodPost, "/_sandbox/payments/"+p.ID+"/complete", nil); resp.StatusCode != 200 {
		t.Fatalf("complete: %d %s", resp.StatusCode, data)
	}
	// Both events are queued before delivery starts, so the order they
	// arrive in is the sandbox's choice alone.
	e.run()
	got := rc.waitFor(t, 2)
	if diff := cmp.Diff([]string{"payment.succeeded", "payment.created"}, types(got)); diff != "" {
		t.Errorf("arrival order (-want +got):\n%s", diff)
	}
}

func TestWebhooksGoInOrderWithoutReorder(t *testing.T) {
	rc := newReceiver(t, "whsec_order", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	p := e.create(paymentRequest())
	if resp, _ := e.do(http.MethodPost, "/_sandbox/payments/"+p.ID+"/complete", nil); resp.StatusCode != 200 {
		t.Fatal("complete failed")
	}
	e.run()
	if diff := cmp.Diff([]string{"payment.created", "payment.succeeded"}, types(rc.waitFor(t, 2))); diff != "" {
		t.Errorf("arrival order (-want +got):\n%s", diff)
	}
}

func TestWebhooksGoToEveryEndpointWithItsOwnSecret(t *testing.T) {
	a := newReceiver(t, "whsec_a", nil)
	b := newReceiver(t, "whsec_b", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(a)
	e.registerReceiver(b)
	e.run()
	e.create(paymentRequest())
	gotA, gotB := a.waitFor(t, 1), b.waitFor(t, 1)
	if !gotA[0].SignedOK || !gotB[0].SignedOK {
		t.Errorf("each endpoint must be signed with its own secret: a %v, b %v", gotA[0].SignedOK, gotB[0].SignedOK)
	}
	if gotA[0].Event.ID != gotB[0].Event.ID || gotA[0].Header.Get("X-Webhook-Signature") == gotB[0].Header.Get("X-Webhook-Signature") {
		t.Errorf("want one event, two signatures")
	}
}

func TestRegisterWebhook(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	tests := []struct {
		name, url, secret string
		wantErr           bool
	}{
		{"http URL", "http://localhost:9000/webhooks", "s", false},
		{"https URL", "https://shop.example/webhooks/orchestrate", "s", false},
		{"relative URL", "/webhooks", "s", true},
		{"other scheme", "ftp://shop.example/hooks", "s", true},
		{"no secret", "https://shop.example/hooks", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Server.RegisterWebhook(tt.url, tt.secret); (err != nil) != tt.wantErr {
				t.Errorf("RegisterWebhook(%q, %q) = %v, want error %v", tt.url, tt.secret, err, tt.wantErr)
			}
		})
	}

	// Registering a URL again replaces its secret.
	rc := newReceiver(t, "whsec_new", nil)
	if err := e.Server.RegisterWebhook(rc.URL, "whsec_old"); err != nil {
		t.Fatal(err)
	}
	e.registerReceiver(rc)
	e.run()
	e.create(paymentRequest())
	if got := rc.waitFor(t, 1); len(got) != 1 || !got[0].SignedOK {
		t.Errorf("want one event signed with the new secret, got %d (signed %v)", len(got), len(got) > 0 && got[0].SignedOK)
	}
}

func TestResendFromDashboard(t *testing.T) {
	rc := newReceiver(t, "whsec_resend", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	e.create(paymentRequest())
	first := rc.waitFor(t, 1)[0]

	dash := e.page(e.URL + "/_sandbox/")
	action, ok := dash.form(t, "Resend")
	if !ok {
		t.Fatalf("no Resend button on the dashboard: %s", dash.text())
	}
	wantRedirect(t, e.submit(action, nil), "/_sandbox/")
	got := rc.waitFor(t, 2)
	if got[1].Event.ID != first.Event.ID || !bytes.Equal(got[1].Body, first.Body) || !got[1].SignedOK {
		t.Errorf("resend differs from the original event")
	}
	log := e.deliveries()
	if len(log.Items) != 2 || log.Items[0].ResendOf != log.Items[1].ID {
		t.Errorf("delivery log after resend = %+v, want the resend pointing at the original", log.Items)
	}
	resp := e.submit(e.URL+"/_sandbox/deliveries/dlv_nope/resend", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("resend of an unknown delivery: status %d, want 404", resp.StatusCode)
	}
}

func TestRunRefusesToRunTwice(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- e.Server.Run(ctx) }()
	}
	// A running Run returns only once ctx is done, so whichever returns
	// first must be the refused one.
	if err := <-errs; err == nil {
		t.Fatalf("two concurrent Runs: the first to return gave nil, want an error")
	}
	cancel()
	if err := <-errs; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}
