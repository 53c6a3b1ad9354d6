// The sign-in throttle: counts of sign-in attempts per client address and per
// username, kept in PostgreSQL so every instance enforces one limit, and the locks
// they set.

package adminauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"
)

// SigninThrottle limits admin sign-in attempts with counts kept in PostgreSQL
// (table admin_signin_failures), so every instance behind a load balancer
// enforces one limit. Attempt states the rules.
type SigninThrottle struct {
	pool  *pgxpool.Pool
	cfg   ThrottleConfig
	locks []time.Duration // locks[i] follows attempt Free+i; the last is MaxLock
}

// ThrottleConfig tunes a SigninThrottle; zero fields take the defaults.
type ThrottleConfig struct {
	Free     int             // attempts a key makes before it is locked (default 5)
	Window   time.Duration   // a count is forgotten this long after its first attempt and its last lock (default 15m)
	BaseLock time.Duration   // the first lock (default 30s)
	MaxLock  time.Duration   // the longest lock (default 15m)
	Clock    clockwork.Clock // the time every rule reads (default the real clock)
}

// NewSigninThrottle returns a throttle over pool.
func NewSigninThrottle(pool *pgxpool.Pool, cfg ThrottleConfig) *SigninThrottle {
	if cfg.Free <= 0 {
		cfg.Free = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.BaseLock <= 0 {
		cfg.BaseLock = 30 * time.Second
	}
	if cfg.MaxLock <= 0 {
		cfg.MaxLock = 15 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	return &SigninThrottle{pool: pool, cfg: cfg, locks: lockSchedule(cfg.BaseLock, cfg.MaxLock)}
}

// lockSchedule is every distinct lock from base, doubling, to max, computed in
// integers so no count of failures can overflow it into a short or negative lock.
func lockSchedule(base, max time.Duration) []time.Duration {
	locks := []time.Duration{min(base, max)}
	for d := locks[0]; d < max; locks = append(locks, d) {
		if d > max/2 {
			d = max
		} else {
			d *= 2
		}
	}
	return locks
}

// lockFor is the lock set by a key's nth counted attempt: none before Free, then
// BaseLock, doubling with each further attempt up to MaxLock. The statement in
// Attempt applies the same schedule.
func (t *SigninThrottle) lockFor(n int) time.Duration {
	if n < t.cfg.Free {
		return 0
	}
	return t.locks[min(n-t.cfg.Free, len(t.locks)-1)]
}

// SigninAttempt is the throttle's answer to one sign-in attempt.
type SigninAttempt struct {
	// Allowed says the password may be compared; the attempt has been counted.
	Allowed bool
	// Failures is the address's count, this attempt included (0 when refused).
	Failures int
	// Wait is how long until the address may have another attempt compared, should
	// this one fail (or, when refused, at all); 0 when it may try again at once.
	Wait time.Duration
}

// userKey is a username's key: case-folded and hashed, so a password typed into
// the username field is not stored and no input can break the statement.
func userKey(username string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(username))))
	return "user:" + hex.EncodeToString(sum[:])
}

// forgetSQL deletes the keys' counts once Window has passed since their first
// attempt and their last lock.
const forgetSQL = `
DELETE FROM admin_signin_failures
WHERE key = ANY($1) AND greatest(first_failure_at, locked_until) <= $2::timestamptz - $3::interval`

// attemptSQL counts one attempt against the address ($1) and then the username
// ($2) at time $3, in one statement whose row locks (address, then username)
// serialise concurrent attempts. A count reaching Free ($4) sets the lock
// $5[count - Free + 1] (the schedule, capped at its last entry). It returns the
// two new counts, NULL where refused; a refusal changes nothing.
//   - a: a locked address is refused, and so is an address that already has a
//     count (a recent failure) while the username is locked.
//   - u: counted only when a was; a locked username refuses the address only if it
//     already had a count, so a clean address is never locked out by others.
const attemptSQL = `
WITH a AS (
	INSERT INTO admin_signin_failures AS f (key, failures, first_failure_at, locked_until)
	VALUES ($1::text, 1, $3::timestamptz, $3 + ($5::interval[])[least(2 - $4::int, cardinality($5))])
	ON CONFLICT (key) DO UPDATE SET
		failures = f.failures + 1,
		locked_until = $3 + $5[least(f.failures + 2 - $4, cardinality($5))]
	WHERE coalesce(f.locked_until <= $3, true)
	  AND NOT EXISTS (SELECT FROM admin_signin_failures u WHERE u.key = $2 AND u.locked_until > $3)
	RETURNING failures
), u AS (
	INSERT INTO admin_signin_failures AS f (key, failures, first_failure_at, locked_until)
	SELECT $2::text, 1, $3, $3 + $5[least(2 - $4, cardinality($5))] FROM a
	ON CONFLICT (key) DO UPDATE SET
		failures = f.failures + 1,
		locked_until = $3 + $5[least(f.failures + 2 - $4, cardinality($5))]
	WHERE coalesce(f.locked_until <= $3, true) OR (SELECT failures FROM a) = 1
	RETURNING failures
)
SELECT (SELECT failures FROM a), (SELECT failures FROM u)`

// waitSQL is the latest lock among the keys that is still running.
const waitSQL = `
SELECT max(locked_until) FROM admin_signin_failures WHERE key = ANY($1) AND locked_until > $2::timestamptz`

// Attempt counts a sign-in attempt from addr for username before the password is
// compared, atomically, so a burst of simultaneous attempts cannot get more than
// Free compared. The rules:
//   - Every attempt not refused counts against its address; the count reaching
//     Free locks the address, for BaseLock and twice as long with each further
//     attempt, up to MaxLock. A locked address is refused.
//   - Every compared attempt counts against the username the same way, but a
//     locked username refuses only addresses with a count (recent failures): an
//     address with none may still try, so strangers cannot lock the merchant out.
//   - A count is forgotten Window after its first attempt and its last lock; a
//     successful sign-in clears its address's count (see Succeeded).
func (t *SigninThrottle) Attempt(ctx context.Context, addr, username string) (SigninAttempt, error) {
	now := t.cfg.Clock.Now()
	keys := []string{"ip:" + addr, userKey(username)}
	var (
		res                SigninAttempt
		addrCount, userCnt *int
		lockedUntil        *time.Time
	)
	// Forgetting is its own statement: it never holds a lock while the attempt waits.
	if _, err := t.pool.Exec(ctx, forgetSQL, keys, now, t.cfg.Window); err != nil {
		return SigninAttempt{}, fmt.Errorf("sign-in throttle: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(attemptSQL, keys[0], keys[1], now, t.cfg.Free, t.locks).QueryRow(func(row pgx.Row) error {
		return row.Scan(&addrCount, &userCnt)
	})
	b.Queue(waitSQL, keys, now).QueryRow(func(row pgx.Row) error { return row.Scan(&lockedUntil) })
	if err := t.pool.SendBatch(ctx, b).Close(); err != nil {
		return SigninAttempt{}, fmt.Errorf("sign-in throttle: %w", err)
	}
	if addrCount != nil && userCnt != nil {
		res.Allowed, res.Failures = true, *addrCount
	}
	if lockedUntil != nil {
		res.Wait = lockedUntil.Sub(now)
	}
	return res, nil
}

// Succeeded records that the attempt from addr for username signed in: the
// address's count is cleared, the attempt is taken back off the username's count
// (whose lock stays, for the addresses that failed), and counts already forgotten
// are deleted, skipping any an attempt holds.
func (t *SigninThrottle) Succeeded(ctx context.Context, addr, username string) error {
	b := &pgx.Batch{}
	b.Queue(`
		DELETE FROM admin_signin_failures WHERE key = $1 OR key IN (
			SELECT key FROM admin_signin_failures
			WHERE key <> $2 AND greatest(first_failure_at, locked_until) <= $3::timestamptz - $4::interval
			FOR UPDATE SKIP LOCKED)`,
		"ip:"+addr, userKey(username), t.cfg.Clock.Now(), t.cfg.Window)
	b.Queue(`UPDATE admin_signin_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0`, userKey(username))
	if err := t.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	return nil
}
