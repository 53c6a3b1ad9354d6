package orders_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// stockOf returns a product's on_hand and held.
func stockOf(t *testing.T, pool *pgxpool.Pool, productID int64) (onHand, held int) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT on_hand, held FROM stock WHERE product_id = $1`, productID).Scan(&onHand, &held); err != nil {
		t.Fatal(err)
	}
	return onHand, held
}

// checkHolds fails the test when a product's held count is not the sum of its
// holds: a leaked or doubly released hold.
func checkHolds(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var bad int
	if err := pool.QueryRow(context.Background(), `
		SELECT count(*) FROM stock s
		WHERE held <> (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.product_id = s.product_id)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%d products whose held count is not the sum of their holds", bad)
	}
}

// TestStockRefusesAnOversellWrittenInSQL: the database itself refuses a hold past
// what is on hand, however it is written, while a recount lower than what is held
// and a paid order taking units it no longer held are accepted.
func TestStockRefusesAnOversellWrittenInSQL(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	mug := productID(t, db, "enamel-mug")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand, held) VALUES ($1, 1, 2)`, mug); err == nil {
		t.Error("inserted a stock row holding 2 of 1 on hand")
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand, held) VALUES ($1, 2, 2)`, mug); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE stock SET held = held + 1 WHERE product_id = $1`, mug); err == nil {
		t.Error("held 3 of 2 on hand")
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE stock SET on_hand = 1 WHERE product_id = $1`, mug); err != nil {
		t.Errorf("a recount below what is held was refused: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE stock SET held = held + 1 WHERE product_id = $1`, mug); err == nil {
		t.Error("a hold grew while more is held than on hand")
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE stock SET on_hand = on_hand - 3 WHERE product_id = $1`, mug); err != nil {
		t.Errorf("taking units past zero (money wins) was refused: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE stock SET held = -1 WHERE product_id = $1`, mug); err == nil {
		t.Error("held went below zero")
	}
}

// TestCheckoutHoldsAndReleases: a checkout holds its units, one that would hold
// more than is available fails naming the short line and changes nothing, a
// failed payment releases the units, paying again holds them again or says they
// are gone, and a paid order takes them; replays move nothing twice.
func TestCheckoutHoldsAndReleases(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	kettle, mug := productID(t, db, "gooseneck-kettle"), productID(t, db, "enamel-mug")
	customer := shopper("Ann", "ann@example.com")
	cart := func(q int) string {
		id := orders.NewCartID()
		if err := carts.Add(ctx, id, kettle, q, "USD"); err != nil {
			t.Fatal(err)
		}
		if err := carts.Add(ctx, id, mug, 1, "USD"); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Filled before the stock is counted: adding to a cart caps the line at
	// what is available.
	threeKettles, oneKettle := cart(3), cart(1)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand) VALUES ($1, 2)`, kettle); err != nil {
		t.Fatal(err)
	}

	var orderCount int
	countOrders := func() int {
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&orderCount); err != nil {
			t.Fatal(err)
		}
		return orderCount
	}
	_, _, err := payments.PlaceOrder(ctx, threeKettles, "USD", customer)
	var short *orders.ShortageError
	if !errors.As(err, &short) || !errors.Is(err, orders.ErrSoldOut) {
		t.Fatalf("checkout of 3 with 2 on hand = %v, want a ShortageError", err)
	}
	if diff := cmp.Diff([]orders.Shortage{{ProductID: kettle, Name: "Gooseneck kettle", Wanted: 3, Available: 2}}, short.Lines); diff != "" {
		t.Errorf("shortage (-want +got):\n%s", diff)
	}
	if n := countOrders(); n != 0 {
		t.Errorf("a refused checkout left %d orders", n)
	}

	first, attempt, err := payments.PlaceOrder(ctx, cart(2), "USD", customer)
	if err != nil {
		t.Fatal(err)
	}
	if on, held := stockOf(t, db.Pool, kettle); on != 2 || held != 2 {
		t.Errorf("after holding 2: on hand %d, held %d; want 2, 2", on, held)
	}
	if _, _, err := payments.PlaceOrder(ctx, oneKettle, "USD", customer); !errors.Is(err, orders.ErrSoldOut) {
		t.Errorf("checkout with everything held = %v, want ErrSoldOut", err)
	}

	// The payment fails: the units come back, once however often it is told.
	if _, err := db.Pool.Exec(ctx, `UPDATE payment_attempts SET status = 'open' WHERE id = $1`, attempt.ID); err != nil {
		t.Fatal(err)
	}
	failed := payment("pay_1", orchestrate.StatusFailed, first.TotalMinor, "USD")
	for range 2 {
		if _, err := payments.Apply(ctx, attempt.ID, failed, "webhook", ""); err != nil {
			t.Fatal(err)
		}
		if on, held := stockOf(t, db.Pool, kettle); on != 2 || held != 0 {
			t.Errorf("after the payment failed: on hand %d, held %d; want 2, 0", on, held)
		}
	}
	checkHolds(t, db.Pool)

	// Someone else holds one; the first order's payment completes anyway: it is
	// paid, takes its 2 units, and is flagged oversold, 1 kettle short.
	second, secondAttempt, err := payments.PlaceOrder(ctx, cart(1), "USD", customer)
	if err != nil {
		t.Fatal(err)
	}
	completed := payment("pay_1", orchestrate.StatusCompleted, first.TotalMinor, "USD")
	for range 2 {
		if _, err := payments.Apply(ctx, attempt.ID, completed, "webhook", ""); err != nil {
			t.Fatal(err)
		}
	}
	if on, held := stockOf(t, db.Pool, kettle); on != 0 || held != 1 {
		t.Errorf("after the late payment: on hand %d, held %d; want 0, 1", on, held)
	}
	var oversold bool
	var shortKettles int
	if err := db.Pool.QueryRow(ctx, `
		SELECT o.oversold, oi.short FROM orders o JOIN order_items oi ON oi.order_id = o.id AND oi.product_id = $2
		WHERE o.id = $1`, first.ID, kettle).Scan(&oversold, &shortKettles); err != nil {
		t.Fatal(err)
	}
	if !oversold || shortKettles != 1 {
		t.Errorf("late payment: oversold %v, %d kettles short; want true, 1", oversold, shortKettles)
	}

	// The holder pays: it takes its held unit, and is not the one flagged.
	if _, err := db.Pool.Exec(ctx, `UPDATE payment_attempts SET status = 'open' WHERE id = $1`, secondAttempt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := payments.Apply(ctx, secondAttempt.ID, payment("pay_2", orchestrate.StatusCompleted, second.TotalMinor, "USD"), "webhook", ""); err != nil {
		t.Fatal(err)
	}
	if on, held := stockOf(t, db.Pool, kettle); on != -1 || held != 0 {
		t.Errorf("after the holder paid: on hand %d, held %d; want -1, 0", on, held)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT oversold FROM orders WHERE id = $1`, second.ID).Scan(&oversold); err != nil || oversold {
		t.Errorf("the order that held its unit is flagged oversold (%v, %v)", oversold, err)
	}
	checkHolds(t, db.Pool)
}

// TestChangedCartTakesOverItsOrdersHolds: a shopper who checks out the last unit,
// comes back, changes the cart and checks out again is not refused their own
// unit: the new order takes over the hold of the cart's earlier order, which is
// recorded as released. If the earlier payment is paid after all, money wins and
// that order is the oversold one.
func TestChangedCartTakesOverItsOrdersHolds(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	kettle, mug := productID(t, db, "gooseneck-kettle"), productID(t, db, "enamel-mug")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand) VALUES ($1, 1)`, kettle); err != nil {
		t.Fatal(err)
	}
	customer := shopper("Ann", "ann@example.com")
	cartID := orders.NewCartID()
	if err := carts.Add(ctx, cartID, kettle, 1, "USD"); err != nil {
		t.Fatal(err)
	}
	first, firstAttempt, err := payments.PlaceOrder(ctx, cartID, "USD", customer)
	if err != nil {
		t.Fatal(err)
	}
	if err := carts.Add(ctx, cartID, mug, 1, "USD"); err != nil {
		t.Fatal(err)
	}
	// The changed cart still counts the unit its order holds as its own: not
	// short, settable, and left alone by "use what is available".
	c, err := carts.Get(ctx, cartID, "USD")
	if err != nil {
		t.Fatal(err)
	}
	if short := c.Short(); len(short) != 0 {
		t.Errorf("the changed cart marks %v short, want none (its order holds the kettle)", short)
	}
	if _, err := carts.SetQuantity(ctx, cartID, kettle, 1); err != nil {
		t.Errorf("setting the held kettle to 1 in the changed cart: %v", err)
	}
	if fitted, err := carts.FitToStock(ctx, cartID); err != nil || len(fitted) != 0 {
		t.Errorf("fitting the changed cart to stock = %v, %v; want nothing short", fitted, err)
	}
	second, _, err := payments.PlaceOrder(ctx, cartID, "USD", customer)
	if err != nil {
		t.Fatalf("checking out the changed cart: %v", err)
	}
	if second.ID == first.ID {
		t.Fatal("the changed cart reused its order")
	}
	if on, held := stockOf(t, db.Pool, kettle); on != 1 || held != 1 {
		t.Errorf("after the second checkout: on hand %d, held %d; want 1, 1", on, held)
	}
	var holder int64
	if err := db.Pool.QueryRow(ctx, `SELECT order_id FROM stock_holds WHERE product_id = $1`, kettle).Scan(&holder); err != nil || holder != second.ID {
		t.Errorf("the kettle is held by order %d (%v), want the new order %d", holder, err, second.ID)
	}
	var released int
	if err := db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM order_events WHERE order_id = $1 AND subject = 'stock' AND to_status = 'released'`, first.ID).Scan(&released); err != nil || released != 1 {
		t.Errorf("the first order has %d released events (%v), want 1", released, err)
	}
	checkHolds(t, db.Pool)

	// Someone else's cart cannot take the unit the new order holds.
	other := orders.NewCartID()
	if err := carts.Add(ctx, other, mug, 1, "USD"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, 1)`, other, kettle); err != nil {
		t.Fatal(err)
	}
	if _, _, err := payments.PlaceOrder(ctx, other, "USD", customer); !errors.Is(err, orders.ErrSoldOut) {
		t.Errorf("another cart's checkout of the held kettle = %v, want ErrSoldOut", err)
	}

	// The first payment completes anyway: paid, and the oversold one.
	if _, err := db.Pool.Exec(ctx, `UPDATE payment_attempts SET status = 'open' WHERE id = $1`, firstAttempt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := payments.Apply(ctx, firstAttempt.ID, payment("pay_1", orchestrate.StatusCompleted, first.TotalMinor, "USD"), "webhook", ""); err != nil {
		t.Fatal(err)
	}
	var status string
	var oversold bool
	if err := db.Pool.QueryRow(ctx, `SELECT status, oversold FROM orders WHERE id = $1`, first.ID).Scan(&status, &oversold); err != nil {
		t.Fatal(err)
	}
	if status != "paid" || !oversold {
		t.Errorf("the first order paid late: %s, oversold %v; want paid, oversold", status, oversold)
	}
	checkHolds(t, db.Pool)
}

// TestUnderReviewTakesItsUnits: a payment of the wrong amount puts its order
// under review, which no action moves; the money arrived, so its units leave
// stock then, once however often it is told and however many such payments
// come, rather than stay held for good.
func TestUnderReviewTakesItsUnits(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	kettle := productID(t, db, "gooseneck-kettle")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand) VALUES ($1, 3)`, kettle); err != nil {
		t.Fatal(err)
	}
	cart := orders.NewCartID()
	if err := carts.Add(ctx, cart, kettle, 2, "USD"); err != nil {
		t.Fatal(err)
	}
	o, attempt, err := payments.PlaceOrder(ctx, cart, "USD", shopper("Ann", "ann@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE payment_attempts SET status = 'open' WHERE id = $1`, attempt.ID); err != nil {
		t.Fatal(err)
	}
	wrong := payment("pay_1", orchestrate.StatusCompleted, o.TotalMinor-1, "USD")
	for range 2 {
		if _, err := payments.Apply(ctx, attempt.ID, wrong, "webhook", ""); err != nil {
			t.Fatal(err)
		}
	}
	var status string
	if err := db.Pool.QueryRow(ctx, `SELECT status FROM orders WHERE id = $1`, o.ID).Scan(&status); err != nil || status != "needs_review" {
		t.Fatalf("order status %q (%v), want needs_review", status, err)
	}
	if on, held := stockOf(t, db.Pool, kettle); on != 1 || held != 0 {
		t.Errorf("under review: on hand %d, held %d; want 1, 0 (its 2 units taken)", on, held)
	}
	// Another of its attempts (an earlier one, say) completes wrong too: the
	// order is already under review and nothing more is taken.
	var second string
	if err := db.Pool.QueryRow(ctx, `
		INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency)
		VALUES (gen_random_uuid(), $1, 'open', $2, 'USD') RETURNING id::text`, o.ID, o.TotalMinor).Scan(&second); err != nil {
		t.Fatal(err)
	}
	if _, err := payments.Apply(ctx, second, payment("pay_2", orchestrate.StatusCompleted, o.TotalMinor+1, "USD"), "webhook", ""); err != nil {
		t.Fatal(err)
	}
	if on, held := stockOf(t, db.Pool, kettle); on != 1 || held != 0 {
		t.Errorf("after a second payment: on hand %d, held %d; want 1, 0", on, held)
	}
	checkHolds(t, db.Pool)
}
