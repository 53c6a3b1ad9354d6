// The cart once its order is paid: what the order bought leaves the cart, in the
// transaction that marks the order paid.

package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// removeBought takes what a just-paid order bought out of the cart it was checked
// out from: each of its lines loses the quantity the order bought, and a line left
// with none goes. What the shopper added after checking out stays. When anything
// was taken, the cart no longer stands for any order it was checked out as (this
// one, or a later one of the same lines), so its next checkout makes a new order.
//
// Call it in the transaction that moves the order to paid, which happens once per
// order: a replayed or second payment never takes the lines again. The cart row is
// locked before its lines, the order every cart writer uses, so none deadlock.
func removeBought(ctx context.Context, tx pgx.Tx, orderID int64) error {
	var cartID string
	err := tx.QueryRow(ctx, `
		SELECT c.id FROM carts c JOIN orders o ON o.cart_id = c.id
		WHERE o.id = $1
		FOR NO KEY UPDATE OF c`, orderID).Scan(&cartID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // checked out from no cart we still have
	}
	if err != nil {
		return fmt.Errorf("lock the paid order's cart: %w", err)
	}
	_, err = tx.Exec(ctx, `
		WITH bought AS (
			SELECT product_id, quantity FROM order_items WHERE order_id = $2
		), gone AS (
			DELETE FROM cart_items ci USING bought b
			WHERE ci.cart_id = $1 AND ci.product_id = b.product_id AND ci.quantity <= b.quantity
			RETURNING ci.product_id
		), fewer AS (
			UPDATE cart_items ci SET quantity = ci.quantity - b.quantity FROM bought b
			WHERE ci.cart_id = $1 AND ci.product_id = b.product_id AND ci.quantity > b.quantity
			RETURNING ci.product_id
		)
		UPDATE carts SET order_id = NULL, updated_at = now()
		WHERE id = $1 AND (EXISTS (SELECT 1 FROM gone) OR EXISTS (SELECT 1 FROM fewer))`,
		cartID, orderID)
	if err != nil {
		return fmt.Errorf("take the paid items out of the cart: %w", err)
	}
	return nil
}
