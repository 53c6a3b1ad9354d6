package orchestrate

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "full",
			err:  &Error{StatusCode: 422, Message: "amount is invalid", RequestID: "req_1", Method: "POST", Path: "/api/v1/payments"},
			want: "orchestrate: POST /api/v1/payments: 422 Unprocessable Entity: amount is invalid (request id req_1)",
		},
		{
			name: "no message or request id",
			err:  &Error{StatusCode: 503, Method: "GET", Path: "/api/v1/payments/p1"},
			want: "orchestrate: GET /api/v1/payments/p1: 503 Service Unavailable",
		},
		{
			name: "transport not sent",
			err:  &TransportError{Op: "POST /api/v1/payments", Err: errors.New("connection refused")},
			want: "orchestrate: POST /api/v1/payments: request not sent: connection refused",
		},
		{
			name: "transport sent",
			err:  &TransportError{Op: "POST /api/v1/payments", Err: io.EOF, RequestSent: true},
			want: "orchestrate: POST /api/v1/payments: request may have been sent, no response read: EOF",
		},
		{
			name: "decode",
			err:  &DecodeError{Method: "GET", Path: "/api/v1/payments/p1", StatusCode: 200, RequestID: "req_2", Err: errors.New("bad amount")},
			want: "orchestrate: GET /api/v1/payments/p1: 200 response: cannot decode body: bad amount (request id req_2)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorIsNotFound(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "404", err: &Error{StatusCode: 404}, want: true},
		{name: "wrapped 404", err: fmt.Errorf("loading: %w", &Error{StatusCode: 404}), want: true},
		{name: "410", err: &Error{StatusCode: 410}, want: false},
		{name: "500", err: &Error{StatusCode: 500}, want: false},
		{name: "transport", err: &TransportError{Err: io.EOF}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, ErrNotFound); got != tt.want {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassification(t *testing.T) {
	post := func(code int) error { return &Error{StatusCode: code, Method: "POST"} }
	get := func(code int) error { return &Error{StatusCode: code, Method: "GET"} }
	tests := []struct {
		name          string
		err           error
		wantRetryable bool
		wantPermanent bool
		wantUnknown   bool
	}{
		{name: "nil", err: nil},
		{name: "plain error", err: errors.New("x")},
		{name: "invalid params", err: fmt.Errorf("%w: amount", ErrInvalidParams), wantPermanent: true},
		{name: "get 400", err: get(400), wantPermanent: true},
		{name: "get 401", err: get(401), wantPermanent: true},
		{name: "get 403", err: get(403), wantPermanent: true},
		{name: "get 404", err: get(404), wantPermanent: true},
		{name: "get 408", err: get(408), wantRetryable: true},
		{name: "post 409", err: post(409), wantPermanent: true},
		{name: "post 422", err: post(422), wantPermanent: true},
		{name: "get 429", err: get(429), wantRetryable: true},
		{name: "post 429", err: post(429), wantRetryable: true},
		{name: "get 500", err: get(500), wantRetryable: true},
		{name: "get 503", err: get(503), wantRetryable: true},
		{name: "post 500", err: post(500), wantRetryable: true, wantUnknown: true},
		{name: "post 502", err: post(502), wantRetryable: true, wantUnknown: true},
		{name: "post 504", err: post(504), wantRetryable: true, wantUnknown: true},
		{name: "302", err: get(302)},
		{name: "wrapped post 500", err: fmt.Errorf("creating: %w", post(500)), wantRetryable: true, wantUnknown: true},
		{name: "transport not sent", err: &TransportError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, wantRetryable: true},
		{name: "transport sent", err: &TransportError{Err: io.EOF, RequestSent: true}, wantRetryable: true, wantUnknown: true},
		{name: "timeout after send", err: &TransportError{Err: context.DeadlineExceeded, RequestSent: true}, wantRetryable: true, wantUnknown: true},
		{name: "cancelled before send", err: &TransportError{Err: context.Canceled}},
		{name: "cancelled after send", err: &TransportError{Err: context.Canceled, RequestSent: true}, wantUnknown: true},
		{name: "untrusted certificate", err: &TransportError{Err: x509.UnknownAuthorityError{}}},
		{name: "wrong host certificate", err: &TransportError{Err: x509.HostnameError{Host: "x"}}},
		{name: "decode", err: &DecodeError{StatusCode: 201, Err: io.ErrUnexpectedEOF}, wantUnknown: true},
		{name: "bare context error", err: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := [3]bool{IsRetryable(tt.err), IsPermanent(tt.err), IsOutcomeUnknown(tt.err)}
			want := [3]bool{tt.wantRetryable, tt.wantPermanent, tt.wantUnknown}
			if got != want {
				t.Errorf("IsRetryable, IsPermanent, IsOutcomeUnknown(%v) = %v, want %v", tt.err, got, want)
			}
		})
	}
}

func TestErrorsUnwrap(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Err: errors.New("refused")}
	te := &TransportError{Err: opErr}
	if got, ok := errors.AsType[*net.OpError](te); !ok || got != opErr {
		t.Errorf("errors.As(TransportError, *net.OpError) = %v, %v", got, ok)
	}
	de := &DecodeError{Err: ErrInvalidAmount}
	if !errors.Is(de, ErrInvalidAmount) {
		t.Error("DecodeError does not unwrap to its cause")
	}
}
