-- +goose NO TRANSACTION
-- +goose Up
-- An attempt is superseded when the order's customer changes while its payment is
-- live (the shopper went back and corrected their email): Orchestrate keeps the old
-- customer on that payment and offers no way to change or cancel it, so the order
-- gets a new payment. The superseded one is still reconciled — it may yet be paid,
-- and money wins — but the shopper is never sent to it again.
ALTER TABLE payment_attempts ADD COLUMN IF NOT EXISTS superseded_at timestamptz;

-- At most one attempt per order is creating or open and not superseded: the one a
-- double click, a second tab or a retried request lands on. The new index is built
-- beside the old one, which is dropped once it stands, without blocking checkouts
-- (CONCURRENTLY cannot run in a transaction, hence NO TRANSACTION; a leftover of an
-- interrupted build is dropped first).
DROP INDEX CONCURRENTLY IF EXISTS payment_attempts_one_offered_per_order;
CREATE UNIQUE INDEX CONCURRENTLY payment_attempts_one_offered_per_order
    ON payment_attempts (order_id) WHERE status IN ('creating', 'open') AND superseded_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS payment_attempts_one_open_per_order;

-- +goose Down
-- Fails while an order has a superseded attempt open beside its new one, which the
-- old rule does not allow.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS payment_attempts_one_open_per_order
    ON payment_attempts (order_id) WHERE status IN ('creating', 'open');
DROP INDEX CONCURRENTLY IF EXISTS payment_attempts_one_offered_per_order;
ALTER TABLE payment_attempts DROP COLUMN IF EXISTS superseded_at;
