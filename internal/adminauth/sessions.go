// Pruning the admin's sessions: expired rows are deleted from the sessions table
// that handlers' session manager (scs's pgxstore) keeps.

package adminauth

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PruneExpiredSessions deletes admin sessions past their expiry from the sessions
// table of scs's pgxstore (expired ones are already ignored when read).
func PruneExpiredSessions(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	return nil
}
