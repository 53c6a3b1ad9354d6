package orders

import (
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

func TestMoneyString(t *testing.T) {
	tests := []struct {
		name string
		in   Money
		want string
	}{
		{"cents", Money{5, "USD"}, "US$0.05"},
		{"whole", Money{100, "USD"}, "US$1.00"},
		{"usual", Money{3400, "USD"}, "US$34.00"},
		{"euro", Money{3200, "EUR"}, "€32.00"},
		{"pound", Money{2800, "GBP"}, "£28.00"},
		{"canadian dollar", Money{4600, "CAD"}, "CA$46.00"},
		{"thousands", Money{123456, "EUR"}, "€1,234.56"},
		{"millions", Money{123456789, "GBP"}, "£1,234,567.89"},
		{"exact thousand", Money{100000, "CAD"}, "CA$1,000.00"},
		{"zero", Money{0, "USD"}, "US$0.00"},
		{"negative", Money{-1999, "USD"}, "-US$19.99"},
		{"negative euro", Money{-5, "EUR"}, "-€0.05"},
		// Not sold here, but the exponent comes from CLDR, not from a 2 of ours.
		{"no decimals", Money{1999, "JPY"}, "JP¥1,999"},
		{"three decimals", Money{1999, "KWD"}, "KWD\u00a01.999"},
		{"unknown currency", Money{1999, "XYZ"}, "XYZ 1999 (minor units)"},
		{"no currency", Money{1999, ""}, " 1999 (minor units)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("%+v.String() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSymbolsTellCurrenciesApart: a shopper who sees an amount knows which of the
// shop's currencies it is in, the two dollars included.
func TestSymbolsTellCurrenciesApart(t *testing.T) {
	seen := map[string]string{}
	for _, code := range Currencies {
		s := Money{100, code}.String()
		if other, ok := seen[s]; ok {
			t.Errorf("%s and %s are both written %q", other, code, s)
		}
		seen[s] = code
	}
}

func TestMoneyDecimal(t *testing.T) {
	tests := []struct {
		in   Money
		want string
	}{
		{Money{5, "USD"}, "0.05"},
		{Money{1999, "USD"}, "19.99"},
		{Money{0, "GBP"}, "0.00"},
		{Money{123456789, "EUR"}, "1234567.89"},
		{Money{4600, "CAD"}, "46.00"},
		{Money{-10, "USD"}, "-0.10"},
		{Money{1999, "JPY"}, "1999"},
		{Money{1999, "KWD"}, "1.999"},
		{Money{1999, "XYZ"}, "1999"},
	}
	for _, tc := range tests {
		if got := tc.in.Decimal(); got != tc.want {
			t.Errorf("%+v.Decimal() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"USD", "USD", true},
		{"eur", "EUR", true},
		{"Gbp", "GBP", true},
		{"CAD", "CAD", true},
		{"JPY", "", false},
		{"", "", false},
		{"EURO", "", false},
		{"uſd", "", false},
		{" EUR", "", false},
	}
	for _, tc := range tests {
		got, ok := ParseCurrency(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseCurrency(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestGuessCurrency(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"Austrian German", "de-AT", "EUR"},
		{"Canadian French", "fr-CA", "CAD"},
		{"British English", "en-GB", "GBP"},
		{"English", "en", "USD"},
		{"American English", "en-US", "USD"},
		{"Irish English", "en-IE", "EUR"},
		{"Spanish of Spain", "es-ES", "EUR"},
		{"German, region inferred", "de", "EUR"},
		{"any language", "*", "USD"},
		{"none", "", "USD"},
		{"weights order the preferences", "en-US;q=0.5, fr-CA;q=0.9", "CAD"},
		{"a typical browser", "en-GB,en-US;q=0.9,en;q=0.8", "GBP"},
		{"a region whose currency is not sold falls to the next", "ja-JP, de-AT;q=0.7", "EUR"},
		{"only currencies not sold", "de-CH, ja", "USD"},
		{"q=0 means not wanted", "en-GB;q=0, fr-CA;q=0.1", "CAD"},
		{"case does not matter", "EN-gb", "GBP"},
		{"malformed weight", "en-GB;q=x", "USD"},
		{"malformed tag", "!!!", "USD"},
		{"only separators", ";;;,,,", "USD"},
		{"control characters", "en-GB\x00", "USD"},
		{"far too long", "en-GB," + strings.Repeat("de-AT,", 200), "USD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := GuessCurrency(tc.header); got != tc.want {
				t.Errorf("GuessCurrency(%q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

// TestExponentsAgree: the orchestrate client, which keeps to the standard library,
// has its own table of exponents for converting to major units; it must agree with
// CLDR's for every currency the shop sells in.
func TestExponentsAgree(t *testing.T) {
	for _, code := range Currencies {
		cldr, ok := Exponent(code)
		if !ok {
			t.Errorf("CLDR does not know %s", code)
			continue
		}
		if got := orchestrate.Currency(code).Exponent(); got != cldr {
			t.Errorf("orchestrate says %s has %d decimals, CLDR %d", code, got, cldr)
		}
	}
}
