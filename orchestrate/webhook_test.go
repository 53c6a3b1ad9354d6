package orchestrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const webhookSecret = "whsec_test_secret"

const eventFixture = `{"id":"evt_1","api_version":"1","type":"payment.succeeded","timestamp":"2025-08-18T15:30:00Z",` +
	`"payload":{"id":"p1","status":"succeeded","amount":"19.99","currency":"USD","metadata":{"order_id":123}}}`

func TestSign(t *testing.T) {
	// Known-answer test: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	got := Sign([]byte("The quick brown fox jumps over the lazy dog"), "key")
	want := "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(eventFixture)
	sig := Sign(body, webhookSecret)
	tests := []struct {
		name    string
		body    []byte
		header  string
		secret  string
		wantErr error
	}{
		{name: "valid", body: body, header: sig, secret: webhookSecret},
		{name: "sha256 prefix", body: body, header: "sha256=" + sig, secret: webhookSecret},
		{name: "upper-case prefix", body: body, header: "SHA256=" + sig, secret: webhookSecret},
		{name: "surrounding whitespace", body: body, header: "  sha256=" + sig + "\n", secret: webhookSecret},
		{name: "upper-case hex", body: body, header: strings.ToUpper(sig), secret: webhookSecret},
		{name: "empty body", body: nil, header: Sign(nil, webhookSecret), secret: webhookSecret},
		{name: "tampered body", body: bytes.Replace(body, []byte("19.99"), []byte("0.01"), 1), header: sig, secret: webhookSecret, wantErr: ErrInvalidSignature},
		{name: "body with trailing newline", body: append(bytes.Clone(body), '\n'), header: sig, secret: webhookSecret, wantErr: ErrInvalidSignature},
		{name: "wrong secret", body: body, header: sig, secret: "whsec_other", wantErr: ErrInvalidSignature},
		{name: "flipped digit", body: body, header: flipLastHex(sig), secret: webhookSecret, wantErr: ErrInvalidSignature},
		{name: "truncated", body: body, header: sig[:63], secret: webhookSecret, wantErr: ErrMalformedSignature},
		{name: "too long", body: body, header: sig + "00", secret: webhookSecret, wantErr: ErrMalformedSignature},
		{name: "non-hex", body: body, header: strings.Repeat("z", 64), secret: webhookSecret, wantErr: ErrMalformedSignature},
		{name: "base64 instead of hex", body: body, header: "9ryD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0eNvC0aPNg=", secret: webhookSecret, wantErr: ErrMalformedSignature},
		{name: "prefix only", body: body, header: "sha256=", secret: webhookSecret, wantErr: ErrMalformedSignature},
		{name: "other scheme", body: body, header: "sha1=" + sig, secret: webhookSecret, wantErr: ErrMalformedSignature},
		{name: "empty header", body: body, header: "", secret: webhookSecret, wantErr: ErrMissingSignature},
		{name: "blank header", body: body, header: "   ", secret: webhookSecret, wantErr: ErrMissingSignature},
		{name: "empty secret", body: body, header: Sign(body, ""), secret: "", wantErr: ErrEmptySecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.body, tt.header, tt.secret)
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("VerifySignature = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func flipLastHex(s string) string {
	last := s[len(s)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return s[:len(s)-1] + string(repl)
}

func TestSignatureErrorsDoNotLeakSecret(t *testing.T) {
	body := []byte(eventFixture)
	for _, header := range []string{"", "zz", Sign(body, "other"), Sign(body, webhookSecret)[:10]} {
		if err := VerifySignature(body, header, webhookSecret); err != nil && strings.Contains(err.Error(), webhookSecret) {
			t.Errorf("error %q contains the secret", err)
		}
	}
}

func TestParseEvent(t *testing.T) {
	ts := time.Date(2025, 8, 18, 15, 30, 0, 0, time.UTC)
	tests := []struct {
		name        string
		body        string
		want        Event // Raw and Payment are checked separately
		wantPayment bool
	}{
		{
			name:        "full envelope",
			body:        eventFixture,
			want:        Event{ID: "evt_1", APIVersion: "1", Type: EventPaymentSucceeded, Timestamp: &ts, PaymentID: "p1"},
			wantPayment: true,
		},
		{
			name:        "only type and payload id",
			body:        `{"type":"payment.expired","payload":{"id":"p2"}}`,
			want:        Event{Type: EventPaymentExpired, PaymentID: "p2"},
			wantPayment: false, // no amount or currency: not a full payment
		},
		{
			name:        "numeric api version and unix timestamp",
			body:        `{"api_version":1,"type":"payment.failed","timestamp":1755531000,"payload":{"id":"p3","amount":1,"currency":"EUR","status":"failed"}}`,
			want:        Event{APIVersion: "1", Type: EventPaymentFailed, Timestamp: &ts, PaymentID: "p3"},
			wantPayment: true,
		},
		{
			name: "unparsable timestamp is dropped",
			body: `{"type":"payment.created","timestamp":"yesterday","payload":{"id":"p4"}}`,
			want: Event{Type: EventPaymentCreated, PaymentID: "p4"},
		},
		{
			name: "unknown type parses",
			body: `{"type":"payment.refunded","payload":{"id":"p5"}}`,
			want: Event{Type: "payment.refunded", PaymentID: "p5"},
		},
		{
			name: "numeric payment id",
			body: `{"type":"payment.created","payload":{"id":12}}`,
			want: Event{Type: EventPaymentCreated, PaymentID: "12"},
		},
		{
			name: "payload with bad amount keeps the id",
			body: `{"type":"payment.succeeded","payload":{"id":"p6","amount":"1.001","currency":"USD"}}`,
			want: Event{Type: EventPaymentSucceeded, PaymentID: "p6"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if string(got.Raw) != tt.body {
				t.Errorf("Raw = %s, want the body", got.Raw)
			}
			if (got.Payment != nil) != tt.wantPayment {
				t.Errorf("Payment = %+v, want present = %v", got.Payment, tt.wantPayment)
			}
			if got.Payment != nil && got.Payment.ID != got.PaymentID {
				t.Errorf("Payment.ID = %q, PaymentID = %q", got.Payment.ID, got.PaymentID)
			}
			trimmed := *got
			trimmed.Raw, trimmed.Payment = nil, nil
			if diff := cmp.Diff(tt.want, trimmed); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEventPayment(t *testing.T) {
	ev, err := ParseEvent([]byte(eventFixture))
	if err != nil {
		t.Fatal(err)
	}
	want := &Payment{ID: "p1", Status: StatusCompleted, Amount: 1999, Currency: USD, Metadata: Metadata{"order_id": "123"}}
	if diff := cmp.Diff(want, ev.Payment); diff != "" {
		t.Errorf("payment (-want +got):\n%s", diff)
	}
}

func TestParseEventRawIsACopy(t *testing.T) {
	body := []byte(eventFixture)
	ev, err := ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	body[0] = 'X'
	if ev.Raw[0] != '{' {
		t.Error("Event.Raw aliases the caller's buffer")
	}
}

func TestParseEventInvalid(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "empty", body: ``},
		{name: "not json", body: `hello`},
		{name: "array", body: `[]`},
		{name: "null", body: `null`},
		{name: "missing type", body: `{"payload":{"id":"p1"}}`},
		{name: "empty type", body: `{"type":"","payload":{"id":"p1"}}`},
		{name: "numeric type", body: `{"type":1,"payload":{"id":"p1"}}`},
		{name: "missing payload", body: `{"type":"payment.created"}`},
		{name: "null payload", body: `{"type":"payment.created","payload":null}`},
		{name: "string payload", body: `{"type":"payment.created","payload":"p1"}`},
		{name: "missing payload id", body: `{"type":"payment.created","payload":{"status":"pending"}}`},
		{name: "empty payload id", body: `{"type":"payment.created","payload":{"id":""}}`},
		{name: "null payload id", body: `{"type":"payment.created","payload":{"id":null}}`},
		{name: "object payload id", body: `{"type":"payment.created","payload":{"id":{}}}`},
		{name: "boolean payload id", body: `{"type":"payment.created","payload":{"id":true}}`},
		{name: "truncated", body: `{"type":"payment.created","payload":{"id":"p1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tt.body))
			if !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("ParseEvent(%s) = %+v, %v; want ErrInvalidEvent", tt.body, ev, err)
			}
		})
	}
}

func TestConstructEvent(t *testing.T) {
	body := []byte(eventFixture)
	ev, err := ConstructEvent(body, "sha256="+Sign(body, webhookSecret), webhookSecret)
	if err != nil {
		t.Fatalf("ConstructEvent: %v", err)
	}
	if ev.PaymentID != "p1" || ev.Type != EventPaymentSucceeded {
		t.Errorf("event = %+v", ev)
	}
	if _, err := ConstructEvent(body, Sign(body, "other"), webhookSecret); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("wrong signature: err = %v, want ErrInvalidSignature", err)
	}
	garbage := []byte("not an event")
	if _, err := ConstructEvent(garbage, Sign(garbage, webhookSecret), webhookSecret); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("signed garbage: err = %v, want ErrInvalidEvent", err)
	}
}

func TestEventTypeKnown(t *testing.T) {
	for _, et := range []EventType{EventPaymentCreated, EventPaymentSucceeded, EventPaymentFailed, EventPaymentExpired} {
		if !et.Known() {
			t.Errorf("%s.Known() = false", et)
		}
	}
	if EventType("payment.refunded").Known() {
		t.Error("payment.refunded is Known")
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(eventFixture))
	for _, s := range []string{
		`{"type":"payment.expired","payload":{"id":"p2"}}`,
		`{"api_version":1,"type":"x","timestamp":1755531000,"payload":{"id":3,"amount":"1e3","currency":"USD"}}`,
		`{"type":"payment.created","payload":{"id":"p1","metadata":[],"next_action":{"url":1}}}`,
		`{"type":"","payload":null}`, `null`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("ParseEvent error %v does not wrap ErrInvalidEvent", err)
			}
			return
		}
		if ev.Type == "" || ev.PaymentID == "" {
			t.Fatalf("ParseEvent(%q) = %+v without type or payment id", body, ev)
		}
		if !json.Valid(ev.Raw) {
			t.Fatalf("Raw is not valid JSON: %q", ev.Raw)
		}
		if ev.Payment != nil && ev.Payment.Amount < 0 {
			t.Fatalf("negative amount in %q", body)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	body := []byte(eventFixture)
	f.Add(body, Sign(body, webhookSecret), webhookSecret)
	f.Add(body, "sha256="+Sign(body, webhookSecret), webhookSecret)
	f.Add([]byte{}, "", "")
	f.Add(body, "sha256=zz", "s")
	f.Fuzz(func(t *testing.T, body []byte, header, secret string) {
		err := VerifySignature(body, header, secret)
		if err == nil && secret == "" {
			t.Fatal("verified with an empty secret")
		}
		if err == nil && VerifySignature(append(bytes.Clone(body), 'x'), header, secret) == nil {
			t.Fatal("the same signature verified two different bodies")
		}
		if secret != "" {
			if err := VerifySignature(body, Sign(body, secret), secret); err != nil {
				t.Fatalf("own signature rejected: %v", err)
			}
		}
	})
}
