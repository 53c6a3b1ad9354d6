package migrations

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
)

// ErrPending is returned by Readiness.Ready while migrations remain to be applied.
var ErrPending = errors.New("migrations pending")

// Readiness tells whether the database answers and is fully migrated.
type Readiness struct {
	pool     *pgxpool.Pool
	provider *goose.Provider
}

// NewReadiness returns a Readiness over pool, checking migrations with provider.
func NewReadiness(pool *pgxpool.Pool, provider *goose.Provider) *Readiness {
	return &Readiness{pool: pool, provider: provider}
}

// Ready returns nil when the database answers a ping and no migration is pending,
// ErrPending when some are, and the connection error otherwise. It takes no lock,
// so it never waits behind an instance that is migrating.
func (r *Readiness) Ready(ctx context.Context) error {
	if err := r.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	pending, err := r.provider.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	if pending {
		return ErrPending
	}
	return nil
}
