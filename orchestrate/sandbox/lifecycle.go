package sandbox

import (
	"context"
	"errors"
	"time"
)

// now is the sandbox's clock, truncated to the microsecond Postgres keeps,
// so a payment reads back the same from either store.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// transition moves p from pending to status to, applies change to the new
// version, and queues the event that announces it, all in one conditional
// store update. It returns errConflict when p is not pending any more or
// changed meanwhile, so two racing changes cannot both win.
func (s *Server) transition(ctx context.Context, p payment, to status, change func(*payment, time.Time)) (payment, error) {
	if !canTransition(p.Status, to) {
		return payment{}, errConflict
	}
	t := now()
	next := p.clone()
	next.Status = to
	next.UpdatedAt = t
	if change != nil {
		change(&next, t)
	}
	ds := s.eventDeliveries(eventFor(to), next, t)
	if err := s.store.updatePayment(ctx, next, p.Status, ds); err != nil {
		return payment{}, err
	}
	s.log.Info("sandbox: payment "+string(to), "payment", p.ID)
	if len(ds) > 0 {
		s.wakeDeliveries()
	}
	return next, nil
}

// complete marks p paid with a card ending in last4.
func (s *Server) complete(ctx context.Context, p payment, last4 string) (payment, error) {
	return s.transition(ctx, p, statusCompleted, func(q *payment, t time.Time) {
		q.CompletedAt = &t
		q.PaymentMethod = &paymentMethod{Type: "card", Last4: last4}
	})
}

// loadPayment reads a payment and, if it is pending past its expires_at,
// expires it first. Expiring on read means the API never shows a pending
// payment that has run out, even between two sweeps. It returns errNotFound
// for an unknown or malformed id.
func (s *Server) loadPayment(ctx context.Context, id string) (payment, error) {
	if !validUUID(id) {
		return payment{}, errNotFound
	}
	p, err := s.store.getPayment(ctx, id)
	if err != nil {
		return payment{}, err
	}
	return s.expireIfDue(ctx, p)
}

// expireIfDue expires p when it is pending and past its expires_at, and
// returns its current version either way.
func (s *Server) expireIfDue(ctx context.Context, p payment) (payment, error) {
	if p.Status != statusPending || now().Before(p.ExpiresAt) {
		return p, nil
	}
	q, err := s.transition(ctx, p, statusExpired, nil)
	if errors.Is(err, errConflict) {
		// Someone else changed it first (the sweep, or a payment that
		// completed at the last moment): report what they stored.
		return s.store.getPayment(ctx, p.ID)
	}
	return q, err
}

// expiryLoop expires overdue payments every sweepEvery until ctx is done,
// starting at once so that payments which ran out while the sandbox was
// stopped expire (and announce it) right after a restart.
func (s *Server) expiryLoop(ctx context.Context) {
	t := time.NewTicker(s.sweepEvery)
	defer t.Stop()
	for {
		s.sweepExpired(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepExpired expires every pending payment past its expires_at.
func (s *Server) sweepExpired(ctx context.Context) {
	for {
		due, err := s.store.duePayments(ctx, now(), 100)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("sandbox: list payments to expire", "err", err)
			}
			return
		}
		for _, p := range due {
			if _, err := s.expireIfDue(ctx, p); err != nil && ctx.Err() == nil {
				s.log.Error("sandbox: expire payment", "payment", p.ID, "err", err)
				return
			}
		}
		if len(due) < 100 {
			return
		}
	}
}
