package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// TestAdminProductsList: the list shows every product, active or not, with its
// price in each of the four currencies ("—" where it has none), its stock
// (available of on hand, "Sold out" at none, or untracked), its status, and a
// link to its page.
func TestAdminProductsList(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	a.exec(t, `DELETE FROM product_prices WHERE product_id = $1::bigint AND currency = 'GBP'`, ids["brass-scoop"])
	a.exec(t, `UPDATE products SET active = false WHERE id = $1::bigint`, ids["linen-towel"])
	a.exec(t, `INSERT INTO stock (product_id, on_hand, held) VALUES ($1::bigint, 12, 3), ($2::bigint, 2, 2)`, ids["enamel-mug"], ids["brass-scoop"])
	p := a.newAdmin(t).get("/admin/products")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/products = %d", p.StatusCode)
	}
	var heads []string
	p.doc.Find("#products thead th").Each(func(_ int, th *goquery.Selection) { heads = append(heads, th.Text()) })
	if diff := cmp.Diff([]string{"Product", "USD", "EUR", "GBP", "CAD", "Stock", "Status"}, heads); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	rows := map[string][]string{}
	var order []string
	p.doc.Find("#products tbody tr").Each(func(_ int, tr *goquery.Selection) {
		slug, _ := tr.Attr("data-slug")
		order = append(order, slug)
		var cells []string
		tr.Find("td").Each(func(i int, td *goquery.Selection) {
			if i > 0 {
				cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
			}
		})
		rows[slug] = cells
		if href, _ := tr.Find("td a").Attr("href"); href != "/admin/products/"+ids[slug] {
			t.Errorf("%s links to %q, want its page", slug, href)
		}
	})
	wantOrder := []string{"pour-over-dripper", "house-blend-beans", "enamel-mug", "gooseneck-kettle", "brass-scoop", "linen-towel"}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("products in display order (-want +got):\n%s", diff)
	}
	want := map[string][]string{
		"enamel-mug":  {"US$19.99", "€19.00", "£16.00", "CA$27.00", "9 of 12", "Active"},
		"brass-scoop": {"US$14.00", "€13.00", "—", "CA$19.00", "0 of 2 Sold out", "Active"},
		"linen-towel": {"US$12.00", "€12.00", "£10.00", "CA$16.00", "Untracked", "Inactive"},
	}
	for slug, w := range want {
		if diff := cmp.Diff(w, rows[slug]); diff != "" {
			t.Errorf("%s's row (-want +got):\n%s", slug, diff)
		}
	}
	if href, _ := p.doc.Find("#new-product").Attr("href"); href != "/admin/products/new" {
		t.Errorf("the new product link goes to %q", href)
	}
}
