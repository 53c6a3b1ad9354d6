// Money: amounts in integer minor units and how they are shown to a shopper.

package orders

import (
	"strconv"
	"strings"
)

// Money is an amount in integer minor units (cents) of a currency. Inside the app
// money never exists in any other form; the orchestrate client converts it to the
// API's major units at the boundary.
type Money struct {
	Minor    int64
	Currency string
}

// currencySymbols holds the display prefix of each currency Orchestrate supports.
var currencySymbols = map[string]string{
	"USD": "$",
	"EUR": "€",
	"GBP": "£",
	"CAD": "CA$",
}

// String formats m for a shopper, for example "$19.99" or "€1,234.50". Negative
// amounts keep their sign before the symbol.
func (m Money) String() string {
	sign := ""
	minor := m.Minor
	if minor < 0 {
		sign, minor = "-", -minor
	}
	symbol, ok := currencySymbols[m.Currency]
	if !ok {
		symbol = m.Currency + " "
	}
	return sign + symbol + groupThousands(minor/100) + "." + twoDigits(minor%100)
}

// Decimal formats m as plain major units with two decimals ("1234.50"), the form
// used in exports.
func (m Money) Decimal() string {
	sign := ""
	minor := m.Minor
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return sign + strconv.FormatInt(minor/100, 10) + "." + twoDigits(minor%100)
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
