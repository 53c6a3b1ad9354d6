// Money: amounts in integer minor units and how they are shown to a shopper.

package orders

import (
	"strconv"

	"github.com/bojanz/currency"
)

// Money is an amount in integer minor units of a currency (cents for the four
// the shop sells in; the currency's exponent says how many digits, from CLDR).
// Inside the app money never exists in any other form; the orchestrate client
// converts it to the API's major units at the boundary.
type Money struct {
	Minor    int64
	Currency string
}

// displayLocale is the CLDR locale amounts are written in: English as spoken
// internationally (en-001), whose symbols tell the shop's dollar currencies apart
// — US$ and CA$, with € and £ — where "en" would write USD as a bare "$".
var displayLocale = currency.NewLocale("en-001")

// String formats m for a shopper with its currency's symbol, grouping and
// decimals as CLDR has them: "US$19.99", "€1,234.50", "£28.00", "CA$46.00",
// "-US$19.99". A currency CLDR does not know (never one the shop sells in) is
// shown as its code and the amount in minor units, since where its decimal point
// goes is unknown.
func (m Money) String() string {
	a, err := currency.NewAmountFromInt64(m.Minor, m.Currency)
	if err != nil {
		return m.Currency + " " + strconv.FormatInt(m.Minor, 10) + " (minor units)"
	}
	// A Formatter is cheap and not shared, so no package state is mutable.
	return currency.NewFormatter(displayLocale).Format(a)
}

// Decimal formats m as plain major units with as many decimals as its currency
// has ("1234.50" for USD), the form exports use beside a currency column. A
// currency CLDR does not know is written in minor units, as String says.
func (m Money) Decimal() string {
	a, err := currency.NewAmountFromInt64(m.Minor, m.Currency)
	if err != nil {
		return strconv.FormatInt(m.Minor, 10)
	}
	return a.Number()
}

// Symbol returns the symbol String writes for the currency code ("US$", "€"),
// or the code itself for one CLDR does not know.
func Symbol(code string) string {
	s, _ := currency.GetSymbol(code, displayLocale)
	return s
}

// Exponent returns how many decimals the currency code has (2 for all four the
// shop sells in), from CLDR, and false for a code it does not know.
func Exponent(code string) (int, bool) {
	d, ok := currency.GetDigits(code)
	return int(d), ok
}
