-- +goose Up
-- The catalog. Prices are integer minor units (cents) in the product's currency; the
-- server always computes order totals from this table, never from a form.
CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text        NOT NULL DEFAULT '',
    price_minor bigint      NOT NULL CHECK (price_minor > 0),
    currency    text        NOT NULL CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD')),
    image       text        NOT NULL,
    position    integer     NOT NULL DEFAULT 0,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_active_position_idx ON products (position, id) WHERE active;

INSERT INTO products (slug, name, description, price_minor, currency, image, position) VALUES
    ('pour-over-dripper', 'Ceramic pour-over dripper',
     'Hand-glazed stoneware cone with three ribs for an even extraction. Fits every common mug and carafe.',
     3400, 'USD', 'img/dripper.svg', 1),
    ('house-blend-beans', 'House blend beans, 250 g',
     'A chocolatey medium roast from Colombia and Ethiopia, roasted the week it ships.',
     1650, 'USD', 'img/beans.svg', 2),
    ('enamel-mug', 'Enamel camp mug',
     'Steel mug with a speckled enamel finish. Light enough for the trail, tough enough for the sink.',
     1999, 'USD', 'img/mug.svg', 3),
    ('gooseneck-kettle', 'Gooseneck kettle',
     'A 0.9 l stovetop kettle with a slim spout for a slow, steady pour.',
     5900, 'USD', 'img/kettle.svg', 4),
    ('brass-scoop', 'Brass coffee scoop',
     'One level scoop holds one cup''s worth of beans. Develops a warm patina with use.',
     1400, 'USD', 'img/scoop.svg', 5),
    ('linen-towel', 'Linen tea towel',
     'Stonewashed European linen, absorbent from the first wash.',
     1200, 'USD', 'img/towel.svg', 6);

-- +goose Down
DROP TABLE products;
