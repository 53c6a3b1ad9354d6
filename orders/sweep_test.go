package orders_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestSweepScheduleFollowsTheClock: which attempts the sweeper finds due, when
// an attempt left creating counts as orphaned, and when an attempt is read next
// are all decided by the payments' clock, not the database's or the machine's.
// The clock is pinned years before the real date, so the database's now() would
// find everything long due.
func TestSweepScheduleFollowsTheClock(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	t0 := time.Date(2021, time.March, 1, 12, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(t0)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{
		Clock: clock, RecheckYoung: 20 * time.Second, CreateTimeout: 8 * time.Second, Expiry: time.Hour,
	}, nil)

	// An open attempt five minutes old (no payment id, so confirming it reads
	// nothing from Orchestrate), next read in 30 s, expiring in 50 min.
	open := insertAttempt(t, db.Pool, "open", t0.Add(-5*time.Minute), t0.Add(30*time.Second), t0.Add(50*time.Minute))
	// An attempt whose creator may still be at work: orphaned 18 s after it
	// was created (twice the create timeout, plus 2 s).
	creating := insertAttempt(t, db.Pool, "creating", t0, t0, time.Time{})

	due := func(want ...string) {
		t.Helper()
		got, err := payments.DueAttempts(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
			t.Errorf("at %s due attempts = %v, want %v", clock.Now().Format(time.TimeOnly), got, want)
		}
	}
	nextCheck := func(id string, want time.Time) {
		t.Helper()
		var got time.Time
		if err := db.Pool.QueryRow(ctx, `SELECT next_check_at FROM payment_attempts WHERE id = $1`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("next check of the %s attempt at %s, want %s", map[string]string{open: "open", creating: "creating"}[id],
				got.UTC().Format(time.TimeOnly), want.UTC().Format(time.TimeOnly))
		}
	}

	due() // nothing is due yet by the clock
	clock.Advance(17 * time.Second)
	due() // the creating attempt is 17 s old: its creator may still be at work
	clock.Advance(2 * time.Second)
	due(creating) // 19 s: orphaned
	nextCheck(creating, t0.Add(19*time.Second+time.Minute))

	clock.Advance(11 * time.Second) // t0+30s
	due(open)
	// Leased for a minute (five young intervals, at most a minute) by the clock.
	nextCheck(open, t0.Add(90*time.Second))

	// Confirmed at 5 min 30 s of age: read again in a minute.
	if err := payments.ConfirmDueAttempt(ctx, open, "test"); err != nil {
		t.Fatal(err)
	}
	nextCheck(open, t0.Add(90*time.Second))
	// At 54 min 30 s of age it would be read in 5 minutes, but it expires in 30 s:
	// read just after its expiry instead.
	clock.Advance(49 * time.Minute)
	if err := payments.ConfirmDueAttempt(ctx, open, "test"); err != nil {
		t.Fatal(err)
	}
	nextCheck(open, t0.Add(50*time.Minute+5*time.Second))
}

// insertAttempt adds an order with one attempt in the given status, created at
// created and next checked at next, expiring at expires (zero: no expiry yet).
func insertAttempt(t *testing.T, pool *pgxpool.Pool, status string, created, next, expires time.Time) string {
	t.Helper()
	ctx := context.Background()
	var orderID int64
	if err := pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email)
		VALUES (md5(random()::text), 'USD', 1999, 'Ada', 'ada@example.com') RETURNING id`).Scan(&orderID); err != nil {
		t.Fatal(err)
	}
	var exp *time.Time
	if !expires.IsZero() {
		exp = &expires
	}
	var id string
	if err := pool.QueryRow(ctx, `
		INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency, created_at, next_check_at, expires_at)
		VALUES (gen_random_uuid(), $1, $2, 1999, 'USD', $3, $4, $5) RETURNING id::text`,
		orderID, status, created, next, exp).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSweepSpreadsItsReads: one sweep that finds many attempts due schedules
// their confirmations evenly across the sweep interval, the first at once,
// so their reads reach Orchestrate at a steady rate instead of all together.
func TestSweepSpreadsItsReads(t *testing.T) {
	const due, interval = 20, 10 * time.Second
	db := testdb.New(t)
	ctx := context.Background()
	t0 := time.Date(2021, time.March, 1, 12, 0, 0, 0, time.UTC)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{
		Clock: clockwork.NewFakeClockAt(t0), RecheckYoung: 20 * time.Second, CreateTimeout: 8 * time.Second, Expiry: time.Hour,
	}, nil)
	for range due {
		// Open, without a payment id: confirming one reads nothing.
		insertAttempt(t, db.Pool, "open", t0.Add(-time.Hour), t0.Add(-time.Minute), t0.Add(time.Hour))
	}
	jobs, err := orders.NewJobs(db.Pool, payments, orders.JobsConfig{SweepInterval: interval}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The sweep runs when the client starts.
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := jobs.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	var scheduled []time.Time
	for deadline := time.Now().Add(10 * time.Second); len(scheduled) < due; {
		if time.Now().After(deadline) {
			t.Fatalf("the sweep queued %d confirmations, want %d", len(scheduled), due)
		}
		rows, err := db.Pool.Query(ctx, `SELECT scheduled_at FROM river_job WHERE kind = 'confirm_attempt' ORDER BY scheduled_at`)
		if err != nil {
			t.Fatal(err)
		}
		if scheduled, err = pgx.CollectRows(rows, pgx.RowTo[time.Time]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	step := interval / due
	// The first is scheduled when it is inserted, just after the sweeper took
	// the time the others count from: at most a step before the second.
	if gap := scheduled[1].Sub(scheduled[0]); gap <= 0 || gap > step+time.Millisecond {
		t.Errorf("the first confirmation is scheduled %v before the second, want at most %v", gap, step)
	}
	for i := 2; i < due; i++ {
		if gap := scheduled[i].Sub(scheduled[i-1]); gap < step-time.Millisecond || gap > step+time.Millisecond {
			t.Errorf("confirmations %d and %d are scheduled %v apart, want %v", i-1, i, gap, step)
		}
	}
}
