// Package testdb gives tests their own freshly migrated PostgreSQL database.
//
// TEST_DATABASE_URL names a server (any database on it, usually `postgres`) on which
// the test user may create databases; `make test` finds or starts one and sets it.
// The first call in a test binary builds a template database from the embedded
// migrations (once per migration fingerprint, under an advisory lock so parallel
// packages cooperate); every New clones it, which takes milliseconds, and drops the
// clone when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orchestrate-checkout/checkout/migrations"
)

// DB is one test's database.
type DB struct {
	Pool *pgxpool.Pool
	URL  string // connection URL of this database, for code under test that dials itself
	Name string
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// ServerURL returns TEST_DATABASE_URL. When it is unset the test is skipped, unless
// CI is set: there a missing database is a failure, never a silent skip.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set; CI requires a database (run the tests with `make test`)")
		}
		t.Skip("TEST_DATABASE_URL is not set; run `make test` to start PostgreSQL and run every test")
	}
	return u
}

// New returns a fresh database with every migration applied, dropped at cleanup.
func New(t testing.TB) *DB {
	t.Helper()
	server := ServerURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(server) })
	if templateErr != nil {
		t.Fatalf("testdb: template: %v", templateErr)
	}
	return create(t, server, "TEMPLATE "+pgx.Identifier{templateName}.Sanitize())
}

// NewEmpty returns a fresh database with no migrations applied, dropped at cleanup.
func NewEmpty(t testing.TB) *DB {
	t.Helper()
	return create(t, ServerURL(t), "TEMPLATE template0")
}

func create(t testing.TB, server, template string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", redact(server), err)
	}
	defer admin.Close(ctx)

	name := "test_" + randomHex(8)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" "+template); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	dbURL, err := withDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})
	return &DB{Pool: pool, URL: dbURL, Name: name}
}

// ensureTemplate creates the migrated template database unless it exists already.
func ensureTemplate(server string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "checkout_template_" + migrations.Fingerprint()

	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redact(server), err)
	}
	defer admin.Close(ctx)
	// One builder at a time across every test binary; the others wait, then find it.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)") //nolint:errcheck // the session ends right after

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()+" TEMPLATE template0"); err != nil {
		return "", err
	}
	dbURL, err := withDatabase(server, building)
	if err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return "", err
	}
	db := stdlib.OpenDBFromPool(pool)
	err = migrations.Up(ctx, db, nil)
	db.Close()
	pool.Close()
	if err != nil {
		return "", err
	}
	// Renaming last makes the template appear only once it is complete.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return name, nil
}

// withDatabase returns server with its database path replaced by name.
func withDatabase(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("testdb: TEST_DATABASE_URL is not a URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redact hides a password in a connection URL before it reaches a log.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparseable database URL>"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return strings.ToLower(hex.EncodeToString(b))
}
