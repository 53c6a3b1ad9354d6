package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Webhook wire format. API.md leaves the signature scheme to this project:
// lowercase hex HMAC-SHA256 of the raw body keyed with the endpoint's secret.
// The sandbox computes it itself rather than importing the client's code,
// so a bug in the client's verification cannot hide behind a shared helper.
const (
	signatureHeader  = "X-Webhook-Signature"
	webhookUserAgent = "Orchestrate-Sandbox/1"
	apiVersion       = "1"
)

// sign returns the signature header value for body under secret.
func sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// envelope is the JSON a webhook POSTs, as API.md describes it.
type envelope struct {
	ID         string          `json:"id"`
	APIVersion string          `json:"api_version"`
	Type       string          `json:"type"`
	Timestamp  string          `json:"timestamp"`
	Payload    paymentResource `json:"payload"`
}

// endpoint is a registered webhook URL and the secret that signs its events.
type endpoint struct {
	URL    string
	Secret string
}

// webhookRegistry holds the registered endpoints. Registrations live in
// memory only (main registers them at startup from flags), while queued
// deliveries are persisted; a delivery signs with its URL's current secret.
type webhookRegistry struct {
	mu        sync.RWMutex
	endpoints []endpoint
}

// RegisterWebhook subscribes rawURL, an absolute http or https URL, to every
// payment event, signed with secret. Several URLs may be registered, each
// with its own secret; registering a URL again replaces its secret. It
// returns an error for a malformed URL or an empty secret. Events raised
// before registration are not sent to the new URL.
func (s *Server) RegisterWebhook(rawURL, secret string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("sandbox: webhook URL %q must be an absolute http or https URL", rawURL)
	}
	if secret == "" {
		return errors.New("sandbox: webhook secret must not be empty")
	}
	r := s.hooks
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.IndexFunc(r.endpoints, func(e endpoint) bool { return e.URL == rawURL }); i >= 0 {
		r.endpoints[i].Secret = secret
		return nil
	}
	r.endpoints = append(r.endpoints, endpoint{URL: rawURL, Secret: secret})
	return nil
}

// list returns a copy of the registered endpoints in registration order.
func (r *webhookRegistry) list() []endpoint {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.endpoints)
}

// secret returns the secret registered for url.
func (r *webhookRegistry) secret(url string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, e := range r.endpoints {
		if e.URL == url {
			return e.Secret, true
		}
	}
	return "", false
}

// defaultReorderHold is how long webhook_reorder buffers a payment's events
// when webhook_delay is zero: long enough for a scripted flow to raise
// several events, short enough not to stall a demo.
const defaultReorderHold = time.Second

// eventDeliveries builds the deliveries announcing event typ about p to
// every registered endpoint, shaped by the current webhook faults. The
// envelope is rendered once, so duplicates and resends carry the same event
// id and byte-identical body. It returns nil when webhooks are disabled or
// no endpoint is registered.
func (s *Server) eventDeliveries(typ string, p payment, now time.Time) []delivery {
	f := s.faults.get()
	endpoints := s.hooks.list()
	if f.WebhooksDisabled || len(endpoints) == 0 {
		return nil
	}
	eventID := randomID("evt_")
	body, _ := json.Marshal(envelope{ // Marshal of plain data cannot fail.
		ID:         eventID,
		APIVersion: apiVersion,
		Type:       typ,
		Timestamp:  formatTime(now),
		Payload:    s.resource(p),
	})

	due, held := now.Add(f.WebhookDelay), false
	if f.WebhookReorder {
		// Held deliveries of one payment are released together once the
		// newest has waited this long, then sent newest first (see plan).
		hold := f.WebhookDelay
		if hold <= 0 {
			hold = defaultReorderHold
		}
		due, held = now.Add(hold), true
	}
	copies := 1
	if f.WebhookDuplicate {
		copies = 2
	}
	var ds []delivery
	for _, e := range endpoints {
		for range copies {
			ds = append(ds, delivery{
				ID:            randomID("dlv_"),
				EventID:       eventID,
				EventType:     typ,
				PaymentID:     p.ID,
				URL:           e.URL,
				Body:          body,
				Status:        deliveryPending,
				Held:          held,
				NextAttemptAt: due,
				CreatedAt:     now,
			})
		}
	}
	return ds
}
