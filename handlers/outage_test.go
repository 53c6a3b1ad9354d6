package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orchestrate-checkout/checkout/internal/pgcluster"
	"github.com/orchestrate-checkout/checkout/migrations"
)

// TestDatabaseOutageDuringWebhooks stops PostgreSQL while payments are being
// made: the webhook endpoint answers 503 (never 2xx-and-drop), Orchestrate
// retries, and once the database is back every payment is applied exactly once —
// without restarting the app.
func TestDatabaseOutageDuringWebhooks(t *testing.T) {
	cluster := pgcluster.New(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := migrations.Up(ctx, stdlib.OpenDBFromPool(pool), nil); err != nil {
		t.Fatal(err)
	}
	a := newAppWith(t, pool, appOptions{webhookRetry: 100 * time.Millisecond})

	const n = 5
	var orders []*checkedOut
	for range n {
		orders = append(orders, a.checkoutOne(t))
	}
	eventually(t, "payment.created to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL`) == n
	})

	cluster.Stop(t)
	for _, o := range orders {
		payOnHostedPage(t, o.link, "4242424242424242")
	}
	eventually(t, "the webhook endpoint to refuse deliveries while the database is down", func() bool {
		return a.metric(t, "webhooks_received_total", `result="unavailable"`) >= n
	})
	if got := a.metric(t, "webhooks_received_total", `result="accepted"`); got != n {
		t.Errorf("%v deliveries accepted while the database was down, want only the %d before", got, n)
	}
	cluster.Start(t)

	eventually(t, "every order to be paid once the database is back", func() bool {
		return a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid'`) == n
	})
	eventually(t, "every delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	if got := a.count(t, `SELECT count(*) FROM order_events WHERE subject = 'order' AND to_status = 'paid'`); got != n {
		t.Errorf("%d paid transitions, want %d", got, n)
	}
	if got := a.count(t, `SELECT count(*) FROM webhook_events WHERE event_type = 'payment.succeeded'`); got != n {
		t.Errorf("%d payment.succeeded deliveries stored, want %d (one each, retries deduplicated)", got, n)
	}
}
