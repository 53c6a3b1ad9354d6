-- +goose NO TRANSACTION
-- +goose Up
-- The admin's search answers a whole email address as an exact lookup of that
-- customer (orders.Filter.Query). This index finds the address's orders, ignoring
-- case, already in list order (created_at DESC, id DESC), so a page and its keyset
-- cursor are read from it without a sort, however many orders the shop has.
--
-- CONCURRENTLY builds the index without blocking checkouts writing orders (a plain
-- CREATE INDEX would hold their inserts for the whole build on a big table); it
-- cannot run in a transaction, hence NO TRANSACTION. A build that was interrupted
-- (the instance killed, a deadlock) leaves an invalid index behind and goose does
-- not record the migration, so the next attempt drops that leftover first.
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_email_lower_idx;
CREATE INDEX CONCURRENTLY orders_customer_email_lower_idx
    ON orders (lower(customer_email), created_at DESC, id DESC);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_email_lower_idx;
