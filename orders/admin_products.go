// The merchant's catalog admin: every product with its price in each currency,
// and the changes the merchant makes to them. Each change is one conditional
// statement on the value the merchant saw, so an edit made meanwhile by someone
// else is never overwritten unseen, and each is recorded in product_changes in
// the transaction that makes it.

package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AdminProduct is a product as the admin shows it, active or not, with its price
// in each currency it has one in.
type AdminProduct struct {
	ID          int64  `db:"id"`
	Slug        string `db:"slug"`
	Name        string `db:"name"`
	Description string `db:"description"`
	Image       string `db:"image"`
	Active      bool   `db:"active"`
	// Prices maps a currency to the price in its minor units; a currency the
	// product is not offered in is absent.
	Prices map[string]int64 `db:"prices"`
	// OnHand is nil when the product's stock is not tracked; Held is what
	// orders awaiting payment hold of it. See Stock.
	OnHand *int `db:"on_hand"`
	Held   int  `db:"held"`
}

// Price returns the product's price in currency, and false when it has none.
func (p AdminProduct) Price(currency string) (Money, bool) {
	minor, ok := p.Prices[currency]
	return Money{Minor: minor, Currency: currency}, ok
}

// ProductChange is one recorded change to a product: who made it, when, to
// which field, and its value before and after (nil: none).
type ProductChange struct {
	Actor string    `db:"actor"`
	Field string    `db:"field"`
	From  *string   `db:"from_value"`
	To    *string   `db:"to_value"`
	At    time.Time `db:"changed_at"`
}

// The fields a ProductChange names besides prices, which are "price " and the
// currency ("price EUR", see PriceField).
const (
	FieldCreated = "created" // To is the new product's name
	FieldStatus  = "status"  // "active" or "inactive"
)

// PriceField is the ProductChange field of the price in currency.
func PriceField(currency string) string { return "price " + currency }

// Change says who changes the catalog and when: the signed-in admin's username
// and the app clock's time.
type Change struct {
	Actor string
	At    time.Time
}

// PriceChange moves a product's price in Currency from From to To, in minor
// units; 0 is no price (prices are positive), so From 0 adds a price and To 0
// removes one. From is the price the merchant saw: the change is made only if
// it still is.
type PriceChange struct {
	Currency string
	From, To int64
}

const adminProductColumns = `p.id, p.slug, p.name, p.description, p.image, p.active,
	coalesce((SELECT jsonb_object_agg(pp.currency, pp.amount_minor) FROM product_prices pp WHERE pp.product_id = p.id), '{}') AS prices,
	s.on_hand, coalesce(s.held, 0) AS held`

// AdminProducts returns every product, active or not, in display order.
func (s *Orders) AdminProducts(ctx context.Context) ([]AdminProduct, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+adminProductColumns+` FROM products p LEFT JOIN stock s ON s.product_id = p.id ORDER BY p.position, p.id`)
	if err != nil {
		return nil, fmt.Errorf("admin products: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[AdminProduct])
	if err != nil {
		return nil, fmt.Errorf("admin products: %w", err)
	}
	return list, nil
}

// AdminProduct returns product id, active or not, or ErrNotFound.
func (s *Orders) AdminProduct(ctx context.Context, id int64) (AdminProduct, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+adminProductColumns+` FROM products p LEFT JOIN stock s ON s.product_id = p.id WHERE p.id = $1`, id)
	if err != nil {
		return AdminProduct{}, fmt.Errorf("admin product %d: %w", id, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[AdminProduct])
	if errors.Is(err, pgx.ErrNoRows) {
		return AdminProduct{}, fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return AdminProduct{}, fmt.Errorf("admin product %d: %w", id, err)
	}
	return p, nil
}

// ProductChanges returns the latest limit changes to product id, newest first.
func (s *Orders) ProductChanges(ctx context.Context, id int64, limit int) ([]ProductChange, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT actor, field, from_value, to_value, changed_at
		FROM product_changes
		WHERE product_id = $1
		ORDER BY id DESC
		LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("product %d changes: %w", id, err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[ProductChange])
	if err != nil {
		return nil, fmt.Errorf("product %d changes: %w", id, err)
	}
	return list, nil
}

// SetPrices makes every change of changes to product id's prices, and records
// each, in one transaction: all or nothing. It returns ErrConflict (naming the
// currency) when a price is no longer the change's From — someone changed it
// meanwhile — and nothing is written; ErrNotFound for an unknown product; and
// ErrInvalid for a currency the shop does not sell in or a price out of range.
func (s *Orders) SetPrices(ctx context.Context, id int64, changes []PriceChange, by Change) error {
	for _, c := range changes {
		if err := checkPriceChange(c); err != nil {
			return err
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, c := range changes {
			if c.From == c.To {
				continue
			}
			var tag pgconn.CommandTag
			var err error
			switch {
			case c.From == 0:
				tag, err = tx.Exec(ctx, `
					INSERT INTO product_prices (product_id, currency, amount_minor, updated_at)
					SELECT id, $2, $3, $4 FROM products WHERE id = $1
					ON CONFLICT (product_id, currency) DO NOTHING`,
					id, c.Currency, c.To, by.At)
			case c.To == 0:
				tag, err = tx.Exec(ctx, `
					DELETE FROM product_prices
					WHERE product_id = $1 AND currency = $2 AND amount_minor = $3`,
					id, c.Currency, c.From)
			default:
				tag, err = tx.Exec(ctx, `
					UPDATE product_prices SET amount_minor = $4, updated_at = $5
					WHERE product_id = $1 AND currency = $2 AND amount_minor = $3`,
					id, c.Currency, c.From, c.To, by.At)
			}
			if err != nil {
				return fmt.Errorf("product %d: set price %s: %w", id, c.Currency, err)
			}
			if tag.RowsAffected() == 0 {
				if err := productExists(ctx, tx, id); err != nil {
					return err
				}
				return fmt.Errorf("product %d: price %s changed meanwhile: %w", id, c.Currency, ErrConflict)
			}
			if err := recordProductChange(ctx, tx, id, by, PriceField(c.Currency), priceText(c.From, c.Currency), priceText(c.To, c.Currency)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetActive lists product id in the shop (active) or takes it out, recording the
// change. It returns false, and writes nothing, when the product already was
// so; ErrNotFound for an unknown product. The shop lists active products only,
// and a cart keeps no line of an inactive one.
func (s *Orders) SetActive(ctx context.Context, id int64, active bool, by Change) (bool, error) {
	changed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE products SET active = $2 WHERE id = $1 AND active <> $2`, id, active)
		if err != nil {
			return fmt.Errorf("product %d: set active: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return productExists(ctx, tx, id)
		}
		changed = true
		return recordProductChange(ctx, tx, id, by, FieldStatus, new(statusText(!active)), new(statusText(active)))
	})
	return changed, err
}

// NewProduct is a product the merchant creates: details the handler validated
// with ValidSlug, CleanProductName, CleanDescription and ParsePrice, an image
// among the shipped ones, and at least one price.
type NewProduct struct {
	Slug        string
	Name        string
	Description string
	Image       string
	Active      bool
	Prices      map[string]int64 // currency → minor units
}

// CreateProduct adds p at the end of the catalog with its prices, recording its
// creation and each price, in one transaction, and returns its id. It returns
// ErrConflict when another product has the slug, and ErrInvalid for a slug, name,
// description, currency or price the rules refuse, or no price at all.
func (s *Orders) CreateProduct(ctx context.Context, p NewProduct, by Change) (int64, error) {
	if !ValidSlug(p.Slug) {
		return 0, fmt.Errorf("slug %q: %w", p.Slug, ErrInvalid)
	}
	if name, err := CleanProductName(p.Name); err != nil || name != p.Name {
		return 0, fmt.Errorf("product name %q: %w", p.Name, ErrInvalid)
	}
	if desc, err := CleanDescription(p.Description); err != nil || desc != p.Description {
		return 0, fmt.Errorf("product description: %w", ErrInvalid)
	}
	if len(p.Prices) == 0 {
		return 0, fmt.Errorf("product %q has no price: %w", p.Slug, ErrInvalid)
	}
	for cur, minor := range p.Prices {
		if err := checkPriceChange(PriceChange{Currency: cur, To: minor}); err != nil || minor == 0 {
			return 0, fmt.Errorf("product %q: price %s: %w", p.Slug, cur, ErrInvalid)
		}
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO products (slug, name, description, image, active, position, created_at)
			SELECT $1, $2, $3, $4, $5, coalesce(max(position), 0) + 1, $6 FROM products
			ON CONFLICT (slug) DO NOTHING
			RETURNING id`,
			p.Slug, p.Name, p.Description, p.Image, p.Active, by.At).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("product slug %q is taken: %w", p.Slug, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("create product %q: %w", p.Slug, err)
		}
		if err := recordProductChange(ctx, tx, id, by, FieldCreated, nil, &p.Name); err != nil {
			return err
		}
		for _, cur := range Currencies {
			minor, ok := p.Prices[cur]
			if !ok {
				continue
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO product_prices (product_id, currency, amount_minor, updated_at) VALUES ($1, $2, $3, $4)`,
				id, cur, minor, by.At); err != nil {
				return fmt.Errorf("create product %q: price %s: %w", p.Slug, cur, err)
			}
			if err := recordProductChange(ctx, tx, id, by, PriceField(cur), nil, priceText(minor, cur)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// checkPriceChange returns ErrInvalid for a currency the shop does not sell in or
// a price that is negative or above the maximum.
func checkPriceChange(c PriceChange) error {
	max, ok := MaxPrice(c.Currency)
	if !ok {
		return fmt.Errorf("currency %q: %w", c.Currency, ErrInvalid)
	}
	if c.From < 0 || c.To < 0 || c.From > max || c.To > max {
		return fmt.Errorf("price %s %d → %d out of range: %w", c.Currency, c.From, c.To, ErrInvalid)
	}
	return nil
}

// productExists returns ErrNotFound when product id does not exist.
func productExists(ctx context.Context, tx pgx.Tx, id int64) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)`, id).Scan(&ok); err != nil {
		return fmt.Errorf("product %d: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	return nil
}

// recordProductChange writes one change to product id; call it in the
// transaction that made the change.
func recordProductChange(ctx context.Context, tx pgx.Tx, id int64, by Change, field string, from, to *string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO product_changes (product_id, actor, field, from_value, to_value, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, by.Actor, field, from, to, by.At)
	if err != nil {
		return fmt.Errorf("product %d: record change of %s: %w", id, field, err)
	}
	return nil
}

// priceText is a price as product_changes keeps it: major units in the
// currency's own decimals ("32.00"), nil for none.
func priceText(minor int64, currency string) *string {
	if minor == 0 {
		return nil
	}
	return new(PriceInput(minor, currency))
}

// statusText is a product's activation as product_changes keeps it.
func statusText(active bool) string {
	if active {
		return "active"
	}
	return "inactive"
}
