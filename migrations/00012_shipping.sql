-- +goose Up
-- Shipping: the methods the merchant offers, each with a price per currency and,
-- optionally, the items' subtotal from which it is free; and the address and
-- method an order ships with, as they were at checkout. An order made before
-- this migration has none ('' and 0).
CREATE TABLE shipping_methods (
    code     text    PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_-]{0,31}$'),
    name     text    NOT NULL CHECK (name <> ''),
    position integer NOT NULL DEFAULT 0,
    active   boolean NOT NULL DEFAULT true
);

CREATE TABLE shipping_rates (
    method          text   NOT NULL REFERENCES shipping_methods (code) ON DELETE CASCADE,
    currency        text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
    -- Free when the order's items add up to at least this, in currency.
    free_over_minor bigint CHECK (free_over_minor >= 0),
    PRIMARY KEY (method, currency)
);

INSERT INTO shipping_methods (code, name, position) VALUES
    ('standard', 'Standard (3–5 business days)', 1),
    ('express', 'Express (1–2 business days)', 2);
INSERT INTO shipping_rates (method, currency, amount_minor, free_over_minor) VALUES
    ('standard', 'USD', 599, 5000),
    ('standard', 'EUR', 499, 5000),
    ('standard', 'GBP', 449, 4000),
    ('standard', 'CAD', 799, 7500),
    ('express', 'USD', 1499, NULL),
    ('express', 'EUR', 1299, NULL),
    ('express', 'GBP', 1199, NULL),
    ('express', 'CAD', 1999, NULL);

ALTER TABLE orders
    ADD COLUMN ship_recipient       text   NOT NULL DEFAULT '',
    ADD COLUMN ship_line1           text   NOT NULL DEFAULT '',
    ADD COLUMN ship_line2           text   NOT NULL DEFAULT '',
    ADD COLUMN ship_city            text   NOT NULL DEFAULT '',
    ADD COLUMN ship_region          text   NOT NULL DEFAULT '',
    ADD COLUMN ship_postal_code     text   NOT NULL DEFAULT '',
    ADD COLUMN ship_country         text   NOT NULL DEFAULT '',
    ADD COLUMN shipping_method      text   NOT NULL DEFAULT '',
    ADD COLUMN shipping_method_name text   NOT NULL DEFAULT '',
    ADD COLUMN shipping_minor       bigint NOT NULL DEFAULT 0 CHECK (shipping_minor >= 0);

-- +goose Down
ALTER TABLE orders
    DROP COLUMN ship_recipient, DROP COLUMN ship_line1, DROP COLUMN ship_line2,
    DROP COLUMN ship_city, DROP COLUMN ship_region, DROP COLUMN ship_postal_code,
    DROP COLUMN ship_country, DROP COLUMN shipping_method, DROP COLUMN shipping_method_name,
    DROP COLUMN shipping_minor;
DROP TABLE shipping_rates;
DROP TABLE shipping_methods;
