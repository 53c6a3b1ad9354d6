package adminauth_test

import (
	"cmp"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// attempt makes one attempt and fails the test on an error.
func attempt(t *testing.T, th *adminauth.SigninThrottle, addr, user string) adminauth.SigninAttempt {
	t.Helper()
	a, err := th.Attempt(context.Background(), addr, user)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSigninThrottleCountsLocksAndForgets(t *testing.T) {
	db := testdb.New(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	th := adminauth.NewSigninThrottle(db.Pool, adminauth.ThrottleConfig{Free: 3, BaseLock: 10 * time.Second, MaxLock: 35 * time.Second, Clock: clock})
	steps := []struct {
		advance time.Duration
		want    adminauth.SigninAttempt
	}{
		{0, adminauth.SigninAttempt{Allowed: true, Failures: 1}},
		{0, adminauth.SigninAttempt{Allowed: true, Failures: 2}},
		{0, adminauth.SigninAttempt{Allowed: true, Failures: 3, Wait: 10 * time.Second}}, // the third locks, before its password is compared
		{4 * time.Second, adminauth.SigninAttempt{Wait: 6 * time.Second}},                // refused, and not counted
		{6 * time.Second, adminauth.SigninAttempt{Allowed: true, Failures: 4, Wait: 20 * time.Second}},
		{20 * time.Second, adminauth.SigninAttempt{Allowed: true, Failures: 5, Wait: 35 * time.Second}}, // 40s, capped
		{35 * time.Second, adminauth.SigninAttempt{Allowed: true, Failures: 6, Wait: 35 * time.Second}},
		// Forgotten once the window has passed since the last lock ended.
		{35*time.Second + 15*time.Minute, adminauth.SigninAttempt{Allowed: true, Failures: 1}},
	}
	for i, step := range steps {
		clock.Advance(step.advance)
		if got := attempt(t, th, "192.0.2.1", "admin"); got != step.want {
			t.Errorf("attempt %d: %+v, want %+v", i+1, got, step.want)
		}
	}
	if got := attempt(t, th, "192.0.2.2", "someone"); got != (adminauth.SigninAttempt{Allowed: true, Failures: 1}) {
		t.Errorf("an unrelated address and username: %+v, want the first free attempt", got)
	}
	// A success clears the address's count.
	if err := th.Succeeded(context.Background(), "192.0.2.1", "admin"); err != nil {
		t.Fatal(err)
	}
	if got := attempt(t, th, "192.0.2.1", "admin"); !got.Allowed || got.Failures != 1 {
		t.Errorf("after a success: %+v, want the first free attempt", got)
	}
}

// TestSigninThrottleBurstComparesAtMostFree: simultaneous attempts from one
// address are counted one by one, so only Free of them may be compared.
func TestSigninThrottleBurstComparesAtMostFree(t *testing.T) {
	db := testdb.New(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	th := adminauth.NewSigninThrottle(db.Pool, adminauth.ThrottleConfig{Clock: clock})
	var allowed atomic.Int32
	var g errgroup.Group
	for range 200 {
		g.Go(func() error {
			a, err := th.Attempt(context.Background(), "198.51.100.9", "admin")
			if a.Allowed {
				allowed.Add(1)
			} else if a.Wait != 30*time.Second {
				t.Errorf("refused with a wait of %s, want 30s", a.Wait)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := allowed.Load(); n != 5 {
		t.Errorf("%d of 200 simultaneous attempts allowed, want 5", n)
	}
}

// TestSigninThrottleLockNeverShortens retries each time the lock ends, for
// thousands of attempts: the lock grows to MaxLock and stays there.
func TestSigninThrottleLockNeverShortens(t *testing.T) {
	db := testdb.New(t)
	for i, cfg := range []adminauth.ThrottleConfig{
		{}, // the defaults: 30s doubling to 15m
		{Free: 1, BaseLock: time.Second, MaxLock: 20 * 365 * 24 * time.Hour},
	} {
		clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		cfg.Clock = clock
		th := adminauth.NewSigninThrottle(db.Pool, cfg)
		addr, user := "203.0.113."+strconv.Itoa(i), "admin"+strconv.Itoa(i)
		free := cmp.Or(cfg.Free, 5)
		var last time.Duration
		for n := 1; n <= 2000; n++ {
			a := attempt(t, th, addr, user)
			if !a.Allowed || a.Failures != n {
				t.Fatalf("%+v: attempt %d when the lock ended = %+v, want allowed as attempt %d", cfg, n, a, n)
			}
			if a.Wait < last || (n >= free && a.Wait <= 0) {
				t.Fatalf("%+v: attempt %d locks for %s after %s: the lock shortened", cfg, n, a.Wait, last)
			}
			last = a.Wait
			clock.Advance(a.Wait)
		}
		if want := max(cfg.MaxLock, 15*time.Minute); last != want {
			t.Errorf("%+v: lock after 2000 attempts = %s, want MaxLock %s", cfg, last, want)
		}
	}
}

// TestSigninThrottleSparesCleanAddresses: other addresses failing for a username
// lock it only for addresses that have failed themselves.
func TestSigninThrottleSparesCleanAddresses(t *testing.T) {
	db := testdb.New(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	th := adminauth.NewSigninThrottle(db.Pool, adminauth.ThrottleConfig{Clock: clock})
	for i := range 3 {
		for range 5 {
			attempt(t, th, "198.51.100."+strconv.Itoa(i), "Admin")
		}
	}
	// The username has 15 attempts: locked, but not for a clean address.
	if a := attempt(t, th, "192.0.2.50", "admin"); !a.Allowed || a.Failures != 1 {
		t.Fatalf("a clean address = %+v, want allowed", a)
	}
	// An attacker's address whose own lock has ended is still refused.
	clock.Advance(31 * time.Second)
	if a := attempt(t, th, "198.51.100.0", "admin"); a.Allowed || a.Wait <= time.Minute {
		t.Errorf("an attacker's address after its own lock = %+v, want refused for the username's lock", a)
	}
	// Another username from that address is not.
	if a := attempt(t, th, "198.51.100.0", "someone"); !a.Allowed {
		t.Errorf("another username from an address whose lock ended = %+v, want allowed", a)
	}
}
