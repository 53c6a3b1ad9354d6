// Currencies: which ones the shop sells in, how a shopper's choice is read, and
// how a first visit's currency is guessed from the browser's languages.

package orders

import (
	"golang.org/x/text/currency"
	"golang.org/x/text/language"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// DefaultCurrency is the shop's currency for a shopper nothing else tells about.
const DefaultCurrency = "USD"

// ParseCurrency returns the currency code s names, in any case ("eur" is EUR),
// or false when the shop does not sell in it.
func ParseCurrency(s string) (string, bool) {
	c, err := orchestrate.ParseCurrency(s)
	if err != nil {
		return "", false
	}
	return string(c), true
}

// maxAcceptLanguage bounds the header GuessCurrency reads; a browser's is a few
// dozen bytes.
const maxAcceptLanguage = 512

// GuessCurrency guesses a first-time shopper's currency from their browser's
// Accept-Language header: the first language, by preference, whose region (said,
// or the likeliest for the language, as CLDR has it: "de" is Germany's) uses a
// currency the shop sells in — a euro-area region gives EUR, GB gives GBP, CA
// gives CAD, US gives USD. Anything else, an empty or malformed header
// included, is DefaultCurrency.
func GuessCurrency(acceptLanguage string) string {
	if acceptLanguage == "" || len(acceptLanguage) > maxAcceptLanguage {
		return DefaultCurrency
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return DefaultCurrency
	}
	for _, tag := range tags { // most preferred first; q=0 ones are left out
		region, conf := tag.Region()
		if conf == language.No {
			continue // "*" and "und" say nothing of a place
		}
		unit, ok := currency.FromRegion(region)
		if !ok {
			continue
		}
		if code, ok := ParseCurrency(unit.String()); ok {
			return code
		}
	}
	return DefaultCurrency
}
