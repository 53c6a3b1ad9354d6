package orchestrate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// ErrNotFound matches, with errors.Is, an *Error for a 404 response and the
// error FindPaymentByMetadata returns when no payment matches.
var ErrNotFound = errors.New("orchestrate: not found")

// ErrInvalidParams is wrapped by every error the client returns for
// arguments it rejects before sending anything (a bad base URL, a missing
// idempotency key, a non-positive amount…). Such a request was never sent.
var ErrInvalidParams = errors.New("orchestrate: invalid parameters")

// Error is an error response from the Orchestrate API: the server answered
// with a status outside 2xx. Match it with errors.As.
//
// Nothing in an Error comes from the request's credentials: the API key is
// never stored in it, and any copy of the key the server echoes back in its
// body is redacted.
type Error struct {
	// StatusCode is the HTTP status, e.g. 422.
	StatusCode int
	// Message is the body's "message" field (API.md: every error body has
	// one), or a short excerpt of the body when it is not such JSON.
	Message string
	// RequestID is the X-Request-Id (or Request-Id) response header, if any:
	// quote it when asking Orchestrate about a failed call.
	RequestID string
	// Body is the start of the raw response body (at most 1 KiB), for logs.
	Body string
	// Method and Path identify the request, e.g. "POST" and "/api/v1/payments".
	Method string
	Path   string
	// RetryAfter is the wait the server asked for with a Retry-After header
	// (usually on 429), or 0 if it sent none.
	RetryAfter time.Duration
}

// Error returns a one-line description such as
// "orchestrate: POST /api/v1/payments: 422 Unprocessable Entity: amount is invalid (request id req_1)".
func (e *Error) Error() string {
	s := fmt.Sprintf("orchestrate: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrNotFound) true for a 404 response.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// TransportError is a failure to complete an HTTP exchange with Orchestrate:
// DNS, dial, TLS, a timeout, a dropped connection, or the caller's context
// ending. It wraps the underlying error, so errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, **net.OpError) work.
type TransportError struct {
	// Op is the request, e.g. "POST /api/v1/payments".
	Op string
	// Err is the underlying error.
	Err error
	// RequestSent is false only when the request provably never left this
	// process (no connection, or the connection failed before any of the
	// request was written). When it is true the server may have received
	// and acted on the request even though no response was read.
	RequestSent bool
}

// Error describes the failure and whether the request may have been sent.
func (e *TransportError) Error() string {
	state := "request not sent"
	if e.RequestSent {
		state = "request may have been sent, no response read"
	}
	return fmt.Sprintf("orchestrate: %s: %s: %v", e.Op, state, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// DecodeError means Orchestrate answered with a 2xx status but the body could
// not be read or decoded (for example an amount with too many decimals).
// After a create this means the payment was most likely created but its
// details are unknown, so IsOutcomeUnknown reports true for it.
type DecodeError struct {
	// Method and Path identify the request.
	Method string
	Path   string
	// StatusCode is the (successful) HTTP status that came with the body.
	StatusCode int
	// RequestID is the X-Request-Id (or Request-Id) response header, if any.
	RequestID string
	// Err is the decoding error.
	Err error
}

// Error describes the request and the decoding failure.
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("orchestrate: %s %s: %d response: cannot decode body: %v", e.Method, e.Path, e.StatusCode, e.Err)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is a transient failure that the same
// request may get past later: a transport error (network failure or
// timeout, but not the caller cancelling its context and not an untrusted
// TLS certificate), 408, 429, or any 5xx.
//
// It says nothing about whether repeating is safe: a create whose outcome is
// unknown (see IsOutcomeUnknown) is retryable only after the caller has
// checked, e.g. with FindPaymentByMetadata, that the first attempt did not
// create a payment.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if apiErr, ok := errors.AsType[*Error](err); ok {
		return apiErr.StatusCode == http.StatusRequestTimeout ||
			apiErr.StatusCode == http.StatusTooManyRequests ||
			apiErr.StatusCode >= 500
	}
	if _, ok := errors.AsType[*TransportError](err); ok {
		return !errors.Is(err, context.Canceled) && !isCertificateError(err)
	}
	if _, ok := errors.AsType[*RateLimitedError](err); ok {
		return true
	}
	return false
}

// IsPermanent reports whether repeating the same request cannot succeed: a
// 4xx response other than 408 (Request Timeout) and 429 (Too Many Requests),
// or arguments the client rejected before sending (ErrInvalidParams).
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidParams) {
		return true
	}
	if apiErr, ok := errors.AsType[*Error](err); ok {
		return apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 &&
			apiErr.StatusCode != http.StatusRequestTimeout &&
			apiErr.StatusCode != http.StatusTooManyRequests
	}
	return false
}

// IsOutcomeUnknown reports whether the request may have taken effect on
// Orchestrate although the caller cannot tell from err. After CreatePayment
// this means a payment may exist: look it up (FindPaymentByMetadata) before
// creating another one. It is true for:
//
//   - a *TransportError with RequestSent: the request was written but no
//     response was read (timeout, connection dropped);
//   - a *DecodeError: the server said 2xx but the body was unreadable;
//   - an *Error with a 5xx status to a request other than GET or HEAD.
//
// The last case is a deliberate choice. A 5xx is an answer, but it does not
// prove that nothing happened: a gateway's 502 or 504 is sent without knowing
// what the upstream did, and a crash after the payment was stored also yields
// a 500. Orchestrate documents no idempotency or atomicity guarantee
// (API.md), so the only safe reading is "unknown"; a caller that reconciles
// and finds nothing loses only one lookup.
func IsOutcomeUnknown(err error) bool {
	if err == nil {
		return false
	}
	if te, ok := errors.AsType[*TransportError](err); ok {
		return te.RequestSent
	}
	if _, ok := errors.AsType[*DecodeError](err); ok {
		return true
	}
	if apiErr, ok := errors.AsType[*Error](err); ok {
		return apiErr.StatusCode >= 500 && apiErr.Method != http.MethodGet && apiErr.Method != http.MethodHead
	}
	return false
}

// isCertificateError reports whether err is a TLS certificate rejection,
// which retrying cannot fix.
func isCertificateError(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return true
	}
	return false
}

// parseRetryAfter reads a Retry-After header given as delay-seconds or as an
// HTTP-date (RFC 9110 §10.2.3). It returns 0 for a missing, malformed or past
// value, which callers treat as "no hint".
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before multiplying so a huge value cannot overflow into a
		// negative duration.
		const maxSecs = int64(24 * time.Hour / time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
