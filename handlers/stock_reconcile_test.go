package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// trackMug gives the enamel mug onHand units of stock and returns its id.
func (a *app) trackMug(t *testing.T, onHand int) string {
	t.Helper()
	id := a.productIDs(t)["enamel-mug"]
	a.exec(t, `INSERT INTO stock (product_id, on_hand) VALUES ($1, $2)`, id, onHand)
	return id
}

// mugStock returns the mug's on_hand and held, failing the test when held is not
// the sum of its holds (a leaked or doubly released hold).
func (a *app) mugStock(t *testing.T, mug string) (onHand, held int) {
	t.Helper()
	var holds int
	if err := a.pool.QueryRow(context.Background(), `
		SELECT on_hand, held, (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.product_id = s.product_id)
		FROM stock s WHERE product_id = $1`, mug).Scan(&onHand, &held, &holds); err != nil {
		t.Fatal(err)
	}
	if held != holds {
		t.Fatalf("held %d but the holds sum to %d", held, holds)
	}
	return onHand, held
}

// stockEvents counts the order's stock events to status to ("held", "released",
// "taken").
func (a *app) stockEvents(t *testing.T, ref, to string) int {
	t.Helper()
	return a.count(t, `SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.public_ref = $1 AND e.subject = 'stock' AND e.to_status = $2`, ref, to)
}

// TestStockReleasedOnceWhenPaymentEnds: with every webhook delivered twice and
// newest first, the sweeper re-reading and the shopper's return page confirming
// too, a cancelled payment (failed) and one that expires by itself (a short
// PAYMENT_EXPIRY) each release their order's unit exactly once. Paying again
// holds the unit again; once the last unit is sold to someone else, paying again
// says sold out (409) and creates no payment.
func TestStockReleasedOnceWhenPaymentEnds(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{sweep: 250 * time.Millisecond,
		config: func(c *checkout.Config) { c.PaymentExpiry = 3 * time.Second }})
	a.setFaults(t, `{"webhook_duplicate": true, "webhook_reorder": true, "webhook_delay": "200ms"}`)
	mug := a.trackMug(t, 2)

	cancelled := a.checkoutOne(t)
	expired := a.checkoutOne(t)
	if on, held := a.mugStock(t, mug); on != 2 || held != 2 {
		t.Fatalf("after two checkouts: on hand %d, held %d; want 2, 2", on, held)
	}
	cancelOnHostedPage(t, cancelled.link)
	cancelled.get("/orders/" + cancelled.ref + "/cancel") // the return page confirms too
	eventually(t, "the cancelled and the expired orders to release their units", func() bool {
		_, held := a.mugStock(t, mug)
		return held == 0 && a.orderStatus(t, cancelled.ref) == "failed" && a.orderStatus(t, expired.ref) == "expired"
	})
	eventually(t, "every delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE event_type IN ('payment.failed', 'payment.expired')`) == 2 &&
			a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	expired.get("/orders/" + expired.ref) // the order page confirms too
	for _, ref := range []string{cancelled.ref, expired.ref} {
		if n := a.stockEvents(t, ref, "released"); n != 1 {
			t.Errorf("order %s: %d released events, want 1", ref, n)
		}
	}
	if on, held := a.mugStock(t, mug); on != 2 || held != 0 {
		t.Errorf("after both payments ended: on hand %d, held %d; want 2, 0", on, held)
	}

	// Paying again holds the unit again, and the payment takes it.
	again := cancelled.post("/orders/"+cancelled.ref+"/pay", nil)
	if again.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay again = %d; body %s", again.StatusCode, again.body)
	}
	if _, held := a.mugStock(t, mug); held != 1 || a.stockEvents(t, cancelled.ref, "held") != 2 {
		t.Errorf("paying again: %d held, %d held events; want 1, 2", held, a.stockEvents(t, cancelled.ref, "held"))
	}
	payOnHostedPage(t, again.Header.Get("Location"), "4242424242424242")
	// Someone else buys the last unit.
	other := a.checkoutOne(t)
	payOnHostedPage(t, other.link, "4242424242424242")
	eventually(t, "both payments to be taken", func() bool {
		return a.orderStatus(t, cancelled.ref) == "paid" && a.orderStatus(t, other.ref) == "paid"
	})
	if on, held := a.mugStock(t, mug); on != 0 || held != 0 {
		t.Errorf("after two sales: on hand %d, held %d; want 0, 0", on, held)
	}

	// The expired order's unit is gone: paying again says so and creates nothing.
	payments := len(a.payments(t))
	refused := expired.post("/orders/"+expired.ref+"/pay", nil)
	if refused.StatusCode != http.StatusConflict {
		t.Errorf("paying again for a sold-out unit = %d, want 409; body %s", refused.StatusCode, refused.body)
	}
	if n := len(a.payments(t)); n != payments {
		t.Errorf("paying again for a sold-out unit created %d payments", n-payments)
	}
	if got := a.orderStatus(t, expired.ref); got != "expired" {
		t.Errorf("the refused order is %s, want still expired", got)
	}
	if on, held := a.mugStock(t, mug); on != 0 || held != 0 {
		t.Errorf("after the refused pay again: on hand %d, held %d; want 0, 0", on, held)
	}
	for ref, want := range map[string][3]int{cancelled.ref: {2, 1, 1}, expired.ref: {1, 1, 0}, other.ref: {1, 0, 1}} {
		got := [3]int{a.stockEvents(t, ref, "held"), a.stockEvents(t, ref, "released"), a.stockEvents(t, ref, "taken")}
		if got != want {
			t.Errorf("order %s: held, released, taken events %v, want %v", ref, got, want)
		}
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE oversold`); n != 0 {
		t.Errorf("%d orders oversold, want none", n)
	}
}

// TestLatePaymentAfterReleaseIsOversold: an order's hold lapses (the sweeper,
// by the app's clock, past the payment expiry plus the hold grace) while its
// payment is still open at Orchestrate; someone else buys the last unit; then
// the first shopper pays. Money received wins: the order is paid, takes the unit
// (stock goes below zero) and is flagged oversold with its line short, once,
// however often the webhook, the return page and the sweeper confirm it.
func TestLatePaymentAfterReleaseIsOversold(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2021, time.March, 1, 12, 0, 0, 0, time.UTC))
	a := newAppWith(t, testdb.New(t).Pool, appOptions{sweep: 250 * time.Millisecond, clock: clock})
	a.setFaults(t, `{"webhook_duplicate": true, "webhook_reorder": true, "webhook_delay": "200ms"}`)
	mug := a.trackMug(t, 1)

	late := a.checkoutOne(t)
	clock.Advance(time.Hour + 10*time.Minute + time.Second) // PAYMENT_EXPIRY 1h + HOLD_GRACE 10m
	eventually(t, "the sweeper to release the lapsed hold", func() bool {
		_, held := a.mugStock(t, mug)
		return held == 0
	})
	if got := a.orderStatus(t, late.ref); got != "awaiting_payment" {
		t.Fatalf("the order whose hold lapsed is %s, want still awaiting payment", got)
	}

	other := a.checkoutOne(t)
	payOnHostedPage(t, other.link, "4242424242424242")
	eventually(t, "the other shopper's order to be paid", func() bool { return a.orderStatus(t, other.ref) == "paid" })

	payOnHostedPage(t, late.link, "4242424242424242")
	late.get("/orders/" + late.ref + "/success")
	eventually(t, "the late payment to pay its order", func() bool { return a.orderStatus(t, late.ref) == "paid" })
	eventually(t, "every delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE event_type = 'payment.succeeded'`) == 2 &&
			a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	late.get("/orders/" + late.ref)

	if on, held := a.mugStock(t, mug); on != -1 || held != 0 {
		t.Errorf("after both paid: on hand %d, held %d; want -1, 0", on, held)
	}
	var oversold bool
	var short int
	if err := a.pool.QueryRow(context.Background(), `
		SELECT o.oversold, oi.short FROM orders o JOIN order_items oi ON oi.order_id = o.id
		WHERE o.public_ref = $1`, late.ref).Scan(&oversold, &short); err != nil {
		t.Fatal(err)
	}
	if !oversold || short != 1 {
		t.Errorf("the late order: oversold %v, %d short; want true, 1", oversold, short)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE oversold`); n != 1 {
		t.Errorf("%d orders oversold, want only the late one", n)
	}
	for ref, want := range map[string][3]int{late.ref: {1, 1, 1}, other.ref: {1, 0, 1}} {
		got := [3]int{a.stockEvents(t, ref, "held"), a.stockEvents(t, ref, "released"), a.stockEvents(t, ref, "taken")}
		if got != want {
			t.Errorf("order %s: held, released, taken events %v, want %v", ref, got, want)
		}
	}
	if n := a.count(t, `SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.public_ref = $1 AND e.subject = 'flag' AND e.to_status = 'oversold'`, late.ref); n != 1 {
		t.Errorf("%d oversold flags recorded, want 1", n)
	}
}
