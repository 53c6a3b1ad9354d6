package app

import (
	"context"
	"sync/atomic"

	"github.com/orchestrate-checkout/checkout/handlers"
)

// drainReadiness answers handlers.ErrDraining once draining is set, else what
// next answers: a stopping instance is not ready, whatever its database says.
type drainReadiness struct {
	draining *atomic.Bool
	next     handlers.Readiness
}

func (r drainReadiness) Ready(ctx context.Context) error {
	if r.draining.Load() {
		return handlers.ErrDraining
	}
	return r.next.Ready(ctx)
}
