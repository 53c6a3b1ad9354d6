// Shipping addresses: what the checkout collects, checked against the country's
// format (address_formats.go) before an order stores it.

package orders

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Address is where an order ships, as the shopper confirmed it. Country is an
// ISO 3166-1 alpha-2 code; Region is a code of the country's list, or "".
// Recipient "" is the order's customer (see Order.ShipsTo), so correcting
// one's name at checkout changes who it ships to without changing the address.
type Address struct {
	Recipient  string `db:"ship_recipient"`
	Line1      string `db:"ship_line1"`
	Line2      string `db:"ship_line2"`
	City       string `db:"ship_city"`
	Region     string `db:"ship_region"`
	PostalCode string `db:"ship_postal_code"`
	Country    string `db:"ship_country"`
}

// DefaultShipTo is the countries shipped to when the merchant sets none: the
// United States, Canada, the United Kingdom and the euro area.
var DefaultShipTo = []string{"US", "CA", "GB", "AT", "BE", "HR", "CY", "EE", "FI", "FR", "DE", "GR",
	"IE", "IT", "LV", "LT", "LU", "MT", "NL", "PT", "SK", "SI", "ES"}

// FormatOf returns the address format of country (an upper-case ISO code), or
// nil when the shop knows none and so cannot ship there.
func FormatOf(country string) *AddressFormat { return addressFormats[country] }

// ParseShipTo reads a comma-separated list of ISO country codes, in any case,
// and returns them upper-cased without repeats; it fails naming a code the
// address table does not hold, or for an empty list.
func ParseShipTo(s string) ([]string, error) {
	var out, unknown []string
	for _, f := range strings.Split(s, ",") {
		code := strings.ToUpper(strings.TrimSpace(f))
		switch {
		case code == "" || slices.Contains(out, code):
		case FormatOf(code) == nil:
			unknown = append(unknown, code)
		default:
			out = append(out, code)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown or unsupported country codes %s: %w", strings.Join(unknown, ", "), ErrInvalid)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no country to ship to: %w", ErrInvalid)
	}
	return out, nil
}

// Maximum lengths of an address's fields, in characters.
const (
	maxAddressLine = 100
	maxPostalCode  = 16
)

// Normalize returns the address as an order stores it, checked against its
// country's format, or a message per invalid field (keyed "recipient", "line1",
// "line2", "city", "region", "postal_code", "country") when shipTo does not
// hold the country or a field is missing, too long, holds a character
// CheckText refuses, or (postal code, region) does not fit the format. Spaces
// are trimmed and runs of them folded; a postal code is upper-cased (every
// format here writes letters in capitals) with a country prefix ("FI-")
// dropped.
func (a Address) Normalize(shipTo []string) (Address, map[string]string) {
	errs := map[string]string{}
	text := func(key, label, v string, required bool) string {
		if err := CheckText(v); err != nil {
			errs[key] = label + " contains a control, invisible or formatting character (shown as �). Remove it and try again."
			return v
		}
		v = strings.Join(strings.Fields(v), " ")
		switch {
		case v == "" && required:
			errs[key] = "Enter the " + strings.ToLower(label) + "."
		case utf8.RuneCountInString(v) > maxAddressLine:
			errs[key] = fmt.Sprintf("%s must be %d characters or fewer.", label, maxAddressLine)
		}
		return v
	}
	out := Address{
		Recipient: text("recipient", "Recipient", a.Recipient, true),
		Line1:     text("line1", "Address line 1", a.Line1, true),
		Line2:     text("line2", "Address line 2", a.Line2, false),
		City:      text("city", "City", a.City, true),
		Country:   strings.ToUpper(strings.TrimSpace(a.Country)),
	}
	f := FormatOf(out.Country)
	if f == nil || !slices.Contains(shipTo, out.Country) {
		errs["country"] = "Choose a country we ship to."
		return out, errs
	}

	postal := strings.ToUpper(text("postal_code", f.PostalLabel, a.PostalCode, f.PostalRequired))
	if f.PostalPrefix != "" && !f.Postal.MatchString(postal) {
		postal = strings.TrimPrefix(postal, f.PostalPrefix)
	}
	out.PostalCode = postal
	if _, bad := errs["postal_code"]; !bad && postal != "" &&
		(len(postal) > maxPostalCode || !f.Postal.MatchString(postal)) {
		errs["postal_code"] = fmt.Sprintf("Enter a valid %s for %s.", strings.ToLower(f.PostalLabel), f.Name)
	}

	region := strings.TrimSpace(a.Region)
	switch {
	case f.RegionLabel == "":
		region = "" // the country has no region field
	case region == "":
		if f.RegionRequired {
			errs["region"] = "Choose the " + strings.ToLower(f.RegionLabel) + "."
		}
	case !slices.ContainsFunc(f.Regions, func(r Region) bool { return r.Code == region }):
		errs["region"] = fmt.Sprintf("Choose a %s of %s from the list.", strings.ToLower(f.RegionLabel), f.Name)
		region = MarkRefused(region)
	}
	out.Region = region
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

// ErrNoShipping is returned by a checkout whose shipping method is unknown,
// inactive or not offered in the order's currency.
var ErrNoShipping = fmt.Errorf("shipping method not offered: %w", ErrInvalid)

// Lines returns the address as printed on a parcel, one line per element, the
// recipient named name: "City, ST 12345" in the US and Canada, the postcode on
// its own line in the UK, "12345 City" elsewhere, then the country's name. An
// order made before shipping existed has no lines.
func (a Address) Lines(name string) []string {
	if a.Country == "" {
		return nil
	}
	lines := []string{name, a.Line1}
	if a.Line2 != "" {
		lines = append(lines, a.Line2)
	}
	country := a.Country
	if f := FormatOf(a.Country); f != nil {
		country = f.Name
	}
	switch a.Country {
	case "US", "CA":
		lines = append(lines, strings.TrimSpace(a.City+", "+a.Region+" "+a.PostalCode))
	case "GB":
		lines = append(lines, a.City, a.PostalCode)
	default:
		lines = append(lines, strings.TrimSpace(a.PostalCode+" "+a.City))
		if a.Region != "" {
			lines = append(lines, a.Region)
		}
	}
	return append(lines, country)
}
