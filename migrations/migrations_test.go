package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/migrations"
)

// TestUpDownUp applies every migration to an empty database, rolls all of them back,
// and applies them again: each Down must undo its Up exactly.
func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.NewEmpty(t)
	db := stdlib.OpenDBFromPool(tdb.Pool)
	defer db.Close()

	p, err := migrations.NewProvider(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := len(p.ListSources())
	if want == 0 {
		t.Fatal("no migrations embedded")
	}
	up, err := p.Up(ctx)
	if err != nil {
		t.Fatalf("first up: %v", err)
	}
	if len(up) != want {
		t.Fatalf("first up applied %d migrations, want %d", len(up), want)
	}
	var products int
	if err := tdb.Pool.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&products); err != nil {
		t.Fatal(err)
	}
	if products == 0 {
		t.Error("the catalog seed inserted no products")
	}

	down, err := p.DownTo(ctx, 0)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if len(down) != want {
		t.Fatalf("down rolled back %d migrations, want %d", len(down), want)
	}
	var tables int
	if err := tdb.Pool.QueryRow(ctx, `
		SELECT count(*) FROM pg_tables
		WHERE schemaname = 'public' AND tablename <> 'goose_db_version' AND tablename NOT LIKE 'river%'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables left after rolling everything back", tables)
	}

	again, err := p.Up(ctx)
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if len(again) != want {
		t.Fatalf("second up applied %d migrations, want %d", len(again), want)
	}
	pending, err := migrations.Pending(ctx, db)
	if err != nil || pending {
		t.Errorf("Pending after up = %v, %v; want false, nil", pending, err)
	}
}

// TestConcurrentUp starts several migrators at once, as several app instances do;
// the session lock must make them apply each migration exactly once.
func TestConcurrentUp(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.NewEmpty(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db := stdlib.OpenDBFromPool(tdb.Pool)
			defer db.Close()
			errs <- migrations.Up(ctx, db, nil)
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent up: %v", err)
		}
	}
	var applied int
	if err := tdb.Pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(tdb.Pool)
	defer db.Close()
	p, err := migrations.NewProvider(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(p.ListSources()); applied != want {
		t.Errorf("goose_db_version has %d applied rows, want %d (one per migration)", applied, want)
	}
}

// TestEmailIndexAfterInterruptedBuild: 00005 builds its index CONCURRENTLY, outside
// a transaction, so a build that fails half-way leaves an invalid index and no
// record of the migration. Applying the migration again must replace that leftover
// with a valid index of the intended shape, and its Down must remove it.
func TestEmailIndexAfterInterruptedBuild(t *testing.T) {
	ctx := context.Background()
	tdb := testdb.NewEmpty(t)
	db := stdlib.OpenDBFromPool(tdb.Pool)
	defer db.Close()
	p, err := migrations.NewProvider(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// Two orders of one customer make a UNIQUE build fail after the catalog entry
	// is made: the invalid index an interrupted build leaves behind.
	if _, err := tdb.Pool.Exec(ctx, `
		INSERT INTO orders (public_ref, currency, total_minor, customer_name, customer_email)
		VALUES (repeat('a', 22), 'USD', 100, 'Ann', 'ann@example.com'),
		       (repeat('b', 22), 'USD', 100, 'Ann', 'ANN@example.com')`); err != nil {
		t.Fatal(err)
	}
	if _, err := tdb.Pool.Exec(ctx, `CREATE UNIQUE INDEX CONCURRENTLY orders_customer_email_lower_idx ON orders (lower(customer_email))`); err == nil {
		t.Fatal("the unique build succeeded; the test needs it to fail")
	}
	index := func() (def string, valid bool) {
		t.Helper()
		err := tdb.Pool.QueryRow(ctx, `
			SELECT pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i
			WHERE i.indexrelid = to_regclass('orders_customer_email_lower_idx')`).Scan(&def, &valid)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		return def, valid
	}
	if def, valid := index(); def == "" || valid {
		t.Fatalf("after the failed build: index %q valid %v, want an invalid leftover", def, valid)
	}

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up over the leftover: %v", err)
	}
	want := "CREATE INDEX orders_customer_email_lower_idx ON public.orders USING btree (lower(customer_email), created_at DESC, id DESC)"
	if def, valid := index(); def != want || !valid {
		t.Errorf("after up: index %q valid %v, want %q valid", def, valid, want)
	}

	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatalf("down: %v", err)
	}
	if def, _ := index(); def != "" {
		t.Errorf("after down: index %q still there", def)
	}
}
