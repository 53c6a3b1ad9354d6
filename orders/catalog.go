// The catalog: products and their prices, the only source of an order's amounts.

package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Product is one item of the catalog with its price in one currency, the one it
// was read in. The price is the merchant's for that currency (product_prices):
// orders copy it from here at checkout, never from a form, and nothing converts
// one currency's price into another's.
type Product struct {
	ID          int64  `db:"id"`
	Slug        string `db:"slug"`
	Name        string `db:"name"`
	Description string `db:"description"`
	PriceMinor  int64  `db:"amount_minor"`
	Currency    string `db:"currency"`
	Image       string `db:"image"`
	Stock       Level  `db:"-"` // units on hand and held now
}

// productRow is a product as the catalog reads it: the product, and its stock in
// the columns tracked, on_hand and held.
type productRow struct {
	Product
	Level
}

// product returns the row's product with its stock.
func (r productRow) product() Product {
	p := r.Product
	p.Stock = r.Level
	return p
}

// Price returns the product's price as Money.
func (p Product) Price() Money { return Money{Minor: p.PriceMinor, Currency: p.Currency} }

// Catalog reads products from PostgreSQL.
type Catalog struct {
	pool *pgxpool.Pool
}

// NewCatalog returns a Catalog backed by pool.
func NewCatalog(pool *pgxpool.Pool) *Catalog { return &Catalog{pool: pool} }

// productColumns are a Product's columns, its stock from a LEFT JOIN of stock s.
const productColumns = `p.id, p.slug, p.name, p.description, pp.amount_minor, pp.currency, p.image,
	s.product_id IS NOT NULL AS tracked, coalesce(s.on_hand, 0) AS on_hand, coalesce(s.held, 0) AS held`

// List returns the active products that have a price in currency, in display
// order, priced in it (a product without one is not offered in that currency),
// each with its stock.
func (c *Catalog) List(ctx context.Context, currency string) ([]Product, error) {
	rows, err := c.pool.Query(ctx, `
		SELECT `+productColumns+`
		FROM products p JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = $1
		LEFT JOIN stock s ON s.product_id = p.id
		WHERE p.active
		ORDER BY p.position, p.id`, currency)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[productRow])
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	products := make([]Product, len(found))
	for i, r := range found {
		products[i] = r.product()
	}
	return products, nil
}

// Get returns the active product with the given id priced in currency, with its
// stock, or ErrNotFound when there is none or it has no price in currency.
func (c *Catalog) Get(ctx context.Context, id int64, currency string) (Product, error) {
	rows, err := c.pool.Query(ctx, `
		SELECT `+productColumns+`
		FROM products p JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = $2
		LEFT JOIN stock s ON s.product_id = p.id
		WHERE p.id = $1 AND p.active`, id, currency)
	if err != nil {
		return Product{}, fmt.Errorf("get product %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[productRow])
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, fmt.Errorf("product %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product %d: %w", id, err)
	}
	return r.product(), nil
}
