package orders_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestStockEditsInterleavedWithCheckouts: 80 shoppers check out one mug each at
// once, trying again while sold out, while the merchant recounts the mug's
// stock 15 times and payments complete (two in three) or fail (one in three) as
// they come. However they
// interleave: no order is oversold, on hand never goes below zero (a trigger
// watches every write), held is the sum of the holds, and the stock balances
// exactly — what the edits set, less what paid orders took, is what is on hand —
// so the units paid never exceed the stock counted plus what the edits added.
func TestStockEditsInterleavedWithCheckouts(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	store := orders.NewOrders(db.Pool)
	mug := productID(t, db, "enamel-mug")
	by := orders.Change{Actor: "merchant", At: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	if _, err := db.Pool.Exec(ctx, `
		CREATE TABLE stock_below_zero (product_id bigint, on_hand integer);
		CREATE FUNCTION stock_below_zero() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.on_hand < 0 THEN INSERT INTO stock_below_zero VALUES (NEW.product_id, NEW.on_hand); END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER stock_below_zero AFTER INSERT OR UPDATE ON stock FOR EACH ROW EXECUTE FUNCTION stock_below_zero();`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetStock(ctx, mug, 10, true, by); err != nil {
		t.Fatal(err)
	}

	const shoppers, edits = 80, 15
	var (
		wg                    sync.WaitGroup
		mu                    sync.Mutex
		paid, failed, soldOut int
		errs                  []error
		start                 = make(chan struct{})
		fail                  = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
		customer              = shopper("Ann", "ann@example.com")
		// Every checkout answered signals progress; the merchant recounts after
		// every fifth, so recounts land among checkouts and payments in flight.
		progress  = make(chan struct{}, shoppers)
		editsDone atomic.Bool
	)
	for i := range shoppers {
		cart := orders.NewCartID()
		if err := carts.Add(ctx, cart, mug, 1, "USD"); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// A shopper told "sold out" tries again until the merchant's last
			// recount, then once more.
			var o *orders.Order
			var attempt *orders.Attempt
			for {
				last := editsDone.Load()
				var err error
				o, attempt, err = payments.PlaceOrder(ctx, cart, "USD", customer)
				select {
				case progress <- struct{}{}:
				default: // the merchant has enough signals queued
				}
				if errors.Is(err, orders.ErrBusy) {
					// Held and released under it five times over: the shop
					// asks the shopper to try again, and so they do.
					continue
				}
				if errors.Is(err, orders.ErrSoldOut) {
					if last {
						mu.Lock()
						soldOut++
						mu.Unlock()
						return
					}
					continue
				}
				if err != nil {
					fail(fmt.Errorf("shopper %d: %w", i, err))
					return
				}
				break
			}
			if _, err := db.Pool.Exec(ctx, `UPDATE payment_attempts SET status = 'open' WHERE id = $1`, attempt.ID); err != nil {
				fail(err)
				return
			}
			status := orchestrate.StatusCompleted
			if i%3 == 0 {
				status = orchestrate.StatusFailed
			}
			if _, err := payments.Apply(ctx, attempt.ID, payment("pay_"+strconv.Itoa(i), status, o.TotalMinor, "USD"), "webhook", ""); err != nil {
				fail(fmt.Errorf("shopper %d: apply: %w", i, err))
				return
			}
			mu.Lock()
			if status == orchestrate.StatusCompleted {
				paid++
			} else {
				failed++
			}
			mu.Unlock()
		}()
	}
	// The merchant counts what is on hand and finds 0 to 2 more each time: an
	// absolute count, read a moment before it is set, while units are held and
	// taken meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer editsDone.Store(true)
		<-start
		for i := range edits {
			for range 5 {
				<-progress
			}
			var onHand int
			if err := db.Pool.QueryRow(ctx, `SELECT on_hand FROM stock WHERE product_id = $1`, mug).Scan(&onHand); err != nil {
				fail(err)
				return
			}
			if _, err := store.SetStock(ctx, mug, onHand+i%3, true, by); err != nil {
				fail(fmt.Errorf("edit %d: %w", i, err))
				return
			}
		}
	}()
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	t.Logf("%d paid, %d failed, %d sold out", paid, failed, soldOut)
	if soldOut == 0 || paid == 0 || paid+failed <= 10 {
		t.Fatalf("%d paid, %d failed and %d sold out: the checkouts did not contend for the stock, or bought none of what the recounts added",
			paid, failed, soldOut)
	}

	var oversold, belowZero, unitsPaid, onHand, held, holds, edited, editsRecorded int
	if err := db.Pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM orders WHERE oversold),
		       (SELECT count(*) FROM stock_below_zero),
		       (SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id
		        WHERE o.status = 'paid' AND oi.product_id = $1),
		       s.on_hand, s.held,
		       (SELECT coalesce(sum(quantity), 0) FROM stock_holds WHERE product_id = $1),
		       (SELECT coalesce(sum(to_value::int - CASE WHEN from_value = 'untracked' THEN 0 ELSE from_value::int END), 0)
		        FROM product_changes WHERE product_id = $1 AND field = 'stock'),
		       (SELECT count(*) FROM product_changes WHERE product_id = $1 AND field = 'stock')
		FROM stock s WHERE s.product_id = $1`, mug).
		Scan(&oversold, &belowZero, &unitsPaid, &onHand, &held, &holds, &edited, &editsRecorded); err != nil {
		t.Fatal(err)
	}
	if oversold != 0 {
		t.Errorf("%d orders oversold", oversold)
	}
	if belowZero != 0 {
		t.Errorf("on hand went below zero %d times", belowZero)
	}
	if held != holds || held != 0 {
		t.Errorf("held %d, holds sum to %d; every payment ended, so want 0 and 0", held, holds)
	}
	if unitsPaid != paid {
		t.Errorf("%d units paid for %d paid orders of one mug each", unitsPaid, paid)
	}
	// Each edit moved on hand from the count it replaced to its own; each paid
	// order took its unit. Nothing else moves on hand.
	if onHand != edited-unitsPaid {
		t.Errorf("on hand %d, want %d: the edits set %d in all (10 counted, then recounts) and paid orders took %d",
			onHand, edited-unitsPaid, edited, unitsPaid)
	}
	if unitsPaid > edited {
		t.Errorf("%d units paid, more than the %d counted and added by the edits", unitsPaid, edited)
	}
	if editsRecorded > edits+1 {
		t.Errorf("%d stock changes recorded for %d edits and the first count", editsRecorded, edits)
	}
}
