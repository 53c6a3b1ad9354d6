-- +goose Up
-- Prices per currency, set by the merchant: a product is offered in a currency
-- only when it has a price in it. Amounts are integer minor units of that
-- currency (its own exponent; all four use 2). No exchange rates anywhere.
CREATE TABLE product_prices (
    product_id   bigint      NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency     text        NOT NULL CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD')),
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 100000000),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, currency)
);

-- Every change the merchant makes to a product (a price, its activation, its
-- details): who, when, what, from and to. Shown on the product's admin page.
CREATE TABLE product_changes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint      NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    actor      text        NOT NULL,
    field      text        NOT NULL,
    from_value text,
    to_value   text,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_changes_product_idx ON product_changes (product_id, id DESC);

-- The catalog's existing prices, and round merchant-set prices in the other three.
INSERT INTO product_prices (product_id, currency, amount_minor)
SELECT p.id, v.currency, v.amount_minor
FROM products p
JOIN (VALUES
    ('pour-over-dripper', 'EUR', 3200), ('pour-over-dripper', 'GBP', 2800), ('pour-over-dripper', 'CAD', 4600),
    ('house-blend-beans', 'EUR', 1600), ('house-blend-beans', 'GBP', 1400), ('house-blend-beans', 'CAD', 2200),
    ('enamel-mug',        'EUR', 1900), ('enamel-mug',        'GBP', 1600), ('enamel-mug',        'CAD', 2700),
    ('gooseneck-kettle',  'EUR', 5500), ('gooseneck-kettle',  'GBP', 4800), ('gooseneck-kettle',  'CAD', 7900),
    ('brass-scoop',       'EUR', 1300), ('brass-scoop',       'GBP', 1100), ('brass-scoop',       'CAD', 1900),
    ('linen-towel',       'EUR', 1200), ('linen-towel',       'GBP', 1000), ('linen-towel',       'CAD', 1600)
) AS v (slug, currency, amount_minor) ON v.slug = p.slug
UNION ALL
SELECT id, currency, price_minor FROM products;

-- +goose Down
DROP TABLE product_changes;
DROP TABLE product_prices;
