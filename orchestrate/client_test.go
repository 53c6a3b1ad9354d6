package orchestrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testKey is distinctive so tests can search output for it.
const testKey = "sk_test_DISTINCTIVE_8f3a9c2b71"

// paymentJSONFixture is the quickstart's payment object (amount as a string).
const paymentJSONFixture = `{
  "id": "cbbbc264-1248-49aa-ae2d-1aa05cf79bc8",
  "status": "pending",
  "description": "Payment for services",
  "metadata": {"order_id": 212121212},
  "currency": "USD",
  "amount": "500.0",
  "updated_at": "2025-08-18T15:27:43Z",
  "completed_at": null,
  "expires_at": "2025-08-18T15:32:43Z",
  "created_at": "2025-08-18T15:27:43Z",
  "payment_link": "https://sandbox.orchestrate.global/payments/cbbbc264-1248-49aa-ae2d-1aa05cf79bc8/collection",
  "payment_method": null,
  "customer": {"id": "698adc6c-bb99-44cb-9715-c3599d587148", "name": "Foobar", "email": "foobar@example.com"},
  "success_url": "https://example.com/orders/order-123/payment-success",
  "cancel_url": "https://example.com/orders/order-123/payment-cancel"
}`

// withSleep replaces the retry sleep and jitter so tests can record waits
// instead of sleeping. A nil argument keeps the default.
func withSleep(sleep func(context.Context, time.Duration) error, jitter func(time.Duration) time.Duration) Option {
	return func(c *Client) error {
		if sleep != nil {
			c.retry.sleep = sleep
		}
		if jitter != nil {
			c.retry.jitter = jitter
		}
		return nil
	}
}

// noJitter makes backoff deterministic: every wait is its ceiling.
func noJitter(d time.Duration) time.Duration { return d }

// sleepRecorder records the waits the client asks for without sleeping.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newTestClient returns a client for baseURL whose retries record their
// waits (250ms, 500ms…, no jitter) instead of sleeping.
func newTestClient(t *testing.T, baseURL string, opts ...Option) (*Client, *sleepRecorder) {
	t.Helper()
	rec := &sleepRecorder{}
	all := append([]Option{withSleep(rec.sleep, noJitter)}, opts...)
	c, err := NewClient(baseURL, testKey, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, rec
}

// reply is one scripted HTTP response.
type reply struct {
	status int
	header map[string]string
	body   string
}

// recordedRequest is what the fake API saw.
type recordedRequest struct {
	Method     string
	RequestURI string
	Header     http.Header
	Body       string
}

// fakeAPI answers with scripted replies in order, repeating the last one,
// and records every request.
type fakeAPI struct {
	mu      sync.Mutex
	replies []reply
	reqs    []recordedRequest
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recordedRequest{Method: r.Method, RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: string(body)})
	rep := f.replies[min(len(f.reqs), len(f.replies))-1]
	f.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeAPI) Requests() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.reqs...)
}

// startFakeAPI serves replies on a test server closed at the end of the test.
func startFakeAPI(t *testing.T, replies ...reply) (*fakeAPI, *httptest.Server) {
	t.Helper()
	if len(replies) == 0 {
		t.Fatal("startFakeAPI needs at least one reply")
	}
	f := &fakeAPI{replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func validCreateParams() *CreatePaymentParams {
	return &CreatePaymentParams{
		Amount:      1999,
		Currency:    USD,
		MCC:         6012,
		Customer:    Customer{Name: "John Doe", Email: "john@example.com"},
		Description: "Payment for order #123",
		SuccessURL:  "https://example.com/orders/order-123/payment-success",
		CancelURL:   "https://example.com/orders/order-123/payment-cancel",
		Metadata:    map[string]string{"order_id": "order-123", "attempt_id": "att-1"},
		ExpiresIn:   time.Hour,
		// IdempotencyKey as a caller derives it from its attempt id.
		IdempotencyKey: "checkout-attempt-att-1",
	}
}

func TestNewClientValidation(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		apiKey  string
		opts    []Option
		wantErr bool
	}{
		{name: "https", baseURL: "https://sandbox.orchestrate.global", apiKey: "k"},
		{name: "http with port and path", baseURL: "http://localhost:8080/prefix/", apiKey: "k"},
		{name: "relative", baseURL: "/api", apiKey: "k", wantErr: true},
		{name: "no scheme", baseURL: "sandbox.orchestrate.global", apiKey: "k", wantErr: true},
		{name: "ftp", baseURL: "ftp://example.com", apiKey: "k", wantErr: true},
		{name: "no host", baseURL: "https://", apiKey: "k", wantErr: true},
		{name: "credentials", baseURL: "https://user:pw@example.com", apiKey: "k", wantErr: true},
		{name: "query", baseURL: "https://example.com/?x=1", apiKey: "k", wantErr: true},
		{name: "fragment", baseURL: "https://example.com/#x", apiKey: "k", wantErr: true},
		{name: "unparsable", baseURL: "https://exa mple.com:xx", apiKey: "k", wantErr: true},
		{name: "empty", baseURL: "", apiKey: "k", wantErr: true},
		{name: "empty key", baseURL: "https://example.com", apiKey: "", wantErr: true},
		{name: "key with newline", baseURL: "https://example.com", apiKey: "k\r\nX-Evil: 1", wantErr: true},
		{name: "key with space", baseURL: "https://example.com", apiKey: "k k", wantErr: true},
		{name: "nil http client", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithHTTPClient(nil)}, wantErr: true},
		{name: "nil logger", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithLogger(nil)}, wantErr: true},
		{name: "empty user agent", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithUserAgent("")}, wantErr: true},
		{name: "user agent with newline", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithUserAgent("a\nb")}, wantErr: true},
		{name: "retry zero attempts", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithRetry(0, time.Second, time.Second)}, wantErr: true},
		{name: "retry zero backoff", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithRetry(3, 0, time.Second)}, wantErr: true},
		{name: "retry max below min", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithRetry(3, time.Second, time.Millisecond)}, wantErr: true},
		{name: "retry one attempt", baseURL: "https://example.com", apiKey: "k", opts: []Option{WithRetry(1, time.Millisecond, time.Millisecond)}},
		{name: "all options", baseURL: "https://example.com", apiKey: "k", opts: []Option{
			WithHTTPClient(&http.Client{}), WithLogger(slog.Default()), WithUserAgent("shop/1"), WithRetry(5, time.Millisecond, time.Second),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.baseURL, tt.apiKey, tt.opts...)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewClient(%q) = %v, want error", tt.baseURL, c)
				}
				if !errors.Is(err, ErrInvalidParams) {
					t.Errorf("error %v does not wrap ErrInvalidParams", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient(%q): %v", tt.baseURL, err)
			}
		})
	}
}

func TestNewClientErrorsNeverContainKey(t *testing.T) {
	// A key pasted into the wrong argument must not be echoed back.
	_, err := NewClient("https://exa mple.com/"+testKey+":bad", testKey)
	if err == nil {
		t.Fatal("NewClient with a bad URL succeeded")
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q contains the API key", err)
	}
	_, err = NewClient("https://example.com", testKey+"\n")
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("NewClient with a bad key: error %v is nil or contains the key", err)
	}
}

func TestClientStringHidesKey(t *testing.T) {
	c, _ := newTestClient(t, "https://example.com")
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(format, c); strings.Contains(got, testKey) {
			t.Errorf("Sprintf(%q, client) = %q, contains the API key", format, got)
		}
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	c, err := NewClient("https://example.com", "k")
	if err != nil {
		t.Fatal(err)
	}
	hc := c.httpClient
	if hc == http.DefaultClient {
		t.Fatal("default client is http.DefaultClient, which has no timeout")
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T, want *http.Transport", hc.Transport)
	}
	got := []time.Duration{hc.Timeout, tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout}
	want := []time.Duration{10 * time.Second, 5 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timeouts (-want +got):\n%s", diff)
	}
	if tr.DialContext == nil {
		t.Error("no DialContext with a dial timeout")
	}
	if hc.CheckRedirect == nil {
		t.Error("default client follows redirects")
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: http.StatusFound, header: map[string]string{"Location": "/elsewhere"}})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.CreatePayment(t.Context(), validCreateParams())
	apiErr, ok := errors.AsType[*Error](err)
	if !ok || apiErr.StatusCode != http.StatusFound {
		t.Fatalf("err = %v, want *Error with status 302", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1 (redirect not followed)", n)
	}
}

func TestCreatePaymentRequest(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: http.StatusCreated, header: map[string]string{"Content-Type": "application/json"}, body: paymentJSONFixture})
	c, _ := newTestClient(t, srv.URL+"/base/")
	got, err := c.CreatePayment(t.Context(), validCreateParams())
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if got.ID != "cbbbc264-1248-49aa-ae2d-1aa05cf79bc8" || got.Amount != 50000 {
		t.Errorf("payment = %+v, want the fixture with Amount 50000", got)
	}
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Method != http.MethodPost || req.RequestURI != "/base/api/v1/payments" {
		t.Errorf("request = %s %s, want POST /base/api/v1/payments", req.Method, req.RequestURI)
	}
	wantHeaders := map[string]string{
		"Authorization":   "Bearer " + testKey,
		"Idempotency-Key": "checkout-attempt-att-1",
		"Content-Type":    "application/json",
		"Accept":          "application/json",
		"User-Agent":      "orchestrate-checkout/" + Version,
	}
	gotHeaders := map[string]string{}
	for k := range wantHeaders {
		gotHeaders[k] = req.Header.Get(k)
	}
	if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	// The exact bytes: the amount must be the JSON number 19.99, written
	// from the integer 1999, and map keys are sorted by encoding/json.
	wantBody := `{"amount":19.99,"currency":"USD","mcc":6012,` +
		`"customer":{"name":"John Doe","email":"john@example.com"},` +
		`"description":"Payment for order #123",` +
		`"success_url":"https://example.com/orders/order-123/payment-success",` +
		`"cancel_url":"https://example.com/orders/order-123/payment-cancel",` +
		`"metadata":{"attempt_id":"att-1","order_id":"order-123"},"expires_in":3600}`
	if diff := cmp.Diff(wantBody, req.Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestCreatePaymentAmountText(t *testing.T) {
	tests := []struct {
		name   string
		amount int64
		want   string
	}{
		{name: "cents", amount: 1999, want: `"amount":19.99,`},
		{name: "five cents", amount: 5, want: `"amount":0.05,`},
		{name: "one unit", amount: 100, want: `"amount":1.00,`},
		{name: "float trap", amount: 29, want: `"amount":0.29,`},
		{name: "large", amount: 99999999999, want: `"amount":999999999.99,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := startFakeAPI(t, reply{status: http.StatusCreated, body: paymentJSONFixture})
			c, _ := newTestClient(t, srv.URL)
			p := validCreateParams()
			p.Amount = tt.amount
			p.Currency = "eur" // lower case is normalised
			p.Customer = Customer{}
			p.Metadata = nil
			p.ExpiresIn = 0
			p.MCC = 0
			if _, err := c.CreatePayment(t.Context(), p); err != nil {
				t.Fatalf("CreatePayment: %v", err)
			}
			body := f.Requests()[0].Body
			if !strings.Contains(body, tt.want) {
				t.Errorf("body %s does not contain %s", body, tt.want)
			}
			for _, omitted := range []string{"customer", "metadata", "expires_in", "mcc"} {
				if strings.Contains(body, `"`+omitted+`"`) {
					t.Errorf("body %s contains %q, want it omitted when empty", body, omitted)
				}
			}
			if !strings.Contains(body, `"currency":"EUR"`) {
				t.Errorf("body %s does not contain the upper-case currency", body)
			}
		})
	}
}

func TestCreatePaymentValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*CreatePaymentParams)
	}{
		{name: "missing idempotency key", modify: func(p *CreatePaymentParams) { p.IdempotencyKey = "" }},
		{name: "idempotency key with newline", modify: func(p *CreatePaymentParams) { p.IdempotencyKey = "a\nb" }},
		{name: "idempotency key too long", modify: func(p *CreatePaymentParams) { p.IdempotencyKey = strings.Repeat("k", 256) }},
		{name: "zero amount", modify: func(p *CreatePaymentParams) { p.Amount = 0 }},
		{name: "negative amount", modify: func(p *CreatePaymentParams) { p.Amount = -1 }},
		{name: "unsupported currency", modify: func(p *CreatePaymentParams) { p.Currency = "JPY" }},
		{name: "empty currency", modify: func(p *CreatePaymentParams) { p.Currency = "" }},
		{name: "relative success url", modify: func(p *CreatePaymentParams) { p.SuccessURL = "/orders/1/paid" }},
		{name: "non-http cancel url", modify: func(p *CreatePaymentParams) { p.CancelURL = "javascript:alert(1)" }},
		{name: "negative mcc", modify: func(p *CreatePaymentParams) { p.MCC = -1 }},
		{name: "five-digit mcc", modify: func(p *CreatePaymentParams) { p.MCC = 10000 }},
		{name: "negative expiry", modify: func(p *CreatePaymentParams) { p.ExpiresIn = -time.Second }},
		{name: "fractional expiry", modify: func(p *CreatePaymentParams) { p.ExpiresIn = 1500 * time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := startFakeAPI(t, reply{status: http.StatusCreated, body: paymentJSONFixture})
			c, _ := newTestClient(t, srv.URL)
			p := validCreateParams()
			tt.modify(p)
			_, err := c.CreatePayment(t.Context(), p)
			if !errors.Is(err, ErrInvalidParams) {
				t.Errorf("err = %v, want ErrInvalidParams", err)
			}
			if !IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = false, want true", err)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("server saw %d requests, want none for invalid params", n)
			}
		})
	}
	t.Run("nil params", func(t *testing.T) {
		c, _ := newTestClient(t, "http://127.0.0.1:1")
		if _, err := c.CreatePayment(t.Context(), nil); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("err = %v, want ErrInvalidParams", err)
		}
	})
	t.Run("unsupported currency also matches ErrUnsupportedCurrency", func(t *testing.T) {
		c, _ := newTestClient(t, "http://127.0.0.1:1")
		p := validCreateParams()
		p.Currency = "JPY"
		if _, err := c.CreatePayment(t.Context(), p); !errors.Is(err, ErrUnsupportedCurrency) {
			t.Errorf("err = %v, want ErrUnsupportedCurrency", err)
		}
	})
}

func TestGetPayment(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: http.StatusOK, body: paymentJSONFixture})
	c, _ := newTestClient(t, srv.URL, WithUserAgent("shop/2"))
	got, err := c.GetPayment(t.Context(), "cbbbc264-1248-49aa-ae2d-1aa05cf79bc8")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if got.Status != StatusPending {
		t.Errorf("Status = %q, want pending", got.Status)
	}
	req := f.Requests()[0]
	if req.Method != http.MethodGet || req.RequestURI != "/api/v1/payments/cbbbc264-1248-49aa-ae2d-1aa05cf79bc8" {
		t.Errorf("request = %s %s", req.Method, req.RequestURI)
	}
	wantHeaders := map[string]string{"Authorization": "Bearer " + testKey, "Accept": "application/json", "User-Agent": "shop/2", "Content-Type": "", "Idempotency-Key": ""}
	gotHeaders := map[string]string{}
	for k := range wantHeaders {
		gotHeaders[k] = req.Header.Get(k)
	}
	if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

func TestGetPaymentEscapesID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantURI string
	}{
		{name: "slash and query", id: "a/b?c", wantURI: "/api/v1/payments/a%2Fb%3Fc"},
		{name: "space and percent", id: "a b%20", wantURI: "/api/v1/payments/a%20b%2520"},
		{name: "dot segment inside", id: "../../admin", wantURI: "/api/v1/payments/..%2F..%2Fadmin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := startFakeAPI(t, reply{status: http.StatusOK, body: paymentJSONFixture})
			c, _ := newTestClient(t, srv.URL)
			if _, err := c.GetPayment(t.Context(), tt.id); err != nil {
				t.Fatalf("GetPayment: %v", err)
			}
			if got := f.Requests()[0].RequestURI; got != tt.wantURI {
				t.Errorf("RequestURI = %q, want %q", got, tt.wantURI)
			}
		})
	}
}

func TestGetPaymentRejectsBadID(t *testing.T) {
	c, _ := newTestClient(t, "http://127.0.0.1:1")
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetPayment(t.Context(), id); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("GetPayment(%q) err = %v, want ErrInvalidParams", id, err)
		}
	}
}

func TestDecodeErrorOnBadSuccessBody(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "not json", body: "<html>ok</html>"},
		{name: "too many decimals", body: `{"id":"p1","currency":"USD","amount":19.999}`},
		{name: "unsupported currency", body: `{"id":"p1","currency":"JPY","amount":100}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := startFakeAPI(t, reply{status: http.StatusCreated, header: map[string]string{"X-Request-Id": "req_9"}, body: tt.body})
			c, rec := newTestClient(t, srv.URL)
			_, err := c.CreatePayment(t.Context(), validCreateParams())
			de, ok := errors.AsType[*DecodeError](err)
			if !ok {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if de.StatusCode != http.StatusCreated || de.RequestID != "req_9" {
				t.Errorf("DecodeError = %+v, want status 201 and request id req_9", de)
			}
			if !IsOutcomeUnknown(err) {
				t.Error("IsOutcomeUnknown = false for an unreadable 201, want true")
			}
			if IsRetryable(err) || IsPermanent(err) {
				t.Errorf("IsRetryable = %v, IsPermanent = %v, want both false", IsRetryable(err), IsPermanent(err))
			}
			if n := len(f.Requests()); n != 1 || len(rec.Waits()) != 0 {
				t.Errorf("server saw %d requests and client waited %v, want 1 request, no retry", n, rec.Waits())
			}
		})
	}
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	// The server echoes the Authorization header in its error, as a
	// careless API might; the client must not pass it on.
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_"+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"message":"bad credentials %s","detail":%q}`, r.Header.Get("Authorization"), r.Header.Get("Authorization"))
	})
	srv := httptest.NewServer(echo)
	t.Cleanup(srv.Close)

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newTestClient(t, srv.URL, WithLogger(logger))

	var errs []error
	_, err := c.GetPayment(t.Context(), "p1")
	errs = append(errs, err)
	_, err = c.CreatePayment(t.Context(), validCreateParams())
	errs = append(errs, err)
	_, err = c.ListPayments(t.Context(), nil)
	errs = append(errs, err)
	// A transport error too: a closed server.
	dead, _ := newTestClient(t, closedURL(t), WithLogger(logger))
	_, err = dead.GetPayment(t.Context(), "p1")
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("request %d succeeded, want an error", i)
		}
		for _, format := range []string{"%v", "%+v", "%#v"} {
			if s := fmt.Sprintf(format, err); strings.Contains(s, testKey) {
				t.Errorf("request %d: Sprintf(%q, err) contains the API key: %s", i, format, s)
			}
		}
		if apiErr, ok := errors.AsType[*Error](err); ok {
			if strings.Contains(apiErr.Body, testKey) || strings.Contains(apiErr.Message, testKey) || strings.Contains(apiErr.RequestID, testKey) {
				t.Errorf("request %d: *Error fields contain the API key: %#v", i, apiErr)
			}
			if !strings.Contains(apiErr.Message, "[redacted]") {
				t.Errorf("request %d: Message %q, want the echoed key redacted", i, apiErr.Message)
			}
		}
	}
	if !strings.Contains(logs.String(), "retrying request") {
		t.Fatalf("no retry was logged, so the log check proves nothing:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("log output contains the API key:\n%s", logs.String())
	}
	if strings.Contains(strings.ToLower(logs.String()), "authorization") {
		t.Errorf("log output mentions the Authorization header:\n%s", logs.String())
	}
}

func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		want *Error
	}{
		{
			name: "json message and request id",
			rep:  reply{status: 422, header: map[string]string{"X-Request-Id": "req_1"}, body: `{"message":"amount is invalid","errors":{"amount":["bad"]}}`},
			want: &Error{StatusCode: 422, Message: "amount is invalid", RequestID: "req_1", Body: `{"message":"amount is invalid","errors":{"amount":["bad"]}}`, Method: "GET", Path: "/api/v1/payments/p1"},
		},
		{
			name: "request-id header",
			rep:  reply{status: 404, header: map[string]string{"Request-Id": "req_2"}, body: `{"message":"not found"}`},
			want: &Error{StatusCode: 404, Message: "not found", RequestID: "req_2", Body: `{"message":"not found"}`, Method: "GET", Path: "/api/v1/payments/p1"},
		},
		{
			name: "multi-line message",
			rep:  reply{status: 422, body: `{"message":"amount:\n  must be positive"}`},
			want: &Error{StatusCode: 422, Message: "amount: must be positive", Body: `{"message":"amount:\n  must be positive"}`, Method: "GET", Path: "/api/v1/payments/p1"},
		},
		{
			name: "error string instead of message",
			rep:  reply{status: 400, body: `{"error":"malformed"}`},
			want: &Error{StatusCode: 400, Message: "malformed", Body: `{"error":"malformed"}`, Method: "GET", Path: "/api/v1/payments/p1"},
		},
		{
			name: "nested error message",
			rep:  reply{status: 403, body: `{"error":{"message":"forbidden"}}`},
			want: &Error{StatusCode: 403, Message: "forbidden", Body: `{"error":{"message":"forbidden"}}`, Method: "GET", Path: "/api/v1/payments/p1"},
		},
		{
			name: "html body",
			rep:  reply{status: 401, body: "<html>\n  <h1>Unauthorized</h1>\n</html>"},
			want: &Error{StatusCode: 401, Message: "<html> <h1>Unauthorized</h1> </html>", Body: "<html>\n  <h1>Unauthorized</h1>\n</html>", Method: "GET", Path: "/api/v1/payments/p1"},
		},
		{
			name: "empty body",
			rep:  reply{status: 401},
			want: &Error{StatusCode: 401, Method: "GET", Path: "/api/v1/payments/p1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := startFakeAPI(t, tt.rep)
			c, _ := newTestClient(t, srv.URL)
			_, err := c.GetPayment(t.Context(), "p1")
			got, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("*Error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorBodyIsTruncated(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	_, srv := startFakeAPI(t, reply{status: 400, body: long})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.GetPayment(t.Context(), "p1")
	apiErr, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("err = %v, want *Error", err)
	}
	if len(apiErr.Body) > maxErrorBodyKept+len("…") || len(apiErr.Message) > 200+len("…") {
		t.Errorf("Body is %d bytes and Message %d, want them truncated", len(apiErr.Body), len(apiErr.Message))
	}
	if len(err.Error()) > 400 {
		t.Errorf("Error() is %d bytes, want a short line", len(err.Error()))
	}
}
