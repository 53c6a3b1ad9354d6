package views

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/static"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestCartGolden pins the cart page's HTML, including a line in error and names
// that need escaping, so a faster renderer cannot change a byte of it.
func TestCartGolden(t *testing.T) {
	p := cartPage20()
	p.Lines[0].Name = `Mug "big" & <small> 'one'`
	p.Lines[0].ProductID = 123456
	p.Lines[1].Image = "img/../img/kettle.svg"
	p.Error, p.ErrorProductID, p.ErrorQuantity = "Enter a quantity from 0 to 99.", 3, `"><script>`
	p.CSRFToken = `tok&"en`
	var buf bytes.Buffer
	if err := Cart(p).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	// The asset version changes with every static file; the golden must not.
	got := strings.ReplaceAll(buf.String(), "?v="+static.Version, "?v=VERSION")
	const golden = "testdata/cart.golden.html"
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
		t.Errorf("cart page differs from %s:\ngot  %s\nwant %s", golden, got, want)
	}
}
