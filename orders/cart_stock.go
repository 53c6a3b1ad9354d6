// A cart and the stock: a line is capped at what is available when the shopper
// adds to it or sets it, is marked short when it asks for more than is available
// now, and FitToStock lowers the short lines to what is left. None of this holds
// anything: the checkout's hold (stock.go) is what decides who gets the units.

package orders

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// availableSQL is what a new checkout of the cart whose id is the SQL
// expression cart may hold of the product whose stock row is s (LEFT JOINed):
// on_hand - held plus what the cart's own orders hold (cartHeldSQL), never
// below zero, or the parameter unlimited (MaxQuantity's placeholder, e.g.
// "$5") when it is untracked.
func availableSQL(cart, unlimited string) string {
	return `CASE WHEN s.product_id IS NULL THEN ` + unlimited + `::int ELSE greatest(s.on_hand - s.held + ` +
		cartHeldSQL(cart, "s.product_id") + `, 0) END`
}

// cartHeldSQL is the units of the product whose id is the SQL expression
// product held by the orders checked out from the cart whose id is the SQL
// expression cart that can still be paid. A new checkout of the cart takes
// those holds over (PlaceOrder's given_up, with the same predicate), so to the
// cart they are its own: available to it, not to anyone else.
func cartHeldSQL(cart, product string) string {
	return `(SELECT coalesce(sum(ch.quantity), 0)::int FROM stock_holds ch JOIN orders co ON co.id = ch.order_id
		WHERE co.cart_id = ` + cart + ` AND ch.product_id = ` + product + ` AND co.status <> ALL(` + finalStatusesSQL + `))`
}

// finalStatusesSQL is finalStatuses as an SQL array literal.
var finalStatusesSQL = "'{" + strings.Join(finalStatuses(), ",") + "}'::text[]"

// LineChange is what adding to a cart line or setting its quantity did: the
// quantity the shopper asked the line to hold (at most MaxQuantity), the quantity
// it holds now, and what was available (MaxQuantity for an untracked product).
type LineChange struct {
	Name      string
	Wanted    int
	Quantity  int
	Available int
}

// Capped reports whether stock kept the line below what the shopper asked for.
func (c LineChange) Capped() bool { return c.Quantity < c.Wanted }

// cartLineRow is a cart line as Carts.Get reads it: the line, and its stock in
// the columns tracked, on_hand and held.
type cartLineRow struct {
	CartLine
	Level
}

// Short returns the lines that ask for more than is available now; while there
// are any, a checkout of the cart as it is is refused.
func (c *Cart) Short() []CartLine {
	var out []CartLine
	for _, l := range c.Lines {
		if l.Short() {
			out = append(out, l)
		}
	}
	return out
}

// FitToStock lowers each line of the cart that asks for more than is available
// now (the short lines Get marks, the units the cart's own orders hold counted
// as its own) to what is available, removing the lines of products none of which is
// left, and returns those lines as they were (wanted) and what was available.
// A cart with no short line is left as it is, still standing for the order last
// checked out from it.
func (s *Carts) FitToStock(ctx context.Context, cartID string) ([]Shortage, error) {
	if len(cartID) < 32 {
		return nil, nil // no cart, nothing short
	}
	var short []Shortage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The cart row first, then its lines, as every writer of a cart locks them.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM carts WHERE id = $1 FOR UPDATE`, cartID); err != nil {
			return fmt.Errorf("lock cart: %w", err)
		}
		rows, err := tx.Query(ctx, `
			WITH stocked AS (
				SELECT ci.product_id, p.name, ci.quantity, ci.added_at,
				       greatest(s.on_hand - s.held + `+cartHeldSQL("$1", "ci.product_id")+`, 0) AS available
				FROM cart_items ci
				JOIN products p ON p.id = ci.product_id AND p.active
				JOIN stock s ON s.product_id = ci.product_id
				WHERE ci.cart_id = $1
			), short AS (
				SELECT product_id, name, quantity AS wanted, available, added_at
				FROM stocked WHERE quantity > available
			), removed AS (
				DELETE FROM cart_items ci USING short
				WHERE ci.cart_id = $1 AND ci.product_id = short.product_id AND short.available = 0
			), lowered AS (
				UPDATE cart_items ci SET quantity = short.available FROM short
				WHERE ci.cart_id = $1 AND ci.product_id = short.product_id AND short.available > 0
			), touched AS (
				UPDATE carts SET updated_at = now(), order_id = NULL
				WHERE id = $1 AND EXISTS (SELECT 1 FROM short)
			)
			SELECT product_id, name, wanted, available FROM short ORDER BY added_at, product_id`, cartID)
		if err != nil {
			return fmt.Errorf("fit cart to stock: %w", err)
		}
		short, err = pgx.CollectRows(rows, pgx.RowToStructByName[Shortage])
		if err != nil {
			return fmt.Errorf("fit cart to stock: %w", err)
		}
		return nil
	})
	return short, err
}
