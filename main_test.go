package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// syncBuffer is a bytes.Buffer safe for the app's logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls url until it answers want or the deadline passes.
func waitFor(t *testing.T, url string, want int, errc <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			t.Fatalf("run returned before serving: %v", err)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d", url, want)
}

// TestRunServesAndShutsDown runs the whole app as main does: it migrates a fresh
// database, serves the catalog, and returns nil once its context is cancelled.
func TestRunServesAndShutsDown(t *testing.T) {
	db := testdb.NewEmpty(t)
	addr, metricsAddr := apptest.FreeAddr(t), apptest.FreeAddr(t)
	getenv := env(map[string]string{
		"DATABASE_URL": db.URL,
		"ADDR":         addr,
		"PUBLIC_URL":   "http://" + addr,
		"SANDBOX_ADDR": apptest.FreeAddr(t),
		"METRICS_ADDR": metricsAddr,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, nil, getenv, &logs) }()

	base := "http://" + addr
	waitFor(t, base+"/readyz", http.StatusOK, errc)
	for _, tc := range []struct {
		url  string
		want int
	}{
		{base + "/", http.StatusOK},
		{base + "/healthz", http.StatusOK},
		// The metrics are on their own internal listener, never on the shop's.
		{base + "/metrics", http.StatusNotFound},
		{"http://" + metricsAddr + "/metrics", http.StatusOK},
		{"http://" + metricsAddr + "/", http.StatusNotFound},
	} {
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s = %d, want %d", tc.url, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && strings.HasSuffix(tc.url, "/metrics") && !strings.Contains(string(body), `http_requests_total{method="GET",route="/",status="200"} 1`) {
			t.Errorf("GET %s lacks the shop's request count:\n%s", tc.url, body)
		}
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run after cancel = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	for _, u := range []string{base + "/healthz", "http://" + metricsAddr + "/metrics"} {
		if _, err := http.Get(u); err == nil {
			t.Errorf("%s still answers after shutdown", u)
		}
	}
	if !bytes.Contains([]byte(logs.String()), []byte("request_id=")) {
		t.Errorf("request log lines lack request_id:\n%s", logs.String())
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	err := run(context.Background(), nil, env(map[string]string{"ORCHESTRATE_MCC": "x"}), &bytes.Buffer{})
	if err == nil {
		t.Fatal("run started with a malformed ORCHESTRATE_MCC")
	}
	if got := fmt.Sprint(err); !bytes.Contains([]byte(got), []byte("ORCHESTRATE_MCC")) {
		t.Errorf("error %q does not name ORCHESTRATE_MCC", got)
	}
}

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
