// Carts: the shopper's cart, kept in PostgreSQL under the random id its cookie
// holds, priced from the catalog whenever it is read.

package orders

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxQuantity is the most of one product a cart may hold.
const MaxQuantity = 99

// CartLine is one product in a cart, priced from the catalog now in the cart's
// currency. A product without a price in that currency is not sold in it: its
// line is not Available, has no price, and blocks checkout until removed.
type CartLine struct {
	ProductID int64  `db:"product_id"`
	Name      string `db:"name"`
	Image     string `db:"image"`
	UnitMinor int64  `db:"unit_minor"` // 0 when not Available
	Currency  string `db:"currency"`
	Quantity  int    `db:"quantity"`
	LineMinor int64  `db:"line_minor"` // 0 when not Available
	Available bool   `db:"available"`
}

// UnitPrice is the line's unit price.
func (l CartLine) UnitPrice() Money { return Money{l.UnitMinor, l.Currency} }

// LineTotal is the unit price times the quantity.
func (l CartLine) LineTotal() Money { return Money{l.LineMinor, l.Currency} }

// Cart is a shopper's cart, its lines all priced in one currency: switching
// currency prices the whole cart again, so a cart never mixes currencies.
type Cart struct {
	ID       string
	Currency string
	Lines    []CartLine
}

// Count is the number of items (not lines) in the cart.
func (c *Cart) Count() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// Total is the sum of the available lines, in the cart's currency.
func (c *Cart) Total() Money {
	total := Money{Currency: c.Currency}
	for _, l := range c.Lines {
		total.Minor += l.LineMinor
	}
	return total
}

// Unavailable returns the lines whose product has no price in the cart's
// currency; while there are any, the cart cannot be checked out.
func (c *Cart) Unavailable() []CartLine {
	var out []CartLine
	for _, l := range c.Lines {
		if !l.Available {
			out = append(out, l)
		}
	}
	return out
}

// Carts stores carts in PostgreSQL.
type Carts struct {
	pool *pgxpool.Pool
}

// NewCarts returns a Carts backed by pool.
func NewCarts(pool *pgxpool.Pool) *Carts { return &Carts{pool: pool} }

// NewCartID returns a new unguessable cart id (256 random bits, URL-safe).
func NewCartID() string { return randomToken(32) }

// Get returns the cart with its lines priced from the catalog in currency, each
// line not sold in it marked unavailable. An unknown id is an empty cart, not an
// error: the cookie may outlive the row.
func (s *Carts) Get(ctx context.Context, cartID, currency string) (*Cart, error) {
	cart := &Cart{ID: cartID, Currency: currency}
	if cartID == "" {
		return cart, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT ci.product_id, p.name, p.image, coalesce(pp.amount_minor, 0) AS unit_minor,
		       $2::text AS currency, ci.quantity, coalesce(pp.amount_minor * ci.quantity, 0) AS line_minor,
		       pp.amount_minor IS NOT NULL AS available
		FROM cart_items ci
		JOIN products p ON p.id = ci.product_id AND p.active
		LEFT JOIN product_prices pp ON pp.product_id = ci.product_id AND pp.currency = $2
		WHERE ci.cart_id = $1
		ORDER BY ci.added_at, ci.product_id`, cartID, currency)
	if err != nil {
		return nil, fmt.Errorf("get cart: %w", err)
	}
	cart.Lines, err = pgx.CollectRows(rows, pgx.RowToStructByName[CartLine])
	if err != nil {
		return nil, fmt.Errorf("get cart: %w", err)
	}
	return cart, nil
}

// Count returns the number of items in the cart, for the header.
func (s *Carts) Count(ctx context.Context, cartID string) (int, error) {
	if cartID == "" {
		return 0, nil
	}
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce(sum(ci.quantity), 0)
		FROM cart_items ci JOIN products p ON p.id = ci.product_id AND p.active
		WHERE ci.cart_id = $1`, cartID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count cart: %w", err)
	}
	return n, nil
}

// Add puts quantity more of a product into the cart, creating the cart on first use
// and capping the line at MaxQuantity. It returns ErrNotFound for an unknown or
// inactive product, ErrNotOffered for one without a price in currency (the
// shopper's), and ErrInvalid for a quantity outside 1..MaxQuantity.
func (s *Carts) Add(ctx context.Context, cartID string, productID int64, quantity int, currency string) error {
	if quantity < 1 || quantity > MaxQuantity {
		return fmt.Errorf("quantity must be between 1 and %d: %w", MaxQuantity, ErrInvalid)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := touchCart(ctx, tx, cartID); err != nil {
			return err
		}
		var offered *bool
		err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM product_prices WHERE product_id = p.id AND currency = $2)
			FROM products p WHERE p.id = $1 AND p.active`, productID, currency).Scan(&offered)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("product %d: %w", productID, ErrNotFound)
		case err != nil:
			return fmt.Errorf("add to cart: %w", err)
		case !*offered:
			return fmt.Errorf("product %d in %s: %w", productID, currency, ErrNotOffered)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)
			ON CONFLICT (cart_id, product_id)
			DO UPDATE SET quantity = least(cart_items.quantity + excluded.quantity, $4)`,
			cartID, productID, quantity, MaxQuantity)
		if err != nil {
			return fmt.Errorf("add to cart: %w", err)
		}
		return nil
	})
}

// SetQuantity changes a line's quantity; zero removes the line. It returns
// ErrInvalid for a quantity outside 0..MaxQuantity and ErrNotFound when the cart
// has no such line.
func (s *Carts) SetQuantity(ctx context.Context, cartID string, productID int64, quantity int) error {
	if quantity < 0 || quantity > MaxQuantity {
		return fmt.Errorf("quantity must be between 0 and %d: %w", MaxQuantity, ErrInvalid)
	}
	if len(cartID) < 32 {
		return fmt.Errorf("cart line for product %d: %w", productID, ErrNotFound) // no cart, no line
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The cart row first, then its line, as every writer of a cart locks them.
		if err := touchCart(ctx, tx, cartID); err != nil {
			return err
		}
		var tag pgconn.CommandTag
		var err error
		if quantity == 0 {
			tag, err = tx.Exec(ctx, `DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2`, cartID, productID)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE cart_items SET quantity = $3 WHERE cart_id = $1 AND product_id = $2`, cartID, productID, quantity)
		}
		if err != nil {
			return fmt.Errorf("set quantity: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("cart line for product %d: %w", productID, ErrNotFound)
		}
		return nil
	})
}

// touchCart creates the cart if needed and marks it changed: a changed cart no
// longer stands for the order last checked out from it.
func touchCart(ctx context.Context, tx pgx.Tx, cartID string) error {
	if len(cartID) < 32 {
		return fmt.Errorf("cart id too short: %w", ErrInvalid)
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO carts (id) VALUES ($1)
		ON CONFLICT (id) DO UPDATE SET updated_at = now(), order_id = NULL`, cartID)
	if err != nil {
		return fmt.Errorf("touch cart: %w", err)
	}
	return nil
}

// randomToken returns n random bytes, base64url-encoded without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
