package orchestrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func ptr[T any](v T) *T { return &v }

func TestPaymentUnmarshalQuickstart(t *testing.T) {
	var got Payment
	if err := json.Unmarshal([]byte(paymentJSONFixture), &got); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want := Payment{
		ID:          "cbbbc264-1248-49aa-ae2d-1aa05cf79bc8",
		Status:      StatusPending,
		Amount:      50000,
		Currency:    USD,
		Description: "Payment for services",
		Metadata:    Metadata{"order_id": "212121212"},
		Customer:    Customer{ID: "698adc6c-bb99-44cb-9715-c3599d587148", Name: "Foobar", Email: "foobar@example.com"},
		SuccessURL:  "https://example.com/orders/order-123/payment-success",
		CancelURL:   "https://example.com/orders/order-123/payment-cancel",
		PaymentLink: "https://sandbox.orchestrate.global/payments/cbbbc264-1248-49aa-ae2d-1aa05cf79bc8/collection",
		CreatedAt:   mustTime(t, "2025-08-18T15:27:43Z"),
		UpdatedAt:   mustTime(t, "2025-08-18T15:27:43Z"),
		ExpiresAt:   ptr(mustTime(t, "2025-08-18T15:32:43Z")),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payment (-want +got):\n%s", diff)
	}
}

func TestPaymentUnmarshal(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, p Payment)
	}{
		{
			name: "number amount",
			json: `{"id":"p1","amount":19.99,"currency":"USD"}`,
			check: func(t *testing.T, p Payment) {
				if p.Amount != 1999 {
					t.Errorf("Amount = %d, want 1999", p.Amount)
				}
			},
		},
		{
			name: "integer amount",
			json: `{"id":"p1","amount":1000,"currency":"EUR"}`,
			check: func(t *testing.T, p Payment) {
				if p.Amount != 100000 || p.Currency != EUR {
					t.Errorf("Amount, Currency = %d, %s; want 100000, EUR", p.Amount, p.Currency)
				}
			},
		},
		{
			name: "string amount with one decimal",
			json: `{"id":"p1","amount":"19.9","currency":"GBP"}`,
			check: func(t *testing.T, p Payment) {
				if p.Amount != 1990 {
					t.Errorf("Amount = %d, want 1990", p.Amount)
				}
			},
		},
		{
			name: "amount before currency",
			json: `{"amount":"0.05","id":"p1","currency":"cad"}`,
			check: func(t *testing.T, p Payment) {
				if p.Amount != 5 || p.Currency != CAD {
					t.Errorf("Amount, Currency = %d, %s; want 5, CAD", p.Amount, p.Currency)
				}
			},
		},
		{
			name: "float trap",
			json: `{"id":"p1","amount":0.29,"currency":"USD"}`,
			check: func(t *testing.T, p Payment) {
				if p.Amount != 29 {
					t.Errorf("Amount = %d, want 29", p.Amount)
				}
			},
		},
		{
			name: "next_action fallback",
			json: `{"id":"p1","amount":1,"currency":"USD","next_action":{"type":"redirect","url":"https://pay.example/3ds"}}`,
			check: func(t *testing.T, p Payment) {
				if p.PaymentLink != "https://pay.example/3ds" {
					t.Errorf("PaymentLink = %q, want the next_action url", p.PaymentLink)
				}
			},
		},
		{
			name: "payment_link wins over next_action",
			json: `{"id":"p1","amount":1,"currency":"USD","payment_link":"https://pay.example/link","next_action":{"url":"https://pay.example/3ds"}}`,
			check: func(t *testing.T, p Payment) {
				if p.PaymentLink != "https://pay.example/link" {
					t.Errorf("PaymentLink = %q, want payment_link", p.PaymentLink)
				}
			},
		},
		{
			name: "null next_action",
			json: `{"id":"p1","amount":1,"currency":"USD","next_action":null}`,
			check: func(t *testing.T, p Payment) {
				if p.PaymentLink != "" {
					t.Errorf("PaymentLink = %q, want empty", p.PaymentLink)
				}
			},
		},
		{
			name: "completed with payment method and succeeded status",
			json: `{"id":"p1","amount":1,"currency":"USD","status":"succeeded","completed_at":"2025-08-18T15:30:00.5+02:00","payment_method":{"type":"card","last4":"4242"}}`,
			check: func(t *testing.T, p Payment) {
				if p.Status != StatusCompleted {
					t.Errorf("Status = %q, want completed", p.Status)
				}
				if p.CompletedAt == nil || !p.CompletedAt.Equal(mustTime(t, "2025-08-18T13:30:00.5Z")) {
					t.Errorf("CompletedAt = %v", p.CompletedAt)
				}
				if string(p.PaymentMethod) != `{"type":"card","last4":"4242"}` {
					t.Errorf("PaymentMethod = %s", p.PaymentMethod)
				}
			},
		},
		{
			name: "unknown status is kept",
			json: `{"id":"p1","amount":1,"currency":"USD","status":"refunded"}`,
			check: func(t *testing.T, p Payment) {
				if p.Status != "refunded" || p.Status.Known() {
					t.Errorf("Status = %q (Known %v), want refunded, unknown", p.Status, p.Status.Known())
				}
			},
		},
		{
			name: "nulls and empty strings",
			json: `{"id":"p1","amount":1,"currency":"USD","metadata":null,"customer":null,"description":null,"expires_at":"","created_at":null,"payment_method":null}`,
			check: func(t *testing.T, p Payment) {
				if p.Metadata != nil || p.Customer != (Customer{}) || p.ExpiresAt != nil || !p.CreatedAt.IsZero() || p.PaymentMethod != nil {
					t.Errorf("payment = %+v, want empty optional fields", p)
				}
			},
		},
		{
			name: "unknown fields ignored",
			json: `{"id":"p1","amount":1,"currency":"USD","livemode":false,"refunds":[{"id":"r1"}]}`,
			check: func(t *testing.T, p Payment) {
				if p.ID != "p1" {
					t.Errorf("ID = %q", p.ID)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Payment
			if err := json.Unmarshal([]byte(tt.json), &p); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			tt.check(t, p)
		})
	}
}

func TestPaymentUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr error // nil means any error
	}{
		{name: "too many decimals", json: `{"id":"p1","amount":19.999,"currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "too many decimals in string", json: `{"id":"p1","amount":"19.999","currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "negative", json: `{"id":"p1","amount":-1,"currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "exponent", json: `{"id":"p1","amount":1e3,"currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "garbage string", json: `{"id":"p1","amount":"abc","currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "empty string", json: `{"id":"p1","amount":"","currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "missing amount", json: `{"id":"p1","currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "null amount", json: `{"id":"p1","amount":null,"currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "boolean amount", json: `{"id":"p1","amount":true,"currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "object amount", json: `{"id":"p1","amount":{"value":1},"currency":"USD"}`, wantErr: ErrInvalidAmount},
		{name: "unsupported currency", json: `{"id":"p1","amount":1,"currency":"JPY"}`, wantErr: ErrUnsupportedCurrency},
		{name: "missing currency", json: `{"id":"p1","amount":1}`, wantErr: ErrUnsupportedCurrency},
		{name: "bad timestamp", json: `{"id":"p1","amount":1,"currency":"USD","created_at":"yesterday"}`},
		{name: "numeric timestamp", json: `{"id":"p1","amount":1,"currency":"USD","created_at":1755530863}`},
		{name: "not an object", json: `[1,2]`},
		{name: "truncated", json: `{"id":"p1","amount":1`},
		{name: "metadata string", json: `{"id":"p1","amount":1,"currency":"USD","metadata":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Payment
			err := json.Unmarshal([]byte(tt.json), &p)
			if err == nil {
				t.Fatalf("Unmarshal(%s) = %+v, want error", tt.json, p)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Unmarshal(%s) error = %v, want %v", tt.json, err, tt.wantErr)
			}
		})
	}
}

func TestMetadataUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    Metadata
		wantErr bool
	}{
		{name: "strings", json: `{"order_id":"order-123"}`, want: Metadata{"order_id": "order-123"}},
		{name: "integer", json: `{"order_id":212121212}`, want: Metadata{"order_id": "212121212"}},
		{name: "big integer keeps digits", json: `{"n":12345678901234567890}`, want: Metadata{"n": "12345678901234567890"}},
		{name: "decimal keeps text", json: `{"n":1.50}`, want: Metadata{"n": "1.50"}},
		{name: "booleans", json: `{"a":true,"b":false}`, want: Metadata{"a": "true", "b": "false"}},
		{name: "null value", json: `{"a":null}`, want: Metadata{"a": ""}},
		{name: "nested", json: `{"a":{"b": [1, 2]}}`, want: Metadata{"a": `{"b":[1,2]}`}},
		{name: "empty object", json: `{}`, want: Metadata{}},
		{name: "null", json: `null`, want: nil},
		{name: "empty array", json: `[]`, want: nil},
		{name: "non-empty array", json: `["a"]`, wantErr: true},
		{name: "string", json: `"a"`, wantErr: true},
		{name: "number", json: `1`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Metadata
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.wantErr {
				if err == nil {
					t.Errorf("Unmarshal(%s) = %v, want error", tt.json, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.json, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Unmarshal(%s) (-want +got):\n%s", tt.json, diff)
			}
		})
	}
}

func TestPaymentMarshalRoundTrip(t *testing.T) {
	var original Payment
	if err := json.Unmarshal([]byte(paymentJSONFixture), &original); err != nil {
		t.Fatal(err)
	}
	original.CompletedAt = ptr(mustTime(t, "2025-08-18T15:30:00.123+02:00"))
	original.PaymentMethod = json.RawMessage(`{"type":"card"}`)
	b, err := json.Marshal(original)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Contains(b, []byte(`"amount":500.00`)) {
		t.Errorf("marshalled %s, want the amount as the JSON number 500.00", b)
	}
	var got Payment
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if diff := cmp.Diff(original, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestPaymentMarshalUnsupportedCurrency(t *testing.T) {
	if b, err := json.Marshal(Payment{ID: "p1", Amount: 1, Currency: "JPY"}); err == nil {
		t.Errorf("Marshal = %s, want error for an unsupported currency", b)
	}
}

func FuzzPaymentUnmarshal(f *testing.F) {
	f.Add([]byte(paymentJSONFixture))
	for _, s := range []string{
		`{"id":"p1","amount":19.99,"currency":"USD"}`,
		`{"id":"p1","amount":"19.9","currency":"usd","status":"succeeded"}`,
		`{"id":"p1","amount":19.999,"currency":"USD"}`,
		`{"id":"p1","amount":1e3,"currency":"USD"}`,
		`{"id":"p1","amount":-0,"currency":"EUR"}`,
		`{"id":"p1","amount":"","currency":"GBP","metadata":{"a":1,"b":[true]}}`,
		`{"id":"p1","amount":1,"currency":"CAD","next_action":{"url":"x"},"completed_at":"2025-01-01T00:00:00Z"}`,
		`{"amount":92233720368547758.07,"currency":"USD"}`,
		`{"amount":92233720368547758.08,"currency":"USD"}`,
		`null`, `[]`, `{}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Payment
		if err := json.Unmarshal(data, &p); err != nil {
			return
		}
		if p.Amount < 0 {
			t.Fatalf("decoded negative amount %d from %s", p.Amount, data)
		}
		if p.Currency.Exponent() < 0 {
			t.Fatalf("decoded unsupported currency %q from %s", p.Currency, data)
		}
		// Whatever decodes must survive a marshal/unmarshal round trip
		// with the same money, and the encoding must then be stable.
		b1, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", p, err)
		}
		var q Payment
		if err := json.Unmarshal(b1, &q); err != nil {
			t.Fatalf("Unmarshal(%s) of our own encoding: %v", b1, err)
		}
		if q.Amount != p.Amount || q.Currency != p.Currency || q.Status != p.Status {
			t.Fatalf("round trip changed money or status: %+v -> %+v", p, q)
		}
		b2, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", q, err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
		}
	})
}
