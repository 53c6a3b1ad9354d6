package orders_test

import (
	"context"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestApplyComparesCurrencyAndAmount: in every currency, a completed payment of
// the order's amount in its currency pays it, and one in another currency or of
// another amount puts it in needs review.
func TestApplyComparesCurrencyAndAmount(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	others := map[string]string{"USD": "CAD", "EUR": "USD", "GBP": "EUR", "CAD": "GBP"}
	n := 0
	for _, code := range orders.Currencies {
		tests := []struct {
			name     string
			amount   int64
			currency string
			want     string
		}{
			{"as owed", 4600, code, "paid"},
			{"another currency", 4600, others[code], "needs_review"},
			{"another amount", 4599, code, "needs_review"},
		}
		for _, tc := range tests {
			t.Run(code+"/"+tc.name, func(t *testing.T) {
				n++
				var orderID int64
				var attemptID string
				if err := db.Pool.QueryRow(ctx, `
					WITH o AS (
						INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email)
						VALUES ('apply-currency-ref-' || lpad($2::int::text, 8, '0'), $1, 4600, 'Ada', 'ada@example.com') RETURNING id
					)
					INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency)
					SELECT gen_random_uuid(), id, 'open', 4600, $1 FROM o RETURNING order_id, id::text`, code, n).Scan(&orderID, &attemptID); err != nil {
					t.Fatal(err)
				}
				pay := payment("pay-"+attemptID, orchestrate.StatusCompleted, tc.amount, orchestrate.Currency(tc.currency))
				if _, err := payments.Apply(ctx, attemptID, pay, "test", ""); err != nil {
					t.Fatal(err)
				}
				var status string
				if err := db.Pool.QueryRow(ctx, `SELECT status FROM orders WHERE id = $1`, orderID).Scan(&status); err != nil {
					t.Fatal(err)
				}
				if status != tc.want {
					t.Errorf("an order of 4600 %s paid %d %s is %s, want %s", code, tc.amount, tc.currency, status, tc.want)
				}
			})
		}
	}
}
