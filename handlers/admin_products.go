package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// productLister reads every product for the catalog admin's list.
type productLister interface {
	AdminProducts(ctx context.Context) ([]orders.AdminProduct, error)
}

// noPrice stands for a currency a product has no price in.
const noPrice = "—"

// adminProducts handles GET /admin/products: every product, active or not,
// with its price in each currency the shop sells in and its stock.
func (h *handler) adminProducts(c echo.Context) error {
	list, err := h.deps.Orders.AdminProducts(c.Request().Context())
	if err != nil {
		return err
	}
	page := views.AdminProductsPage{
		Layout:     h.adminLayout(c, "Products"),
		Flash:      h.popFlash(c),
		Currencies: orders.Currencies,
	}
	for _, p := range list {
		row := views.AdminProductRow{URL: views.AdminProductURL(p.ID), Name: p.Name, Slug: p.Slug, Image: p.Image, Active: p.Active}
		for _, cur := range orders.Currencies {
			row.Prices = append(row.Prices, priceOrNone(p, cur, noPrice))
		}
		row.Stock, row.SoldOut = "Untracked", p.Stock().SoldOut()
		if l := p.Stock(); l.Tracked {
			row.Stock = strconv.Itoa(l.Available()) + " of " + strconv.Itoa(l.OnHand)
		}
		page.Products = append(page.Products, row)
	}
	return render(c, http.StatusOK, views.AdminProducts(page))
}

// priceOrNone is p's price in currency as the admin shows it, or none.
func priceOrNone(p orders.AdminProduct, currency, none string) string {
	if m, ok := p.Price(currency); ok {
		return m.String()
	}
	return none
}
