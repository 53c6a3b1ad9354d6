package views

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/orchestrate-checkout/checkout/static"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestCartGolden pins the cart page's HTML, including a line in error, a line
// not sold in the cart's currency, short lines, a notice and names that need
// escaping, so a faster renderer cannot change a byte of it.
func TestCartGolden(t *testing.T) {
	p := cartPage20()
	p.Lines[0].Name = `Mug "big" & <small> 'one'`
	p.Lines[0].ProductID = 123456
	p.Lines[1].Image = "img/../img/kettle.svg"
	p.Error, p.ErrorProductID, p.ErrorQuantity = "Enter a quantity from 0 to 99.", 3, `"><script>`
	p.CSRFToken = `tok&"en`
	p.Lines[4].Unavailable, p.Lines[4].UnitPrice, p.Lines[4].LineTotal = true, "", "Not sold in GBP"
	p.Unavailable = "Not sold in GBP: Product number 5. Remove it to check out in GBP, or change the currency."
	p.Lines[2].Stock = "Sold out" // the line in error: described by both
	p.Lines[5].Stock = "Only 2 left"
	p.Notice = `Kettle "big": only 2 left, so your cart has 2, not 3.`
	p.Short = "Not enough in stock now: Product number 3 (sold out), Product number 6 (only 2 left). Lower those quantities before you check out."
	checkGolden(t, Cart(p), "testdata/cart.golden.html")
}

// TestCatalogGolden pins the catalog's HTML with and without forms (a page
// rendered without a CSRF token has none), with values that need escaping, a
// product sold out (no form) and one with few left.
func TestCatalogGolden(t *testing.T) {
	p := catalogPage(8)
	p.Products[0].Name = `Mug "big" & <small> 'one'`
	p.Products[0].Description = `Holds 350 ml; <b>not</b> "microwave" safe & 'dishwasher' safe`
	p.Products[0].ID = 123456
	p.Products[1].Image = "img/../img/kettle.svg"
	p.Products[2].Price = "<€19.99>"
	p.Products[3].SoldOut = true
	p.Products[4].Left = 3
	p.CSRFToken = `tok&"en`
	checkGolden(t, Catalog(p), "testdata/catalog.golden.html")
	p.CSRFToken = ""
	checkGolden(t, Catalog(p), "testdata/catalog-no-forms.golden.html")
}

// checkGolden renders c and compares it with the golden file (rewritten with -update).
func checkGolden(t *testing.T, c templ.Component, golden string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	// The asset version changes with every static file; the golden must not.
	got := strings.ReplaceAll(buf.String(), "?v="+static.Version, "?v=VERSION")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("page differs from %s:\ngot  %s\nwant %s", golden, got, want)
	}
}
