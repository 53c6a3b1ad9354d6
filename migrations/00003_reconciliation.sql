-- +goose Up
-- The webhook inbox: every verified delivery, stored with its raw body before it is
-- acknowledged, deduplicated by the event id (or, without one, a hash of the body).
CREATE TABLE webhook_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key    text        NOT NULL UNIQUE,
    event_id     text,
    event_type   text,
    payment_id   text,
    raw_body     bytea       NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '{}',
    received_at  timestamptz NOT NULL DEFAULT now(),
    deliveries   integer     NOT NULL DEFAULT 1,
    processed_at timestamptz,
    -- accepted, duplicate-free outcome of processing: applied, unchanged, unknown_payment, invalid
    result       text,
    error        text
);
CREATE INDEX webhook_events_payment_idx ON webhook_events (payment_id, received_at);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at DESC, id DESC);
CREATE INDEX webhook_events_unprocessed_idx ON webhook_events (payment_id) WHERE processed_at IS NULL;

-- When the sweeper should next read an open attempt's payment from Orchestrate.
ALTER TABLE payment_attempts ADD COLUMN next_check_at timestamptz NOT NULL DEFAULT now() + interval '30 seconds';
CREATE INDEX payment_attempts_due_idx ON payment_attempts (next_check_at)
    WHERE status IN ('creating', 'open', 'unknown');
CREATE INDEX payment_attempts_payment_idx ON payment_attempts (orchestrate_payment_id);

-- Paid is final, whatever the Go code does: the database refuses to move a paid
-- order to any other status.
-- +goose StatementBegin
CREATE FUNCTION orders_paid_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'paid' AND NEW.status <> 'paid' THEN
        RAISE EXCEPTION 'order % is paid; its status cannot change to %', OLD.id, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER orders_paid_is_final BEFORE UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_paid_is_final();

-- +goose Down
DROP TRIGGER orders_paid_is_final ON orders;
DROP FUNCTION orders_paid_is_final();
DROP INDEX payment_attempts_payment_idx;
DROP INDEX payment_attempts_due_idx;
ALTER TABLE payment_attempts DROP COLUMN next_check_at;
DROP TABLE webhook_events;
