-- +goose Up
-- The merchant's actions on an order: cancel one awaiting payment, mark a paid
-- one shipped (any number of shipments), record a refund made outside the app.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('awaiting_payment', 'paid', 'failed', 'expired', 'needs_review', 'cancelled'));
-- When the order's first shipment left: the fulfilment filter's column, so the
-- merchant's to-do list (paid, not shipped) reads one partial index in list order.
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
CREATE INDEX orders_to_ship_idx ON orders (created_at DESC, id DESC) WHERE status = 'paid' AND shipped_at IS NULL;
CREATE INDEX orders_shipped_idx ON orders (created_at DESC, id DESC) WHERE shipped_at IS NOT NULL;

CREATE TABLE shipments (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    carrier    text        NOT NULL DEFAULT '' CHECK (length(carrier) <= 60),
    tracking   text        NOT NULL DEFAULT '' CHECK (length(tracking) <= 60),
    shipped_at timestamptz NOT NULL,
    actor      text        NOT NULL,
    -- The key the form carried: a form submitted twice records one shipment.
    form_key   text        NOT NULL,
    UNIQUE (order_id, form_key)
);

-- Refunds the merchant made outside the app (Orchestrate's API has none), in the
-- order's currency.
CREATE TABLE refunds (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    currency     text        NOT NULL,
    note         text        NOT NULL DEFAULT '',
    recorded_at  timestamptz NOT NULL,
    actor        text        NOT NULL
);
CREATE INDEX refunds_order_idx ON refunds (order_id, id);

-- +goose Down
DROP TABLE refunds;
DROP TABLE shipments;
DROP INDEX orders_shipped_idx;
DROP INDEX orders_to_ship_idx;
ALTER TABLE orders DROP COLUMN shipped_at;
UPDATE orders SET status = 'expired' WHERE status = 'cancelled';
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('awaiting_payment', 'paid', 'failed', 'expired', 'needs_review'));
