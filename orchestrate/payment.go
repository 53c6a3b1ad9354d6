package orchestrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Payment is Orchestrate's payment object (API.md "The payment object").
//
// Amount is in integer minor units of Currency (1999 is $19.99); the wire
// format's major-unit decimal is converted exactly at the JSON boundary.
// Fields the API adds later are ignored.
type Payment struct {
	ID          string
	Status      Status
	Amount      int64
	Currency    Currency
	Description string
	Metadata    Metadata
	Customer    Customer
	SuccessURL  string
	CancelURL   string
	// PaymentLink is the hosted page to send the shopper to: the
	// "payment_link" field, or "next_action.url" when that is absent
	// (API.md: another Orchestrate page describes next_action).
	PaymentLink string
	// PaymentMethod is the raw "payment_method" object, nil until paid. Its
	// shape is undocumented, so it is left for the caller to interpret.
	PaymentMethod json.RawMessage
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// CompletedAt is nil while the payment is not completed.
	CompletedAt *time.Time
	// ExpiresAt is nil if Orchestrate did not report an expiry.
	ExpiresAt *time.Time
}

// Customer is the shopper a payment is for. ID is assigned by Orchestrate
// and ignored when creating a payment.
type Customer struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Metadata is a payment's free-form key/value data; put your own references
// (order id, payment attempt id) here to find a payment again.
//
// Orchestrate echoes metadata back with its own types (the quickstart sends
// "order_id" as a string and shows it returned as the number 212121212), so
// decoding is tolerant: numbers keep their exact JSON text, booleans become
// "true"/"false", null becomes "", nested objects and arrays become their
// compact JSON text, and a null or empty-array metadata becomes empty.
type Metadata map[string]string

// UnmarshalJSON decodes a JSON object as described on Metadata. It returns an
// error only when the value is neither an object, null, nor an empty array.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*m = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		// An empty JSON array is how some backends (PHP's json_encode of an
		// empty map, for one) write an empty object.
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err == nil && len(arr) == 0 {
			*m = nil
			return nil
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("orchestrate: metadata must be a JSON object: %w", err)
	}
	out := make(Metadata, len(raw))
	for k, v := range raw {
		s, err := looseString(v)
		if err != nil {
			return fmt.Errorf("orchestrate: metadata %q: %w", k, err)
		}
		out[k] = s
	}
	*m = out
	return nil
}

// looseString renders any JSON value as a string: strings are unquoted,
// null is "", and everything else keeps its compact JSON text.
func looseString(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
}

// paymentJSON is the payment object as it travels on the wire.
type paymentJSON struct {
	ID            string          `json:"id"`
	Status        Status          `json:"status"`
	Amount        json.RawMessage `json:"amount"`
	Currency      string          `json:"currency"`
	Description   string          `json:"description"`
	Metadata      Metadata        `json:"metadata"`
	Customer      *Customer       `json:"customer"`
	SuccessURL    string          `json:"success_url"`
	CancelURL     string          `json:"cancel_url"`
	PaymentLink   string          `json:"payment_link"`
	NextAction    *nextAction     `json:"next_action,omitempty"`
	PaymentMethod json.RawMessage `json:"payment_method"`
	CreatedAt     timestamp       `json:"created_at"`
	UpdatedAt     timestamp       `json:"updated_at"`
	CompletedAt   timestamp       `json:"completed_at"`
	ExpiresAt     timestamp       `json:"expires_at"`
}

type nextAction struct {
	URL string `json:"url"`
}

// UnmarshalJSON decodes Orchestrate's payment object. The amount may be a
// JSON number (19.99) or a string ("500.0"); it is converted to minor units
// with ParseAmount once the currency is known, whatever the field order.
//
// It returns an error wrapping ErrUnsupportedCurrency or ErrInvalidAmount
// when the money cannot be read exactly, and an error for malformed JSON or
// timestamps that are not RFC 3339. Unknown statuses are not errors.
func (p *Payment) UnmarshalJSON(b []byte) error {
	var w paymentJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("orchestrate: decoding payment: %w", err)
	}
	cur, err := ParseCurrency(w.Currency)
	if err != nil {
		return fmt.Errorf("orchestrate: payment %q: %w", truncate(w.ID, 64), err)
	}
	amount, err := decodeAmount(w.Amount, cur)
	if err != nil {
		return fmt.Errorf("orchestrate: payment %q: %w", truncate(w.ID, 64), err)
	}
	link := w.PaymentLink
	if link == "" && w.NextAction != nil {
		link = w.NextAction.URL
	}
	var method json.RawMessage
	if pm := bytes.TrimSpace(w.PaymentMethod); len(pm) > 0 && string(pm) != "null" {
		method = bytes.Clone(pm)
	}
	var customer Customer
	if w.Customer != nil {
		customer = *w.Customer
	}
	*p = Payment{
		ID:            w.ID,
		Status:        w.Status,
		Amount:        amount,
		Currency:      cur,
		Description:   w.Description,
		Metadata:      w.Metadata,
		Customer:      customer,
		SuccessURL:    w.SuccessURL,
		CancelURL:     w.CancelURL,
		PaymentLink:   link,
		PaymentMethod: method,
		CreatedAt:     w.CreatedAt.value(),
		UpdatedAt:     w.UpdatedAt.value(),
		CompletedAt:   w.CompletedAt.ptr(),
		ExpiresAt:     w.ExpiresAt.ptr(),
	}
	return nil
}

// MarshalJSON encodes p in Orchestrate's wire format, with the amount as a
// JSON number in major units. It exists so that marshalling a Payment and
// unmarshalling it again is lossless: without it, encoding/json would write
// Amount in minor units, which UnmarshalJSON would then read as major units,
// a silent 100-fold error. It returns an error if Currency is unsupported.
func (p Payment) MarshalJSON() ([]byte, error) {
	amount := FormatAmount(p.Amount, p.Currency)
	if amount == "" {
		return nil, fmt.Errorf("orchestrate: payment %q: %w: %q", p.ID, ErrUnsupportedCurrency, string(p.Currency))
	}
	var customer *Customer
	if p.Customer != (Customer{}) {
		customer = &p.Customer
	}
	w := paymentJSON{
		ID:            p.ID,
		Status:        p.Status,
		Amount:        json.RawMessage(amount),
		Currency:      string(p.Currency),
		Description:   p.Description,
		Metadata:      p.Metadata,
		Customer:      customer,
		SuccessURL:    p.SuccessURL,
		CancelURL:     p.CancelURL,
		PaymentLink:   p.PaymentLink,
		PaymentMethod: p.PaymentMethod,
		CreatedAt:     timestampOf(&p.CreatedAt),
		UpdatedAt:     timestampOf(&p.UpdatedAt),
		CompletedAt:   timestampOf(p.CompletedAt),
		ExpiresAt:     timestampOf(p.ExpiresAt),
	}
	return json.Marshal(w)
}

// decodeAmount converts a JSON number or string in major units to minor
// units of c, using the JSON text itself so no float is ever involved.
func decodeAmount(raw json.RawMessage, c Currency) (int64, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return 0, fmt.Errorf("%w: amount is missing", ErrInvalidAmount)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrInvalidAmount, err)
		}
		return ParseAmount(s, c)
	default:
		// encoding/json has already checked that raw is one JSON value; a
		// number's text goes straight to ParseAmount, which rejects the
		// forms it does not accept (signs, exponents) and non-numbers.
		return ParseAmount(string(raw), c)
	}
}

// timestamp is an RFC 3339 time that may also be null or "" (both meaning
// "not set"), since nullable timestamps are part of the payment object.
type timestamp struct {
	t   time.Time
	set bool
}

func timestampOf(t *time.Time) timestamp {
	if t == nil || t.IsZero() {
		return timestamp{}
	}
	return timestamp{t: *t, set: true}
}

func (ts timestamp) value() time.Time { return ts.t }

func (ts timestamp) ptr() *time.Time {
	if !ts.set {
		return nil
	}
	t := ts.t
	return &t
}

func (ts *timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*ts = timestamp{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("timestamp must be an RFC 3339 string")
	}
	if s == "" {
		*ts = timestamp{}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %s is not RFC 3339", strconv.Quote(truncate(s, 40)))
	}
	*ts = timestamp{t: t, set: true}
	return nil
}

func (ts timestamp) MarshalJSON() ([]byte, error) {
	if !ts.set {
		return []byte("null"), nil
	}
	return ts.t.MarshalJSON()
}
