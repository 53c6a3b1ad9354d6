// Shipping methods: the merchant's table of methods and their price per currency
// (migration 00012; edited in SQL, no admin page yet). The checkout's statement
// prices the chosen method itself; ShippingOptions only shows the prices.

package orders

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// methodCode is the shape of a shipping method's code, as shipping_methods'
// CHECK constraint has it.
var methodCode = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidMethodCode reports whether s could be a shipping method's code: what a
// form may send before the database is asked whether the method exists.
func ValidMethodCode(s string) bool { return methodCode.MatchString(s) }

// ShippingOption is a shipping method as the checkout offers it.
type ShippingOption struct {
	Code  string
	Name  string
	Price Money // 0 when the items' subtotal reaches FreeOver
	// FreeOver is the subtotal from which the method is free, or nil.
	FreeOver *Money
}

// ShippingOptions returns the active methods priced in currency, in the
// merchant's order, for items adding up to subtotalMinor: a method is free when
// subtotalMinor is at least its rate's free_over_minor, the rule the checkout's
// statement applies. A method without a rate in currency is not offered.
func (p *Payments) ShippingOptions(ctx context.Context, currency string, subtotalMinor int64) ([]ShippingOption, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT m.code, m.name, r.amount_minor, r.free_over_minor
		FROM shipping_methods m JOIN shipping_rates r ON r.method = m.code AND r.currency = $1
		WHERE m.active
		ORDER BY m.position, m.code`, currency)
	if err != nil {
		return nil, fmt.Errorf("shipping options: %w", err)
	}
	opts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ShippingOption, error) {
		var o ShippingOption
		var amount int64
		var free *int64
		if err := row.Scan(&o.Code, &o.Name, &amount, &free); err != nil {
			return o, err
		}
		o.Price = Money{amount, currency}
		if free != nil {
			o.FreeOver = &Money{*free, currency}
			if subtotalMinor >= *free {
				o.Price.Minor = 0
			}
		}
		return o, nil
	})
	if err != nil {
		return nil, fmt.Errorf("shipping options: %w", err)
	}
	return opts, nil
}
