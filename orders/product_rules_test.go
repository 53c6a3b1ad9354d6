package orders_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/orders"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		name, in, currency string
		want               int64
		wantErr            error
	}{
		{"two decimals", "32.00", "EUR", 3200, nil},
		{"one decimal", "32.5", "GBP", 3250, nil},
		{"whole", "46", "CAD", 4600, nil},
		{"surrounding spaces", " 34.00 ", "USD", 3400, nil},
		{"smallest", "0.01", "USD", 1, nil},
		{"the maximum", "1000000.00", "USD", 100_000_000, nil},
		{"zero", "0.00", "EUR", 0, orders.ErrPriceRange},
		{"above the maximum", "1000000.01", "EUR", 0, orders.ErrPriceRange},
		{"overflows int64", strings.Repeat("9", 30), "EUR", 0, orders.ErrPriceRange},
		{"three decimals", "32.000", "EUR", 0, orders.ErrPriceDecimals},
		{"sub-cent", "19.999", "USD", 0, orders.ErrPriceDecimals},
		{"negative", "-5.00", "USD", 0, orders.ErrPriceFormat},
		{"plus sign", "+5.00", "USD", 0, orders.ErrPriceFormat},
		{"currency sign", "€32.00", "EUR", 0, orders.ErrPriceFormat},
		{"thousands separator", "1,000.00", "USD", 0, orders.ErrPriceFormat},
		{"decimal comma", "32,00", "EUR", 0, orders.ErrPriceFormat},
		{"exponent", "1e3", "USD", 0, orders.ErrPriceFormat},
		{"point without digits", "32.", "USD", 0, orders.ErrPriceFormat},
		{"leading point", ".50", "USD", 0, orders.ErrPriceFormat},
		{"NUL", "32\x00", "USD", 0, orders.ErrPriceFormat},
		{"full-width digits", "３２.００", "USD", 0, orders.ErrPriceFormat},
		{"empty", "", "USD", 0, orders.ErrPriceFormat},
		{"unknown currency", "32.00", "JPY", 0, orders.ErrInvalid},
		{"lower-case currency", "32.00", "eur", 0, orders.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orders.ParsePrice(tt.in, tt.currency)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("ParsePrice(%q, %s) = %d, %v; want %d, %v", tt.in, tt.currency, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, orders.ErrInvalid) {
				t.Errorf("ParsePrice(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
		})
	}
}

func TestPriceDecimalsAndInput(t *testing.T) {
	for _, cur := range orders.Currencies {
		if got := orders.PriceDecimals(cur); got != 2 {
			t.Errorf("PriceDecimals(%s) = %d, want 2", cur, got)
		}
		if got := orders.PriceInput(3200, cur); got != "32.00" {
			t.Errorf("PriceInput(3200, %s) = %q, want 32.00", cur, got)
		}
		if max, ok := orders.MaxPrice(cur); !ok || max != 100_000_000 {
			t.Errorf("MaxPrice(%s) = %d, %v; want 100000000, true", cur, max, ok)
		}
	}
	if got := orders.PriceDecimals("JPY"); got != -1 {
		t.Errorf("PriceDecimals(JPY) = %d, want -1: the shop does not sell in it", got)
	}
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"enamel-mug", true},
		{"mug2", true},
		{"a", true},
		{strings.Repeat("a", 100), true},
		{strings.Repeat("a", 101), false},
		{"", false},
		{"Enamel-mug", false},
		{"enamel--mug", false},
		{"-mug", false},
		{"mug-", false},
		{"enamel mug", false},
		{"enamel_mug", false},
		{"mug\x00", false},
		{"mug\n", false},
		{"müg", false},
		{"../mug", false},
	}
	for _, tt := range tests {
		if got := orders.ValidSlug(tt.in); got != tt.want {
			t.Errorf("ValidSlug(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCleanProductNameAndDescription(t *testing.T) {
	names := []struct {
		in, want string
		wantErr  error
	}{
		{"Enamel camp mug", "Enamel camp mug", nil},
		{"  Enamel   camp mug ", "Enamel camp mug", nil},
		{"Ｍｕｇ", "Mug", nil},
		{strings.Repeat("é", 200), strings.Repeat("é", 200), nil},
		{strings.Repeat("é", 201), "", orders.ErrTooLong},
		{"Mug\x00", "", orders.ErrBadText},
		{"Mug\u202e", "", orders.ErrBadText},
		{"\xff", "", orders.ErrBadText},
		{"   ", "", orders.ErrInvalid},
	}
	for _, tt := range names {
		got, err := orders.CleanProductName(tt.in)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("CleanProductName(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	descriptions := []struct {
		in, want string
		wantErr  error
	}{
		{"A mug.", "A mug.", nil},
		{"", "", nil},
		{" A mug.\r\n\r\nTough. ", "A mug.\n\nTough.", nil},
		{strings.Repeat("é", 2000), strings.Repeat("é", 2000), nil},
		{strings.Repeat("é", 2001), "", orders.ErrTooLong},
		{"A\rmug", "", orders.ErrBadText},
		{"A\tmug", "", orders.ErrBadText},
		{"A mug\u200b", "", orders.ErrBadText},
		{"A mug\x00", "", orders.ErrBadText},
	}
	for _, tt := range descriptions {
		got, err := orders.CleanDescription(tt.in)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("CleanDescription(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
