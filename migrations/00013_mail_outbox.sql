-- +goose Up
-- The mail outbox: one row per message the shop sends a shopper (the receipt, a
-- shipment's notice, an order lookup's link). (order_id, kind, sequence) is
-- unique, so a replayed paid transition never queues a second receipt; a resend
-- or another shipment takes the next sequence. message_id is fixed when the row
-- is written, so every attempt to send it carries the same Message-ID.
CREATE TABLE mail_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint      NOT NULL REFERENCES orders (id),
    kind       text        NOT NULL CHECK (kind IN ('receipt', 'shipped', 'lookup')),
    sequence   integer     NOT NULL CHECK (sequence >= 0),
    message_id text        NOT NULL UNIQUE,
    recipient  text        NOT NULL,
    status     text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    UNIQUE (order_id, kind, sequence)
);

-- +goose Down
DROP TABLE mail_outbox;
