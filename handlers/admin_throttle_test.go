package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// newThrottledApp is the app on a fresh database, its sign-in throttle reading
// clock; reg counts sign-in attempts by result.
func newThrottledApp(t *testing.T, clock clockwork.Clock) (a *app, reg *prometheus.Registry) {
	t.Helper()
	a = newAppWith(t, testdb.New(t).Pool, appOptions{clock: clock})
	return a, a.registry
}

// signinAttempts reads admin_signin_attempts_total for one result.
func signinAttempts(t *testing.T, reg *prometheus.Registry, result string) int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "admin_signin_attempts_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return 0
}

// throttleEpoch is a fixed time for the throttle's clock: nothing here depends on
// the date.
var throttleEpoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestAdminBruteForceIsThrottled(t *testing.T) {
	clock := clockwork.NewFakeClockAt(throttleEpoch)
	a, _ := newThrottledApp(t, clock)
	// Four failures from one address are answered 401 (each a little later); the
	// fifth locks the address for 30 s.
	for i := 1; i <= 4; i++ {
		if rec := a.signInFrom(t, "198.51.100.1", testAdminUser, "guess"+strconv.Itoa(i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i, rec.Code)
		}
	}
	rec := a.signInFrom(t, "198.51.100.1", testAdminUser, "guess5")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "30" {
		t.Fatalf("fifth failure = %d, Retry-After %q; want 429, 30", rec.Code, rec.Header().Get("Retry-After"))
	}
	if msg := doc(t, rec).Find("#signin-error").Text(); !strings.Contains(msg, "Wait 30 seconds") {
		t.Errorf("429 page says %q, want the wait", msg)
	}
	if v, _ := doc(t, rec).Find("#username").Attr("value"); v != testAdminUser {
		t.Errorf("429 page's username field = %q, want it kept", v)
	}
	// Locked: even the right password is refused, before it is checked.
	clock.Advance(10 * time.Second)
	if rec := a.signInFrom(t, "198.51.100.1", testAdminUser, testAdminPassword); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "20" {
		t.Errorf("right password while locked = %d, Retry-After %q; want 429, 20", rec.Code, rec.Header().Get("Retry-After"))
	}
	// The address is locked for every username…
	if rec := a.signInFrom(t, "198.51.100.1", "someone", "else"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("locked address with another username = %d, want 429", rec.Code)
	}
	// …while another address and username are unaffected.
	if rec := a.signInFrom(t, "203.0.113.8", "someone", "else"); rec.Code != http.StatusUnauthorized {
		t.Errorf("unrelated address and username = %d, want 401", rec.Code)
	}
	// Once the lock has passed, the right password works and clears the address's count.
	clock.Advance(20 * time.Second)
	if rec := a.signInFrom(t, "198.51.100.1", testAdminUser, testAdminPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("right password after the lock = %d, want 303", rec.Code)
	}
	if n := a.count(t, `SELECT count(*) FROM admin_signin_failures WHERE key = 'ip:198.51.100.1'`); n != 0 {
		t.Errorf("the address still has a count after a successful sign-in")
	}
}

// TestAdminSignInBurstComparesAtMostFive: 200 simultaneous wrong passwords from
// one address over HTTP get five passwords compared; the rest are refused first.
func TestAdminSignInBurstComparesAtMostFive(t *testing.T) {
	a, reg := newThrottledApp(t, clockwork.NewFakeClockAt(throttleEpoch))
	srv := httptest.NewServer(a.e)
	t.Cleanup(srv.Close)
	form := url.Values{"username": {testAdminUser}, "password": {"wrong"}}.Encode()
	var (
		g     errgroup.Group
		codes [200]int
		retry [200]string
	)
	for i := range codes {
		g.Go(func() error {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/admin/login", strings.NewReader(form))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := srv.Client().Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			codes[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if compared := signinAttempts(t, reg, "failed") + signinAttempts(t, reg, "succeeded"); compared != 5 {
		t.Errorf("%d passwords compared in a burst of 200, want 5", compared)
	}
	if refused := signinAttempts(t, reg, "refused"); refused != 195 {
		t.Errorf("%d attempts refused before comparing, want 195", refused)
	}
	answers := map[int]int{}
	for i, code := range codes {
		answers[code]++
		if code == http.StatusTooManyRequests && retry[i] != "30" {
			t.Errorf("a 429 with Retry-After %q, want 30", retry[i])
		}
	}
	if answers[http.StatusUnauthorized] != 4 || answers[http.StatusTooManyRequests] != 196 {
		t.Errorf("answers by status = %v, want 4×401 and 196×429", answers)
	}
}

// TestAdminStrangersCannotLockOutTheMerchant: addresses failing for the
// merchant's username lock themselves and, for addresses that have failed, the
// username; the merchant signing in from an address with no failures is not
// refused.
func TestAdminStrangersCannotLockOutTheMerchant(t *testing.T) {
	clock := clockwork.NewFakeClockAt(throttleEpoch)
	a, reg := newThrottledApp(t, clock)
	attackers := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"}
	// The first attacker's fifth guess locks its address and the username; every
	// other address then has one guess compared, and is refused after it.
	for n, addr := range attackers {
		for i := 1; i <= 8; i++ {
			want := http.StatusTooManyRequests
			if n == 0 && i < 5 {
				want = http.StatusUnauthorized
			}
			if rec := a.signInFrom(t, addr, strings.ToUpper(testAdminUser), "guess"+strconv.Itoa(i)); rec.Code != want {
				t.Errorf("%s, attempt %d = %d, want %d", addr, i, rec.Code, want)
			}
		}
	}
	if n := signinAttempts(t, reg, "failed"); n != 5+4 {
		t.Errorf("%d attackers' passwords compared, want 5 for the first address and 1 for each other", n)
	}

	// The merchant, from an address with no failures, signs in.
	if rec := a.signInFrom(t, "203.0.113.20", testAdminUser, testAdminPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("the merchant from a clean address = %d, want 303", rec.Code)
	}
	// The attackers stay locked, by their address and then by the username, even
	// with the right password.
	for _, advance := range []time.Duration{0, 31 * time.Second} {
		clock.Advance(advance)
		for _, addr := range attackers {
			rec := a.signInFrom(t, addr, testAdminUser, testAdminPassword)
			if retry, _ := strconv.Atoi(rec.Header().Get("Retry-After")); rec.Code != http.StatusTooManyRequests || retry <= 60 {
				t.Errorf("%s, %s after the burst = %d, Retry-After %q; want 429 for minutes", addr, advance, rec.Code, rec.Header().Get("Retry-After"))
			}
		}
	}
	// The merchant's own typo from a clean address, while the username is locked,
	// makes that address one of the refused ones.
	if rec := a.signInFrom(t, "203.0.113.21", testAdminUser, "typo"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a first failure while the username is locked = %d, want 429", rec.Code)
	}
	if rec := a.signInFrom(t, "203.0.113.21", testAdminUser, testAdminPassword); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a second attempt from that address = %d, want 429", rec.Code)
	}
	if n := signinAttempts(t, reg, "failed") + signinAttempts(t, reg, "succeeded"); n != 11 {
		t.Errorf("%d passwords compared in all, want 11", n)
	}
}
