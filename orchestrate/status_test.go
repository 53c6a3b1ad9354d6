package orchestrate

import (
	"encoding/json"
	"testing"
)

func TestStatusUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		want      Status
		wantKnown bool
		wantFinal bool
		wantErr   bool
	}{
		{name: "pending", json: `"pending"`, want: StatusPending, wantKnown: true},
		{name: "completed", json: `"completed"`, want: StatusCompleted, wantKnown: true, wantFinal: true},
		{name: "succeeded is completed", json: `"succeeded"`, want: StatusCompleted, wantKnown: true, wantFinal: true},
		{name: "expired", json: `"expired"`, want: StatusExpired, wantKnown: true, wantFinal: true},
		{name: "failed", json: `"failed"`, want: StatusFailed, wantKnown: true, wantFinal: true},
		{name: "upper case", json: `"COMPLETED"`, want: StatusCompleted, wantKnown: true, wantFinal: true},
		{name: "padded", json: `" pending "`, want: StatusPending, wantKnown: true},
		{name: "unknown kept verbatim", json: `"refunded"`, want: Status("refunded")},
		{name: "unknown keeps case", json: `"Partially_Refunded"`, want: Status("Partially_Refunded")},
		{name: "empty", json: `""`, want: ""},
		{name: "null", json: `null`, want: ""},
		{name: "number", json: `3`, wantErr: true},
		{name: "object", json: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Status
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.wantErr {
				if err == nil {
					t.Errorf("Unmarshal(%s) = %q, want error", tt.json, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.json, err)
			}
			if got != tt.want || got.Known() != tt.wantKnown || got.Final() != tt.wantFinal {
				t.Errorf("Unmarshal(%s) = %q (Known %v, Final %v); want %q (Known %v, Final %v)",
					tt.json, got, got.Known(), got.Final(), tt.want, tt.wantKnown, tt.wantFinal)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want Status
	}{
		{in: "pending", want: StatusPending},
		{in: "Succeeded", want: StatusCompleted},
		{in: "failed", want: StatusFailed},
		{in: "expired", want: StatusExpired},
		{in: "canceled", want: Status("canceled")},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseStatus(tt.in); got != tt.want {
				t.Errorf("ParseStatus(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStatusMarshalRoundTrip(t *testing.T) {
	for _, s := range []Status{StatusPending, StatusCompleted, StatusExpired, StatusFailed, "refunded"} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got Status
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("round trip of %q = %q, %v", s, got, err)
		}
	}
}
