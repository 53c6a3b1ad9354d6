package sandbox_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// These tests run the project's real client against the sandbox over HTTP:
// the two were written separately from API.md, so agreement here is
// evidence that both read it the same way.

// newClient returns a client for e; opts are appended to a fresh-connection
// HTTP client (see testEnv.Client for why).
func newClient(t *testing.T, e *testEnv, opts ...orchestrate.Option) *orchestrate.Client {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitTimeout}
	c, err := orchestrate.NewClient(e.URL, testAPIKey, append([]orchestrate.Option{orchestrate.WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func clientParams(key string) *orchestrate.CreatePaymentParams {
	return &orchestrate.CreatePaymentParams{
		Amount:         1999,
		Currency:       orchestrate.USD,
		MCC:            6012,
		Customer:       orchestrate.Customer{Name: "John Doe", Email: "john@example.com"},
		Description:    "Payment for order #123",
		SuccessURL:     "https://shop.example/orders/123/success",
		CancelURL:      "https://shop.example/orders/123/cancel",
		Metadata:       map[string]string{"order_id": "order-123", "attempt_id": key},
		ExpiresIn:      30 * time.Minute,
		IdempotencyKey: key,
	}
}

func TestClientCreateGetList(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	c := newClient(t, e)
	ctx := t.Context()

	p, err := c.CreatePayment(ctx, clientParams("attempt-1"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	// 1999 minor units went out as 19.99, the sandbox answers "19.99", and
	// the client decodes 1999 again: no float anywhere.
	if p.Amount != 1999 || p.Currency != orchestrate.USD {
		t.Errorf("client decoded amount %d %s, want 1999 USD", p.Amount, p.Currency)
	}
	if raw := e.get(p.ID); raw.Amount != "19.99" {
		t.Errorf("sandbox holds amount %q, want \"19.99\"", raw.Amount)
	}
	if p.Status != orchestrate.StatusPending || p.PaymentLink != e.URL+"/payments/"+p.ID+"/collection" ||
		p.Customer.Email != "john@example.com" || p.Metadata["order_id"] != "order-123" ||
		p.CompletedAt != nil || p.PaymentMethod != nil {
		t.Errorf("created payment = %+v", p)
	}
	if p.ExpiresAt == nil || p.ExpiresAt.Sub(p.CreatedAt) != 30*time.Minute {
		t.Errorf("expires_at %v, created_at %v: want 30 minutes apart", p.ExpiresAt, p.CreatedAt)
	}

	got, err := c.GetPayment(ctx, p.ID)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("GetPayment differs from CreatePayment (-create +get):\n%s", diff)
	}

	again, err := c.CreatePayment(ctx, clientParams("attempt-1"))
	if err != nil || again.ID != p.ID {
		t.Errorf("repeated create with the same key = %v, %v; want payment %s", again, err, p.ID)
	}
	second, err := c.CreatePayment(ctx, clientParams("attempt-2"))
	if err != nil {
		t.Fatal(err)
	}

	list, err := c.ListPayments(ctx, &orchestrate.ListPaymentsParams{Page: 1, PerPage: 1})
	if err != nil {
		t.Fatalf("ListPayments: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].ID != second.ID || list.Items[0].Amount != 1999 {
		t.Errorf("page 1 = %+v, want the newest payment %s", list.Items, second.ID)
	}
	wantPage := orchestrate.Pagination{Page: 1, PerPage: 1, TotalPages: 2, TotalItems: 2}
	if diff := cmp.Diff(wantPage, list.Pagination); diff != "" {
		t.Errorf("pagination (-want +got):\n%s", diff)
	}
}

func TestClientErrors(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	c := newClient(t, e, orchestrate.WithRetry(1, time.Millisecond, time.Millisecond))
	ctx := t.Context()

	_, err := c.GetPayment(ctx, "5f0c1f6e-4a0b-4d3e-9d6a-1b2c3d4e5f60")
	apiErr, ok := errors.AsType[*orchestrate.Error](err)
	if !errors.Is(err, orchestrate.ErrNotFound) || !ok || apiErr.StatusCode != 404 || !strings.HasPrefix(apiErr.RequestID, "req_") {
		t.Errorf("GetPayment(unknown) = %v; want a 404 *Error matching ErrNotFound with the request id", err)
	}

	bad := clientParams("attempt-bad-email")
	bad.Customer.Email = "not-an-email"
	_, err = c.CreatePayment(ctx, bad)
	apiErr, ok = errors.AsType[*orchestrate.Error](err)
	if !ok || apiErr.StatusCode != 422 || !strings.Contains(apiErr.Message, "customer.email") || !orchestrate.IsPermanent(err) {
		t.Errorf("create with a bad email = %v; want a permanent 422 naming customer.email", err)
	}

	wrongKey, err := orchestrate.NewClient(e.URL, "sk_wrong")
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrongKey.GetPayment(ctx, "5f0c1f6e-4a0b-4d3e-9d6a-1b2c3d4e5f60")
	if apiErr, ok := errors.AsType[*orchestrate.Error](err); !ok || apiErr.StatusCode != 401 {
		t.Errorf("wrong API key = %v, want a 401 *Error", err)
	}

	e.setFaults(map[string]any{"get_error_rate": 1.0, "error_status": 429})
	_, err = c.ListPayments(ctx, nil)
	if apiErr, ok := errors.AsType[*orchestrate.Error](err); !ok || apiErr.StatusCode != 429 || apiErr.RetryAfter != time.Second || !orchestrate.IsRetryable(err) {
		t.Errorf("rate limited list = %v; want a retryable 429 with RetryAfter 1s", err)
	}
}

func TestClientRetriesInjectedGetError(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	c := newClient(t, e, orchestrate.WithRetry(3, time.Millisecond, 5*time.Millisecond))
	p, err := c.CreatePayment(t.Context(), clientParams("attempt-retry"))
	if err != nil {
		t.Fatal(err)
	}
	e.setFaults(map[string]any{"get_errors": 2})
	if _, err := c.GetPayment(t.Context(), p.ID); err != nil {
		t.Errorf("GetPayment with two injected 500s and three attempts = %v, want success", err)
	}
}

func TestClientLostCreateResponse(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	c := newClient(t, e)
	ctx := t.Context()
	e.setFaults(map[string]any{"lose_create_response": 1})

	_, err := c.CreatePayment(ctx, clientParams("attempt-lost"))
	if err == nil || !orchestrate.IsOutcomeUnknown(err) {
		t.Fatalf("create with lost response = %v, want an error whose outcome is unknown", err)
	}
	found, err := c.FindPaymentByMetadata(ctx, "attempt_id", "attempt-lost", 10)
	if err != nil {
		t.Fatalf("FindPaymentByMetadata: %v", err)
	}
	if found.Amount != 1999 || found.Status != orchestrate.StatusPending {
		t.Errorf("found %+v, want the pending 19.99 payment", found)
	}
}

func TestClientVerifiesSandboxWebhook(t *testing.T) {
	const secret = "whsec_client_integration"
	if orchestrate.SignatureHeader != "X-Webhook-Signature" {
		t.Fatalf("client reads signatures from %q, the sandbox sends X-Webhook-Signature", orchestrate.SignatureHeader)
	}
	rc := newReceiver(t, secret, nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	c := newClient(t, e)
	p, err := c.CreatePayment(t.Context(), clientParams("attempt-webhook"))
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, e.pay(e.page(p.PaymentLink), "4242 4242 4242 4242"), p.SuccessURL)

	got := rc.waitFor(t, 2)
	var succeeded received
	for _, r := range got {
		if r.Event.Type == "payment.succeeded" {
			succeeded = r
		}
	}
	ev, err := orchestrate.ConstructEvent(succeeded.Body, succeeded.Header.Get(orchestrate.SignatureHeader), secret)
	if err != nil {
		t.Fatalf("ConstructEvent: %v", err)
	}
	if ev.Type != orchestrate.EventType("payment.succeeded") || ev.PaymentID != p.ID || ev.APIVersion != "1" ||
		!strings.HasPrefix(ev.ID, "evt_") || ev.Timestamp == nil {
		t.Errorf("event = %+v", ev)
	}
	if ev.Payment == nil || ev.Payment.Amount != 1999 || ev.Payment.Status != orchestrate.StatusCompleted || ev.Payment.CompletedAt == nil {
		t.Fatalf("event payment = %+v, want the completed 1999 payment", ev.Payment)
	}
	var method struct{ Type, Last4 string }
	if err := json.Unmarshal(ev.Payment.PaymentMethod, &method); err != nil || method.Type != "card" || method.Last4 != "4242" {
		t.Errorf("payment_method = %s, want a card ending 4242", ev.Payment.PaymentMethod)
	}
	if _, err := orchestrate.ConstructEvent(succeeded.Body, succeeded.Header.Get(orchestrate.SignatureHeader), "whsec_wrong"); err == nil {
		t.Errorf("ConstructEvent accepted the event with the wrong secret")
	}
}
