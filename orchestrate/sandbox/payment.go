package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"time"
)

// status is a payment's lifecycle state, spelled as the API reports it.
type status string

const (
	statusPending   status = "pending"
	statusCompleted status = "completed"
	statusExpired   status = "expired"
	statusFailed    status = "failed"
)

// canTransition reports whether a payment may move from one status to
// another. Only a pending payment changes: completed, expired and failed are
// final, so a replayed or concurrent change is refused instead of applied twice.
func canTransition(from, to status) bool {
	if from != statusPending {
		return false
	}
	switch to {
	case statusCompleted, statusExpired, statusFailed:
		return true
	}
	return false
}

// Event types the sandbox sends to registered webhooks.
const (
	eventCreated   = "payment.created"
	eventSucceeded = "payment.succeeded"
	eventFailed    = "payment.failed"
	eventExpired   = "payment.expired"
)

// eventFor names the webhook event that announces a payment entering status to.
func eventFor(to status) string {
	switch to {
	case statusCompleted:
		return eventSucceeded
	case statusExpired:
		return eventExpired
	case statusFailed:
		return eventFailed
	}
	return eventCreated
}

var (
	// errNotFound means no payment or delivery has the requested id.
	errNotFound = errors.New("not found")
	// errConflict means a conditional update found the payment in another
	// status than expected: someone else changed it first.
	errConflict = errors.New("payment changed concurrently")
)

// customer is the shopper a payment is for. Every payment gets a fresh
// customer id: the sandbox does not deduplicate customers by email.
type customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// paymentMethod is what the shopper paid with, set once a payment completes.
type paymentMethod struct {
	Type  string `json:"type"`
	Last4 string `json:"last4"`
}

// payment is the sandbox's record of a payment. Both stores persist it as
// JSON, so its json tags are a storage format: rename with care. The API
// shape is paymentResource; the two differ on purpose (minor units inside,
// a decimal string outside).
type payment struct {
	ID             string            `json:"id"`
	KeyScope       string            `json:"key_scope"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	RequestHash    string            `json:"request_hash,omitempty"`
	Status         status            `json:"status"`
	AmountMinor    int64             `json:"amount_minor"`
	Currency       string            `json:"currency"`
	MCC            *int              `json:"mcc,omitempty"`
	Description    string            `json:"description"`
	Metadata       map[string]string `json:"metadata"`
	Customer       customer          `json:"customer"`
	SuccessURL     string            `json:"success_url"`
	CancelURL      string            `json:"cancel_url"`
	PaymentMethod  *paymentMethod    `json:"payment_method,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	ExpiresAt      time.Time         `json:"expires_at"`
	CompletedAt    *time.Time        `json:"completed_at,omitempty"`
}

// clone returns a deep copy, so a payment handed out by a store can be
// changed by its caller without racing with the store's copy.
func (p payment) clone() payment {
	q := p
	q.Metadata = maps.Clone(p.Metadata)
	if p.MCC != nil {
		mcc := *p.MCC
		q.MCC = &mcc
	}
	if p.PaymentMethod != nil {
		pm := *p.PaymentMethod
		q.PaymentMethod = &pm
	}
	if p.CompletedAt != nil {
		at := *p.CompletedAt
		q.CompletedAt = &at
	}
	return q
}

// paymentResource is the payment object exactly as the API returns it
// (quickstart.txt and API.md). Nullable fields are pointers without
// omitempty so they are sent as null, as the real API does.
type paymentResource struct {
	ID            string            `json:"id"`
	Status        status            `json:"status"`
	Description   string            `json:"description"`
	Metadata      map[string]string `json:"metadata"`
	Currency      string            `json:"currency"`
	Amount        string            `json:"amount"`
	UpdatedAt     string            `json:"updated_at"`
	CompletedAt   *string           `json:"completed_at"`
	ExpiresAt     string            `json:"expires_at"`
	CreatedAt     string            `json:"created_at"`
	PaymentLink   string            `json:"payment_link"`
	PaymentMethod *paymentMethod    `json:"payment_method"`
	Customer      customer          `json:"customer"`
	SuccessURL    string            `json:"success_url"`
	CancelURL     string            `json:"cancel_url"`
}

// resource renders p for the API and for webhook payloads. The amount is a
// string on purpose: one of Orchestrate's examples returns "500.0", so a
// client that only decodes numbers would break against the real API.
func (s *Server) resource(p payment) paymentResource {
	r := paymentResource{
		ID:            p.ID,
		Status:        p.Status,
		Description:   p.Description,
		Metadata:      p.Metadata,
		Currency:      p.Currency,
		Amount:        formatMinor(p.AmountMinor),
		UpdatedAt:     formatTime(p.UpdatedAt),
		ExpiresAt:     formatTime(p.ExpiresAt),
		CreatedAt:     formatTime(p.CreatedAt),
		PaymentLink:   s.paymentLink(p.ID),
		PaymentMethod: p.PaymentMethod,
		Customer:      p.Customer,
		SuccessURL:    p.SuccessURL,
		CancelURL:     p.CancelURL,
	}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	if p.CompletedAt != nil {
		at := formatTime(*p.CompletedAt)
		r.CompletedAt = &at
	}
	return r
}

// paymentLink is the hosted page a merchant sends its shopper to.
func (s *Server) paymentLink(id string) string {
	return s.baseURL + "/payments/" + id + "/collection"
}

// formatTime renders a timestamp as RFC 3339 in UTC, to the second like
// Orchestrate's examples.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// formatMinor renders minor units as a major-unit decimal string, e.g.
// 1999 → "19.99". Every supported currency has two decimals.
func formatMinor(minor int64) string {
	sign := ""
	if minor < 0 {
		sign = "-"
		minor = -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// newUUID returns a random (version 4) UUID, the id format Orchestrate uses
// for payments and customers.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randomID returns prefix followed by 24 random hex digits, for event,
// delivery and request ids.
func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// validUUID reports whether id looks like a UUID, so that malformed ids are
// a plain 404 without a store lookup.
func validUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
