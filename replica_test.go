package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/pgcluster"
)

// TestReadReplica runs the real binary with DATABASE_READ_URL on a hot standby
// streaming from its primary. The admin's order totals and CSV export read the
// standby: an order paid while the standby's replay is paused is on the order
// list, which reads the primary, but not yet in the totals or the export, and
// is there once replay resumes. With the standby down they read the primary.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	primary := pgcluster.New(t)
	server, err := pgxpool.New(ctx, primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Exec(ctx, `CREATE DATABASE shop`); err != nil {
		t.Fatal(err)
	}
	server.Close()
	standby := primary.Standby(t)
	pool, err := pgxpool.New(ctx, primary.URL("shop"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	replica, err := pgxpool.New(ctx, standby.URL("shop"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replica.Close)

	sandboxAddr := apptest.FreeAddr(t)
	sandboxURL := "http://" + sandboxAddr
	in := apptest.Start(t, &appBinary, apptest.Options{DatabaseURL: primary.URL("shop"), Env: []string{
		"DATABASE_READ_URL=" + standby.URL("shop"),
		"SANDBOX_ADDR=" + sandboxAddr,
		"SANDBOX_PUBLIC_URL=" + sandboxURL,
		"ADMIN_PASSWORD=" + poolerAdminPassword,
	}})

	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\napp log:\n%s", what, readFile(in.LogPath))
			}
		}
	}
	paid := func(o poolerOrder) {
		t.Helper()
		payOnHostedPage(t, o.link)
		eventually("order "+o.number+" to be paid", func() bool {
			var status string
			return pool.QueryRow(ctx, `SELECT status FROM orders WHERE id = $1`, o.order).Scan(&status) == nil && status == "paid"
		})
	}
	// replayed waits until the standby has replayed everything the primary
	// has written so far.
	replayed := func() {
		t.Helper()
		var lsn string
		if err := pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
			t.Fatal(err)
		}
		eventually("the standby to replay "+lsn, func() bool {
			var done bool
			return replica.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done) == nil && done
		})
	}
	admin := newBrowser(in.URL)
	if resp := admin.post(t, "/admin/login", url.Values{"username": {"admin"}, "password": {poolerAdminPassword}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in = %d, want 303", resp.StatusCode)
	}
	totalCount := regexp.MustCompile(`\((\d+) orders?\)`)
	// shows reports which of the orders the totals count, the export lists and
	// the order list lists.
	shows := func(orders ...poolerOrder) (totals int, csv, list []bool) {
		t.Helper()
		code, body := admin.get(t, "/admin/orders/totals?status=paid")
		if code != http.StatusOK {
			t.Fatalf("GET /admin/orders/totals = %d:\n%.2000s", code, body)
		}
		for _, m := range totalCount.FindAllStringSubmatch(body, -1) {
			n := 0
			for _, d := range m[1] {
				n = n*10 + int(d-'0')
			}
			totals += n
		}
		code, export := admin.get(t, "/admin/orders.csv")
		if code != http.StatusOK {
			t.Fatalf("GET /admin/orders.csv = %d:\n%.2000s", code, export)
		}
		code, page := admin.get(t, "/admin/orders")
		if code != http.StatusOK {
			t.Fatalf("GET /admin/orders = %d", code)
		}
		for _, o := range orders {
			csv = append(csv, strings.Contains(export, o.number))
			list = append(list, strings.Contains(page, o.number))
		}
		return totals, csv, list
	}

	first := checkoutThrough(t, in.URL, pool, sandboxURL)
	paid(first)
	replayed()
	if totals, csv, _ := shows(first); totals != 1 || !csv[0] {
		t.Fatalf("with the standby caught up: totals count %d paid orders, export lists the order: %v; want 1, true", totals, csv[0])
	}

	// Replay paused: the standby stops at the first order.
	if _, err := replica.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	eventually("the standby's replay to pause", func() bool {
		var state string
		return replica.QueryRow(ctx, `SELECT pg_get_wal_replay_pause_state()`).Scan(&state) == nil && state == "paused"
	})
	second := checkoutThrough(t, in.URL, pool, sandboxURL)
	paid(second)
	totals, csv, list := shows(first, second)
	if !list[1] {
		t.Error("the order list, read from the primary, does not list the order paid during the pause")
	}
	if totals != 1 || !csv[0] || csv[1] {
		t.Errorf("during the pause: totals count %d paid orders, export lists the orders %v; want 1 and [true false] (read from the standby)", totals, csv)
	}

	if _, err := replica.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	replayed()
	if totals, csv, _ := shows(first, second); totals != 2 || !csv[0] || !csv[1] {
		t.Errorf("after the replay resumed: totals count %d paid orders, export lists %v; want 2 and both", totals, csv)
	}

	// The standby down: the same reads come from the primary.
	replica.Close()
	standby.Stop(t)
	third := checkoutThrough(t, in.URL, pool, sandboxURL)
	paid(third)
	if totals, csv, _ := shows(first, second, third); totals != 3 || !csv[0] || !csv[1] || !csv[2] {
		t.Errorf("with the standby down: totals count %d paid orders, export lists %v; want 3 and all", totals, csv)
	}
	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	if log := readFile(in.LogPath); !strings.Contains(log, "reading from the read replica failed") {
		t.Errorf("the log does not say the read replica could not be reached:\n%s", log)
	}
}
