package orchestrate

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var allCurrencies = []Currency{USD, EUR, GBP, CAD}

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Currency
		wantErr bool
	}{
		{name: "USD", in: "USD", want: USD},
		{name: "EUR", in: "EUR", want: EUR},
		{name: "GBP", in: "GBP", want: GBP},
		{name: "CAD", in: "CAD", want: CAD},
		{name: "lower case", in: "usd", want: USD},
		{name: "mixed case", in: "cAd", want: CAD},
		{name: "unsupported", in: "JPY", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "whitespace", in: " USD", wantErr: true},
		{name: "too long", in: "USDX", wantErr: true},
		{name: "non-ascii fold", in: "uſd", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCurrency(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnsupportedCurrency) {
					t.Errorf("ParseCurrency(%q) = %q, %v; want ErrUnsupportedCurrency", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseCurrency(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestExponent(t *testing.T) {
	for _, c := range allCurrencies {
		if got := c.Exponent(); got != 2 {
			t.Errorf("%s.Exponent() = %d, want 2", c, got)
		}
	}
	for _, c := range []Currency{"", "JPY", "usd"} {
		if got := c.Exponent(); got != -1 {
			t.Errorf("Currency(%q).Exponent() = %d, want -1", c, got)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		name  string
		minor int64
		want  string
	}{
		{name: "zero", minor: 0, want: "0.00"},
		{name: "one cent", minor: 1, want: "0.01"},
		{name: "five cents", minor: 5, want: "0.05"},
		{name: "ten cents", minor: 10, want: "0.10"},
		{name: "one unit", minor: 100, want: "1.00"},
		{name: "cents", minor: 1999, want: "19.99"},
		{name: "float trap", minor: 29, want: "0.29"},
		{name: "large", minor: 99999999999, want: "999999999.99"},
		{name: "max int64", minor: math.MaxInt64, want: "92233720368547758.07"},
		{name: "negative", minor: -5, want: "-0.05"},
		{name: "negative units", minor: -1999, want: "-19.99"},
		{name: "min int64", minor: math.MinInt64, want: "-92233720368547758.08"},
	}
	for _, tt := range tests {
		for _, c := range allCurrencies {
			t.Run(tt.name+"/"+string(c), func(t *testing.T) {
				if got := FormatAmount(tt.minor, c); got != tt.want {
					t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.minor, c, got, tt.want)
				}
			})
		}
	}
	if got := FormatAmount(100, "JPY"); got != "" {
		t.Errorf("FormatAmount(100, JPY) = %q, want \"\" for an unsupported currency", got)
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{name: "one cent", in: "0.01", want: 1},
		{name: "integer", in: "1", want: 100},
		{name: "two decimals", in: "1.00", want: 100},
		{name: "large", in: "999999999.99", want: 99999999999},
		{name: "quickstart string", in: "500.0", want: 50000},
		{name: "one decimal", in: "19.9", want: 1990},
		{name: "integer thousand", in: "1000", want: 100000},
		{name: "zero", in: "0", want: 0},
		{name: "zero decimals", in: "0.00", want: 0},
		{name: "cents", in: "19.99", want: 1999},
		// float64(0.29)*100 is 28.999999999999996: decimal parsing is exact.
		{name: "float trap 0.29", in: "0.29", want: 29},
		{name: "float trap 1.15", in: "1.15", want: 115},
		{name: "float trap 4.35", in: "4.35", want: 435},
		{name: "trailing zero decimals are exact", in: "19.990", want: 1999},
		{name: "many trailing zeros", in: "1.000000000000000000000", want: 100},
		{name: "leading zeros", in: "007.50", want: 750},
		{name: "max int64", in: "92233720368547758.07", want: math.MaxInt64},
	}
	for _, tt := range tests {
		for _, c := range allCurrencies {
			t.Run(tt.name+"/"+string(c), func(t *testing.T) {
				got, err := ParseAmount(tt.in, c)
				if err != nil || got != tt.want {
					t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tt.in, c, got, err, tt.want)
				}
			})
		}
	}
}

func TestParseAmountRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "too many decimals", in: "19.999"},
		{name: "third decimal one", in: "0.001"},
		{name: "negative", in: "-1"},
		{name: "negative zero", in: "-0"},
		{name: "plus sign", in: "+1"},
		{name: "exponent", in: "1e3"},
		{name: "upper exponent", in: "1E3"},
		{name: "decimal exponent", in: "1.5e2"},
		{name: "empty", in: ""},
		{name: "letters", in: "abc"},
		{name: "two points", in: "1.2.3"},
		{name: "leading space", in: " 1"},
		{name: "trailing space", in: "1 "},
		{name: "NaN", in: "NaN"},
		{name: "infinity", in: "Inf"},
		{name: "bare point", in: "."},
		{name: "no whole part", in: ".5"},
		{name: "no fraction", in: "5."},
		{name: "comma", in: "1,00"},
		{name: "thousands separator", in: "1,000.00"},
		{name: "hex", in: "0x10"},
		{name: "underscore", in: "1_000"},
		{name: "unicode digit", in: "١٢"},
		{name: "overflow", in: "92233720368547758.08"},
		{name: "huge", in: strings.Repeat("9", 40)},
		{name: "currency symbol", in: "$1.00"},
	}
	for _, tt := range tests {
		for _, c := range allCurrencies {
			t.Run(tt.name+"/"+string(c), func(t *testing.T) {
				got, err := ParseAmount(tt.in, c)
				if !errors.Is(err, ErrInvalidAmount) {
					t.Errorf("ParseAmount(%q, %s) = %d, %v; want ErrInvalidAmount", tt.in, c, got, err)
				}
			})
		}
	}
	t.Run("unsupported currency", func(t *testing.T) {
		if _, err := ParseAmount("1.00", "JPY"); !errors.Is(err, ErrUnsupportedCurrency) {
			t.Errorf("ParseAmount(1.00, JPY) error = %v, want ErrUnsupportedCurrency", err)
		}
	})
	t.Run("error message is bounded", func(t *testing.T) {
		_, err := ParseAmount(strings.Repeat("x", 10_000), USD)
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("error for a 10 kB amount is %d bytes, want short", len(err.Error()))
		}
	})
}

// TestAmountRoundTrip checks ParseAmount(FormatAmount(m)) == m over every
// amount up to 200,000 minor units, the int64 edges, powers of ten, and
// random values.
func TestAmountRoundTrip(t *testing.T) {
	var amounts []int64
	for m := int64(0); m <= 200_000; m++ {
		amounts = append(amounts, m)
	}
	for p := int64(1); p <= math.MaxInt64/10; p *= 10 {
		amounts = append(amounts, p-1, p, p+1)
	}
	amounts = append(amounts, math.MaxInt64, math.MaxInt64-1)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		amounts = append(amounts, rng.Int64())
	}
	for _, c := range allCurrencies {
		for _, m := range amounts {
			s := FormatAmount(m, c)
			got, err := ParseAmount(s, c)
			if err != nil || got != m {
				t.Fatalf("ParseAmount(FormatAmount(%d, %s) = %q) = %d, %v", m, c, s, got, err)
			}
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0.01", "1", "1.00", "999999999.99", "500.0", "19.9", "1000", "0",
		"19.999", "-1", "1e3", "", "abc", "1.2.3", " 1", "NaN", "19.990", "92233720368547758.08", ".5", "5."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range allCurrencies {
			m, err := ParseAmount(s, c)
			if err != nil {
				if !errors.Is(err, ErrInvalidAmount) {
					t.Fatalf("ParseAmount(%q) error %v does not wrap ErrInvalidAmount", s, err)
				}
				continue
			}
			if m < 0 {
				t.Fatalf("ParseAmount(%q) = %d, negative", s, m)
			}
			// The canonical text parses back to the same amount.
			canon := FormatAmount(m, c)
			if back, err := ParseAmount(canon, c); err != nil || back != m {
				t.Fatalf("ParseAmount(%q) = %d, but FormatAmount gives %q which parses to %d, %v", s, m, canon, back, err)
			}
			// Accepted text is a plain decimal, so it equals the canonical
			// text up to leading zeros and trailing fraction zeros.
			if trimDecimal(s) != trimDecimal(canon) {
				t.Fatalf("ParseAmount(%q) = %d, canonical %q differs in value", s, m, canon)
			}
		}
	})
}

// trimDecimal normalises a plain decimal: no leading zeros in the whole part,
// no trailing zeros (or point) in the fraction.
func trimDecimal(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "cut", in: "abcdef", n: 3, want: "abc…"},
		{name: "rune boundary", in: "aé", n: 2, want: "a…"},
		{name: "invalid utf8", in: "a\xffb", n: 10, want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
