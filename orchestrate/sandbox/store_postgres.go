package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresStore keeps state in the orchestrate_sandbox schema, so payments
// and queued webhook deliveries survive a restart. Each row keeps the
// record as JSON in data, plus the few columns queries filter and order on.
type postgresStore struct {
	pool *pgxpool.Pool
}

// schemaLockKey is the advisory lock taken while creating the schema, so
// two processes starting at once do not race on CREATE ... IF NOT EXISTS
// (which is not safe under concurrency). The value is arbitrary but fixed:
// "orchsbox" in ASCII.
const schemaLockKey int64 = 0x6f72636873626f78

// schemaSQL creates the sandbox's own schema; it is idempotent. The
// sandbox's tables are its own business, apart from the app's migrations,
// which is why it creates them itself at startup.
const schemaSQL = `
CREATE SCHEMA IF NOT EXISTS orchestrate_sandbox;

CREATE TABLE IF NOT EXISTS orchestrate_sandbox.payments (
	seq             bigint GENERATED ALWAYS AS IDENTITY,
	id              text PRIMARY KEY,
	key_scope       text NOT NULL,
	idempotency_key text,
	status          text NOT NULL,
	created_at      timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL,
	data            jsonb NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS payments_idempotency_key
	ON orchestrate_sandbox.payments (key_scope, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS payments_seq ON orchestrate_sandbox.payments (seq);
CREATE INDEX IF NOT EXISTS payments_pending_expiry
	ON orchestrate_sandbox.payments (expires_at) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS orchestrate_sandbox.deliveries (
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	id         text PRIMARY KEY,
	payment_id text NOT NULL,
	status     text NOT NULL,
	data       jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_seq ON orchestrate_sandbox.deliveries (seq);
CREATE INDEX IF NOT EXISTS deliveries_pending
	ON orchestrate_sandbox.deliveries (seq) WHERE status = 'pending';
`

// NewPostgresStore returns a Store in pool's database, creating the schema
// orchestrate_sandbox and its tables if they do not exist. It does so in a
// transaction holding an advisory lock, so several processes may start at
// once. It returns an error if the database is unreachable or the schema
// cannot be created.
func NewPostgresStore(ctx context.Context, pool *pgxpool.Pool) (Store, error) {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLockKey); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schemaSQL)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: create schema orchestrate_sandbox: %w", err)
	}
	return &postgresStore{pool: pool}, nil
}

// nullable turns "" into SQL NULL, so payments without an idempotency key
// stay out of the unique index.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// scanPayment decodes a row holding one data column.
func scanPayment(row pgx.CollectableRow) (payment, error) {
	var data []byte
	if err := row.Scan(&data); err != nil {
		return payment{}, err
	}
	var p payment
	if err := json.Unmarshal(data, &p); err != nil {
		return payment{}, fmt.Errorf("decode stored payment: %w", err)
	}
	return p, nil
}

// scanDelivery decodes a row holding seq and data.
func scanDelivery(row pgx.CollectableRow) (delivery, error) {
	var seq int64
	var data []byte
	if err := row.Scan(&seq, &data); err != nil {
		return delivery{}, err
	}
	var d delivery
	if err := json.Unmarshal(data, &d); err != nil {
		return delivery{}, fmt.Errorf("decode stored delivery: %w", err)
	}
	d.Seq = seq
	return d, nil
}

func (s *postgresStore) createPayment(ctx context.Context, p payment, ds []delivery) (payment, bool, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return payment{}, false, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return payment{}, false, err
	}
	defer tx.Rollback(ctx) // A no-op once committed.

	// ON CONFLICT waits for a concurrent insert of the same key to commit,
	// so two racing requests with one key yield one payment.
	tag, err := tx.Exec(ctx, `
		INSERT INTO orchestrate_sandbox.payments
			(id, key_scope, idempotency_key, status, created_at, expires_at, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (key_scope, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
		p.ID, p.KeyScope, nullable(p.IdempotencyKey), string(p.Status), p.CreatedAt, p.ExpiresAt, string(data))
	if err != nil {
		return payment{}, false, err
	}
	if tag.RowsAffected() == 0 {
		rows, err := tx.Query(ctx, `
			SELECT data FROM orchestrate_sandbox.payments
			WHERE key_scope = $1 AND idempotency_key = $2`, p.KeyScope, p.IdempotencyKey)
		if err != nil {
			return payment{}, false, err
		}
		existing, err := pgx.CollectExactlyOneRow(rows, scanPayment)
		return existing, false, err
	}
	if err := insertDeliveries(ctx, tx, ds); err != nil {
		return payment{}, false, err
	}
	return p, true, tx.Commit(ctx)
}

func (s *postgresStore) getPayment(ctx context.Context, id string) (payment, error) {
	rows, err := s.pool.Query(ctx, `SELECT data FROM orchestrate_sandbox.payments WHERE id = $1`, id)
	if err != nil {
		return payment{}, err
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPayment)
	if errors.Is(err, pgx.ErrNoRows) {
		return payment{}, errNotFound
	}
	return p, err
}

func (s *postgresStore) listPayments(ctx context.Context, offset, limit int) ([]payment, int, error) {
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM orchestrate_sandbox.payments`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT data FROM orchestrate_sandbox.payments
		ORDER BY seq DESC LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	ps, err := pgx.CollectRows(rows, scanPayment)
	return ps, total, err
}

func (s *postgresStore) updatePayment(ctx context.Context, p payment, from status, ds []delivery) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // A no-op once committed.

	tag, err := tx.Exec(ctx, `
		UPDATE orchestrate_sandbox.payments
		SET status = $2, expires_at = $3, data = $4
		WHERE id = $1 AND status = $5`,
		p.ID, string(p.Status), p.ExpiresAt, string(data), string(from))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orchestrate_sandbox.payments WHERE id = $1)`, p.ID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errNotFound
		}
		return errConflict
	}
	if err := insertDeliveries(ctx, tx, ds); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (s *postgresStore) duePayments(ctx context.Context, now time.Time, limit int) ([]payment, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT data FROM orchestrate_sandbox.payments
		WHERE status = 'pending' AND expires_at <= $1
		ORDER BY expires_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanPayment)
}

// insertDeliveries inserts ds in order, so their seq follows that order.
func insertDeliveries(ctx context.Context, tx pgx.Tx, ds []delivery) error {
	for _, d := range ds {
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO orchestrate_sandbox.deliveries (id, payment_id, status, data)
			VALUES ($1, $2, $3, $4)`, d.ID, d.PaymentID, string(d.Status), string(data)); err != nil {
			return err
		}
	}
	return nil
}

func (s *postgresStore) addDeliveries(ctx context.Context, ds []delivery) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return insertDeliveries(ctx, tx, ds)
	})
}

func (s *postgresStore) getDelivery(ctx context.Context, id string) (delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, data FROM orchestrate_sandbox.deliveries WHERE id = $1`, id)
	if err != nil {
		return delivery{}, err
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	if errors.Is(err, pgx.ErrNoRows) {
		return delivery{}, errNotFound
	}
	return d, err
}

func (s *postgresStore) pendingDeliveries(ctx context.Context) ([]delivery, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT seq, data FROM orchestrate_sandbox.deliveries
		WHERE status = 'pending' ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanDelivery)
}

func (s *postgresStore) listDeliveries(ctx context.Context, limit int) ([]delivery, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT seq, data FROM orchestrate_sandbox.deliveries
		ORDER BY seq DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanDelivery)
}

func (s *postgresStore) updateDelivery(ctx context.Context, d delivery) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE orchestrate_sandbox.deliveries SET status = $2, data = $3 WHERE id = $1`,
		d.ID, string(d.Status), string(data))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errNotFound
	}
	return nil
}
