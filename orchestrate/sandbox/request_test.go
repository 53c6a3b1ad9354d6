package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		raw     string
		want    int64
		wantErr string
	}{
		{raw: "19.99", want: 1999},
		{raw: "0.29", want: 29},
		{raw: "1.005e1", want: 1005},
		{raw: "00019.99", want: 1999},
		{raw: "1E2", want: 10000},
		{raw: "12.3000", want: 1230},
		{raw: "0.1e1", want: 100},
		{raw: "9999999999999.99", want: 999999999999999},
		{raw: "", wantErr: "required"},
		{raw: "null", wantErr: "required"},
		{raw: `"19.99"`, wantErr: "JSON number"},
		{raw: "true", wantErr: "JSON number"},
		{raw: "0", wantErr: "greater than 0"},
		{raw: "0.00", wantErr: "greater than 0"},
		{raw: "-0", wantErr: "greater than 0"},
		{raw: "-1", wantErr: "greater than 0"},
		{raw: "0.001", wantErr: "2 decimal places"},
		{raw: "1e-3", wantErr: "2 decimal places"},
		{raw: "10000000000000", wantErr: "too large"},
		{raw: "1e31", wantErr: "out of range"},
		{raw: "1e99999999999", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := parseAmount(json.RawMessage(tt.raw))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseAmount(%s) = %d, %v; want an error mentioning %q", tt.raw, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseAmount(%s) = %d, %v; want %d", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestFormatMinor(t *testing.T) {
	for minor, want := range map[int64]string{1: "0.01", 10: "0.10", 1999: "19.99", 50000: "500.00", -250: "-2.50"} {
		if got := formatMinor(minor); got != want {
			t.Errorf("formatMinor(%d) = %q, want %q", minor, got, want)
		}
	}
}

func TestContentSecurityPolicyKeepsOnlyPlainOrigins(t *testing.T) {
	got := contentSecurityPolicy([]string{
		"https://shop.example/ok",
		"https://shop.example/cancel", // same origin: listed once
		"http://localhost:3000/x",
		"http://[::1]:8080/y",
	})
	want := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self' https://shop.example http://localhost:3000 http://[::1]:8080; frame-ancestors 'none'; base-uri 'none'"
	if got != want {
		t.Errorf("CSP =\n%s\nwant\n%s", got, want)
	}
}
