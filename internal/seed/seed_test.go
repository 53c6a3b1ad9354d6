package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/seed"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

func TestOrders(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	now := time.Date(2026, time.June, 15, 9, 30, 0, 0, time.UTC)
	start := time.Now()
	if err := seed.Orders(ctx, db.Pool, seed.Options{Orders: 10_000, Now: now, Batch: 4_000}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded 10,000 orders in %s", time.Since(start))

	var orders, mismatched, refund, stuck, noItems int
	err := db.Pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM orders),
		       (SELECT count(*) FROM orders o WHERE total_minor <>
		            (SELECT sum(unit_price_minor * quantity) FROM order_items i WHERE i.order_id = o.id)),
		       (SELECT count(*) FROM orders WHERE refund_needed),
		       (SELECT count(*) FROM payment_attempts WHERE status = 'unknown' OR (status = 'open' AND expires_at < $1)),
		       (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id))`, now).
		Scan(&orders, &mismatched, &refund, &stuck, &noItems)
	if err != nil {
		t.Fatal(err)
	}
	if orders != 10_000 || mismatched != 0 || noItems != 0 {
		t.Errorf("orders = %d, totals not matching items = %d, orders without items = %d; want 10000, 0, 0", orders, mismatched, noItems)
	}
	if refund == 0 || stuck == 0 {
		t.Errorf("refund_needed = %d, stuck attempts = %d; want some of each", refund, stuck)
	}
	var offPrice int
	if err := db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id
		JOIN product_prices pp ON pp.product_id = i.product_id AND pp.currency = o.currency
		WHERE i.unit_price_minor <> pp.amount_minor`).Scan(&offPrice); err != nil {
		t.Fatal(err)
	}
	if offPrice != 0 {
		t.Errorf("%d items are not at their product's price in the order's currency", offPrice)
	}
	var statuses, currencies int
	if err := db.Pool.QueryRow(ctx, `SELECT count(DISTINCT status), count(DISTINCT currency) FROM orders`).Scan(&statuses, &currencies); err != nil {
		t.Fatal(err)
	}
	if statuses != 5 || currencies != 4 {
		t.Errorf("%d statuses and %d currencies, want 5 and 4", statuses, currencies)
	}
}
