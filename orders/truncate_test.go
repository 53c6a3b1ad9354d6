package orders_test

import (
	"testing"
	"unicode/utf8"

	"github.com/orchestrate-checkout/checkout/orders"
)

// TestTruncateTextKeepsValidUTF8: cutting inside a character drops the whole
// character and marks the cut, and invalid bytes are replaced, so PostgreSQL
// accepts the text.
func TestTruncateTextKeepsValidUTF8(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"héllo", 2, "h…"},
		{"héllo", 3, "hé…"},
		{"short", 10, "short"},
		{"a\xffb", 10, "a\uFFFDb"},
	} {
		got := orders.TruncateText(tt.in, tt.n)
		if got != tt.want || !utf8.ValidString(got) || len(got) > tt.n+len("…") {
			t.Errorf("TruncateText(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
