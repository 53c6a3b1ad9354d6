package orders_test

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

func TestSigninThrottle(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	th := orders.NewSigninThrottle(db.Pool, orders.ThrottleConfig{Free: 3, BaseLock: 10 * time.Second, MaxLock: 35 * time.Second})
	keys := []string{"ip:192.0.2.1", "user:admin"}
	wantLocks := []time.Duration{0, 0, 10 * time.Second, 20 * time.Second, 35 * time.Second, 35 * time.Second}
	for i, want := range wantLocks {
		n, lock, err := th.Fail(ctx, keys...)
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 || lock != want {
			t.Errorf("failure %d: count %d, lock %s; want %d, %s", i+1, n, lock, i+1, want)
		}
	}
	wait, err := th.Locked(ctx, "user:admin")
	if err != nil || wait <= 30*time.Second || wait > 35*time.Second {
		t.Errorf("Locked = %s (%v), want just under 35s", wait, err)
	}
	if wait, err := th.Locked(ctx, "user:other"); err != nil || wait != 0 {
		t.Errorf("an unrelated key is locked for %s (%v)", wait, err)
	}
	// Once the window and the lock have passed, counting starts again.
	if _, err := db.Pool.Exec(ctx, `UPDATE admin_signin_failures SET first_failure_at = now() - interval '1 hour', locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if n, lock, err := th.Fail(ctx, keys...); err != nil || n != 1 || lock != 0 {
		t.Errorf("after the window: count %d, lock %s (%v); want 1, 0", n, lock, err)
	}
	if err := th.Reset(ctx, keys...); err != nil {
		t.Fatal(err)
	}
	if wait, err := th.Locked(ctx, keys...); err != nil || wait != 0 {
		t.Errorf("locked for %s after Reset (%v)", wait, err)
	}
}

func TestPruneExpiredSessions(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES
		('old', '', now() - interval '1 minute'), ('live', '', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if err := orders.PruneExpiredSessions(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	rows, err := db.Pool.Query(ctx, `SELECT token FROM sessions ORDER BY token`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	if len(tokens) != 1 || tokens[0] != "live" {
		t.Errorf("sessions left = %v, want [live]", tokens)
	}
}
