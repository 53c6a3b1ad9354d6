package orders_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestEveryOrderOfEventsKeepsStock is TestEveryOrderOfEvents with a tracked
// product and the sweeper: the payment states behind payment.created,
// .succeeded, .failed and .expired and a sweep past the hold's expiry, in all
// 120 orders, each delivered twice in a row (as a webhook and the return page would) and
// again at the end (the sweeper's re-read). Whatever the order, the paid order
// took its unit exactly once, its unit was released at most once and only when a
// failure, an expiry or the sweep came before the payment completed, nothing is
// oversold (no one else wanted the unit), and held equals the sum of the holds
// after every step.
func TestEveryOrderOfEventsKeepsStock(t *testing.T) {
	const sweep = "sweep"
	events := []string{string(orchestrate.StatusPending), string(orchestrate.StatusCompleted),
		string(orchestrate.StatusFailed), string(orchestrate.StatusExpired), sweep}
	for _, perm := range permutations(events) {
		var seq []string
		for _, e := range perm {
			seq = append(seq, e, e)
		}
		seq = append(seq, perm...)
		t.Run(strings.Join(perm, ","), func(t *testing.T) {
			t.Parallel()
			db := testdb.New(t)
			ctx := context.Background()
			clock := clockwork.NewFakeClockAt(time.Date(2021, time.March, 1, 12, 0, 0, 0, time.UTC))
			p := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{Clock: clock, Expiry: time.Hour, HoldGrace: 10 * time.Minute}, nil)
			kettle := productID(t, db, "gooseneck-kettle")
			if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand) VALUES ($1, 2)`, kettle); err != nil {
				t.Fatal(err)
			}
			cart := orders.NewCartID()
			if err := orders.NewCarts(db.Pool).Add(ctx, cart, kettle, 1, "USD"); err != nil {
				t.Fatal(err)
			}
			o, a, err := p.PlaceOrder(ctx, cart, "USD", shopper("Ann", "ann@example.com"))
			if err != nil {
				t.Fatal(err)
			}

			// A release is due exactly when a failure, an expiry or the sweep comes
			// before the payment completes.
			wantReleased := 0
			for _, e := range perm {
				if e == string(orchestrate.StatusCompleted) {
					break
				}
				if e != string(orchestrate.StatusPending) {
					wantReleased = 1
				}
			}
			causes := []string{"webhook", "return", "sweep"}
			for i, e := range seq {
				if e == sweep {
					clock.Advance(time.Hour + 10*time.Minute + time.Second)
					if _, err := p.ReleaseExpiredHolds(ctx, 100); err != nil {
						t.Fatalf("step %d (sweep): %v", i, err)
					}
				} else if _, err := p.Apply(ctx, a.ID, payment("pay_1", orchestrate.Status(e), o.TotalMinor, "USD"), causes[i%3], ""); err != nil {
					t.Fatalf("step %d (%s): %v", i, e, err)
				}
				if taken, released := stockEvents(t, db, o.ID, "taken"), stockEvents(t, db, o.ID, "released"); taken > 1 || released > 1 {
					t.Errorf("taken %d times, released %d times", taken, released)
				}
				checkHolds(t, db.Pool)
				if t.Failed() {
					t.Fatalf("after step %d (%s)", i, e)
				}
			}

			var status string
			var oversold bool
			if err := db.Pool.QueryRow(ctx, `SELECT status, oversold FROM orders WHERE id = $1`, o.ID).Scan(&status, &oversold); err != nil {
				t.Fatal(err)
			}
			onHand, held := stockOf(t, db.Pool, kettle)
			got := fmt.Sprintf("%s oversold=%v on_hand=%d held=%d taken=%d released=%d", status, oversold, onHand, held,
				stockEvents(t, db, o.ID, "taken"), stockEvents(t, db, o.ID, "released"))
			want := fmt.Sprintf("paid oversold=false on_hand=1 held=0 taken=1 released=%d", wantReleased)
			if got != want {
				t.Errorf("after %v:\n got %s\nwant %s", seq, got, want)
			}
		})
	}
}

// stockEvents counts the order's stock events to status to.
func stockEvents(t *testing.T, db *testdb.DB, orderID int64, to string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM order_events WHERE order_id = $1 AND subject = 'stock' AND to_status = $2`, orderID, to).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
