-- +goose NO TRANSACTION
-- +goose Up
-- payment_attempts_payment_idx duplicates the unique index of
-- orchestrate_payment_id (payment_attempts_orchestrate_payment_id_key), which
-- serves every lookup by payment id; the copy only cost each attempt's insert and
-- each adoption of a payment id a second index write. Dropping an index is safe
-- while the previous release still runs, and CONCURRENTLY blocks no checkout.
DROP INDEX CONCURRENTLY IF EXISTS payment_attempts_payment_idx;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS payment_attempts_payment_idx ON payment_attempts (orchestrate_payment_id);
