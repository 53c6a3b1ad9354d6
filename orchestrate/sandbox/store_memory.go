package sandbox

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// memoryStore keeps state in process memory behind one mutex. Values are
// cloned on the way in and out so callers never share maps or slices with it.
type memoryStore struct {
	mu         sync.Mutex
	payments   map[string]payment
	order      []string          // payment ids, oldest first
	idem       map[string]string // key scope + "\x00" + idempotency key → payment id
	deliveries map[string]delivery
	seq        int64 // last delivery sequence number handed out
}

// NewMemoryStore returns a Store that keeps everything in memory: fast,
// isolated per test, and lost when the process exits.
func NewMemoryStore() Store {
	return &memoryStore{
		payments:   map[string]payment{},
		idem:       map[string]string{},
		deliveries: map[string]delivery{},
	}
}

func idemKey(p payment) string { return p.KeyScope + "\x00" + p.IdempotencyKey }

func (m *memoryStore) createPayment(_ context.Context, p payment, ds []delivery) (payment, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.IdempotencyKey != "" {
		if id, ok := m.idem[idemKey(p)]; ok {
			return m.payments[id].clone(), false, nil
		}
		m.idem[idemKey(p)] = p.ID
	}
	m.payments[p.ID] = p.clone()
	m.order = append(m.order, p.ID)
	m.insertDeliveries(ds)
	return p.clone(), true, nil
}

func (m *memoryStore) getPayment(_ context.Context, id string) (payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.payments[id]
	if !ok {
		return payment{}, errNotFound
	}
	return p.clone(), nil
}

func (m *memoryStore) listPayments(_ context.Context, offset, limit int) ([]payment, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	total := len(m.order)
	var out []payment
	for i := total - 1 - offset; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.payments[m.order[i]].clone())
	}
	return out, total, nil
}

func (m *memoryStore) updatePayment(_ context.Context, p payment, from status, ds []delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.payments[p.ID]
	if !ok {
		return errNotFound
	}
	if cur.Status != from {
		return errConflict
	}
	m.payments[p.ID] = p.clone()
	m.insertDeliveries(ds)
	return nil
}

func (m *memoryStore) duePayments(_ context.Context, now time.Time, limit int) ([]payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []payment
	for _, id := range m.order {
		p := m.payments[id]
		if p.Status == statusPending && !p.ExpiresAt.After(now) {
			out = append(out, p.clone())
		}
	}
	slices.SortFunc(out, func(a, b payment) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memoryStore) addDeliveries(_ context.Context, ds []delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.insertDeliveries(ds)
	return nil
}

// insertDeliveries stores ds in order, numbering them; m.mu must be held.
func (m *memoryStore) insertDeliveries(ds []delivery) {
	for _, d := range ds {
		m.seq++
		d.Seq = m.seq
		m.deliveries[d.ID] = d.clone()
	}
}

func (m *memoryStore) getDelivery(_ context.Context, id string) (delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok {
		return delivery{}, errNotFound
	}
	return d.clone(), nil
}

func (m *memoryStore) pendingDeliveries(_ context.Context) ([]delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []delivery
	for _, d := range m.deliveries {
		if d.Status == deliveryPending {
			out = append(out, d.clone())
		}
	}
	slices.SortFunc(out, func(a, b delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

func (m *memoryStore) listDeliveries(_ context.Context, limit int) ([]delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]delivery, 0, len(m.deliveries))
	for _, d := range m.deliveries {
		out = append(out, d.clone())
	}
	slices.SortFunc(out, func(a, b delivery) int { return cmp.Compare(b.Seq, a.Seq) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memoryStore) updateDelivery(_ context.Context, d delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.deliveries[d.ID]
	if !ok {
		return errNotFound
	}
	d.Seq = cur.Seq
	m.deliveries[d.ID] = d.clone()
	return nil
}
