package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/views"
)

// layout is the frame of any page: its title and the store's name, and on a shop
// page the currency switcher. shopLayout and adminLayout add what their pages'
// headers show.
func (h *handler) layout(c echo.Context, title string) views.Layout {
	l := views.Layout{Title: title, StoreName: h.cfg.StoreName}
	currencySwitcher(c, &l)
	return l
}

// shopLayout is the frame of a shop page, with the cart count in the header.
func (h *handler) shopLayout(c echo.Context, title string) (views.Layout, error) {
	l := h.layout(c, title)
	n, err := h.deps.Carts.Count(c.Request().Context(), cartID(c))
	if err != nil {
		return l, err
	}
	l.CartCount = n
	return l, nil
}
