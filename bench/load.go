package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// closedLoopWorkers is how many requests a closed-loop run keeps in flight: enough
// to saturate two cores without measuring the scheduler.
const closedLoopWorkers = 16

// maxInFlight caps a constant-rate run's concurrent requests (and connections):
// far above what a healthy server at 70% of its maximum needs, well below the
// process's file limit. A server that falls behind by more shows up as a
// missed rate and a long tail, not as a crash of the generator.
const maxInFlight = 512

// stats is one load run's outcome.
type stats struct {
	RPS      float64 // successful responses per second
	P50, P99 time.Duration
	Success  float64 // fraction of responses with a 2xx/3xx status
	Requests uint64
	Errors   []string
	Codes    map[string]int // responses by status code
	Elapsed  time.Duration  // from the first request sent to the last response
	LastOK   time.Duration  // from the first request sent to the last 2xx/3xx response
}

// attack runs tr with pacer for d and returns its metrics. A zero pacer with
// workers > 0 is a closed loop: exactly workers requests in flight, each sent as
// soon as the previous one answered.
func attack(ctx context.Context, tr vegeta.Targeter, pacer vegeta.Pacer, workers int, d time.Duration) stats {
	// Our own transport, so every run starts with no connections and closes what
	// it opened: runs do not inherit each other's sockets.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: maxInFlight,
		MaxConnsPerHost:     maxInFlight,
	}
	defer transport.CloseIdleConnections()
	opts := []func(*vegeta.Attacker){
		vegeta.Client(&http.Client{Transport: transport, Timeout: 30 * time.Second}),
		vegeta.Redirects(vegeta.NoFollow),
	}
	if workers > 0 {
		opts = append(opts, vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)))
	} else {
		opts = append(opts, vegeta.MaxWorkers(maxInFlight))
	}
	atk := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	var first, lastOK time.Time
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()
	for res := range atk.Attack(tr, pacer, d, "") {
		if res.Error == vegeta.ErrNoTargets.Error() {
			continue // a worker that found nothing left to send sent nothing
		}
		if first.IsZero() || res.Timestamp.Before(first) {
			first = res.Timestamp
		}
		if end := res.Timestamp.Add(res.Latency); res.Code >= 200 && res.Code < 400 && end.After(lastOK) {
			lastOK = end
		}
		m.Add(res)
	}
	close(done)
	m.Close()
	return stats{
		RPS: m.Throughput, P50: m.Latencies.P50, P99: m.Latencies.P99,
		Success: m.Success, Requests: m.Requests, Errors: m.Errors,
		Codes: m.StatusCodes, Elapsed: m.Duration + m.Wait, LastOK: lastOK.Sub(first),
	}
}

// closedLoop measures maximum throughput with n requests in flight.
func closedLoop(ctx context.Context, tr vegeta.Targeter, n int, d time.Duration) stats {
	return attack(ctx, tr, vegeta.ConstantPacer{}, n, d)
}

// constantRate sends rate requests per second on a fixed schedule whatever the
// server does, so a slow response delays no later request (no coordinated
// omission) and latency includes any queueing.
func constantRate(ctx context.Context, tr vegeta.Targeter, rate float64, d time.Duration) stats {
	r := int(math.Max(1, math.Round(rate)))
	return attack(ctx, tr, vegeta.ConstantPacer{Freq: r, Per: time.Second}, 0, d)
}

// check fails a run whose responses were not all successes: a figure made of
// errors is no figure.
func (s stats) check(what string) error {
	if s.Requests == 0 {
		return fmt.Errorf("%s: no requests completed", what)
	}
	if s.Success < 0.99 {
		return fmt.Errorf("%s: only %.1f%% of %d responses succeeded: %v", what, 100*s.Success, s.Requests, s.Errors)
	}
	return nil
}

// median returns the median of xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianDur(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}

// target is one endpoint under load: a name and its targeter.
type target struct {
	Name string
	Tr   vegeta.Targeter
}

// capacity is an endpoint's median maximum throughput and its median latency at
// 70% of that maximum.
type capacity struct {
	MaxRPS   float64
	P50, P99 time.Duration // at 70% of MaxRPS, constant rate
}

// measurePair measures a and b side by side: warm-up, then alternating
// closed-loop runs for max throughput, then alternating constant-rate runs at
// 70% of each one's own median maximum. Each figure is the median of opts.runs.
func (e *env) measurePair(ctx context.Context, a, b target) (capacity, capacity, error) {
	ts := []target{a, b}
	caps := make([]capacity, 2)
	maxes, err := e.maxRPS(ctx, ts...)
	if err != nil {
		return caps[0], caps[1], err
	}
	for i := range ts {
		caps[i].MaxRPS = maxes[i]
	}
	p50s, p99s := make([][]time.Duration, 2), make([][]time.Duration, 2)
	for r := 0; r < e.opts.runs; r++ {
		for i, t := range ts {
			s := constantRate(ctx, t.Tr, 0.7*caps[i].MaxRPS, e.opts.dur)
			if err := s.check(t.Name + " at 70%"); err != nil {
				return caps[0], caps[1], err
			}
			p50s[i] = append(p50s[i], s.P50)
			p99s[i] = append(p99s[i], s.P99)
		}
	}
	for i, t := range ts {
		caps[i].P50, caps[i].P99 = medianDur(p50s[i]), medianDur(p99s[i])
		e.logf("  %-28s max %8.0f req/s   at 70%%: p50 %s p99 %s", t.Name, caps[i].MaxRPS, ms(caps[i].P50), ms(caps[i].P99))
	}
	return caps[0], caps[1], ctx.Err()
}

// maxRPS measures the targets' maximum throughput side by side: a warm-up, then
// alternating closed-loop runs; each figure is the median of opts.runs.
func (e *env) maxRPS(ctx context.Context, ts ...target) ([]float64, error) {
	warm := e.opts.dur / 4
	for _, t := range ts {
		closedLoop(ctx, t.Tr, closedLoopWorkers, warm)
	}
	rps := make([][]float64, len(ts))
	for r := 0; r < e.opts.runs; r++ {
		for i, t := range ts {
			s := closedLoop(ctx, t.Tr, closedLoopWorkers, e.opts.dur)
			if err := s.check(t.Name + " closed loop"); err != nil {
				return nil, err
			}
			rps[i] = append(rps[i], s.RPS)
		}
	}
	maxes := make([]float64, len(ts))
	for i := range ts {
		maxes[i] = median(rps[i])
	}
	return maxes, ctx.Err()
}

// get returns a targeter for GET url with the given cookies. It accepts gzip as
// browsers do, and names it itself so the transport hands over the bytes as sent
// instead of decompressing them: a page and its baseline cost the client alike.
func get(url string, cookies ...*http.Cookie) vegeta.Targeter {
	h := http.Header{"Accept-Encoding": {"gzip"}}
	for _, c := range cookies {
		h.Add("Cookie", c.String())
	}
	return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: url, Header: h})
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
