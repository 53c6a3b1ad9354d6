package views

import (
	"context"
	"html"
	"io"
	"strconv"
)

// cartRows renders the table rows of the cart, one per line, in Go rather than
// in cart.templ (rows.go says why), so a cart costs the same allocations whatever
// its length. testdata/cart.golden.html pins its HTML, byte for byte what the
// templ markup produced.
type cartRows struct {
	page *CartPage
}

// Render implements templ.Component.
func (r cartRows) Render(ctx context.Context, w io.Writer) error {
	p := r.page
	rw := rowWriter{w: w}
	csrf := html.EscapeString(p.CSRFToken) // escaped once, written twice per line
	for i := range p.Lines {
		l := &p.Lines[i]
		name := html.EscapeString(l.Name)
		id := strconv.AppendInt(rw.id[:0], l.ProductID, 10)
		rw.raw(`<tr data-product-id="`)
		rw.bytes(id)
		switch {
		case l.Unavailable:
			rw.raw(`" class="unavailable`)
		case l.Stock != "":
			rw.raw(`" class="short`)
		}
		rw.raw(`"><td class="item"><div class="cart-item"><img src="`)
		rw.text(asset(l.Image))
		rw.raw(`" alt="" width="56" height="42"> <span class="name">`)
		rw.raw(name)
		if l.Stock != "" {
			rw.raw(`</span> <span class="stock" id="stock-`)
			rw.bytes(id)
			rw.raw(`">`)
			rw.text(l.Stock)
		}
		rw.raw(`</span></div></td><td class="num hide-narrow">`)
		rw.text(l.UnitPrice)
		rw.raw(`</td><td class="qty-cell"><form method="post" action="` + CartItemsURL + `/`)
		rw.bytes(id)
		rw.raw(`" class="inline"><input type="hidden" name="_csrf" value="`)
		rw.raw(csrf)
		rw.raw(`"> <label class="visually-hidden" for="qty-`)
		rw.bytes(id)
		rw.raw(`">Quantity of `)
		rw.raw(name)
		rw.raw(`</label> <input class="qty" type="number" inputmode="numeric" min="0" max="99" name="quantity" id="qty-`)
		rw.bytes(id)
		rw.raw(`" value="`)
		if p.ErrorProductID == l.ProductID {
			rw.text(p.ErrorQuantity)
			rw.raw(`" aria-invalid="true" aria-describedby="cart-error`)
		} else {
			rw.bytes(strconv.AppendInt(rw.qty[:0], int64(l.Quantity), 10))
			if l.Stock != "" {
				rw.raw(`" aria-describedby="stock-`)
			}
		}
		if l.Stock != "" {
			if p.ErrorProductID == l.ProductID {
				rw.raw(` stock-`)
			}
			rw.bytes(id)
		}
		rw.raw(`"> <button type="submit" class="secondary">Update</button></form><form method="post" action="` + CartItemsURL + `/`)
		rw.bytes(id)
		rw.raw(`/remove" class="inline"><input type="hidden" name="_csrf" value="`)
		rw.raw(csrf)
		rw.raw(`"> <button type="submit" class="link" aria-label="Remove `)
		rw.raw(name)
		rw.raw(`">Remove</button></form></td><td class="num line-total">`)
		rw.text(l.LineTotal)
		rw.raw(`</td></tr>`)
		if rw.err != nil {
			return rw.err
		}
	}
	return nil
}
