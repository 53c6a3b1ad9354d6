package handlers_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// TestRateLimitedBurst: with the sandbox allowing 20 API requests a second and
// the instance limited to 16 (16 plus its burst of 3 stays under 20), a burst
// of payments completing at once converges — every order paid, no job failing
// an attempt, no request refused — no second sees more than 20 requests reach
// the sandbox, and a shopper checking out during the burst gets a payment link
// within 2 s, ahead of the queued background reads.
func TestRateLimitedBurst(t *testing.T) {
	const n = 100
	pool := testdb.New(t).Pool
	a := newAppWith(t, pool, appOptions{
		config: func(c *checkout.Config) { c.OrchestrateRateLimit = 16 },
		// More workers than the background share serves in a second: some
		// confirmations meet the local limit and must snooze, not fail.
		options: []checkout.Option{checkout.WithJobWorkers(40)},
	})
	a.setFaults(t, `{"rate_limit": 20}`)

	links := make([]string, n)
	for i := range n {
		links[i] = a.checkoutOne(t).link
		if !strings.HasPrefix(links[i], a.sandbox.URL) {
			t.Fatalf("checkout %d was not sent to Orchestrate but to %q (%d API requests so far, at most %d in one second)",
				i, links[i], len(a.sb.apiArrivals()), maxPerSecond(a.sb.apiArrivals()))
		}
	}
	var wg sync.WaitGroup
	for _, link := range links {
		wg.Go(func() { payOnHostedPage(t, link, "4242424242424242") })
	}
	wg.Wait()
	// The webhooks of the burst are now queueing confirmations.
	start := time.Now()
	late := a.checkoutOne(t)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a checkout during the burst took %v to get its payment link, want under 2s", took)
	}
	if late.link == "" {
		t.Error("the checkout during the burst got no payment link")
	}
	// About two reads a payment at the background share (12/s) take ~17s; the
	// shared eventually's 20s is too close under -race on a busy machine.
	for deadline := time.Now().Add(60 * time.Second); a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid'`) != n; {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for every order of the burst to be paid")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := a.count(t, `SELECT count(*) FROM river_job WHERE kind IN ('confirm_payment', 'confirm_attempt')
		AND (state IN ('retryable', 'discarded', 'cancelled') OR cardinality(errors) > 0)`); got != 0 {
		t.Errorf("%d confirmation jobs failed an attempt, want none", got)
	}
	arrivals := a.sb.apiArrivals()
	if got := maxPerSecond(arrivals); got > 20 {
		t.Errorf("%d API requests reached the sandbox in one second, want at most 20", got)
	}
	t.Logf("%d API requests in %v", len(arrivals), arrivals[len(arrivals)-1].Sub(arrivals[0]).Round(time.Millisecond))
}

// maxPerSecond is the most of the times, in order, in any one-second window.
func maxPerSecond(times []time.Time) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
