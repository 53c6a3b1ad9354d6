-- +goose Up
-- Carts: the cookie holds only the cart's random id. A cart lives in the database so
-- it survives restarts and works behind a load balancer.
CREATE TABLE carts (
    id         text        PRIMARY KEY CHECK (length(id) >= 32),
    -- The order last checked out from this cart while it is unchanged; a changed
    -- cart starts a new order, an unchanged one reuses it (double submits).
    order_id   bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart_items (
    cart_id    text    NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id bigint  NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

CREATE SEQUENCE order_number_seq START 100001;

-- Orders. Amounts are integer minor units, computed from products at checkout.
CREATE TABLE orders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number         text        NOT NULL UNIQUE DEFAULT ('FK-' || nextval('order_number_seq')),
    public_ref     text        NOT NULL UNIQUE CHECK (length(public_ref) >= 22),
    cart_id        text,
    status         text        NOT NULL DEFAULT 'awaiting_payment'
                   CHECK (status IN ('awaiting_payment', 'paid', 'failed', 'expired', 'needs_review')),
    currency       text        NOT NULL CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD')),
    total_minor    bigint      NOT NULL CHECK (total_minor > 0),
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    refund_needed  boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    paid_at        timestamptz
);

ALTER TABLE carts ADD FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE SET NULL;

-- The items as they were sold: name and price are copied so a later catalog change
-- never rewrites history.
CREATE TABLE order_items (
    order_id         bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       bigint  NOT NULL REFERENCES products (id),
    name             text    NOT NULL,
    unit_price_minor bigint  NOT NULL CHECK (unit_price_minor > 0),
    quantity         integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

-- One row per attempt to collect an order's money through Orchestrate. The row is
-- written before Orchestrate is called; its id is the Idempotency-Key and travels in
-- the payment's metadata, so a payment can always be traced back to it.
CREATE TABLE payment_attempts (
    id                     uuid        PRIMARY KEY,
    order_id               bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status                 text        NOT NULL DEFAULT 'creating'
                           CHECK (status IN ('creating', 'open', 'unknown', 'create_failed',
                                             'completed', 'failed', 'expired')),
    amount_minor           bigint      NOT NULL CHECK (amount_minor > 0),
    currency               text        NOT NULL,
    orchestrate_payment_id text        UNIQUE,
    payment_link           text,
    expires_at             timestamptz,
    completed_at           timestamptz,
    last_error             text,
    -- Set on the one completed attempt whose money paid the order.
    applied                boolean     NOT NULL DEFAULT false,
    -- When the app last read this payment from Orchestrate; throttles confirmations.
    last_checked_at        timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- At most one attempt per order may be creating or open: a double click, a second
-- tab or a retried request always lands on the same payment, enforced here and not
-- only in Go.
CREATE UNIQUE INDEX payment_attempts_one_open_per_order
    ON payment_attempts (order_id) WHERE status IN ('creating', 'open');
-- At most one completed attempt pays an order; a second one is flagged for refund.
CREATE UNIQUE INDEX payment_attempts_one_applied_per_order
    ON payment_attempts (order_id) WHERE applied;
CREATE INDEX payment_attempts_order_idx ON payment_attempts (order_id, created_at);

-- The order's history: one row per applied transition, written in the same
-- transaction as the change. A no-op writes nothing.
CREATE TABLE order_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    attempt_id  uuid        REFERENCES payment_attempts (id) ON DELETE SET NULL,
    -- 'order' for a change of the order's status, 'attempt' for one of an attempt's,
    -- 'flag' for a flag raised without a status change (refund needed).
    subject     text        NOT NULL CHECK (subject IN ('order', 'attempt', 'flag')),
    from_status text,
    to_status   text        NOT NULL,
    cause       text        NOT NULL,
    source_id   text,
    detail      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- +goose Down
DROP TABLE order_events;
DROP TABLE payment_attempts;
DROP TABLE order_items;
ALTER TABLE carts DROP CONSTRAINT carts_order_id_fkey;
DROP TABLE orders;
DROP SEQUENCE order_number_seq;
DROP TABLE cart_items;
DROP TABLE carts;
