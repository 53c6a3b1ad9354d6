-- +goose Up
-- A product's prices live in product_prices, one per currency (00007); nothing
-- reads the single price and currency the catalog started with any more.
ALTER TABLE products DROP COLUMN price_minor, DROP COLUMN currency;

-- +goose Down
-- Back to one price per product: its USD price, or else its price in the first
-- currency it has one in. A product with no price at all cannot have a column
-- that refuses none, so it is deactivated and given a price of 1 minor unit.
ALTER TABLE products ADD COLUMN price_minor bigint, ADD COLUMN currency text;
UPDATE products p SET price_minor = pp.amount_minor, currency = pp.currency
FROM (
    SELECT DISTINCT ON (product_id) product_id, amount_minor, currency
    FROM product_prices
    ORDER BY product_id, currency <> 'USD', currency
) pp
WHERE pp.product_id = p.id;
UPDATE products SET price_minor = 1, currency = 'USD', active = false WHERE price_minor IS NULL;
ALTER TABLE products
    ALTER COLUMN price_minor SET NOT NULL,
    ALTER COLUMN currency SET NOT NULL,
    ADD CONSTRAINT products_price_minor_check CHECK (price_minor > 0),
    ADD CONSTRAINT products_currency_check CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD'));
