-- +goose Up
-- The outbox of webhooks to the merchant's systems (MERCHANT_WEBHOOK_URL): one row
-- per order change, written in the transaction that records the change, its body
-- frozen then. id is the Standard Webhooks webhook-id, the same on every attempt,
-- so receivers deduplicate on it.
CREATE TABLE outbound_webhooks (
    id              text        PRIMARY KEY CHECK (id ~ '^msg_[A-Za-z0-9]{16,64}$'),
    type            text        NOT NULL,
    order_id        bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- Which instance of the change (a shipment's id); '' when an order makes the
    -- change at most once. One webhook per order, type and detail.
    detail          text        NOT NULL DEFAULT '',
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_attempt_at timestamptz,
    last_result     text,
    delivered_at    timestamptz,
    UNIQUE (order_id, type, detail)
);
CREATE INDEX outbound_webhooks_created ON outbound_webhooks (created_at DESC, id);

-- Every delivery attempt: the receiver's HTTP status, or the error when there was
-- no answer, and the start of its response.
CREATE TABLE outbound_webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   text        NOT NULL REFERENCES outbound_webhooks (id) ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL,
    http_status  integer,
    error        text,
    duration_ms  integer     NOT NULL,
    response     text        NOT NULL DEFAULT ''
);
CREATE INDEX outbound_webhook_attempts_webhook ON outbound_webhook_attempts (webhook_id, id);

-- +goose Down
DROP TABLE outbound_webhook_attempts;
DROP TABLE outbound_webhooks;
