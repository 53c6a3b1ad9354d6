package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// deliveryStatus says where a webhook delivery stands.
type deliveryStatus string

const (
	deliveryPending   deliveryStatus = "pending"   // waiting for its (next) attempt
	deliveryDelivered deliveryStatus = "delivered" // the receiver answered 2xx
	deliveryFailed    deliveryStatus = "failed"    // attempts exhausted, or endpoint unregistered
)

// attempt is one POST of a delivery, for the delivery log.
type attempt struct {
	At         time.Time     `json:"at"`
	StatusCode int           `json:"status_code,omitempty"` // 0 when no response came
	Error      string        `json:"error,omitempty"`
	Duration   time.Duration `json:"duration"`
}

// delivery is one event bound for one webhook URL, with its attempts. It is
// persisted as JSON (Seq aside, which the store assigns), so its json tags
// are a storage format.
type delivery struct {
	ID            string         `json:"id"`
	Seq           int64          `json:"-"` // queue order, assigned by the store
	EventID       string         `json:"event_id"`
	EventType     string         `json:"event_type"`
	PaymentID     string         `json:"payment_id"`
	URL           string         `json:"url"`
	Body          []byte         `json:"body"` // the exact signed bytes
	Status        deliveryStatus `json:"status"`
	Held          bool           `json:"held,omitempty"` // buffered by webhook_reorder
	NextAttemptAt time.Time      `json:"next_attempt_at"`
	CreatedAt     time.Time      `json:"created_at"`
	Attempts      []attempt      `json:"attempts"`
	ResendOf      string         `json:"resend_of,omitempty"`
}

// clone returns a deep copy (see payment.clone).
func (d delivery) clone() delivery {
	d.Body = slices.Clone(d.Body)
	d.Attempts = slices.Clone(d.Attempts)
	return d
}

// plan picks the pending deliveries due at now and orders them into one
// queue per URL, skipping URLs in busy (a queue for them is still running).
// It also returns when the earliest not-yet-due delivery falls due (zero if
// none).
//
// Queues run one delivery at a time, so a URL receives events in queue
// order: by due time, then by the order they were raised. Held deliveries
// (webhook_reorder) of one payment and URL are released together once the
// latest of them is due, and go newest first.
func plan(pending []delivery, now time.Time, busy map[string]bool) (map[string][]delivery, time.Time) {
	type batch struct {
		due time.Time
		seq int64
		ds  []delivery
	}
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	batches := map[string][]batch{}
	held := map[[2]string][]delivery{} // by URL and payment
	for _, d := range pending {
		switch {
		case busy[d.URL]:
		case d.Held:
			k := [2]string{d.URL, d.PaymentID}
			held[k] = append(held[k], d)
		case d.NextAttemptAt.After(now):
			later(d.NextAttemptAt)
		default:
			batches[d.URL] = append(batches[d.URL], batch{d.NextAttemptAt, d.Seq, []delivery{d}})
		}
	}
	for k, group := range held {
		release := group[0].NextAttemptAt
		for _, d := range group {
			if d.NextAttemptAt.After(release) {
				release = d.NextAttemptAt
			}
		}
		if release.After(now) {
			later(release)
			continue
		}
		slices.SortFunc(group, func(a, b delivery) int { return cmp.Compare(b.Seq, a.Seq) })
		batches[k[0]] = append(batches[k[0]], batch{release, group[0].Seq, group})
	}
	queues := make(map[string][]delivery, len(batches))
	for url, bs := range batches {
		slices.SortFunc(bs, func(a, b batch) int {
			return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.seq, b.seq))
		})
		for _, b := range bs {
			queues[url] = append(queues[url], b.ds...)
		}
	}
	return queues, next
}

// idlePoll bounds how long the delivery loop sleeps with nothing due, so it
// notices deliveries another process queued in a shared Postgres store.
const idlePoll = time.Second

// deliverLoop sends due deliveries until ctx is done, one goroutine per URL
// with work, and waits for those goroutines before returning.
func (s *Server) deliverLoop(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	busy := map[string]bool{}
	done := make(chan string)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := idlePoll
		pending, err := s.store.pendingDeliveries(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("sandbox: list pending webhook deliveries", "err", err)
		} else {
			queues, next := plan(pending, time.Now(), busy)
			for url, q := range queues {
				busy[url] = true
				wg.Go(func() {
					s.deliverQueue(ctx, q)
					select {
					case done <- url:
					case <-ctx.Done():
					}
				})
			}
			if !next.IsZero() {
				wait = min(wait, time.Until(next))
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case url := <-done:
			delete(busy, url)
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// wakeDeliveries nudges the delivery loop after new deliveries are queued.
func (s *Server) wakeDeliveries() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// deliverQueue attempts each delivery of q in order.
func (s *Server) deliverQueue(ctx context.Context, q []delivery) {
	for _, d := range q {
		if ctx.Err() != nil {
			return
		}
		s.attemptDelivery(ctx, d)
	}
}

// attemptDelivery POSTs d once and records the attempt: delivered on 2xx,
// otherwise retried with exponential backoff until WebhookMaxAttempts. An
// attempt cut short by shutdown is not recorded, so it is retried in full
// after a restart.
func (s *Server) attemptDelivery(ctx context.Context, d delivery) {
	start := time.Now()
	at := attempt{At: start}
	secret, registered := s.hooks.secret(d.URL)
	if !registered {
		at.Error = "no webhook is registered for this URL any more"
	} else {
		code, err := s.post(ctx, d, secret)
		if err != nil && ctx.Err() != nil {
			return
		}
		at.StatusCode = code
		if err != nil {
			at.Error = err.Error()
		}
	}
	at.Duration = time.Since(start)
	d.Attempts = append(d.Attempts, at)
	d.Held = false // retries follow the normal backoff, not the reorder hold
	switch {
	case at.StatusCode >= 200 && at.StatusCode < 300:
		d.Status = deliveryDelivered
	case !registered, len(d.Attempts) >= s.cfg.WebhookMaxAttempts:
		d.Status = deliveryFailed
	default:
		d.NextAttemptAt = time.Now().Add(s.backoff(len(d.Attempts)))
	}
	s.log.Info("sandbox: webhook attempt", "delivery", d.ID, "event", d.EventType, "url", d.URL,
		"status_code", at.StatusCode, "err", at.Error, "attempt", len(d.Attempts), "outcome", d.Status)

	// Record the outcome even when shutdown begins right now: the receiver
	// has seen this attempt.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.store.updateDelivery(rctx, d); err != nil {
		s.log.Error("sandbox: record webhook attempt", "delivery", d.ID, "err", err)
	}
}

// post sends d's body signed with secret and returns the response status.
// The per-attempt timeout is the HTTP client's (5s by default).
func (s *Server) post(ctx context.Context, d delivery, secret string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set(signatureHeader, sign(d.Body, secret))
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; a receiver's reply
	// body means nothing to Orchestrate.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// maxBackoff caps the wait between attempts.
const maxBackoff = time.Hour

// backoff is the wait after the n-th failed attempt: the base doubled n-1
// times (1s, 2s, 4s, … by default).
func (s *Server) backoff(n int) time.Duration {
	d := s.cfg.WebhookRetryBase
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// resend queues a fresh delivery of the same event (same id and body) to
// the same URL, as a dashboard's "Resend" does. It returns errNotFound for
// an unknown delivery.
func (s *Server) resend(ctx context.Context, id string) error {
	d, err := s.store.getDelivery(ctx, id)
	if err != nil {
		return err
	}
	now := time.Now()
	nd := delivery{
		ID:            randomID("dlv_"),
		EventID:       d.EventID,
		EventType:     d.EventType,
		PaymentID:     d.PaymentID,
		URL:           d.URL,
		Body:          d.Body,
		Status:        deliveryPending,
		NextAttemptAt: now,
		CreatedAt:     now,
		ResendOf:      d.ID,
	}
	if err := s.store.addDeliveries(ctx, []delivery{nd}); err != nil {
		return err
	}
	s.wakeDeliveries()
	return nil
}
