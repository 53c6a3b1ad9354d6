package views

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// cartPage20 is a cart page with 20 lines, the size the cart benchmarks render.
func cartPage20() CartPage {
	p := CartPage{Layout: Layout{Title: "Cart", StoreName: "Field Kettle", CartCount: 40}, Total: "$799.60", CSRFToken: "token"}
	for i := range 20 {
		p.Lines = append(p.Lines, CartLine{
			ProductID: int64(i + 1), Name: fmt.Sprintf("Product number %d", i+1), Image: "img/mug.svg",
			UnitPrice: "$19.99", Quantity: 2, LineTotal: "$39.98",
		})
	}
	return p
}

// BenchmarkCartPage renders the cart page with 20 lines through templ.
func BenchmarkCartPage(b *testing.B) {
	page := cartPage20()
	var buf bytes.Buffer
	ctx := context.Background()
	for b.Loop() {
		buf.Reset()
		if err := Cart(page).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkCartPageBaseline writes the same bytes the templ render produced: the
// floor any renderer of this page is measured against.
func BenchmarkCartPageBaseline(b *testing.B) {
	var rendered bytes.Buffer
	if err := Cart(cartPage20()).Render(context.Background(), &rendered); err != nil {
		b.Fatal(err)
	}
	want := rendered.Bytes()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		buf.Write(want)
	}
	b.SetBytes(int64(len(want)))
}

func TestCartPageRenders(t *testing.T) {
	var buf bytes.Buffer
	if err := Cart(cartPage20()).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(buf.Bytes(), []byte(`line-total"`)); got != 20 {
		t.Errorf("rendered %d lines, want 20", got)
	}
}

// catalogPage is a catalog of n products as the shop's front page shows it.
func catalogPage(n int) CatalogPage {
	p := CatalogPage{Layout: Layout{StoreName: "Field Kettle", CartCount: 3}, CSRFToken: "token"}
	for i := range n {
		p.Products = append(p.Products, ProductCard{
			ID: int64(i + 1), Name: fmt.Sprintf("Product number %d", i+1), Description: "A product.",
			Price: "$19.99", Image: "img/mug.svg",
		})
	}
	return p
}

// BenchmarkCatalogPage renders the catalog with 8 products.
func BenchmarkCatalogPage(b *testing.B) {
	page := catalogPage(8)
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Catalog(page).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
