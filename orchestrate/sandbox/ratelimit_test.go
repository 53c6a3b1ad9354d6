package sandbox_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// TestFaultRateLimit: above rate_limit requests in one second, creates and
// reads alike are answered 429 with a Retry-After, and once the second has
// passed requests are served again.
func TestFaultRateLimit(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	e.setFaults(map[string]any{"rate_limit": 3})
	start := time.Now()
	var statuses []int
	var retryAfter string
	for i := range 5 {
		path, method, body := "/api/v1/payments/"+p.ID, "GET", any(nil)
		if i%2 == 1 {
			path, method, body = "/api/v1/payments", "POST", paymentRequest()
		}
		resp, _ := e.do(method, path, body)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	if time.Since(start) >= time.Second {
		t.Fatalf("the five requests took %v, over the one-second window", time.Since(start))
	}
	want := []int{200, 201, 200, 429, 429}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n != 1 {
		t.Errorf("Retry-After = %q, want 1", retryAfter)
	}
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	if resp, data := e.do("GET", "/api/v1/payments/"+p.ID, nil); resp.StatusCode != 200 {
		t.Errorf("after the second: status %d, body %s", resp.StatusCode, data)
	}
}

func TestFaultRateLimitValidated(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	resp, data := e.do("PUT", "/_sandbox/faults", map[string]any{"rate_limit": -1})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("rate_limit -1: status %d, want 422; body %s", resp.StatusCode, data)
	}
	f, err := sandbox.FaultsFromEnv(func(k string) string {
		if k == "SANDBOX_RATE_LIMIT" {
			return "25"
		}
		return ""
	})
	if err != nil || f.RateLimit != 25 {
		t.Errorf("SANDBOX_RATE_LIMIT=25: %+v, %v", f.RateLimit, err)
	}
}
