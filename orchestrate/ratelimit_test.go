package orchestrate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// maxInWindow is the most of the sorted times that fall in any window of d.
func maxInWindow(times []time.Time, d time.Duration) int {
	best := 0
	j := 0
	for i := range times {
		for times[i].Sub(times[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// TestRateLimiterWindow: a caller that takes every token it can, shopper and
// background calls mixed and backing off as told, never gets more than the
// limit in any one second, and gets the limit less one each second. Background
// calls alone get as much: no share of the rate is kept from them while no
// shopper needs it.
func TestRateLimiterWindow(t *testing.T) {
	for _, every := range []int{1, 3, 0} {
		name := fmt.Sprintf("shopper call every %d", every)
		if every == 0 {
			name = "background calls only"
		}
		t.Run(name, func(t *testing.T) { testRateLimiterWindow(t, every) })
	}
}

func testRateLimiterWindow(t *testing.T, shopperEvery int) {
	const limit = 20
	fc := clockwork.NewFakeClock()
	l := orchestrate.NewRateLimiter(limit, time.Second, fc)
	start := fc.Now()
	ctx, cancel := context.WithCancel(t.Context())
	var granted []time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		for i := 0; fc.Since(start) < 5*time.Second; i++ {
			callCtx := ctx
			if shopperEvery == 0 || i%shopperEvery != 0 {
				callCtx = orchestrate.Background(ctx)
			}
			err := l.Wait(callCtx)
			var rl *orchestrate.RateLimitedError
			switch {
			case errors.As(err, &rl):
				timer := fc.NewTimer(rl.RetryAfter)
				select {
				case <-timer.Chan():
				case <-ctx.Done():
				}
			case err != nil:
				t.Errorf("Wait: %v", err)
				return
			default:
				granted = append(granted, fc.Now())
			}
		}
	}()
	for ctx.Err() == nil {
		if fc.BlockUntilContext(ctx, 1) != nil {
			break
		}
		fc.Advance(5 * time.Millisecond)
	}
	<-done
	if got := maxInWindow(granted, time.Second); got > limit {
		t.Errorf("%d calls in one second, want at most %d", got, limit)
	}
	if want := 5 * (limit - 1); len(granted) < want {
		t.Errorf("%d calls in 5s, want at least %d", len(granted), want)
	}
}

// TestRateLimiterShopperPriority: while many background callers keep the
// limiter busy, a shopper's call still gets through within a few tokens' time,
// and the background callers are only slowed, not refused for good.
func TestRateLimiterShopperPriority(t *testing.T) {
	const limit = 50
	l := orchestrate.NewRateLimiter(limit, time.Second, nil)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var background atomic.Int64
	for range 40 {
		wg.Go(func() {
			bg := orchestrate.Background(ctx)
			for ctx.Err() == nil {
				err := l.Wait(bg)
				var rl *orchestrate.RateLimitedError
				switch {
				case errors.As(err, &rl):
					select {
					case <-time.After(rl.RetryAfter):
					case <-ctx.Done():
					}
				case err == nil:
					background.Add(1)
				}
			}
		})
	}
	// Let the background callers saturate their share first.
	time.Sleep(500 * time.Millisecond)
	var waits []time.Duration
	for range 10 {
		start := time.Now()
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("shopper Wait: %v", err)
		}
		waits = append(waits, time.Since(start))
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	slices.Sort(waits)
	if worst := waits[len(waits)-1]; worst > 200*time.Millisecond {
		t.Errorf("shopper waits %v: the slowest %v, want under 200ms", waits, worst)
	}
	if n := background.Load(); n < 30 {
		t.Errorf("background callers got %d calls in 1.5s, want at least 30", n)
	}
}

// TestRateLimiterBackOff: after BackOff (a 429's Retry-After) a background
// call is refused with the remaining wait and a shopper call waits it out.
func TestRateLimiterBackOff(t *testing.T) {
	fc := clockwork.NewFakeClock()
	l := orchestrate.NewRateLimiter(20, time.Second, fc)
	l.BackOff(3 * time.Second)
	var rl *orchestrate.RateLimitedError
	if err := l.Wait(orchestrate.Background(t.Context())); !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("background Wait during back-off: %v, want RetryAfter 3s", err)
	}
	if !orchestrate.IsRetryable(rl) {
		t.Error("a RateLimitedError is not retryable")
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait(t.Context()) }()
	waitCtx, stop := context.WithTimeout(t.Context(), 5*time.Second)
	defer stop()
	if err := fc.BlockUntilContext(waitCtx, 1); err != nil {
		t.Fatalf("the shopper's Wait did not wait for the back-off: %v", err)
	}
	fc.Advance(2 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("shopper Wait returned %v before the back-off ended", err)
	default:
	}
	fc.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatalf("shopper Wait after the back-off: %v", err)
	}
}

// TestClientBacksOffOn429: a 429 with Retry-After holds the instance's next
// requests: a background one is refused without reaching the server.
func TestClientBacksOffOn429(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message":"slow down"}`))
	}))
	defer srv.Close()
	l := orchestrate.NewRateLimiter(20, time.Second, nil)
	c, err := orchestrate.NewClient(srv.URL, "sk_test", orchestrate.WithRateLimiter(l), orchestrate.WithRetry(1, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPayment(t.Context(), "pay_1"); !orchestrate.IsRetryable(err) {
		t.Fatalf("first GetPayment: %v, want a retryable 429", err)
	}
	_, err = c.GetPayment(orchestrate.Background(t.Context()), "pay_1")
	var rl *orchestrate.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < 4*time.Second {
		t.Fatalf("background GetPayment after the 429: %v, want RateLimitedError of about 5s", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}
