package orchestrate

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// retryPolicy holds how many times and how long to wait between attempts.
// sleep and jitter are fields so tests can observe waits without sleeping.
type retryPolicy struct {
	maxAttempts int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	// sleep waits for d or until ctx is done, returning ctx's error then.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a duration in [0, d]: full jitter spreads clients that
	// failed together so they do not retry in lockstep.
	jitter func(d time.Duration) time.Duration
}

func defaultRetryPolicy() retryPolicy {
	return retryPolicy{
		maxAttempts: 3,
		minBackoff:  250 * time.Millisecond,
		maxBackoff:  5 * time.Second,
		sleep:       sleepContext,
		jitter:      fullJitter,
	}
}

// wait returns how long to wait before the attempt after attempt (1-based),
// which failed with err. It returns false when the server asked, through
// Retry-After, for a longer wait than maxBackoff: retrying sooner would be
// rude and likely rejected, so the caller gets the error (with RetryAfter
// set) to reschedule on its own terms.
func (p retryPolicy) wait(attempt int, err error) (time.Duration, bool) {
	if apiErr, ok := errors.AsType[*Error](err); ok && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > p.maxBackoff {
			return 0, false
		}
		return apiErr.RetryAfter, true
	}
	// Exponential ceiling minBackoff·2^(attempt-1), computed by doubling so
	// it cannot overflow, then capped.
	ceiling := p.minBackoff
	for i := 1; i < attempt && ceiling < p.maxBackoff; i++ {
		if ceiling > p.maxBackoff/2 {
			ceiling = p.maxBackoff
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, p.maxBackoff)
	return p.jitter(ceiling), true
}

// fullJitter returns a uniformly random duration in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// sleepContext waits for d, returning early with ctx's error if ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
