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
	// Stock is the product's stock now, the units the cart's own order holds
	// counted as available to it.
	Stock Level `db:"-"`
}

// Short reports whether the line asks for more than is available now: a
// checkout of the cart as it is would be refused.
func (l CartLine) Short() bool { return l.Stock.Tracked && l.Quantity > l.Stock.Available() }

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
	// The units the cart's own orders hold are the cart's: its next checkout
	// takes them over (cartHeldSQL), so they are not held against it.
	rows, err := s.pool.Query(ctx, `
		SELECT ci.product_id, p.name, p.image, coalesce(pp.amount_minor, 0) AS unit_minor,
		       $2::text AS currency, ci.quantity, coalesce(pp.amount_minor * ci.quantity, 0) AS line_minor,
		       pp.amount_minor IS NOT NULL AS available,
		       s.product_id IS NOT NULL AS tracked, coalesce(s.on_hand, 0) AS on_hand,
		       coalesce(s.held - `+cartHeldSQL("$1", "ci.product_id")+`, 0) AS held
		FROM cart_items ci
		JOIN products p ON p.id = ci.product_id AND p.active
		LEFT JOIN product_prices pp ON pp.product_id = ci.product_id AND pp.currency = $2
		LEFT JOIN stock s ON s.product_id = ci.product_id
		WHERE ci.cart_id = $1
		ORDER BY ci.added_at, ci.product_id`, cartID, currency)
	if err != nil {
		return nil, fmt.Errorf("get cart: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowToStructByName[cartLineRow])
	if err != nil {
		return nil, fmt.Errorf("get cart: %w", err)
	}
	cart.Lines = make([]CartLine, len(lines))
	for i, l := range lines {
		cart.Lines[i] = l.CartLine
		cart.Lines[i].Stock = l.Level
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

// Add is AddLine for a caller that needs no report of what it did.
func (s *Carts) Add(ctx context.Context, cartID string, productID int64, quantity int, currency string) error {
	_, err := s.AddLine(ctx, cartID, productID, quantity, currency)
	return err
}

// AddLine puts quantity more of a product into the cart, creating the cart on
// first use, and caps the line at MaxQuantity and at what is available now (see
// LineChange). It returns ErrNotFound for an unknown or inactive product,
// ErrNotOffered for one without a price in currency (the shopper's), ErrInvalid
// for a quantity outside 1..MaxQuantity, and ErrSoldOut when none is available:
// then nothing changes, and the change still names the product.
func (s *Carts) AddLine(ctx context.Context, cartID string, productID int64, quantity int, currency string) (LineChange, error) {
	var change LineChange
	if quantity < 1 || quantity > MaxQuantity {
		return change, fmt.Errorf("quantity must be between 1 and %d: %w", MaxQuantity, ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := touchCart(ctx, tx, cartID); err != nil {
			return err
		}
		// The cart's row is locked (touchCart), so its line is read as it is; the
		// stock is read, not locked: the checkout's hold is what decides.
		var offered bool
		err := tx.QueryRow(ctx, `
			WITH line AS (
				SELECT p.name,
				       EXISTS (SELECT 1 FROM product_prices WHERE product_id = p.id AND currency = $3) AS offered,
				       `+availableSQL("$1", "$5")+` AS available,
				       least(coalesce(ci.quantity, 0) + $4, $5) AS wanted,
				       coalesce(ci.quantity, 0) AS had
				FROM products p
				LEFT JOIN stock s ON s.product_id = p.id
				LEFT JOIN cart_items ci ON ci.cart_id = $1 AND ci.product_id = p.id
				WHERE p.id = $2 AND p.active
			), put AS (
				INSERT INTO cart_items (cart_id, product_id, quantity)
				SELECT $1, $2, least(wanted, available) FROM line WHERE offered AND available > 0
				ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity
				RETURNING quantity
			)
			SELECT name, offered, wanted, available, coalesce((SELECT quantity FROM put), had) FROM line`,
			cartID, productID, currency, quantity, MaxQuantity).Scan(&change.Name, &offered, &change.Wanted, &change.Available, &change.Quantity)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("product %d: %w", productID, ErrNotFound)
		case err != nil:
			return fmt.Errorf("add to cart: %w", err)
		case !offered:
			return fmt.Errorf("product %d in %s: %w", productID, currency, ErrNotOffered)
		case change.Available == 0:
			return fmt.Errorf("product %d: %w", productID, ErrSoldOut)
		}
		return nil
	})
	return change, err
}

// SetQuantity changes a line's quantity, capped at what is available now (see
// LineChange); zero removes the line. It returns ErrInvalid for a quantity
// outside 0..MaxQuantity, ErrNotFound when the cart has no such line, and
// ErrSoldOut when a quantity above zero is asked of a product none of which is
// available: then nothing changes, and the change still names the product.
func (s *Carts) SetQuantity(ctx context.Context, cartID string, productID int64, quantity int) (LineChange, error) {
	change := LineChange{Wanted: quantity, Quantity: quantity}
	if quantity < 0 || quantity > MaxQuantity {
		return change, fmt.Errorf("quantity must be between 0 and %d: %w", MaxQuantity, ErrInvalid)
	}
	if len(cartID) < 32 {
		return change, fmt.Errorf("cart line for product %d: %w", productID, ErrNotFound) // no cart, no line
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The cart row first, then its line, as every writer of a cart locks them.
		if err := touchCart(ctx, tx, cartID); err != nil {
			return err
		}
		var err error
		if quantity == 0 {
			err = tx.QueryRow(ctx, `
				DELETE FROM cart_items ci USING products p
				WHERE ci.cart_id = $1 AND ci.product_id = $2 AND p.id = ci.product_id
				RETURNING p.name`, cartID, productID).Scan(&change.Name)
		} else {
			err = tx.QueryRow(ctx, `
				WITH line AS (
					SELECT p.name, ci.quantity AS had, `+availableSQL("$1", "$4")+` AS available
					FROM cart_items ci
					JOIN products p ON p.id = ci.product_id
					LEFT JOIN stock s ON s.product_id = ci.product_id
					WHERE ci.cart_id = $1 AND ci.product_id = $2
				), set AS (
					UPDATE cart_items ci SET quantity = least($3, line.available) FROM line
					WHERE ci.cart_id = $1 AND ci.product_id = $2 AND line.available > 0
					RETURNING ci.quantity
				)
				SELECT name, available, coalesce((SELECT quantity FROM set), had) FROM line`,
				cartID, productID, quantity, MaxQuantity).Scan(&change.Name, &change.Available, &change.Quantity)
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("cart line for product %d: %w", productID, ErrNotFound)
		case err != nil:
			return fmt.Errorf("set quantity: %w", err)
		case quantity > 0 && change.Available == 0:
			return fmt.Errorf("product %d: %w", productID, ErrSoldOut)
		}
		return nil
	})
	return change, err
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
