package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/static"
)

// absent removes a field from newProductFormWith's form.
const absent = "\x00absent"

// newProductFormWith is a valid new product form with the fields of set changed.
func newProductFormWith(set map[string]string) url.Values {
	form := url.Values{
		"name":        {"Cold brew jar"},
		"slug":        {"cold-brew-jar"},
		"description": {"One litre of glass.\r\nDishwasher safe."},
		"image":       {"img/mug.svg"},
		"active":      {"true"},
		"price_EUR":   {"24.00"},
		"price_GBP":   {"21"},
	}
	for k, v := range set {
		if v == absent {
			form.Del(k)
		} else {
			form.Set(k, v)
		}
	}
	return form
}

// TestAdminCreateProduct: the form offers every shipped image; a valid product is
// created (303 to its page, with a flash), with its prices, its creation and
// each price recorded at the app clock's time, and the shop lists it when it is
// active.
func TestAdminCreateProduct(t *testing.T) {
	a, _ := newProductApp(t)
	admin := a.newAdmin(t)

	p := admin.get("/admin/products/new")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/products/new = %d", p.StatusCode)
	}
	var images []string
	p.doc.Find(`input[type=radio][name=image]`).Each(func(_ int, in *goquery.Selection) {
		v, _ := in.Attr("value")
		images = append(images, v)
	})
	if diff := cmp.Diff(static.Images(), images); diff != "" || len(images) < 6 {
		t.Errorf("image choices (-shipped +offered):\n%s", diff)
	}
	if _, checked := p.doc.Find(`input[name=active]`).Attr("checked"); !checked {
		t.Error("a new product is not active by default")
	}
	for _, cur := range []string{"USD", "EUR", "GBP", "CAD"} {
		if p.doc.Find("#price_"+cur).Length() != 1 {
			t.Errorf("no price field for %s", cur)
		}
	}

	r := admin.post("/admin/products", newProductFormWith(nil))
	id := a.productIDs(t)["cold-brew-jar"]
	if r.StatusCode != http.StatusSeeOther || id == "" || r.Header.Get("Location") != "/admin/products/"+id {
		t.Fatalf("create = %d %q (id %q), want 303 to the new product; body %s", r.StatusCode, r.Header.Get("Location"), id, r.body)
	}
	if diff := cmp.Diff(map[string]int64{"EUR": 2400, "GBP": 2100}, a.prices(t, id)); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	var desc string
	if err := a.pool.QueryRow(t.Context(), `SELECT description FROM products WHERE id = $1::bigint`, id).Scan(&desc); err != nil || desc != "One litre of glass.\nDishwasher safe." {
		t.Errorf("description stored as %q (%v)", desc, err)
	}
	wantRecorded := []string{
		"merchant created -→Cold brew jar @2026-03-14 09:30:00",
		"merchant price EUR -→24.00 @2026-03-14 09:30:00",
		"merchant price GBP -→21.00 @2026-03-14 09:30:00",
	}
	if diff := cmp.Diff(wantRecorded, a.changesRecorded(t, id)); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
	page := admin.productPage(id)
	if got := strings.TrimSpace(page.doc.Find("#flash").Text()); got != "Cold brew jar is created with prices in EUR, GBP." {
		t.Errorf("flash = %q", got)
	}
	if got := changesShown(page); len(got) != 3 || got[2] != "2026-03-14 09:30:00 UTC | merchant | Created | none | Cold brew jar" {
		t.Errorf("changes shown = %q, want the creation last (oldest)", got)
	}
	if fieldValue(page, "price_EUR") != "24.00" || fieldValue(page, "price_USD") != "" {
		t.Errorf("the new product's page shows EUR %q and USD %q", fieldValue(page, "price_EUR"), fieldValue(page, "price_USD"))
	}
	list := admin.get("/admin/products")
	if list.doc.Find(`#products tr[data-slug="cold-brew-jar"]`).Length() != 1 {
		t.Error("the products list does not show the new product")
	}
	// Priced in EUR and GBP only: the shop offers it in those, not in USD.
	shopper := a.newShopper(t)
	if shop := shopper.get("/?currency=EUR"); shop.doc.Find(`input[name="product_id"][value="`+id+`"]`).Length() != 1 {
		t.Error("the shop in EUR does not list the new active product")
	}
	if shop := shopper.get("/?currency=USD"); shop.doc.Find(`input[name="product_id"][value="`+id+`"]`).Length() != 0 {
		t.Error("the shop in USD lists the new product, which has no USD price")
	}

	// Created inactive: the shop does not list it.
	admin.post("/admin/products", newProductFormWith(map[string]string{"slug": "hidden-jar", "active": absent}))
	hidden := a.productIDs(t)["hidden-jar"]
	if hidden == "" {
		t.Fatal("the inactive product was not created")
	}
	if a.newShopper(t).get("/?currency=EUR").doc.Find(`input[name="product_id"][value="`+hidden+`"]`).Length() != 0 {
		t.Error("the shop lists a product created inactive")
	}
}

// TestAdminCreateProductRefused: a new product the rules refuse — a bad or taken
// slug, a missing or hostile name, a hostile description, an image that is not
// shipped, no price or a bad one — is a 422 with the input kept and a message
// beside the field, and nothing is written.
func TestAdminCreateProductRefused(t *testing.T) {
	a, _ := newProductApp(t)
	admin := a.newAdmin(t)
	const (
		slugRule  = "A slug is lower-case letters (a–z) and digits, words joined by single hyphens, like enamel-mug."
		nameText  = "The name contains a character that is not allowed (shown as �): a control, invisible or formatting character, or bytes that are not text."
		descText  = "The description contains a character that is not allowed (shown as �): a control, invisible or formatting character, or bytes that are not text."
		noImage   = "Choose one of the images."
		noPrice   = "Give the product a price in at least one currency."
		eurFormat = "Enter the price in EUR as digits with an optional decimal point, like 32.00, without a currency sign or separators; or leave it empty."
	)
	tests := []struct {
		name     string
		set      map[string]string
		field    string // the field with the message
		want     string
		keptID   string // a field whose value must be kept
		keptWant string
	}{
		{"slug with capitals and spaces", map[string]string{"slug": "Cold Brew"}, "slug", slugRule, "slug", "Cold Brew"},
		{"slug with a double hyphen", map[string]string{"slug": "cold--brew"}, "slug", slugRule, "slug", "cold--brew"},
		{"slug with NUL", map[string]string{"slug": "cold\x00brew"}, "slug", slugRule, "slug", "cold\uFFFDbrew"},
		{"slug too long", map[string]string{"slug": strings.Repeat("a", 101)}, "slug", "The slug is too long: at most 100 characters.", "slug", strings.Repeat("a", 101)},
		{"no slug", map[string]string{"slug": ""}, "slug", "Enter a slug.", "", ""},
		{"taken slug", map[string]string{"slug": "enamel-mug"}, "slug", "Another product already has the slug enamel-mug. Choose another.", "slug", "enamel-mug"},
		{"no name", map[string]string{"name": "   "}, "name", "Enter the product's name.", "", ""},
		{"name with NUL", map[string]string{"name": "Jar\x00"}, "name", nameText, "name", "Jar\uFFFD"},
		{"name with invalid UTF-8", map[string]string{"name": "Jar\xff"}, "name", nameText, "name", "Jar\uFFFD"},
		{"name with an override", map[string]string{"name": "\u202eraJ"}, "name", nameText, "name", "\uFFFDraJ"},
		{"name too long", map[string]string{"name": strings.Repeat("é", 201)}, "name", "The name is too long: at most 200 characters.", "name", strings.Repeat("é", 201)},
		{"description with a tab", map[string]string{"description": "One\tlitre"}, "description", descText, "", ""},
		{"description with a zero-width space", map[string]string{"description": "One\u200blitre"}, "description", descText, "", ""},
		{"description too long", map[string]string{"description": strings.Repeat("a", 2001)}, "description", "The description is too long: at most 2000 characters.", "", ""},
		{"image not shipped", map[string]string{"image": "../../etc/passwd"}, "image", noImage, "", ""},
		{"no image", map[string]string{"image": absent}, "image", noImage, "", ""},
		{"no price", map[string]string{"price_EUR": "", "price_GBP": " "}, "price_USD", noPrice, "", ""},
		{"bad price", map[string]string{"price_EUR": "€24"}, "price_EUR", eurFormat, "price_EUR", "€24"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := a.dbState(t)
			p := admin.post("/admin/products", newProductFormWith(tc.set))
			if p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("create = %d, want 422; body %s", p.StatusCode, p.body)
			}
			if got := strings.TrimSpace(p.doc.Find("#" + tc.field + "-error").Text()); got != tc.want {
				t.Errorf("%s's message = %q, want %q", tc.field, got, tc.want)
			}
			if got := strings.TrimSpace(p.doc.Find(`#error-summary a[href="#` + tc.field + `"]`).Text()); got != tc.want {
				t.Errorf("the summary says %q for %s, want %q", got, tc.field, tc.want)
			}
			if p.doc.Find("#error-summary li").Length() != 1 {
				t.Errorf("the summary lists %d problems, want 1: %q", p.doc.Find("#error-summary li").Length(), p.doc.Find("#error-summary").Text())
			}
			if tc.keptID != "" {
				if got := fieldValue(p, tc.keptID); got != tc.keptWant {
					t.Errorf("%s kept as %q, want %q", tc.keptID, got, tc.keptWant)
				}
			}
			if got := strings.TrimSpace(p.doc.Find("#description").Text()); tc.field != "description" && got != "One litre of glass.\nDishwasher safe." {
				t.Errorf("description kept as %q", got)
			}
			if v, _ := p.doc.Find(`input[name=image][checked]`).Attr("value"); tc.field != "image" && v != "img/mug.svg" {
				t.Errorf("the chosen image kept as %q", v)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused form wrote (-before +after):\n%s", diff)
			}
		})
	}
}
