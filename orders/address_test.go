package orders_test

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orders"
)

// TestAddressPerDefaultCountry: every default country accepts an address in its
// format, normalised (postal code upper-cased, spaces folded), and refuses a
// postal code not in its pattern; a country that requires a region refuses an
// address without one.
func TestAddressPerDefaultCountry(t *testing.T) {
	tests := []struct {
		country, good, want, bad, region string
	}{
		{"US", "94103-1234", "94103-1234", "9410", "CA"},
		{"CA", " k1a 0b1 ", "K1A 0B1", "D1A 0B1", "ON"},
		{"GB", "sw1a 1aa", "SW1A 1AA", "QQ1 1AA", ""},
		{"AT", "1010", "1010", "10100", ""},
		{"BE", "1000", "1000", "100", ""},
		{"HR", "HR-10000", "10000", "1000", ""},
		{"CY", "1010", "1010", "A010", ""},
		{"EE", "10111", "10111", "1011", ""},
		{"FI", "fi-00100", "00100", "001000", ""},
		{"FR", "75001", "75001", "7500A", ""},
		{"DE", "10115", "10115", "1011", ""},
		{"GR", "105 57", "105 57", "1055", ""},
		{"IE", "d02 x285", "D02 X285", "D02-X285", "Co. Dublin"},
		{"IT", "00184", "00184", "0018", "RM"},
		{"LV", "lv-1050", "LV-1050", "1050", ""},
		{"LT", "LT-01100", "01100", "0110", ""},
		{"LU", "L-1111", "1111", "11111", ""},
		{"MT", "vlt 1117", "VLT 1117", "V 1117", ""},
		{"NL", "1012 ab", "1012 AB", "AB 1012", ""},
		{"PT", "1100-148", "1100-148", "1100148", ""},
		{"SK", "811 01", "811 01", "81", ""},
		{"SI", "SI-1000", "1000", "100", ""},
		{"ES", "28013", "28013", "2801", "Madrid"},
	}
	var covered []string
	for _, tt := range tests {
		covered = append(covered, tt.country)
		t.Run(tt.country, func(t *testing.T) {
			in := orders.Address{Recipient: "  Ann   Lee ", Line1: "1 Main  St", City: "Town",
				Region: tt.region, PostalCode: tt.good, Country: strings.ToLower(tt.country)}
			got, errs := in.Normalize(orders.DefaultShipTo)
			if errs != nil {
				t.Fatalf("good address: %v", errs)
			}
			want := orders.Address{Recipient: "Ann Lee", Line1: "1 Main St", City: "Town",
				Region: tt.region, PostalCode: tt.want, Country: tt.country}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("normalised (-want +got):\n%s", diff)
			}

			in.PostalCode = tt.bad
			if _, errs := in.Normalize(orders.DefaultShipTo); errs["postal_code"] == "" {
				t.Errorf("postal code %q accepted", tt.bad)
			}
			f := orders.FormatOf(tt.country)
			in.PostalCode = ""
			if _, errs := in.Normalize(orders.DefaultShipTo); (errs["postal_code"] != "") != f.PostalRequired {
				t.Errorf("no postal code: errors %v, required %v", errs, f.PostalRequired)
			}
			in.PostalCode, in.Region = tt.good, ""
			if _, errs := in.Normalize(orders.DefaultShipTo); (errs["region"] != "") != f.RegionRequired {
				t.Errorf("no region: errors %v, required %v", errs, f.RegionRequired)
			}
			if len(f.Regions) > 0 {
				in.Region = "Atlantis"
				if _, errs := in.Normalize(orders.DefaultShipTo); errs["region"] == "" {
					t.Error("a region not in the list accepted")
				}
			}
		})
	}
	sort.Strings(covered)
	defaults := slices.Clone(orders.DefaultShipTo)
	sort.Strings(defaults)
	if diff := cmp.Diff(defaults, covered); diff != "" {
		t.Errorf("default countries not covered (-defaults +covered):\n%s", diff)
	}
}

// TestAddressRefusesHostileAndMissing: required fields, characters CheckText
// refuses, overlong lines and countries not shipped to are each named.
func TestAddressRefusesHostileAndMissing(t *testing.T) {
	good := orders.Address{Recipient: "Ann", Line1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}
	tests := []struct {
		name   string
		change func(*orders.Address)
		shipTo []string
		field  string
	}{
		{"no recipient", func(a *orders.Address) { a.Recipient = " " }, nil, "recipient"},
		{"no line 1", func(a *orders.Address) { a.Line1 = "" }, nil, "line1"},
		{"no city", func(a *orders.Address) { a.City = "" }, nil, "city"},
		{"no state", func(a *orders.Address) { a.Region = "" }, nil, "region"},
		{"state not in list", func(a *orders.Address) { a.Region = "XX" }, nil, "region"},
		{"NUL in line 1", func(a *orders.Address) { a.Line1 = "1 Main\x00St" }, nil, "line1"},
		{"bidi override in city", func(a *orders.Address) { a.City = "Aus\u202etin" }, nil, "city"},
		{"newline in line 2", func(a *orders.Address) { a.Line2 = "a\nb" }, nil, "line2"},
		{"invalid UTF-8 postal code", func(a *orders.Address) { a.PostalCode = "787\xff1" }, nil, "postal_code"},
		{"overlong line", func(a *orders.Address) { a.Line1 = strings.Repeat("x", 101) }, nil, "line1"},
		{"overlong postal code", func(a *orders.Address) { a.PostalCode = strings.Repeat("7", 40) }, nil, "postal_code"},
		{"unknown country", func(a *orders.Address) { a.Country = "ZZ" }, nil, "country"},
		{"country not shipped to", func(a *orders.Address) {}, []string{"CA"}, "country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good
			tt.change(&a)
			shipTo := tt.shipTo
			if shipTo == nil {
				shipTo = orders.DefaultShipTo
			}
			_, errs := a.Normalize(shipTo)
			if errs[tt.field] == "" {
				t.Errorf("errors %v, want one for %s", errs, tt.field)
			}
		})
	}
	if _, errs := good.Normalize(orders.DefaultShipTo); errs != nil {
		t.Errorf("good address refused: %v", errs)
	}
}

// TestParseShipTo: codes in any case, repeats dropped; an unknown code is an
// error naming it.
func TestParseShipTo(t *testing.T) {
	got, err := orders.ParseShipTo(" us, ca ,US,de")
	if err != nil || !slices.Equal(got, []string{"US", "CA", "DE"}) {
		t.Errorf("ParseShipTo = %v, %v", got, err)
	}
	if _, err := orders.ParseShipTo("US,XX"); !errors.Is(err, orders.ErrInvalid) || !strings.Contains(err.Error(), "XX") {
		t.Errorf("ParseShipTo(US,XX) = %v, want ErrInvalid naming XX", err)
	}
	if _, err := orders.ParseShipTo(" , "); err == nil {
		t.Error("an empty list accepted")
	}
}
