package orchestrate

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The webhook signature scheme lives here and nowhere else, because
// Orchestrate's page on verifying webhooks is not public (API.md
// "Webhooks"): the header below carries the lowercase hex HMAC-SHA256 of the
// raw request body keyed with the webhook's secret, optionally prefixed with
// "sha256=". If the live API turns out to differ, this file is the one to
// change.
const (
	// SignatureHeader is the HTTP header that carries a webhook's signature.
	SignatureHeader = "X-Webhook-Signature"
	// signaturePrefix is an optional scheme label before the hex digest.
	signaturePrefix = "sha256="
)

// Errors returned by VerifySignature, ParseEvent and ConstructEvent.
var (
	// ErrMissingSignature means the signature header is absent or blank.
	ErrMissingSignature = errors.New("orchestrate: webhook signature is missing")
	// ErrMalformedSignature means the header is not 64 hex digits (after an
	// optional "sha256=" prefix).
	ErrMalformedSignature = errors.New("orchestrate: webhook signature is malformed")
	// ErrInvalidSignature means the signature does not match the body and
	// secret: the request did not come from Orchestrate, or was altered.
	ErrInvalidSignature = errors.New("orchestrate: webhook signature does not match")
	// ErrEmptySecret means no webhook secret was configured; verifying
	// against an empty key would accept anyone's signature.
	ErrEmptySecret = errors.New("orchestrate: webhook secret is empty")
	// ErrInvalidEvent means a webhook body is not an event envelope with a
	// "type" and a "payload" carrying an "id".
	ErrInvalidEvent = errors.New("orchestrate: invalid webhook event")
)

// Sign returns the signature of body under secret as Orchestrate sends it in
// SignatureHeader: the lowercase hex HMAC-SHA256 of body. Tests and the
// sandbox use it to sign webhooks; VerifySignature refuses an empty secret.
func Sign(body []byte, secret string) string {
	return hex.EncodeToString(mac(body, secret))
}

func mac(body []byte, secret string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks that header, the value of SignatureHeader, is the
// signature of body under secret. It tolerates surrounding whitespace, an
// optional "sha256=" prefix (any case) and upper-case hex, and compares in
// constant time. body must be the raw request body, before any JSON
// decoding.
//
// It returns nil if the signature is valid, ErrEmptySecret if secret is
// empty, ErrMissingSignature if header is blank, an error wrapping
// ErrMalformedSignature if it is not 64 hex digits, and ErrInvalidSignature
// if it does not match.
func VerifySignature(body []byte, header, secret string) error {
	if secret == "" {
		return ErrEmptySecret
	}
	sig := strings.TrimSpace(header)
	if sig == "" {
		return ErrMissingSignature
	}
	if len(sig) >= len(signaturePrefix) && strings.EqualFold(sig[:len(signaturePrefix)], signaturePrefix) {
		sig = sig[len(signaturePrefix):]
	}
	if len(sig) != hex.EncodedLen(sha256.Size) {
		return fmt.Errorf("%w: want %d hex digits, got %d characters", ErrMalformedSignature, hex.EncodedLen(sha256.Size), len(sig))
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: not hexadecimal", ErrMalformedSignature)
	}
	if !hmac.Equal(got, mac(body, secret)) {
		return ErrInvalidSignature
	}
	return nil
}

// EventType names what happened in a webhook event.
type EventType string

// The documented event types (API.md "Webhooks").
const (
	EventPaymentCreated   EventType = "payment.created"
	EventPaymentSucceeded EventType = "payment.succeeded"
	EventPaymentFailed    EventType = "payment.failed"
	EventPaymentExpired   EventType = "payment.expired"
)

// Known reports whether t is one of the documented event types. Events of
// other types still parse; the caller decides whether to ignore them.
func (t EventType) Known() bool {
	switch t {
	case EventPaymentCreated, EventPaymentSucceeded, EventPaymentFailed, EventPaymentExpired:
		return true
	default:
		return false
	}
}

// Event is a webhook delivery. Orchestrate's two published examples differ
// (API.md), so only Type and PaymentID are guaranteed to be set.
//
// Treat an event as a hint: events may arrive late, twice, out of order or
// never, so re-read the payment with GetPayment and act on that.
type Event struct {
	// ID is the event id ("evt_..."), if sent.
	ID string
	// APIVersion is the envelope's api_version, if sent.
	APIVersion string
	// Type is the event type; it may be one this package does not know.
	Type EventType
	// Timestamp is when the event happened, if sent as RFC 3339 or as
	// integer Unix seconds.
	Timestamp *time.Time
	// PaymentID is the payload's "id".
	PaymentID string
	// Payment is the payload decoded as a payment, or nil when it does not
	// decode completely (PaymentID is set either way).
	Payment *Payment
	// Raw is a copy of the whole body.
	Raw json.RawMessage
}

// ParseEvent decodes a webhook body. It does not verify the signature: use
// ConstructEvent for requests from the network.
//
// It returns an error wrapping ErrInvalidEvent if body is not a JSON object,
// "type" is missing or not a non-empty string, or "payload" is not an object
// with a non-empty "id" (a string, or a number kept as its text). Every other
// field is optional.
func ParseEvent(body []byte) (*Event, error) {
	var env struct {
		ID         json.RawMessage `json:"id"`
		APIVersion json.RawMessage `json:"api_version"`
		Type       json.RawMessage `json:"type"`
		Timestamp  json.RawMessage `json:"timestamp"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	var typ string
	if err := json.Unmarshal(env.Type, &typ); err != nil || typ == "" {
		return nil, fmt.Errorf("%w: missing \"type\"", ErrInvalidEvent)
	}
	var payload struct {
		ID json.RawMessage `json:"id"`
	}
	if p := bytes.TrimSpace(env.Payload); len(p) == 0 || p[0] != '{' {
		return nil, fmt.Errorf("%w: missing \"payload\" object", ErrInvalidEvent)
	}
	if err := json.Unmarshal(env.Payload, &payload); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrInvalidEvent, err)
	}
	paymentID := idText(payload.ID)
	if paymentID == "" {
		return nil, fmt.Errorf("%w: missing \"payload.id\"", ErrInvalidEvent)
	}
	ev := &Event{
		Type:      EventType(typ),
		PaymentID: paymentID,
		Timestamp: eventTime(env.Timestamp),
		Raw:       bytes.Clone(body),
	}
	// looseString only fails on invalid JSON, which Unmarshal ruled out.
	ev.ID, _ = looseString(env.ID)
	ev.APIVersion, _ = looseString(env.APIVersion)
	var p Payment
	if err := json.Unmarshal(env.Payload, &p); err == nil {
		ev.Payment = &p
	}
	return ev, nil
}

// idText returns an id sent as a JSON string or number, and "" for
// anything else (null, objects, booleans), which cannot name a payment.
func idText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '"' && raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return ""
	}
	s, _ := looseString(raw)
	return s
}

// eventTime reads an RFC 3339 string or integer Unix seconds; anything else
// yields nil, since the timestamp is informational and its format is not
// documented.
func eventTime(raw json.RawMessage) *time.Time {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil
		}
		return &t
	}
	secs, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil
	}
	t := time.Unix(secs, 0).UTC()
	return &t
}

// ConstructEvent verifies body's signature (see VerifySignature) and then
// parses it (see ParseEvent), returning the errors of either. This is what a
// webhook handler should call with the raw body and the SignatureHeader
// value.
func ConstructEvent(body []byte, header, secret string) (*Event, error) {
	if err := VerifySignature(body, header, secret); err != nil {
		return nil, err
	}
	return ParseEvent(body)
}
