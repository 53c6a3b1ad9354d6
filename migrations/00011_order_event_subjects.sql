-- +goose Up
-- The order's history gains what happens after the payment: the merchant's notes
-- and actions (fulfilment, cancellation, refunds recorded), and the mail and
-- outbound webhooks the changes set off.
ALTER TABLE order_events DROP CONSTRAINT order_events_subject_check;
ALTER TABLE order_events ADD CONSTRAINT order_events_subject_check
    CHECK (subject IN ('order', 'attempt', 'flag', 'stock', 'fulfilment', 'refund', 'note', 'mail', 'webhook'));
-- Who did it: 'system' for the app's own moves, the admin's username for the
-- merchant's.
ALTER TABLE order_events ADD COLUMN actor text NOT NULL DEFAULT 'system';

-- +goose Down
DELETE FROM order_events WHERE subject IN ('fulfilment', 'refund', 'note', 'mail', 'webhook');
ALTER TABLE order_events DROP COLUMN actor;
ALTER TABLE order_events DROP CONSTRAINT order_events_subject_check;
ALTER TABLE order_events ADD CONSTRAINT order_events_subject_check
    CHECK (subject IN ('order', 'attempt', 'flag', 'stock'));
