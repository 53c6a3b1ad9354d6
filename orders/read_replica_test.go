package orders_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestReadPoolTakesTotalsAndExportOnly: with a read pool, the order totals and
// the export read it, and the overview's revenue reads the primary like the
// counts beside it. The read pool here is another database, holding none of
// the primary's orders, so where each read went shows in what it found.
func TestReadPoolTakesTotalsAndExportOnly(t *testing.T) {
	primary, other := testdb.New(t), testdb.New(t)
	ctx := context.Background()
	now := time.Date(2021, time.March, 3, 15, 0, 0, 0, time.UTC)
	if _, err := primary.Pool.Exec(ctx, `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email, status, paid_at)
		VALUES (md5(random()::text), 'USD', 1999, 'Ada', 'ada@example.com', 'paid', $1)`, now); err != nil {
		t.Fatal(err)
	}
	store := orders.NewOrders(primary.Pool).WithReadPool(other.Pool, slog.New(slog.DiscardHandler))
	paid := orders.Filter{Status: orders.StatusPaid}
	if totals, err := store.Totals(ctx, paid); err != nil || len(totals) != 0 {
		t.Errorf("Totals = %v, %v; want none (read from the read pool)", totals, err)
	}
	exported := 0
	if err := store.ExportOrders(ctx, paid, func(*orders.ExportRow) error { exported++; return nil }); err != nil || exported != 0 {
		t.Errorf("ExportOrders wrote %d rows (%v); want none (read from the read pool)", exported, err)
	}
	ov, err := store.Overview(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ov.Today) != 1 || ov.Today[0].Count != 1 || len(ov.Week) != 1 || ov.Week[0].Count != 1 {
		t.Errorf("overview revenue today %v, this week %v; want 1 order each (read from the primary)", ov.Today, ov.Week)
	}
}
