package adminauth

import (
	"math"
	"testing"
	"time"
)

// TestLockForNeverShortens: the lock grows with the count up to MaxLock and never
// overflows into a short or negative one, whatever the configuration.
func TestLockForNeverShortens(t *testing.T) {
	for _, cfg := range []ThrottleConfig{
		{}, // the defaults
		{Free: 1, BaseLock: time.Nanosecond, MaxLock: math.MaxInt64},
		{Free: 3, BaseLock: time.Hour, MaxLock: time.Minute},
		{Free: 5, BaseLock: 30 * time.Second, MaxLock: 100 * 365 * 24 * time.Hour},
	} {
		th := NewSigninThrottle(nil, cfg)
		var last time.Duration
		for n := 0; n <= 100_000; n++ {
			d := th.lockFor(n)
			switch {
			case n < th.cfg.Free && d != 0:
				t.Fatalf("%+v: lockFor(%d) = %s before Free", cfg, n, d)
			case n >= th.cfg.Free && (d < last || d <= 0 || d > th.cfg.MaxLock):
				t.Fatalf("%+v: lockFor(%d) = %s after %s, want it to grow up to MaxLock", cfg, n, d, last)
			}
			last = d
		}
		if last != th.cfg.MaxLock {
			t.Errorf("%+v: lockFor(100000) = %s, want MaxLock %s", cfg, last, th.cfg.MaxLock)
		}
	}
}
