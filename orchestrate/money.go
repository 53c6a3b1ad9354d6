package orchestrate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Currency is an ISO 4217 currency code that Orchestrate accepts.
type Currency string

// The currencies Orchestrate supports (API.md: "USD, EUR, GBP, CAD only").
const (
	USD Currency = "USD"
	EUR Currency = "EUR"
	GBP Currency = "GBP"
	CAD Currency = "CAD"
)

// ErrUnsupportedCurrency is returned (wrapped) by ParseCurrency, ParseAmount and
// the payment methods for a currency Orchestrate does not support.
var ErrUnsupportedCurrency = errors.New("orchestrate: unsupported currency")

// ErrInvalidAmount is returned (wrapped) by ParseAmount and by payment decoding
// when an amount is not an exact, non-negative decimal in the currency's units.
var ErrInvalidAmount = errors.New("orchestrate: invalid amount")

// ParseCurrency returns the Currency for code, ignoring case ("usd" is USD).
// It returns an error wrapping ErrUnsupportedCurrency for any other code,
// including the empty string.
func ParseCurrency(code string) (Currency, error) {
	// Upper-case ASCII only: strings.ToUpper would also map non-ASCII letters
	// such as 'ſ' to 'S' and accept "uſd" as USD.
	upper := []byte(code)
	for i, b := range upper {
		if 'a' <= b && b <= 'z' {
			upper[i] = b - ('a' - 'A')
		}
	}
	c := Currency(upper)
	if c.Exponent() < 0 {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedCurrency, truncate(code, 40))
	}
	return c, nil
}

// Exponent returns how many minor-unit digits c has (2 for all supported
// currencies: 1999 minor units of USD are $19.99), or -1 if c is not a
// supported currency. Exponent does not normalise case: use ParseCurrency on
// untrusted input.
func (c Currency) Exponent() int {
	// A switch rather than a map keeps this table immutable and in one place;
	// add a currency here (and to the constants) if Orchestrate adds one.
	switch c {
	case USD, EUR, GBP, CAD:
		return 2
	default:
		return -1
	}
}

// FormatAmount formats minor units of c as a decimal string in major units
// with exactly c.Exponent() decimals: FormatAmount(1999, USD) is "19.99",
// FormatAmount(5, USD) is "0.05", FormatAmount(-5, USD) is "-0.05". The result
// is also valid JSON number text, which is how the client sends amounts.
//
// FormatAmount returns "" if c is not supported, since there is no correct
// way to place the decimal point; "" is not a valid JSON number, so such an
// amount can never be sent by accident.
func FormatAmount(minor int64, c Currency) string {
	exp := c.Exponent()
	if exp < 0 {
		return ""
	}
	// Work on the decimal digits of the magnitude, never on a float, so the
	// text is exact for every int64 (including math.MinInt64, whose magnitude
	// does not fit in an int64 but does in a uint64).
	neg := minor < 0
	mag := uint64(minor)
	if neg {
		mag = -mag
	}
	digits := strconv.FormatUint(mag, 10)
	if exp == 0 {
		if neg {
			return "-" + digits
		}
		return digits
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	cut := len(digits) - exp
	s := digits[:cut] + "." + digits[cut:]
	if neg {
		return "-" + s
	}
	return s
}

// ParseAmount parses s, a non-negative decimal amount in major units of c
// ("19.99", "500.0", "1000"), into integer minor units (1999, 50000, 100000)
// by reading the decimal digits, never through a float.
//
// It accepts only ASCII digits with at most one decimal point that has digits
// on both sides. Decimals beyond c.Exponent() are accepted only if they are
// zeros ("19.990" is exactly 1999), because the value is still exact;
// "19.999" is rejected since it cannot be represented in cents. Signs,
// exponents ("1e3"), whitespace, "NaN", the empty string and values that
// overflow int64 are rejected.
//
// It returns an error wrapping ErrInvalidAmount for a malformed amount, or
// ErrUnsupportedCurrency if c is not supported.
func ParseAmount(s string, c Currency) (int64, error) {
	exp := c.Exponent()
	if exp < 0 {
		return 0, fmt.Errorf("%w: %q", ErrUnsupportedCurrency, string(c))
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasPoint && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q is not a plain decimal number", ErrInvalidAmount, truncate(s, 40))
	}
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return 0, fmt.Errorf("%w: %q has more than %d decimals for %s", ErrInvalidAmount, truncate(s, 40), exp, c)
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	// Both parts are plain digits here, so ParseInt only fails on overflow.
	minor, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is out of range", ErrInvalidAmount, truncate(s, 40))
	}
	return minor, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes (on a rune boundary, replacing
// invalid UTF-8) so that hostile input cannot make error messages huge.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
