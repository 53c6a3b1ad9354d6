-- +goose Up
-- The merchant's admin: server-side sessions, the sign-in throttle, and the indexes
-- that keep the orders list fast on page 5,000 as on page 1.

-- Sessions of github.com/alexedwards/scs/pgxstore (its documented schema). The token
-- stored is a hash of the cookie's (HashTokenInStore), so reading this table does
-- not give anyone a session.
CREATE TABLE sessions (
    token  text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Failed sign-ins per key ('ip:<address>' or 'user:<name>'), shared by every
-- instance. A row is reset by a successful sign-in and ignored once its window
-- has passed.
CREATE TABLE admin_signin_failures (
    key              text        PRIMARY KEY,
    failures         integer     NOT NULL,
    first_failure_at timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz
);

-- The orders list is ordered by (created_at DESC, id DESC) and paged by that key.
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_status_created_idx ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_currency_created_idx ON orders (currency, created_at DESC, id DESC);
CREATE INDEX orders_refund_needed_idx ON orders (created_at DESC, id DESC) WHERE refund_needed;
CREATE INDEX orders_paid_at_idx ON orders (paid_at) WHERE paid_at IS NOT NULL;

-- Search: order numbers match exactly (their UNIQUE index), payment ids exactly
-- (payment_attempts_payment_idx), names and emails by substring through trigrams.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX orders_customer_email_trgm_idx ON orders USING gin (customer_email gin_trgm_ops);
CREATE INDEX orders_customer_name_trgm_idx ON orders USING gin (customer_name gin_trgm_ops);

-- Stuck attempts (open past expiry, or of unknown outcome) for the overview.
CREATE INDEX payment_attempts_stuck_idx ON payment_attempts (order_id, expires_at)
    WHERE status IN ('open', 'unknown');

-- The webhook inbox, newest (highest id) first, filtered by type.
CREATE INDEX webhook_events_type_idx ON webhook_events (event_type, id DESC);

-- +goose Down
DROP INDEX webhook_events_type_idx;
DROP INDEX payment_attempts_stuck_idx;
DROP INDEX orders_customer_name_trgm_idx;
DROP INDEX orders_customer_email_trgm_idx;
DROP EXTENSION IF EXISTS pg_trgm;
DROP INDEX orders_paid_at_idx;
DROP INDEX orders_refund_needed_idx;
DROP INDEX orders_currency_created_idx;
DROP INDEX orders_status_created_idx;
DROP INDEX orders_created_idx;
DROP TABLE admin_signin_failures;
DROP TABLE sessions;
