package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// The stock crash test: the app killed with SIGKILL after a checkout's hold
// committed and before its payment's answer was stored. The hold must not leak
// (the units come back) and must not come back twice.

// stockLevel returns the product's on_hand and held, and the sum of its holds.
func (c *crashEnv) stockLevel(productID string) (onHand, held, holds int) {
	c.t.Helper()
	err := c.pool.QueryRow(context.Background(), `
		SELECT on_hand, held, (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.product_id = s.product_id)
		FROM stock s WHERE product_id = $1`, productID).Scan(&onHand, &held, &holds)
	if err != nil {
		c.t.Fatal(err)
	}
	return onHand, held, holds
}

// TestKilledMidCheckoutReleasesTheHold: the last unit is held by a checkout when
// the app is killed, once before the create reached Orchestrate and once after
// Orchestrate created the payment whose answer was lost. While the hold stands a
// second shopper is told the product is sold out. After the restart, with a
// short PAYMENT_EXPIRY and HOLD_GRACE, the unit comes back exactly once (by the
// sweeper past the hold's expiry, or by the payment's expiry, whichever is first),
// held always equals the sum of the holds, and the second shopper buys the unit.
func TestKilledMidCheckoutReleasesTheHold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		// settled: the first order's attempt has reached what the restart makes
		// of it — unknown (no payment to find) or expired (the payment was found
		// and ran out unpaid).
		settled string
	}{
		{"create-before", `SELECT count(*) FROM payment_attempts a JOIN orders o ON o.id = a.order_id
			WHERE a.status = 'unknown' AND o.status = 'awaiting_payment'`},
		{"create-after", `SELECT count(*) FROM payment_attempts a JOIN orders o ON o.id = a.order_id
			WHERE a.status = 'expired' AND o.status = 'expired'`},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			c := newCrashEnv(t)
			// PAYMENT_EXPIRY + HOLD_GRACE: a hold made now lapses in 4 s. The
			// defaults (1h, 10m) would outlast the test.
			c.opts.Env = append(c.opts.Env, "PAYMENT_EXPIRY=3s", "HOLD_GRACE=1s")
			var mug string
			if err := c.pool.QueryRow(context.Background(), `
				INSERT INTO stock (product_id, on_hand) SELECT id, 1 FROM products WHERE slug = 'enamel-mug'
				RETURNING product_id::text`).Scan(&mug); err != nil {
				t.Fatal(err)
			}
			c.start()
			// A second shopper puts the mug in their cart while it is still there.
			second := c.shopper()
			if resp, err := second.post("/cart/items", url.Values{"product_id": {mug}, "quantity": {"1"}}); err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("second shopper's add to cart: %v %v", resp, err)
			}
			first := c.shopper()
			c.proxy.arm(tc.mode)
			c.checkoutAsync(first)
			<-c.proxy.held

			// The hold is committed: the second shopper's checkout meets a
			// sold-out product.
			resp, err := second.post("/checkout", withShipping(url.Values{"name": {"Grace Hopper"}, "email": {"grace@example.com"}}))
			if err != nil || resp.StatusCode != http.StatusConflict {
				t.Fatalf("checkout of the held last unit = %v %v, want 409 sold out", resp, err)
			}

			c.kill()
			c.proxy.arm("")
			if on, held, holds := c.stockLevel(mug); on != 1 || held != 1 || holds != 1 {
				t.Fatalf("after the crash: on hand %d, held %d, holds %d; want 1, 1, 1", on, held, holds)
			}
			released := func() int {
				return c.count(`SELECT count(*) FROM order_events WHERE subject = 'stock' AND to_status = 'released'`)
			}

			c.start()
			c.eventually("the held unit to come back", func() bool {
				_, held, holds := c.stockLevel(mug)
				if held != holds {
					t.Fatalf("held %d but the holds sum to %d", held, holds)
				}
				if n := released(); n > 1 {
					t.Fatalf("%d released events for one hold", n)
				}
				return held == 0
			})
			c.eventually("the first order's attempt to settle", func() bool { return c.count(tc.settled) == 1 })
			var cause string
			if err := c.pool.QueryRow(context.Background(), `SELECT cause FROM order_events WHERE subject = 'stock' AND to_status = 'released'`).Scan(&cause); err != nil {
				t.Fatal(err)
			}
			t.Logf("the unit was released by the %s", cause)

			// The unit is back: the second shopper, whose cart kept the mug, buys it.
			resp, err = second.post("/checkout", withShipping(url.Values{"name": {"Grace Hopper"}, "email": {"grace@example.com"}}))
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("second shopper's checkout after the release = %v %v, want 303 to the payment", resp, err)
			}
			payOnHostedPage(t, resp.Header.Get("Location"))
			c.eventually("the second order to be paid", func() bool {
				return c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`) == 1
			})
			if on, held, holds := c.stockLevel(mug); on != 0 || held != 0 || holds != 0 {
				t.Errorf("after the second shopper paid: on hand %d, held %d, holds %d; want 0, 0, 0", on, held, holds)
			}
			if n := released(); n != 1 {
				t.Errorf("%d released events, want exactly 1", n)
			}
			if n := c.count(`SELECT count(*) FROM order_events WHERE subject = 'stock' AND to_status = 'taken'`); n != 1 {
				t.Errorf("%d taken events, want 1", n)
			}
			if n := c.count(`SELECT count(*) FROM orders WHERE oversold`); n != 0 {
				t.Errorf("%d orders oversold, want none", n)
			}
		})
	}
}
