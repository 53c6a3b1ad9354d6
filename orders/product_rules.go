// The rules a product the merchant creates or edits must meet: a slug for its
// URL, a name and a description shoppers read, and prices in each currency's own
// minor units, up to a sane maximum.

package orders

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// Limits of a product's text, in characters.
const (
	MaxSlugLength        = 100
	MaxProductNameLength = 200 // the products table's CHECK
	MaxDescriptionLength = 2000
)

// MaxPriceMajor is the highest price in major units of any currency: 1,000,000.00
// in a currency of two decimals (the product_prices table's CHECK).
const MaxPriceMajor = 1_000_000

// Errors of the product rules, each wrapping ErrInvalid, so a form can say which
// rule its input broke.
var (
	// ErrTooLong: a name or description over its limit.
	ErrTooLong = fmt.Errorf("text too long: %w", ErrInvalid)
	// ErrPriceFormat: a price that is not plain digits with one optional point.
	ErrPriceFormat = fmt.Errorf("price is not a plain decimal number: %w", ErrInvalid)
	// ErrPriceDecimals: more decimals than the currency has.
	ErrPriceDecimals = fmt.Errorf("price has more decimals than its currency: %w", ErrInvalid)
	// ErrPriceRange: zero, or above the maximum.
	ErrPriceRange = fmt.Errorf("price is not above zero and at most the maximum: %w", ErrInvalid)
)

// slugPattern is the products table's CHECK on a slug.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidSlug reports whether s may name a product in URLs: lower-case ASCII
// letters and digits in words joined by single hyphens, at most MaxSlugLength.
func ValidSlug(s string) bool {
	return len(s) <= MaxSlugLength && slugPattern.MatchString(s)
}

// CleanProductName returns a product's name as the shop stores it, cleaned like
// a person's name by CleanName (spaces collapsed, compatibility forms folded). It
// returns ErrBadText for what CheckText refuses, ErrTooLong over
// MaxProductNameLength, and ErrInvalid for a name empty once cleaned.
func CleanProductName(s string) (string, error) {
	name, err := CleanName(s)
	if err != nil {
		return "", err
	}
	if utf8.RuneCountInString(name) > MaxProductNameLength {
		return "", fmt.Errorf("product name of %d characters: %w", utf8.RuneCountInString(name), ErrTooLong)
	}
	return name, nil
}

// CleanDescription returns a product's description as the shop stores it: line
// breaks as "\n" (a browser sends a text area's as "\r\n"), without surrounding
// space. It returns ErrBadText when a line holds a character CheckText refuses
// (a lone carriage return is one), and ErrTooLong over MaxDescriptionLength.
func CleanDescription(s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	for line := range strings.SplitSeq(s, "\n") {
		if err := CheckText(line); err != nil {
			return "", err
		}
	}
	if utf8.RuneCountInString(s) > MaxDescriptionLength {
		return "", fmt.Errorf("description of %d characters: %w", utf8.RuneCountInString(s), ErrTooLong)
	}
	return s, nil
}

// PriceDecimals returns how many decimals a price in currency has (its minor
// units per major unit are 10^PriceDecimals), or -1 for a currency the shop does
// not sell in.
func PriceDecimals(currency string) int {
	exp, ok := Exponent(currency)
	if !slices.Contains(Currencies, currency) || !ok {
		return -1
	}
	return exp
}

// MaxPrice returns the highest price in currency's minor units, MaxPriceMajor in
// major units, and false for a currency the shop does not sell in.
func MaxPrice(currency string) (int64, bool) {
	exp := PriceDecimals(currency)
	if exp < 0 {
		return 0, false
	}
	max := int64(MaxPriceMajor)
	for range exp {
		max *= 10
	}
	return max, true
}

// PriceInput is minor units of currency in major units with the currency's own
// decimals and no symbol ("32.00"), as a price is typed into a form.
func PriceInput(minor int64, currency string) string {
	return Money{Minor: minor, Currency: currency}.Decimal()
}

// plainDecimal is digits with at most one point between digits.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// ParsePrice reads a price typed in major units of currency ("32", "32.5",
// "32.00"; surrounding spaces ignored) into minor units, never through a float.
// It returns ErrPriceFormat for anything but plain digits with one optional
// point (no signs, symbols or thousands separators), ErrPriceDecimals for more
// decimals than the currency has, ErrPriceRange for zero or more than
// MaxPrice, and ErrInvalid for a currency the shop does not sell in.
func ParsePrice(s, currency string) (int64, error) {
	exp := PriceDecimals(currency)
	if exp < 0 {
		return 0, fmt.Errorf("currency %q: %w", currency, ErrInvalid)
	}
	s = strings.TrimSpace(s)
	if !plainDecimal.MatchString(s) {
		return 0, ErrPriceFormat
	}
	if _, frac, _ := strings.Cut(s, "."); len(frac) > exp {
		return 0, fmt.Errorf("%w (%d, %s has %d)", ErrPriceDecimals, len(frac), currency, exp)
	}
	minor, err := orchestrate.ParseAmount(s, orchestrate.Currency(currency))
	if errors.Is(err, orchestrate.ErrInvalidAmount) {
		return 0, ErrPriceRange // well-formed, so too many digits for an int64
	}
	if err != nil {
		return 0, fmt.Errorf("price in %s: %w", currency, err)
	}
	if max, _ := MaxPrice(currency); minor <= 0 || minor > max {
		return 0, ErrPriceRange
	}
	return minor, nil
}
