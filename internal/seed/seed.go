// Package seed fills a migrated database with realistic orders for tests and
// benchmarks: items from the catalog, payment attempts, every status and currency,
// a year of creation dates, a few orders needing review or a refund, and attempts
// that are stuck. It inserts in set-based statements (INSERT … SELECT over
// generate_series), so a million orders take seconds, not hours.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options says what to seed; zero fields take the defaults.
type Options struct {
	Orders int       // how many orders (default 1,000)
	Now    time.Time // the newest order is created just before it (default now)
	// Span is how far back creation dates go (default 365 days); orders are spread
	// evenly over it, newest last.
	Span  time.Duration
	Batch int // orders per transaction (default 50,000)
}

// Orders inserts opts.Orders orders with their items and attempts. Orders are
// deterministic functions of their position i (0 is the oldest):
//
//   - status by s = (i × 37) mod 100, which spreads every status over every
//     stretch of time: s 0–69 paid, 70–81 awaiting_payment, 82–89 failed,
//     90–97 expired, 98–99 needs_review;
//   - every 50th paid order is flagged refund_needed and has a second completed attempt;
//   - currency cycles USD, EUR, GBP, CAD; one or two catalog items, at their
//     prices in the order's currency (products priced in all four);
//   - awaiting orders have an open attempt, every fourth already past its expiry
//     and every tenth of unknown outcome: the overview's stuck attempts.
//
// Customer names and emails are "Customer <i>" and "customer<i>@example.com".
func Orders(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	if opts.Orders <= 0 {
		opts.Orders = 1000
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Span <= 0 {
		opts.Span = 365 * 24 * time.Hour
	}
	if opts.Batch <= 0 {
		opts.Batch = 50_000
	}
	step := opts.Span / time.Duration(opts.Orders)
	if step <= 0 {
		step = time.Microsecond
	}
	// A run tag keeps public references and payment ids unique across calls.
	tag := fmt.Sprintf("%x", time.Now().UnixNano())
	// Foreign-key checks are most of the cost of a bulk insert. The rows are
	// consistent by construction (items and attempts are made from the orders just
	// inserted), so a superuser — the test and benchmark databases' owner — skips
	// them, as pg_restore does; anyone else pays for them.
	var super string
	if err := pool.QueryRow(ctx, `SELECT current_setting('is_superuser')`).Scan(&super); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	settings := `SET LOCAL work_mem = '256MB'; SET LOCAL synchronous_commit = off`
	if super == "on" {
		settings += `; SET LOCAL session_replication_role = replica`
	}
	for lo := 0; lo < opts.Orders; lo += opts.Batch {
		hi := min(lo+opts.Batch, opts.Orders) - 1
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			// Sort and hash in memory, and do not wait for each batch to reach
			// the disk (a seed is disposable).
			if _, err := tx.Exec(ctx, settings); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, seedSQL, lo, hi, opts.Orders, opts.Now, step, tag)
			return err
		})
		if err != nil {
			return fmt.Errorf("seed orders %d–%d: %w", lo, hi, err)
		}
	}
	// Leave the tables as a live shop's would be after autovacuum: statistics for
	// the planner, the visibility map for index-only scans, and the trigram
	// indexes' pending lists merged (a search would otherwise scan them linearly).
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) orders, order_items, payment_attempts`); err != nil {
		return fmt.Errorf("seed: vacuum: %w", err)
	}
	return nil
}

// seedSQL inserts orders $1..$2 of $3, created $5 apart up to $4, with run tag $6.
const seedSQL = `
WITH priced AS (
	SELECT p.id, p.name,
	       max(pp.amount_minor) FILTER (WHERE pp.currency = 'USD') AS usd,
	       max(pp.amount_minor) FILTER (WHERE pp.currency = 'EUR') AS eur,
	       max(pp.amount_minor) FILTER (WHERE pp.currency = 'GBP') AS gbp,
	       max(pp.amount_minor) FILTER (WHERE pp.currency = 'CAD') AS cad
	FROM products p JOIN product_prices pp ON pp.product_id = p.id
	WHERE p.active
	GROUP BY p.id, p.name
	HAVING count(*) = 4
),
p AS (
	SELECT array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names, count(*)::int AS n,
	       array_agg(usd ORDER BY id) AS usd, array_agg(eur ORDER BY id) AS eur,
	       array_agg(gbp ORDER BY id) AS gbp, array_agg(cad ORDER BY id) AS cad
	FROM priced
),
g AS (
	SELECT i,
	       CASE WHEN (i * 37) % 100 < 70 THEN 'paid' WHEN (i * 37) % 100 < 82 THEN 'awaiting_payment'
	            WHEN (i * 37) % 100 < 90 THEN 'failed' WHEN (i * 37) % 100 < 98 THEN 'expired'
	            ELSE 'needs_review' END AS status,
	       (ARRAY['USD', 'EUR', 'GBP', 'CAD'])[i % 4 + 1] AS currency,
	       CASE i % 4 WHEN 0 THEN p.usd WHEN 1 THEN p.eur WHEN 2 THEN p.gbp ELSE p.cad END AS prices,
	       i % p.n + 1 AS k1, 1 + i % 3 AS q1,
	       CASE WHEN i % 2 = 0 THEN (i % p.n + 1 + (i / 7) % (p.n - 1)) % p.n + 1 END AS k2,
	       1 + (i / 3) % 2 AS q2,
	       $4::timestamptz - ($3 - i) * $5::interval AS created_at,
	       $6 || '-' || lpad(i::text, 10, '0') || '-seed-reference' AS ref
	FROM generate_series($1::int, $2::int) AS i, p
),
o AS (
	INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email,
	                    refund_needed, created_at, updated_at, paid_at)
	SELECT g.ref, g.status, g.currency,
	       g.prices[g.k1] * g.q1 + coalesce(g.prices[g.k2] * g.q2, 0),
	       'Customer ' || g.i, 'customer' || g.i || '@example.com',
	       g.status = 'paid' AND g.i % 50 = 0,
	       g.created_at, g.created_at + interval '3 minutes',
	       CASE WHEN g.status = 'paid' THEN g.created_at + interval '2 minutes' END
	FROM g, p
	RETURNING id, public_ref, status, currency, total_minor, created_at, refund_needed
),
items AS (
	INSERT INTO order_items (order_id, product_id, name, unit_price_minor, quantity)
	SELECT o.id, p.ids[x.k], p.names[x.k], g.prices[x.k], x.q
	FROM o JOIN g ON g.ref = o.public_ref, p,
	     LATERAL (VALUES (g.k1, g.q1), (g.k2, g.q2)) AS x(k, q)
	WHERE x.k IS NOT NULL
	RETURNING 1
),
attempts AS (
	INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency, orchestrate_payment_id,
	                              payment_link, expires_at, completed_at, applied, created_at, updated_at, next_check_at)
	SELECT gen_random_uuid(), o.id, a.status, o.total_minor, o.currency,
	       CASE WHEN a.status <> 'unknown' THEN 'pay_' || o.public_ref || a.suffix END,
	       CASE WHEN a.status <> 'unknown' THEN 'https://sandbox.orchestrate.global/pay/' || o.public_ref || a.suffix END,
	       a.expires_at,
	       CASE WHEN a.status = 'completed' THEN o.created_at + interval '2 minutes' END,
	       a.applied, o.created_at + interval '1 second', o.created_at + interval '2 minutes',
	       coalesce(a.expires_at, o.created_at) + interval '5 seconds'
	FROM o JOIN g ON g.ref = o.public_ref,
	LATERAL (
		SELECT * FROM (VALUES
			-- the attempt that decided the order
			(1, '', CASE o.status WHEN 'paid' THEN 'completed' WHEN 'needs_review' THEN 'completed'
			                      WHEN 'failed' THEN 'failed' WHEN 'expired' THEN 'expired'
			                      ELSE CASE WHEN g.i % 10 = 1 THEN 'unknown' ELSE 'open' END END,
			    o.status = 'paid',
			    CASE WHEN o.status = 'awaiting_payment' AND g.i % 4 = 0 THEN $4::timestamptz - interval '1 minute'
			         WHEN o.status = 'awaiting_payment' THEN $4::timestamptz + interval '1 hour'
			         ELSE o.created_at + interval '1 hour' END),
			-- the second payment of an order owed a refund
			(2, '-2', 'completed', false, o.created_at + interval '1 hour')
		) AS v(n, suffix, status, applied, expires_at)
		WHERE v.n = 1 OR o.refund_needed
	) AS a
	RETURNING 1
)
SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM attempts)`
