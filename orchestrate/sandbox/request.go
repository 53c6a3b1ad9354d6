package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits on a create request. Orchestrate documents none of them; they only
// keep a mistaken client from storing megabytes in the sandbox.
const (
	maxRequestBody      = 1 << 20
	defaultExpiresIn    = 3600 * time.Second
	maxExpiresIn        = 30 * 24 * time.Hour
	maxMetadataKeys     = 50
	maxMetadataValueLen = 500
	maxTextLen          = 1000
	maxAmountDigits     = 15 // minor units, so up to 9,999,999,999,999.99
)

// supportedCurrencies are the only currencies Orchestrate accepts
// (quickstart.txt, "Supported Currencies"). All have two decimals.
var supportedCurrencies = []string{"USD", "EUR", "GBP", "CAD"}

// apiError is an error answer of the API: a status and the message of the
// JSON body {"message": ...}.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

// createRequest is the body of POST /api/v1/payments as sent. Amount, mcc,
// metadata and expires_in stay raw so their JSON type can be checked
// exactly: encoding/json would silently accept "19.99" (a string) into a
// json.Number, and float64 would round.
type createRequest struct {
	Amount   json.RawMessage `json:"amount"`
	Currency string          `json:"currency"`
	MCC      json.RawMessage `json:"mcc"`
	Customer *struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	Description string          `json:"description"`
	SuccessURL  string          `json:"success_url"`
	CancelURL   string          `json:"cancel_url"`
	Metadata    json.RawMessage `json:"metadata"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// createParams is a validated create request. It is also what an
// Idempotency-Key is bound to (see hash).
type createParams struct {
	AmountMinor   int64             `json:"amount_minor"`
	Currency      string            `json:"currency"`
	MCC           *int              `json:"mcc"`
	CustomerName  string            `json:"customer_name"`
	CustomerEmail string            `json:"customer_email"`
	Description   string            `json:"description"`
	SuccessURL    string            `json:"success_url"`
	CancelURL     string            `json:"cancel_url"`
	Metadata      map[string]string `json:"metadata"`
	ExpiresIn     time.Duration     `json:"expires_in"`
}

// hash fingerprints the parameters, so a reused Idempotency-Key with other
// parameters is refused rather than silently answered with another payment.
// It hashes the parsed values, not the raw body, so a retry that merely
// formats its JSON differently still matches.
func (p createParams) hash() string {
	b, _ := json.Marshal(p) // Marshal of plain data cannot fail.
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// decodeCreateRequest reads and validates a create request. It returns a
// 400 apiError for a body that is not a JSON object, 413 for an oversized
// body and 422 listing every invalid field otherwise.
func decodeCreateRequest(w http.ResponseWriter, r *http.Request) (createParams, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return createParams{}, &apiError{http.StatusRequestEntityTooLarge, "request body is larger than 1 MiB"}
		}
		return createParams{}, &apiError{http.StatusBadRequest, "could not read request body: " + err.Error()}
	}
	var req createRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return createParams{}, jsonDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return createParams{}, &apiError{http.StatusBadRequest, "malformed JSON: unexpected data after the request object"}
	}
	return req.validate()
}

// jsonDecodeError maps a decoding error to 400 (not JSON, or not an object)
// or 422 (a field of the wrong JSON type).
func jsonDecodeError(err error) *apiError {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		want := "a string"
		switch te.Type.Kind() {
		case reflect.Struct, reflect.Pointer, reflect.Map:
			want = "an object"
		}
		return &apiError{http.StatusUnprocessableEntity, fmt.Sprintf("%s must be %s, not a JSON %s", te.Field, want, te.Value)}
	}
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return &apiError{http.StatusBadRequest, "malformed JSON: the request body must be a JSON object"}
	}
	if errors.Is(err, io.EOF) {
		return &apiError{http.StatusBadRequest, "malformed JSON: the request body is empty"}
	}
	return &apiError{http.StatusBadRequest, "malformed JSON: " + err.Error()}
}

// validate checks every field and reports all problems at once, in field
// order, so a developer fixes a request in one round trip.
func (req createRequest) validate() (createParams, *apiError) {
	var problems []string
	fail := func(msg string) { problems = append(problems, msg) }
	var p createParams

	minor, err := parseAmount(req.Amount)
	if err != nil {
		fail(err.Error())
	}
	p.AmountMinor = minor

	switch {
	case req.Currency == "":
		fail("currency is required")
	case !slices.Contains(supportedCurrencies, req.Currency):
		fail(fmt.Sprintf("currency %q is not supported: use one of %s", req.Currency, strings.Join(supportedCurrencies, ", ")))
	}
	p.Currency = req.Currency

	if mcc, err := parseMCC(req.MCC); err != nil {
		fail(err.Error())
	} else {
		p.MCC = mcc
	}

	if req.Customer == nil {
		fail("customer is required")
	} else {
		p.CustomerName = req.Customer.Name
		p.CustomerEmail = req.Customer.Email
		if len(p.CustomerName) > maxTextLen {
			fail(fmt.Sprintf("customer.name must be at most %d characters", maxTextLen))
		}
		if p.CustomerEmail == "" {
			fail("customer.email is required")
		} else if addr, err := mail.ParseAddress(p.CustomerEmail); err != nil || addr.Address != p.CustomerEmail {
			fail(fmt.Sprintf("customer.email %q is not a valid email address", p.CustomerEmail))
		}
	}

	p.Description = req.Description
	if len(p.Description) > maxTextLen {
		fail(fmt.Sprintf("description must be at most %d characters", maxTextLen))
	}
	for _, u := range []struct{ field, value string }{
		{"success_url", req.SuccessURL},
		{"cancel_url", req.CancelURL},
	} {
		if err := checkReturnURL(u.field, u.value); err != nil {
			fail(err.Error())
		}
	}
	p.SuccessURL, p.CancelURL = req.SuccessURL, req.CancelURL

	if md, err := parseMetadata(req.Metadata); err != nil {
		fail(err.Error())
	} else {
		p.Metadata = md
	}

	if d, err := parseExpiresIn(req.ExpiresIn); err != nil {
		fail(err.Error())
	} else {
		p.ExpiresIn = d
	}

	if len(problems) > 0 {
		return createParams{}, &apiError{http.StatusUnprocessableEntity, strings.Join(problems, "; ")}
	}
	return p, nil
}

// isAbsent reports whether an optional raw field was left out or null.
func isAbsent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// isJSONNumber reports whether raw (already valid JSON) is a number literal.
func isJSONNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9')
}

// parseAmount converts a JSON number in major units (19.99 means $19.99)
// to minor units exactly, from the number's own text (a json.Number), never
// through float64. It refuses strings, non-positive values, more than two
// decimals and amounts beyond maxAmountDigits.
func parseAmount(raw json.RawMessage) (int64, error) {
	if isAbsent(raw) {
		return 0, errors.New("amount is required")
	}
	text := json.Number(bytes.TrimSpace(raw)).String()
	if !isJSONNumber([]byte(text)) {
		return 0, errors.New("amount must be a JSON number in major units, e.g. 19.99")
	}
	if strings.HasPrefix(text, "-") {
		return 0, errors.New("amount must be greater than 0")
	}
	mantissa, exponent, hasExp := strings.Cut(strings.ToLower(text), "e")
	intPart, frac, _ := strings.Cut(mantissa, ".")
	scale := -len(frac) // the value is digits × 10^scale
	if hasExp {
		e, err := strconv.Atoi(exponent)
		if err != nil || e < -30 || e > 30 {
			return 0, errors.New("amount is out of range")
		}
		scale += e
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		scale++
	}
	if digits == "" {
		return 0, errors.New("amount must be greater than 0")
	}
	shift := scale + 2 // minor units = digits × 10^shift
	if shift < 0 {
		return 0, errors.New("amount must have at most 2 decimal places")
	}
	if len(digits)+shift > maxAmountDigits {
		return 0, errors.New("amount is too large")
	}
	minor, err := strconv.ParseInt(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil {
		return 0, errors.New("amount is too large")
	}
	return minor, nil
}

// parseMCC reads the optional merchant category code, a 4-digit integer.
func parseMCC(raw json.RawMessage) (*int, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil || n < 0 || n > 9999 {
		return nil, errors.New("mcc must be a merchant category code: an integer from 0 to 9999")
	}
	return &n, nil
}

// parseMetadata reads the optional metadata object. Values must be strings:
// the project keeps metadata typed, so the sandbox refuses what a careless
// client might send (the real API's example echoes a number).
func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errors.New("metadata must be a JSON object of strings")
	}
	if len(fields) > maxMetadataKeys {
		return nil, fmt.Errorf("metadata must have at most %d keys", maxMetadataKeys)
	}
	md := make(map[string]string, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		var v string
		if err := json.Unmarshal(fields[k], &v); err != nil {
			return nil, fmt.Errorf("metadata.%s must be a string", k)
		}
		if k == "" || len(v) > maxMetadataValueLen {
			return nil, fmt.Errorf("metadata keys must be non-empty and values at most %d characters", maxMetadataValueLen)
		}
		md[k] = v
	}
	return md, nil
}

// parseExpiresIn reads expires_in, whole seconds, defaulting to an hour.
func parseExpiresIn(raw json.RawMessage) (time.Duration, error) {
	if isAbsent(raw) {
		return defaultExpiresIn, nil
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || n < 1 || time.Duration(n)*time.Second > maxExpiresIn {
		return 0, fmt.Errorf("expires_in must be a whole number of seconds from 1 to %d", int64(maxExpiresIn/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// checkReturnURL requires an absolute http or https URL: the hosted page
// redirects the shopper's browser there, so a relative URL would land on
// the sandbox and any other scheme could run code in the shopper's browser.
func checkReturnURL(field, value string) error {
	if value == "" {
		return fmt.Errorf("%s is required", field)
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http or https URL", field)
	}
	return nil
}
