// Package migrations holds the database schema as plain SQL files, embedded in the
// binary, and applies them with goose's Provider.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// NewProvider returns a goose Provider over the embedded migrations. It holds a
// PostgreSQL session advisory lock while it migrates, so several app instances
// starting at once apply each migration exactly once.
func NewProvider(db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	// Poll for the lock every second for up to five minutes: an instance that
	// starts while another migrates waits a second, not goose's default five.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migrations: session locker: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Up applies every pending migration: ours through goose, then River's job tables
// through River's own migrator (which also takes a lock). It returns the first
// migration error, wrapped with the file that failed.
func Up(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	p, err := NewProvider(db, logger)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: up: %w", err)
	}
	return riverUp(ctx, db, logger)
}

// riverLockKey is the session advisory lock held while River's tables migrate.
const riverLockKey int64 = 0x72697665726d6967 // "rivermig"

// riverUp applies River's migrations while holding a session advisory lock: its
// migrator does not serialise concurrent callers, so instances starting together
// would otherwise race to create the same tables.
func riverUp(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	conn, err := lockSession(ctx, db, riverLockKey)
	if err != nil {
		return fmt.Errorf("migrations: river lock: %w", err)
	}
	defer conn.Close()
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverLockKey) //nolint:errcheck // closing the session releases it too
	migrator, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("migrations: river: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrations: river up: %w", err)
	}
	return nil
}

// Pending reports whether any embedded migration has not been applied yet, with a
// provider of its own. /readyz asks Readiness instead, which keeps one provider.
func Pending(ctx context.Context, db *sql.DB) (bool, error) {
	p, err := NewProvider(db, nil)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

// Fingerprint returns a short hash of every embedded migration file. Tests use it to
// name a template database, so a changed migration never reuses a stale template.
func Fingerprint() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(files, ".") // an embed.FS root cannot fail to read
	for _, e := range entries {
		b, _ := files.ReadFile(e.Name())
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// lockSession returns a connection holding the session advisory lock key, trying
// every 100 ms for up to five minutes. A waiter gives its connection back between
// tries, so waiters cannot starve the holder of the pool's connections.
func lockSession(ctx context.Context, db *sql.DB, key int64) (*sql.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		var locked bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&locked); err != nil {
			conn.Close()
			return nil, err
		}
		if locked {
			return conn, nil
		}
		conn.Close()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
