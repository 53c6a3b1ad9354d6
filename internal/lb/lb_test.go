package lb_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/lb"
)

// fakeBackend answers /readyz with its ready status and every other path with
// its name, counting the requests it received.
type fakeBackend struct {
	name     string
	ready    atomic.Int32 // the status /readyz answers
	received atomic.Int64
	srv      *httptest.Server
}

func newBackend(t *testing.T, name string) *fakeBackend {
	f := &fakeBackend{name: name}
	f.ready.Store(http.StatusOK)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(int(f.ready.Load()))
			return
		}
		f.received.Add(1)
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the body is not needed
		io.WriteString(w, f.name)   //nolint:errcheck // the client may be gone
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func start(t *testing.T, backends ...*fakeBackend) (*lb.Balancer, string) {
	t.Helper()
	var urls []string
	for _, f := range backends {
		urls = append(urls, f.srv.URL)
	}
	return startOver(t, urls...)
}

// startOver runs a balancer over the URLs, checking them every 10 ms, and
// returns it and its URL.
func startOver(t *testing.T, urls ...string) (*lb.Balancer, string) {
	t.Helper()
	b, err := lb.New(urls, lb.Options{Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	t.Cleanup(b.Close)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv.URL
}

// eventually polls cond every 5 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func up(b *lb.Balancer) []bool {
	var ups []bool
	for _, s := range b.Stats() {
		ups = append(ups, s.Up)
	}
	return ups
}

func allUp(b *lb.Balancer, want ...bool) func() bool {
	return func() bool {
		got := up(b)
		for i := range want {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestRoundRobinAmongReady: requests are spread evenly over the ready backends
// and counted per backend; a backend whose /readyz answers 503 gets none until
// it answers 200 again.
func TestRoundRobinAmongReady(t *testing.T) {
	a, b, c := newBackend(t, "a"), newBackend(t, "b"), newBackend(t, "c")
	bal, url := start(t, a, b, c)
	eventually(t, "all three in rotation", allUp(bal, true, true, true))

	for range 30 {
		if code, _ := get(t, url+"/page"); code != http.StatusOK {
			t.Fatalf("GET = %d, want 200", code)
		}
	}
	for i, f := range []*fakeBackend{a, b, c} {
		if n := f.received.Load(); n != 10 {
			t.Errorf("backend %s received %d of 30 requests, want 10", f.name, n)
		}
		if s := bal.Stats()[i]; s.Served != 10 || s.Failed != 0 {
			t.Errorf("backend %s stats %+v, want 10 served, none failed", f.name, s)
		}
	}

	b.ready.Store(http.StatusServiceUnavailable) // draining
	eventually(t, "b out of rotation", allUp(bal, true, false, true))
	before := b.received.Load()
	for range 20 {
		if code, body := get(t, url+"/page"); code != http.StatusOK || body == "b" {
			t.Fatalf("GET with b draining = %d from %s, want 200 from a or c", code, body)
		}
	}
	if n := b.received.Load(); n != before {
		t.Errorf("draining backend b received %d requests", n-before)
	}

	b.ready.Store(http.StatusOK)
	eventually(t, "b back in rotation", allUp(bal, true, true, true))
	seen := map[string]bool{}
	for range 3 {
		_, body := get(t, url+"/page")
		seen[body] = true
	}
	if !seen["b"] {
		t.Errorf("b is in rotation again but got none of three requests (%v)", seen)
	}
}

// TestNoReadyBackendIs503: with every backend failing its check, or gone, the
// balancer answers 503 at once rather than hanging or sending to them.
func TestNoReadyBackendIs503(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	bal, url := start(t, a, b)
	eventually(t, "both in rotation", allUp(bal, true, true))
	a.ready.Store(http.StatusServiceUnavailable)
	b.srv.Close() // not answering at all
	eventually(t, "both out of rotation", allUp(bal, false, false))
	before := a.received.Load()
	if code, _ := get(t, url+"/page"); code != http.StatusServiceUnavailable {
		t.Errorf("GET with no backend ready = %d, want 503", code)
	}
	if a.received.Load() != before {
		t.Error("a backend out of rotation received the request")
	}
}

// TestFailedPOSTIsNotResent: a backend that drops the connection after reading
// a POST may have acted on it, so the client gets a 502 and the POST reached
// one backend once.
func TestFailedPOSTIsNotResent(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	drop := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" {
				return // 200
			}
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			posts = append(posts, name+":"+string(body))
			mu.Unlock()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0) //nolint:errcheck // a reset, as a crash
				conn.Close()
			}
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	x, y := drop("x"), drop("y")
	bal, front := startOver(t, x.URL, y.URL)
	eventually(t, "both in rotation", allUp(bal, true, true))

	resp, err := http.Post(front+"/checkout", "text/plain", strings.NewReader("order-1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("POST to a backend that dropped it = %d, want 502", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 {
		t.Errorf("the POST reached the backends %d times (%v), want once", len(posts), posts)
	}
	var failed int64
	for _, s := range bal.Stats() {
		failed += s.Failed
	}
	if failed != 1 {
		t.Errorf("%d failed requests counted, want 1", failed)
	}
}

func TestNewRefusesBadBackends(t *testing.T) {
	for _, urls := range [][]string{nil, {"localhost:8080"}, {"https://"}} {
		if _, err := lb.New(urls, lb.Options{}); err == nil {
			t.Errorf("New(%q) accepted", urls)
		}
	}
}
