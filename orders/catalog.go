// The catalog: products and their prices, the only source of an order's amounts.

package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Product is one item of the catalog. Price is authoritative: orders copy it from
// here at checkout, never from a form.
type Product struct {
	ID          int64  `db:"id"`
	Slug        string `db:"slug"`
	Name        string `db:"name"`
	Description string `db:"description"`
	PriceMinor  int64  `db:"price_minor"`
	Currency    string `db:"currency"`
	Image       string `db:"image"`
}

// Price returns the product's price as Money.
func (p Product) Price() Money { return Money{Minor: p.PriceMinor, Currency: p.Currency} }

// Catalog reads products from PostgreSQL.
type Catalog struct {
	pool *pgxpool.Pool
}

// NewCatalog returns a Catalog backed by pool.
func NewCatalog(pool *pgxpool.Pool) *Catalog { return &Catalog{pool: pool} }

const productColumns = `id, slug, name, description, price_minor, currency, image`

// List returns the active products in display order.
func (c *Catalog) List(ctx context.Context) ([]Product, error) {
	rows, err := c.pool.Query(ctx, `
		SELECT `+productColumns+`
		FROM products
		WHERE active
		ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	products, err := pgx.CollectRows(rows, pgx.RowToStructByName[Product])
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return products, nil
}

// Get returns the active product with the given id, or ErrNotFound.
func (c *Catalog) Get(ctx context.Context, id int64) (Product, error) {
	rows, err := c.pool.Query(ctx, `
		SELECT `+productColumns+`
		FROM products
		WHERE id = $1 AND active`, id)
	if err != nil {
		return Product{}, fmt.Errorf("get product %d: %w", id, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Product])
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product %d: %w", id, err)
	}
	return p, nil
}
