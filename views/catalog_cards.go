package views

import (
	"context"
	"html"
	"io"
	"strconv"
)

// productCards renders the catalog's product cards, one <li> per product, with
// its stock when it is sold out or low, and an "Add to cart" form when the page
// has a CSRF token and the product is not sold out (see rows.go for why it is
// Go, not templ). testdata/catalog*.golden.html pin its HTML.
type productCards struct {
	page *CatalogPage
}

// Render implements templ.Component.
func (r productCards) Render(ctx context.Context, w io.Writer) error {
	p := r.page
	rw := rowWriter{w: w}
	csrf := html.EscapeString(p.CSRFToken) // escaped once, written once per card
	for i := range p.Products {
		pr := &p.Products[i]
		name := html.EscapeString(pr.Name) // written three times
		rw.raw(`<li class="product"><img src="`)
		rw.text(asset(pr.Image))
		rw.raw(`" alt="`)
		rw.raw(name)
		rw.raw(`" width="240" height="180" loading="lazy"><div class="body"><h2>`)
		rw.raw(name)
		rw.raw(`</h2><p>`)
		rw.text(pr.Description)
		rw.raw(`</p><div class="buy"><span class="price">`)
		rw.text(pr.Price)
		rw.raw(`</span> `)
		switch {
		case pr.SoldOut:
			rw.raw(`<span class="stock sold-out">Sold out</span>`)
		case pr.Left > 0:
			rw.raw(`<span class="stock low">Only `)
			rw.bytes(strconv.AppendInt(rw.qty[:0], int64(pr.Left), 10))
			rw.raw(` left</span> `)
		}
		if p.CSRFToken != "" && !pr.SoldOut {
			rw.raw(`<form method="post" action="` + CartItemsURL + `"><input type="hidden" name="_csrf" value="`)
			rw.raw(csrf)
			rw.raw(`"> <input type="hidden" name="product_id" value="`)
			rw.bytes(strconv.AppendInt(rw.id[:0], pr.ID, 10))
			rw.raw(`"> <button type="submit" aria-label="Add to cart: `)
			rw.raw(name)
			rw.raw(`">Add to cart</button></form>`)
		}
		rw.raw(`</div></div></li>`)
		if rw.err != nil {
			return rw.err
		}
	}
	return nil
}
