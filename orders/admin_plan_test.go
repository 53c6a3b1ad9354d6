package orders

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orchestrate-checkout/checkout/internal/seed"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// TestListOrdersPlansUseIndexes seeds 50,000 orders and checks that every kind of
// list query — the first page, a page deep in the list, a status filter, each kind
// of search — is answered from indexes, never by reading the whole orders table
// (a whole email address from its own index, in list order, without a sort), and
// logs each plan and its time (go test -v shows them).
func TestListOrdersPlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 50,000 orders")
	}
	db := testdb.New(t)
	ctx := context.Background()
	start := time.Now()
	if err := seed.Orders(ctx, db.Pool, seed.Options{Orders: 50_000}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded 50,000 orders in %s", time.Since(start).Round(time.Millisecond))
	// A returning customer with 1,000 orders over the year, so a whole-email search
	// has many pages to walk (every seeded customer has one order).
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email, created_at)
		SELECT 'repeat-customer-order-' || i, (ARRAY['paid', 'paid', 'failed', 'expired'])[i % 4 + 1], 'USD', 1000,
		       'Repeat Customer', 'Repeat.Customer@Example.com', now() - i * interval '8 hours 40 minutes'
		FROM generate_series(1, 1000) AS i`); err != nil {
		t.Fatal(err)
	}
	// A few paid orders oversold (the seed makes none), for the oversold filter.
	if _, err := db.Pool.Exec(ctx, `UPDATE orders SET oversold = true WHERE status = 'paid' AND id % 97 = 0`); err != nil {
		t.Fatal(err)
	}
	// Most paid orders shipped (the seed ships none), as in a shop that keeps up.
	if _, err := db.Pool.Exec(ctx, `UPDATE orders SET shipped_at = paid_at + interval '1 day' WHERE status = 'paid' AND id % 10 <> 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	var deep Cursor
	if err := db.Pool.QueryRow(ctx, `SELECT created_at, id FROM orders ORDER BY created_at DESC, id DESC OFFSET 45000 LIMIT 1`).
		Scan(&deep.CreatedAt, &deep.ID); err != nil {
		t.Fatal(err)
	}
	var number, paymentID string
	if err := db.Pool.QueryRow(ctx, `SELECT o.number, a.orchestrate_payment_id FROM orders o JOIN payment_attempts a ON a.order_id = o.id
		WHERE a.orchestrate_payment_id IS NOT NULL ORDER BY o.id LIMIT 1 OFFSET 20000`).Scan(&number, &paymentID); err != nil {
		t.Fatal(err)
	}
	// A cursor within the repeat customer's orders (page 7 of their search),
	// with hundreds of theirs on either side. (When only a few matches are left
	// past the cursor, or a date range holds only a few, the planner rightly
	// sorts those few instead of walking the index: not what is checked here.)
	var mid Cursor
	if err := db.Pool.QueryRow(ctx, `SELECT created_at, id FROM orders WHERE customer_email = 'Repeat.Customer@Example.com'
		ORDER BY created_at DESC, id DESC OFFSET 300 LIMIT 1`).Scan(&mid.CreatedAt, &mid.ID); err != nil {
		t.Fatal(err)
	}
	s := NewOrders(db.Pool)
	tests := []struct {
		name string
		f    Filter
		page PageRequest
	}{
		{"first page", Filter{}, PageRequest{}},
		{"deep cursor", Filter{}, PageRequest{After: &deep}},
		{"deep cursor backwards", Filter{}, PageRequest{Before: &deep}},
		{"status", Filter{Status: StatusPaid}, PageRequest{}},
		{"rare status, deep", Filter{Status: StatusNeedsReview}, PageRequest{After: &deep}},
		{"currency", Filter{Currency: "EUR"}, PageRequest{After: &deep}},
		{"date range", Filter{From: deep.CreatedAt.Add(-48 * time.Hour), To: deep.CreatedAt}, PageRequest{}},
		{"refund needed", Filter{Flag: FlagRefundNeeded}, PageRequest{}},
		{"oversold", Filter{Flag: FlagOversold}, PageRequest{}},
		{"oversold, deep", Filter{Flag: FlagOversold}, PageRequest{After: &deep}},
		{"stuck", Filter{Flag: FlagStuck, Now: time.Now()}, PageRequest{}},
		{"to ship", Filter{Fulfilment: FulfilmentToShip}, PageRequest{}},
		{"to ship, deep", Filter{Fulfilment: FulfilmentToShip}, PageRequest{After: &deep}},
		{"shipped", Filter{Fulfilment: FulfilmentShipped}, PageRequest{}},
		{"search email", Filter{Query: "customer4711"}, PageRequest{}},
		{"search name", Filter{Query: "Customer 123"}, PageRequest{}},
		{"search number", Filter{Query: number}, PageRequest{}},
		{"search payment id", Filter{Query: paymentID}, PageRequest{}},
		{"search with status, deep", Filter{Query: "customer4", Status: StatusPaid}, PageRequest{After: &deep}},
		{"selective search far from the cursor", Filter{Query: "customer47", Status: StatusPaid}, PageRequest{After: &deep}},
		{"broad search, deep", Filter{Query: "example.com"}, PageRequest{After: &deep}},
		{"whole email", Filter{Query: "customer4711@example.com"}, PageRequest{}},
		{"whole email, any case", Filter{Query: "repeat.customer@EXAMPLE.com"}, PageRequest{}},
		{"whole email, page 7", Filter{Query: "repeat.customer@example.com"}, PageRequest{After: &mid}},
		{"whole email, page 7 backwards", Filter{Query: "repeat.customer@example.com"}, PageRequest{Before: &mid}},
		{"whole email with status, page 7", Filter{Query: "repeat.customer@example.com", Status: StatusPaid}, PageRequest{After: &mid}},
		{"whole email with currency, since a date", Filter{Query: "repeat.customer@example.com", Currency: "USD",
			From: mid.CreatedAt.Add(-120 * 24 * time.Hour)}, PageRequest{After: &mid}},
		{"whole email of nobody", Filter{Query: "nobody@example.com"}, PageRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := tt.page
			page.Limit = 50
			plans := []listPlan{firstPlan(tt.f)}
			if plans[0] == planWindow {
				plans = append(plans, planMatches)
			}
			// A whole email address is read from its index already in list order:
			// one statement, no Sort node.
			const emailIndex = "orders_customer_email_lower_idx"
			if tt.f.wholeEmail() && len(plans) != 1 {
				t.Errorf("a whole email address takes %d statements, want one", len(plans))
			}
			var text []string
			for _, p := range plans {
				query, args := listOrdersQuery(tt.f, page, p)
				plan := explain(t, db.Pool, query, args)
				if strings.Contains(plan, "Seq Scan on orders") {
					t.Errorf("the plan reads the whole orders table:\n%s", plan)
				}
				if tt.f.wholeEmail() && (!strings.Contains(plan, " using "+emailIndex+" ") || strings.Contains(plan, "Sort")) {
					t.Errorf("the plan does not read %s in list order:\n%s", emailIndex, plan)
				}
				text = append(text, plan)
			}
			took := timeQuery(t, func() error { _, err := s.ListOrders(ctx, tt.f, page); return err })
			t.Logf("%s: %s per page (median of 5)\n%s", tt.name, took, strings.Join(text, "\n--\n"))
		})
	}
	// Totals read every matching row by nature; log their cost for the record.
	for name, f := range map[string]Filter{"all": {}, "paid USD": {Status: StatusPaid, Currency: "USD"}, "search": {Query: "customer4711"},
		"whole email": {Query: "repeat.customer@example.com"}} {
		var args queryArgs
		plan := explain(t, db.Pool, `SELECT o.currency, count(*), sum(o.total_minor) FROM orders o WHERE `+f.where(&args)+` GROUP BY o.currency`, args)
		took := timeQuery(t, func() error { _, err := s.Totals(ctx, f); return err })
		t.Logf("totals of %s: %s (median of 5)\n%s", name, took, plan)
	}
}

// explain returns the EXPLAIN ANALYZE text of query with args, planned for them.
func explain(t *testing.T, pool interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, query string, args []any) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "EXPLAIN (ANALYZE, COSTS OFF) "+query, customPlan(args)...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, query)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// timeQuery returns the median of five runs of fn.
func timeQuery(t *testing.T, fn func() error) time.Duration {
	t.Helper()
	var runs []time.Duration
	for range 5 {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, time.Since(start))
	}
	slices.Sort(runs)
	return runs[2].Round(10 * time.Microsecond)
}
