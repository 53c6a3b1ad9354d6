package orchestrate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"
)

// RateLimiter keeps one instance's requests to Orchestrate at or under a
// limit of L a second, in every one-second window, and lets shopper-facing
// requests go ahead of background ones.
//
// Every request, retries included, takes a token from one bucket refilled at
// L−1 a second that holds a single token: over any second at most the token
// it held plus L−1 refills are spent, so no one-second window sees more than
// L requests, and a steady load gets L−1 of them.
//
// Priority without a fixed share: a shopper's request reserves the next token
// at once, even one not yet refilled, and waits for it; background requests
// (see Background) queue, and only the one at the head of their queue holds a
// reservation. Background work therefore uses every token shoppers leave, and
// a shopper waits behind one background request at most, however many queue.
//
// A 429 answer backs every request off until its Retry-After has passed.
type RateLimiter struct {
	clock   clockwork.Clock
	bucket  *rate.Limiter
	perSec  float64 // the bucket's refill rate
	maxWait time.Duration

	mu    sync.Mutex
	until time.Time // no request before this, set by a 429's Retry-After

	bgTurn    chan struct{} // held by the background request at the head of the queue
	bgWaiting atomic.Int64  // background requests waiting, the head included
}

// NewRateLimiter returns a limiter of perSecond requests in any one second
// (at least 2; a smaller limit is taken as 2). Background requests that
// would wait longer than maxWait get a *RateLimitedError at once instead, so
// a job can snooze rather than hold a worker; zero means one second. clock
// nil is the real clock.
func NewRateLimiter(perSecond float64, maxWait time.Duration, clock clockwork.Clock) *RateLimiter {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if maxWait <= 0 {
		maxWait = time.Second
	}
	refill := max(perSecond, 2) - 1
	return &RateLimiter{
		clock:   clock,
		bucket:  rate.NewLimiter(rate.Limit(refill), 1),
		perSec:  refill,
		maxWait: maxWait,
		bgTurn:  make(chan struct{}, 1),
	}
}

// RateLimitedError is returned, before anything is sent, for a request the
// limiter will not let through in time: a background request that would wait
// longer than its limiter's maxWait, or any request whose context ends first.
// RetryAfter says when to try again. IsRetryable reports true for it.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("orchestrate: rate limited locally, retry after %v", e.RetryAfter.Round(time.Millisecond))
}

type backgroundKey struct{}

// Background marks ctx's requests as background work (webhook confirmations,
// sweeps): they use only part of the rate limit and do not wait long for it.
// Requests are shopper-facing by default.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func isBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

// BackOff holds every request until d from now (a 429's Retry-After).
func (l *RateLimiter) BackOff(d time.Duration) {
	until := l.clock.Now().Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.until) {
		l.until = until
	}
}

// Wait blocks until a request may be sent in ctx, or returns a
// *RateLimitedError (nothing was sent, nothing taken) or ctx's error.
func (l *RateLimiter) Wait(ctx context.Context) error {
	bg := isBackground(ctx)
	l.mu.Lock()
	until := l.until
	l.mu.Unlock()
	if d := until.Sub(l.clock.Now()); d > 0 {
		if err := l.check(ctx, bg, d); err != nil {
			return err
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
	if bg {
		return l.waitBackground(ctx)
	}
	now := l.clock.Now()
	r := l.bucket.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if err := l.check(ctx, false, d); err != nil {
		r.CancelAt(now)
		return err
	}
	if err := l.sleep(ctx, d); err != nil {
		r.CancelAt(l.clock.Now())
		return err
	}
	return nil
}

// waitBackground queues a background request behind the others; only the
// one at the head of the queue reserves a token. Shoppers reserve theirs the
// moment they ask, so they wait behind that one background request at most.
func (l *RateLimiter) waitBackground(ctx context.Context) error {
	ahead := l.bgWaiting.Add(1) - 1
	defer l.bgWaiting.Add(-1)
	expected := l.untilToken(l.clock.Now()) + time.Duration(float64(ahead)/l.perSec*float64(time.Second))
	if err := l.check(ctx, true, expected); err != nil {
		return err
	}
	select {
	case l.bgTurn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.bgTurn }()
	l.mu.Lock()
	backOff := l.until.Sub(l.clock.Now())
	l.mu.Unlock()
	if err := l.sleep(ctx, backOff); err != nil {
		return err
	}
	now := l.clock.Now()
	r := l.bucket.ReserveN(now, 1)
	if err := l.sleep(ctx, r.DelayFrom(now)); err != nil {
		r.CancelAt(l.clock.Now())
		return err
	}
	return nil
}

// untilToken is how long from now until the bucket holds a whole token.
func (l *RateLimiter) untilToken(now time.Time) time.Duration {
	missing := 1 - l.bucket.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / l.perSec * float64(time.Second))
}

// check refuses a wait of d that a background request should not make or
// that would outlast ctx's deadline.
func (l *RateLimiter) check(ctx context.Context, bg bool, d time.Duration) error {
	if bg && d > l.maxWait {
		return &RateLimitedError{RetryAfter: d}
	}
	if deadline, ok := ctx.Deadline(); ok && l.clock.Now().Add(d).After(deadline) {
		return &RateLimitedError{RetryAfter: d}
	}
	return nil
}

func (l *RateLimiter) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := l.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WithRateLimiter makes the client pass every request, retries included,
// through l, and back l off on a 429 with Retry-After. Share one limiter
// among the clients of one instance. NewClient returns an error wrapping
// ErrInvalidParams if l is nil.
func WithRateLimiter(l *RateLimiter) Option {
	return func(c *Client) error {
		if l == nil {
			return fmt.Errorf("%w: nil *RateLimiter", ErrInvalidParams)
		}
		c.limiter = l
		return nil
	}
}
