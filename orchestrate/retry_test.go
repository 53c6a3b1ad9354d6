package orchestrate

import (
	"context"
	"errors"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// closedURL returns the URL of a local port nothing listens on, so dialing
// it is refused at once.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// dropConnection reads the whole request, then closes the connection
// without answering: the server got the request, the client gets no reply.
func dropConnection(t *testing.T, w http.ResponseWriter, r *http.Request) {
	t.Helper()
	io.ReadAll(r.Body)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("Hijack: %v", err)
		return
	}
	conn.Close()
}

func TestRetryResponses(t *testing.T) {
	listBody := `{"items":[],"pagination":{"page":1,"per_page":10,"total_pages":0,"total_items":0}}`
	retryAt := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		replies   []reply
		call      func(*testing.T, *Client) error
		wantCalls int
		wantWaits []time.Duration
		wantCode  int // 0 for success
	}{
		{
			name:      "get 500 then 200 is retried",
			replies:   []reply{{status: 500, body: `{"message":"boom"}`}, {status: 200, body: paymentJSONFixture}},
			call:      getP1,
			wantCalls: 2,
			wantWaits: []time.Duration{250 * time.Millisecond},
		},
		{
			name:      "get 503 until attempts run out",
			replies:   []reply{{status: 503}},
			call:      getP1,
			wantCalls: 3,
			wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
			wantCode:  503,
		},
		{
			name:      "get 408 is retried",
			replies:   []reply{{status: 408}, {status: 200, body: paymentJSONFixture}},
			call:      getP1,
			wantCalls: 2,
			wantWaits: []time.Duration{250 * time.Millisecond},
		},
		{
			name:      "429 honours Retry-After seconds",
			replies:   []reply{{status: 429, header: map[string]string{"Retry-After": "2"}}, {status: 200, body: paymentJSONFixture}},
			call:      getP1,
			wantCalls: 2,
			wantWaits: []time.Duration{2 * time.Second},
		},
		{
			name:      "429 with Retry-After beyond max backoff is returned at once",
			replies:   []reply{{status: 429, header: map[string]string{"Retry-After": "60"}}, {status: 200, body: paymentJSONFixture}},
			call:      getP1,
			wantCalls: 1,
			wantCode:  429,
		},
		{
			name:      "429 with garbage Retry-After falls back to backoff",
			replies:   []reply{{status: 429, header: map[string]string{"Retry-After": "soon"}}, {status: 200, body: paymentJSONFixture}},
			call:      getP1,
			wantCalls: 2,
			wantWaits: []time.Duration{250 * time.Millisecond},
		},
		{
			name:      "list 502 then 200 is retried",
			replies:   []reply{{status: 502}, {status: 200, body: listBody}},
			call:      func(t *testing.T, c *Client) error { _, err := c.ListPayments(t.Context(), nil); return err },
			wantCalls: 2,
			wantWaits: []time.Duration{250 * time.Millisecond},
		},
		{
			name:      "404 is not retried",
			replies:   []reply{{status: 404, body: `{"message":"no such payment"}`}},
			call:      getP1,
			wantCalls: 1,
			wantCode:  404,
		},
		{
			name:      "422 is not retried",
			replies:   []reply{{status: 422, body: `{"message":"invalid"}`}},
			call:      getP1,
			wantCalls: 1,
			wantCode:  422,
		},
		{
			name:      "create 500 is not retried",
			replies:   []reply{{status: 500}, {status: 201, body: paymentJSONFixture}},
			call:      create,
			wantCalls: 1,
			wantCode:  500,
		},
		{
			name:      "create 429 is not retried",
			replies:   []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, {status: 201, body: paymentJSONFixture}},
			call:      create,
			wantCalls: 1,
			wantCode:  429,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := startFakeAPI(t, tt.replies...)
			c, rec := newTestClient(t, srv.URL)
			err := tt.call(t, c)
			if got := len(f.Requests()); got != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, rec.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			apiErr, ok := errors.AsType[*Error](err)
			if !ok || apiErr.StatusCode != tt.wantCode {
				t.Fatalf("err = %v, want *Error with status %d", err, tt.wantCode)
			}
		})
	}

	t.Run("429 honours Retry-After HTTP date", func(t *testing.T) {
		_, srv := startFakeAPI(t, reply{status: 429, header: map[string]string{"Retry-After": retryAt}}, reply{status: 200, body: paymentJSONFixture})
		c, rec := newTestClient(t, srv.URL)
		if err := getP1(t, c); err != nil {
			t.Fatalf("err = %v", err)
		}
		waits := rec.Waits()
		// HTTP dates have one-second resolution.
		if len(waits) != 1 || waits[0] <= time.Second || waits[0] > 3*time.Second {
			t.Errorf("waits = %v, want one wait in (1s, 3s]", waits)
		}
	})
}

func getP1(t *testing.T, c *Client) error {
	t.Helper()
	_, err := c.GetPayment(t.Context(), "p1")
	return err
}

func create(t *testing.T, c *Client) error {
	t.Helper()
	_, err := c.CreatePayment(t.Context(), validCreateParams())
	return err
}

func TestNotFoundAndPermanentClassification(t *testing.T) {
	_, srv := startFakeAPI(t, reply{status: 404, body: `{"message":"no such payment"}`})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.GetPayment(t.Context(), "p1")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
	}
	if !IsPermanent(err) || IsRetryable(err) || IsOutcomeUnknown(err) {
		t.Errorf("404: IsPermanent=%v IsRetryable=%v IsOutcomeUnknown=%v, want true false false", IsPermanent(err), IsRetryable(err), IsOutcomeUnknown(err))
	}
}

func TestCreate500IsOutcomeUnknown(t *testing.T) {
	_, srv := startFakeAPI(t, reply{status: 500, body: `{"message":"internal"}`})
	c, _ := newTestClient(t, srv.URL)
	err := create(t, c)
	if !IsOutcomeUnknown(err) || !IsRetryable(err) || IsPermanent(err) {
		t.Errorf("create 500: IsOutcomeUnknown=%v IsRetryable=%v IsPermanent=%v, want true true false", IsOutcomeUnknown(err), IsRetryable(err), IsPermanent(err))
	}
}

func TestCreateDialRefusedIsRetried(t *testing.T) {
	c, rec := newTestClient(t, closedURL(t))
	_, err := c.CreatePayment(t.Context(), validCreateParams())
	te, ok := errors.AsType[*TransportError](err)
	if !ok {
		t.Fatalf("err = %v, want *TransportError", err)
	}
	if te.RequestSent {
		t.Error("RequestSent = true for a refused dial, want false")
	}
	if IsOutcomeUnknown(err) || !IsRetryable(err) {
		t.Errorf("IsOutcomeUnknown=%v IsRetryable=%v, want false true", IsOutcomeUnknown(err), IsRetryable(err))
	}
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("err %v does not wrap the *net.OpError", err)
	}
	if diff := cmp.Diff([]time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, rec.Waits()); diff != "" {
		t.Errorf("waits (-want +got), want all 3 attempts made:\n%s", diff)
	}
}

func TestCreateDialRefusedThenServerUp(t *testing.T) {
	// The first attempt is refused; the server comes up during the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := &fakeAPI{replies: []reply{{status: 201, body: paymentJSONFixture}}}
	var srv *httptest.Server
	start := func(ctx context.Context, d time.Duration) error {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: f}}
		srv.Start()
		return nil
	}
	t.Cleanup(func() {
		if srv != nil {
			srv.Close()
		}
	})
	c, err := NewClient("http://"+addr, testKey, withSleep(start, noJitter))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePayment(t.Context(), validCreateParams())
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if p.ID == "" || len(f.Requests()) != 1 {
		t.Errorf("payment %q after %d requests, want one successful request", p.ID, len(f.Requests()))
	}
}

func TestCreateConnectionDroppedAfterRequest(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		dropConnection(t, w, r)
	}))
	t.Cleanup(srv.Close)
	c, rec := newTestClient(t, srv.URL)
	_, err := c.CreatePayment(t.Context(), validCreateParams())
	te, ok := errors.AsType[*TransportError](err)
	if !ok {
		t.Fatalf("err = %v, want *TransportError", err)
	}
	if !te.RequestSent || !IsOutcomeUnknown(err) {
		t.Errorf("RequestSent=%v IsOutcomeUnknown=%v, want both true", te.RequestSent, IsOutcomeUnknown(err))
	}
	if n := posts.Load(); n != 1 || len(rec.Waits()) != 0 {
		t.Errorf("server saw %d creates, client waited %v; want 1 and no retry", n, rec.Waits())
	}
}

func TestCreateOnReusedConnectionIsNotReplayed(t *testing.T) {
	// net/http replays requests with an Idempotency-Key on a broken
	// keep-alive connection unless the client prevents it. The GET makes
	// the POST reuse a connection, the case where that replay happens.
	var (
		mu    sync.Mutex
		addrs = map[string]string{}
		posts atomic.Int32
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if _, seen := addrs[r.Method]; !seen {
			addrs[r.Method] = r.RemoteAddr // the first connection per method
		}
		mu.Unlock()
		if r.Method == http.MethodGet {
			io.WriteString(w, paymentJSONFixture)
			return
		}
		posts.Add(1)
		dropConnection(t, w, r)
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL)
	if err := getP1(t, c); err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	err := create(t, c)
	if !IsOutcomeUnknown(err) {
		t.Errorf("IsOutcomeUnknown(%v) = false, want true", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("server saw %d creates, want exactly 1", n)
	}
	mu.Lock()
	reused := addrs["GET"] == addrs["POST"]
	mu.Unlock()
	if !reused {
		t.Errorf("the create used a new connection (%v), so the test proves nothing", addrs)
	}
}

func TestGetConnectionDroppedIsRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			dropConnection(t, w, r)
			return
		}
		io.WriteString(w, paymentJSONFixture)
	}))
	t.Cleanup(srv.Close)
	c, rec := newTestClient(t, srv.URL)
	if err := getP1(t, c); err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if n := calls.Load(); n != 2 || len(rec.Waits()) != 1 {
		t.Errorf("server saw %d requests, client waited %v; want 2 and one wait", n, rec.Waits())
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name      string
		call      func(*testing.T, *Client) error
		wantCalls int32
	}{
		{name: "create times out once, not retried", call: create, wantCalls: 1},
		{name: "get times out and is retried", call: getP1, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				io.ReadAll(r.Body)
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
			}))
			t.Cleanup(srv.Close)
			c, _ := newTestClient(t, srv.URL, WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
			err := tt.call(t, c)
			te, ok := errors.AsType[*TransportError](err)
			if !ok {
				t.Fatalf("err = %v, want *TransportError", err)
			}
			if !te.RequestSent || !IsOutcomeUnknown(err) || !IsRetryable(err) {
				t.Errorf("RequestSent=%v IsOutcomeUnknown=%v IsRetryable=%v, want all true", te.RequestSent, IsOutcomeUnknown(err), IsRetryable(err))
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: 503})
	// Real sleeps here: the point is that the client does not start a wait
	// that would outlast the context.
	c, err := NewClient(srv.URL, testKey, WithRetry(5, 5*time.Second, 5*time.Second), withSleep(nil, noJitter))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.GetPayment(ctx, "p1")
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("GetPayment took %v, want it to give up without sleeping past the deadline", elapsed)
	}
	if apiErr, ok := errors.AsType[*Error](err); !ok || apiErr.StatusCode != 503 {
		t.Errorf("err = %v, want the last 503", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestContextCancelledDuringWait(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: 503})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var waits atomic.Int32
	cancelling := func(ctx context.Context, d time.Duration) error {
		waits.Add(1)
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	c, err := NewClient(srv.URL, testKey, withSleep(cancelling, noJitter))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPayment(ctx, "p1")
	if apiErr, ok := errors.AsType[*Error](err); !ok || apiErr.StatusCode != 503 {
		t.Errorf("err = %v, want the last 503", err)
	}
	if n := len(f.Requests()); n != 1 || waits.Load() != 1 {
		t.Errorf("server saw %d requests after %d waits, want 1 and 1", n, waits.Load())
	}
}

func TestCancelledContextIsNotRetried(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: 200, body: paymentJSONFixture})
	c, rec := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.GetPayment(ctx, "p1")
	te, ok := errors.AsType[*TransportError](err)
	if !ok {
		t.Fatalf("err = %v, want *TransportError", err)
	}
	if te.RequestSent || !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Errorf("RequestSent=%v Is(Canceled)=%v IsRetryable=%v, want false true false", te.RequestSent, errors.Is(err, context.Canceled), IsRetryable(err))
	}
	if len(f.Requests()) != 0 || len(rec.Waits()) != 0 {
		t.Errorf("requests %d, waits %v; want none", len(f.Requests()), rec.Waits())
	}
}

func TestTLSCertificateErrorIsNotRetried(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("request reached a server whose certificate is untrusted")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	t.Cleanup(srv.Close)
	c, rec := newTestClient(t, srv.URL) // default client: the test CA is not trusted
	_, err := c.CreatePayment(t.Context(), validCreateParams())
	te, ok := errors.AsType[*TransportError](err)
	if !ok {
		t.Fatalf("err = %v, want *TransportError", err)
	}
	if te.RequestSent || IsRetryable(err) || IsOutcomeUnknown(err) {
		t.Errorf("RequestSent=%v IsRetryable=%v IsOutcomeUnknown=%v, want all false", te.RequestSent, IsRetryable(err), IsOutcomeUnknown(err))
	}
	if len(rec.Waits()) != 0 {
		t.Errorf("waits = %v, want no retry", rec.Waits())
	}
}

func TestSingleAttemptDisablesRetries(t *testing.T) {
	f, srv := startFakeAPI(t, reply{status: 503})
	c, rec := newTestClient(t, srv.URL, WithRetry(1, time.Millisecond, time.Millisecond))
	if err := getP1(t, c); err == nil {
		t.Fatal("want an error")
	}
	if len(f.Requests()) != 1 || len(rec.Waits()) != 0 {
		t.Errorf("requests %d, waits %v; want 1 and none", len(f.Requests()), rec.Waits())
	}
}

func TestBackoffWait(t *testing.T) {
	p := retryPolicy{maxAttempts: 10, minBackoff: 100 * time.Millisecond, maxBackoff: time.Second, jitter: noJitter}
	tests := []struct {
		name    string
		policy  retryPolicy
		attempt int
		err     error
		want    time.Duration
		wantOK  bool
	}{
		{name: "first retry", policy: p, attempt: 1, err: errors.New("x"), want: 100 * time.Millisecond, wantOK: true},
		{name: "second", policy: p, attempt: 2, err: errors.New("x"), want: 200 * time.Millisecond, wantOK: true},
		{name: "fourth", policy: p, attempt: 4, err: errors.New("x"), want: 800 * time.Millisecond, wantOK: true},
		{name: "capped", policy: p, attempt: 5, err: errors.New("x"), want: time.Second, wantOK: true},
		{name: "far attempt capped", policy: p, attempt: 1000, err: errors.New("x"), want: time.Second, wantOK: true},
		{name: "retry-after honoured", policy: p, attempt: 1, err: &Error{StatusCode: 429, RetryAfter: 700 * time.Millisecond}, want: 700 * time.Millisecond, wantOK: true},
		{name: "retry-after equal to cap", policy: p, attempt: 1, err: &Error{StatusCode: 503, RetryAfter: time.Second}, want: time.Second, wantOK: true},
		{name: "retry-after too long", policy: p, attempt: 1, err: &Error{StatusCode: 429, RetryAfter: 2 * time.Second}, wantOK: false},
		{
			name:    "no overflow near max duration",
			policy:  retryPolicy{minBackoff: math.MaxInt64 / 3, maxBackoff: math.MaxInt64, jitter: noJitter},
			attempt: 70, err: errors.New("x"), want: math.MaxInt64, wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.policy.wait(tt.attempt, tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("wait(%d, %v) = %v, %v; want %v, %v", tt.attempt, tt.err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFullJitter(t *testing.T) {
	if got := fullJitter(0); got != 0 {
		t.Errorf("fullJitter(0) = %v, want 0", got)
	}
	const d = 10 * time.Millisecond
	distinct := map[time.Duration]bool{}
	for range 1000 {
		got := fullJitter(d)
		if got < 0 || got > d {
			t.Fatalf("fullJitter(%v) = %v, out of [0, %v]", d, got, d)
		}
		distinct[got] = true
	}
	if len(distinct) < 100 {
		t.Errorf("fullJitter produced %d distinct values in 1000 draws, want it random", len(distinct))
	}
}

func TestSleepContext(t *testing.T) {
	if err := sleepContext(t.Context(), time.Millisecond); err != nil {
		t.Errorf("sleepContext = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext on a cancelled context = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Error("sleepContext ignored the cancelled context")
	}
	if err := sleepContext(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext(0) on a cancelled context = %v, want context.Canceled", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 8, 18, 15, 27, 43, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "empty", value: "", want: 0},
		{name: "seconds", value: "3", want: 3 * time.Second},
		{name: "zero", value: "0", want: 0},
		{name: "negative", value: "-5", want: 0},
		{name: "huge capped", value: "99999999999999999", want: 24 * time.Hour},
		{name: "fraction is malformed", value: "1.5", want: 0},
		{name: "http date", value: "Mon, 18 Aug 2025 15:27:53 GMT", want: 10 * time.Second},
		{name: "past http date", value: "Mon, 18 Aug 2025 15:27:00 GMT", want: 0},
		{name: "garbage", value: "soon", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}
