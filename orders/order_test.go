package orders

import "testing"

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ann@example.com", true},
		{"ANN@Example.COM", true},
		{"first.last+tag@mail.example.co.uk", true},
		{"ann@example", false},           // no dot in the domain
		{"ann@example.com.", false},      // trailing dot
		{"@example.com", false},          // no local part
		{"ann@", false},                  // no domain
		{"example.com", false},           // no @
		{" ann@example.com", false},      // surrounding space
		{"ann lee@example.com", false},   // a space inside
		{"Ann <ann@example.com>", false}, // a display name
		{"FK-100042", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
