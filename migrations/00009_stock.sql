-- +goose Up
-- Stock, for the products the merchant tracks (a product without a row here is
-- untracked: unlimited). on_hand is what the merchant counted, less what paid
-- orders took since; held is what orders awaiting payment have put aside, the sum
-- of their stock_holds rows. Available to a new checkout: on_hand - held.
CREATE TABLE stock (
    product_id bigint      PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    -- Below zero only when a payment completed after its order's hold was
    -- released and the units were sold again: money received wins, and the
    -- order is flagged oversold.
    on_hand    integer     NOT NULL CHECK (on_hand <= 1000000),
    held       integer     NOT NULL DEFAULT 0 CHECK (held >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The database, not the Go code, refuses to hold more than is on hand: a hold
-- that grows past on_hand fails with this constraint's name, and that failure is
-- how a checkout learns a product sold out. Taking units for a paid order or
-- recounting on_hand lower never grows a hold, so money received and the
-- merchant's count are never refused.
-- +goose StatementBegin
CREATE FUNCTION stock_held_within_on_hand() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.held > NEW.on_hand AND (TG_OP = 'INSERT' OR NEW.held > OLD.held) THEN
        RAISE EXCEPTION 'product %: cannot hold % of % on hand', NEW.product_id, NEW.held, NEW.on_hand
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_held_within_on_hand';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER stock_held_within_on_hand BEFORE INSERT OR UPDATE ON stock
    FOR EACH ROW EXECUTE FUNCTION stock_held_within_on_hand();

-- The units one order holds of one product, from checkout (or paying again) until
-- its payment completes (taken), fails, expires or is cancelled (released), or
-- expires_at passes with no payment (released by the sweeper). Deleting the row is
-- what takes or releases it, so a replay finds nothing to move twice.
CREATE TABLE stock_holds (
    order_id   bigint      NOT NULL REFERENCES orders (id),
    -- Untracking a product (deleting its stock row) drops its holds with it.
    product_id bigint      NOT NULL REFERENCES stock (product_id) ON DELETE CASCADE,
    quantity   integer     NOT NULL CHECK (quantity > 0),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX stock_holds_expires_idx ON stock_holds (expires_at);
CREATE INDEX stock_holds_product_idx ON stock_holds (product_id);

-- Oversold: a paid order took units that were no longer there (short per line).
ALTER TABLE order_items ADD COLUMN short integer NOT NULL DEFAULT 0 CHECK (short >= 0 AND short <= quantity);
ALTER TABLE orders ADD COLUMN oversold boolean NOT NULL DEFAULT false;
CREATE INDEX orders_oversold_idx ON orders (created_at DESC, id DESC) WHERE oversold;

-- Stock movements join the order's history: held, released, taken.
ALTER TABLE order_events DROP CONSTRAINT order_events_subject_check;
ALTER TABLE order_events ADD CONSTRAINT order_events_subject_check
    CHECK (subject IN ('order', 'attempt', 'flag', 'stock'));

-- +goose Down
DELETE FROM order_events WHERE subject = 'stock';
ALTER TABLE order_events DROP CONSTRAINT order_events_subject_check;
ALTER TABLE order_events ADD CONSTRAINT order_events_subject_check
    CHECK (subject IN ('order', 'attempt', 'flag'));
DROP INDEX orders_oversold_idx;
ALTER TABLE orders DROP COLUMN oversold;
ALTER TABLE order_items DROP COLUMN short;
DROP TABLE stock_holds;
DROP TABLE stock;
DROP FUNCTION stock_held_within_on_hand();
