package sandbox_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

const testAPIKey = "sk_test_sandbox"

// waitTimeout bounds every wait on a condition; generous because -race and
// a loaded CI machine are slow, and a passing test never waits it out.
const waitTimeout = 15 * time.Second

// testEnv is a sandbox served over real HTTP by httptest.
type testEnv struct {
	t      *testing.T
	URL    string
	Server *sandbox.Server
	// Client does not follow redirects and opens a fresh connection per
	// request, so a dropped connection surfaces as an error instead of
	// being retried by the Transport on a reused connection.
	Client *http.Client
}

// newEnv serves a sandbox configured by cfg (APIKey and BaseURL filled in)
// and closes it when the test ends. Its background work is not running:
// call run, so tests can queue work before the workers see it.
func newEnv(t *testing.T, cfg sandbox.Config) *testEnv {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	cfg.BaseURL = "http://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &testEnv{
		t:      t,
		URL:    ts.URL,
		Server: srv,
		Client: &http.Client{
			Transport:     &http.Transport{DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       waitTimeout,
		},
	}
}

// run starts the sandbox's background work until the test ends, and checks
// that Run then returns nil.
func (e *testEnv) run() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Server.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(waitTimeout):
			e.t.Errorf("Run did not return after its context was cancelled")
		}
	})
}

// request sends a request with the test API key (unless a header list
// overrides Authorization) and returns the response with its body read.
func (e *testEnv) request(method, path string, body any, header ...string) (*http.Response, []byte, error) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal request: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// do is request that fails the test on a transport error.
func (e *testEnv) do(method, path string, body any, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	resp, data, err := e.request(method, path, body, header...)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, data
}

// apiPayment is the payment object as a client decodes it. Amount is a
// string on purpose: decoding fails if the sandbox sends a number.
type apiPayment struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	Description   string            `json:"description"`
	Metadata      map[string]string `json:"metadata"`
	Currency      string            `json:"currency"`
	Amount        string            `json:"amount"`
	UpdatedAt     string            `json:"updated_at"`
	CompletedAt   *string           `json:"completed_at"`
	ExpiresAt     string            `json:"expires_at"`
	CreatedAt     string            `json:"created_at"`
	PaymentLink   string            `json:"payment_link"`
	PaymentMethod *struct {
		Type  string `json:"type"`
		Last4 string `json:"last4"`
	} `json:"payment_method"`
	Customer struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	SuccessURL string `json:"success_url"`
	CancelURL  string `json:"cancel_url"`
}

// paymentRequest returns a valid create request; tests change what they test.
func paymentRequest() map[string]any {
	return map[string]any{
		"amount":   json.Number("19.99"),
		"currency": "USD",
		"mcc":      6012,
		"customer": map[string]any{
			"name":  "John Doe",
			"email": "john@example.com",
		},
		"description": "Payment for order #123",
		"success_url": "https://shop.example/orders/123/success",
		"cancel_url":  "https://shop.example/orders/123/cancel",
		"metadata":    map[string]any{"order_id": "order-123"},
		"expires_in":  3600,
	}
}

// create creates a payment from body and fails the test unless it gets 201.
func (e *testEnv) create(body map[string]any, header ...string) apiPayment {
	e.t.Helper()
	resp, data := e.do(http.MethodPost, "/api/v1/payments", body, header...)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create payment: status %d, body %s", resp.StatusCode, data)
	}
	return decode[apiPayment](e.t, data)
}

// get reads a payment and fails the test unless it gets 200.
func (e *testEnv) get(id string) apiPayment {
	e.t.Helper()
	resp, data := e.do(http.MethodGet, "/api/v1/payments/"+id, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("get payment: status %d, body %s", resp.StatusCode, data)
	}
	return decode[apiPayment](e.t, data)
}

// setFaults replaces the fault settings through the control endpoint.
func (e *testEnv) setFaults(f map[string]any) {
	e.t.Helper()
	resp, data := e.do(http.MethodPut, "/_sandbox/faults", f)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("PUT /_sandbox/faults: status %d, body %s", resp.StatusCode, data)
	}
}

// deliveryLog is GET /_sandbox/deliveries as a test reads it.
type deliveryLog struct {
	Items []struct {
		ID             string `json:"id"`
		EventID        string `json:"event_id"`
		EventType      string `json:"event_type"`
		PaymentID      string `json:"payment_id"`
		URL            string `json:"url"`
		Status         string `json:"status"`
		AttemptCount   int    `json:"attempt_count"`
		LastStatusCode int    `json:"last_status_code"`
		Attempts       []struct {
			At         time.Time `json:"at"`
			StatusCode int       `json:"status_code"`
			Error      string    `json:"error"`
			DurationMS float64   `json:"duration_ms"`
		} `json:"attempts"`
		CreatedAt time.Time `json:"created_at"`
		ResendOf  string    `json:"resend_of"`
	} `json:"items"`
}

// deliveries reads the delivery log, newest first.
func (e *testEnv) deliveries() deliveryLog {
	e.t.Helper()
	resp, data := e.do(http.MethodGet, "/_sandbox/deliveries", nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /_sandbox/deliveries: status %d, body %s", resp.StatusCode, data)
	}
	return decode[deliveryLog](e.t, data)
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %T: %v\nbody: %s", v, err, data)
	}
	return v
}

// eventually polls cond until it holds, failing the test with what after
// waitTimeout. It replaces sleeps: the test goes on as soon as cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// webhookEvent is the envelope a receiver got.
type webhookEvent struct {
	ID         string     `json:"id"`
	APIVersion string     `json:"api_version"`
	Type       string     `json:"type"`
	Timestamp  string     `json:"timestamp"`
	Payload    apiPayment `json:"payload"`
}

// received is one webhook request as the receiver saw it.
type received struct {
	At        time.Time
	Body      []byte
	Header    http.Header
	Event     webhookEvent
	SignedOK  bool // the signature verifies with the receiver's secret
	DecodeErr error
}

// receiver is a webhook endpoint that records every request, verifies its
// signature independently with crypto/hmac, and answers with respond.
type receiver struct {
	*httptest.Server
	secret  string
	respond func(n int, w http.ResponseWriter, r *http.Request) // n counts from 1

	mu  sync.Mutex
	got []received
}

// newReceiver starts a receiver answering 200 unless respond says
// otherwise.
func newReceiver(t *testing.T, secret string, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{secret: secret, respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	rec := received{
		At:       time.Now(),
		Body:     body,
		Header:   r.Header.Clone(),
		SignedOK: hmac.Equal([]byte(r.Header.Get("X-Webhook-Signature")), []byte(want)),
	}
	rec.DecodeErr = json.Unmarshal(body, &rec.Event)
	rc.mu.Lock()
	rc.got = append(rc.got, rec)
	n := len(rc.got)
	rc.mu.Unlock()
	if rc.respond != nil {
		rc.respond(n, w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// events returns what arrived so far.
func (rc *receiver) events() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor waits until n requests arrived and returns them all.
func (rc *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	var got []received
	eventually(t, "webhooks to arrive", func() bool {
		got = rc.events()
		return len(got) >= n
	})
	return got
}

// types lists the event types received, in order.
func types(rs []received) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Event.Type)
	}
	return out
}

// registerReceiver registers rc with the sandbox.
func (e *testEnv) registerReceiver(rc *receiver) {
	e.t.Helper()
	if err := e.Server.RegisterWebhook(rc.URL, rc.secret); err != nil {
		e.t.Fatalf("RegisterWebhook: %v", err)
	}
}

// jsonDecode decodes a response body.
func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
