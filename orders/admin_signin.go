package orders

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SigninThrottle counts failed admin sign-ins per key (a client address, a
// username) in PostgreSQL, so every instance behind a load balancer enforces the
// same limit. After Free failures within Window a key is locked, for BaseLock the
// first time and twice as long on each further failure, up to MaxLock.
type SigninThrottle struct {
	pool *pgxpool.Pool
	cfg  ThrottleConfig
}

// ThrottleConfig tunes a SigninThrottle; zero fields take the defaults.
type ThrottleConfig struct {
	Free     int           // failures before the first lock (default 5)
	Window   time.Duration // how long failures are remembered (default 15m)
	BaseLock time.Duration // the first lock (default 30s)
	MaxLock  time.Duration // the longest lock (default 15m)
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
	return &SigninThrottle{pool: pool, cfg: cfg}
}

// Locked returns how long the most locked of keys stays locked; 0 when none is.
func (t *SigninThrottle) Locked(ctx context.Context, keys ...string) (time.Duration, error) {
	var secs float64
	err := t.pool.QueryRow(ctx, `
		SELECT coalesce(max(extract(epoch FROM locked_until - now())), 0)::float8
		FROM admin_signin_failures WHERE key = ANY($1) AND locked_until > now()`, keys).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("sign-in throttle: %w", err)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// Fail records one failed sign-in against every key. It returns the highest
// failure count among them and how long they are now locked (0 when not yet).
func (t *SigninThrottle) Fail(ctx context.Context, keys ...string) (failures int, lock time.Duration, err error) {
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			INSERT INTO admin_signin_failures AS f (key, failures) SELECT unnest($1::text[]), 1
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN f.first_failure_at < now() - $2::interval
				                 AND coalesce(f.locked_until, '-infinity') < now() THEN 1 ELSE f.failures + 1 END,
				first_failure_at = CASE WHEN f.first_failure_at < now() - $2::interval
				                 AND coalesce(f.locked_until, '-infinity') < now() THEN now() ELSE f.first_failure_at END
			RETURNING key, failures`, keys, t.cfg.Window)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		var key string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&key, &n}, func() error { counts[key] = n; return nil }); err != nil {
			return err
		}
		for key, n := range counts {
			failures = max(failures, n)
			if n < t.cfg.Free {
				continue
			}
			d := t.lockFor(n)
			lock = max(lock, d)
			if _, err := tx.Exec(ctx, `UPDATE admin_signin_failures SET locked_until = now() + $2::interval WHERE key = $1`, key, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sign-in throttle: %w", err)
	}
	return failures, lock, nil
}

// lockFor is the lock after the nth failure: BaseLock at Free, doubling after.
func (t *SigninThrottle) lockFor(n int) time.Duration {
	exp := float64(n - t.cfg.Free)
	d := time.Duration(float64(t.cfg.BaseLock) * math.Pow(2, min(exp, 30)))
	return min(d, t.cfg.MaxLock)
}

// Reset forgets the keys' failures (after a successful sign-in) and prunes rows
// nobody has failed on for a day.
func (t *SigninThrottle) Reset(ctx context.Context, keys ...string) error {
	_, err := t.pool.Exec(ctx, `
		DELETE FROM admin_signin_failures
		WHERE key = ANY($1) OR (first_failure_at < now() - interval '1 day' AND coalesce(locked_until, '-infinity') < now())`, keys)
	if err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	return nil
}

// PruneExpiredSessions deletes admin sessions past their expiry from the sessions
// table of scs's pgxstore (expired ones are already ignored when read).
func PruneExpiredSessions(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	return nil
}
