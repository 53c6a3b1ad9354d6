package orchestrate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"
)

// RateLimiter keeps one instance's requests to Orchestrate under a rate
// limit, giving shopper-facing requests priority over background ones. Every
// request, retries included, takes a token from a bucket of perSecond tokens a
// second holding at most a fifth of a second's worth, so no one-second window
// sees more than perSecond × 1.2 requests. Background requests (see
// Background) first pass a second bucket refilled at backgroundShare of the
// rate: they can never use the whole rate, so a shopper's request finds a
// token within about 1/perSecond however many background requests queue.
//
// A 429 answer backs every request off until its Retry-After has passed.
type RateLimiter struct {
	clock   clockwork.Clock
	all     *rate.Limiter
	bg      *rate.Limiter
	maxWait time.Duration

	mu    sync.Mutex
	until time.Time // no request before this, set by a 429's Retry-After
}

// backgroundShare is the part of the rate background requests may use.
const backgroundShare = 0.75

// NewRateLimiter returns a limiter of perSecond requests a second (> 0).
// Background requests that would wait longer than maxWait get a
// *RateLimitedError at once instead, so a job can snooze rather than hold a
// worker; zero means one second. clock nil is the real clock.
func NewRateLimiter(perSecond float64, maxWait time.Duration, clock clockwork.Clock) *RateLimiter {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if maxWait <= 0 {
		maxWait = time.Second
	}
	burst := max(1, int(perSecond/5))
	return &RateLimiter{
		clock:   clock,
		all:     rate.NewLimiter(rate.Limit(perSecond), burst),
		bg:      rate.NewLimiter(rate.Limit(perSecond*backgroundShare), 1),
		maxWait: maxWait,
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
		if err := l.take(ctx, l.bg, true); err != nil {
			return err
		}
	}
	return l.take(ctx, l.all, bg)
}

// take reserves one token of lim and waits for it, giving it back when the
// wait is refused or cut short.
func (l *RateLimiter) take(ctx context.Context, lim *rate.Limiter, bg bool) error {
	now := l.clock.Now()
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if err := l.check(ctx, bg, d); err != nil {
		r.CancelAt(now)
		return err
	}
	if err := l.sleep(ctx, d); err != nil {
		r.CancelAt(l.clock.Now())
		return err
	}
	return nil
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
