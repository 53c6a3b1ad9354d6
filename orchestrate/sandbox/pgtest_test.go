package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testDatabase creates a throwaway database on the Postgres server of
// TEST_DATABASE_URL (a superuser DSN), returns a pool on it and drops it
// when the test ends. Without TEST_DATABASE_URL the test is skipped, except
// in CI (CI set), where a missing database must fail loudly rather than
// silently skip the Postgres tests.
func testDatabase(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set but CI is: the Postgres store tests must run in CI")
		}
		t.Skip("TEST_DATABASE_URL is not set: skipping Postgres store tests " +
			"(set it to a superuser DSN, e.g. postgres://postgres@127.0.0.1:54320/postgres?sslmode=disable)")
	}
	// Not t.Context(): it is cancelled before cleanups run, and the
	// cleanup must still drop the database.
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sandbox_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		t.Fatalf("create test database: %v", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		admin.Close(ctx)
	})
	return pool
}
