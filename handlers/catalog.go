package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// Catalog reads products.
type Catalog interface {
	List(ctx context.Context, currency string) ([]orders.Product, error)
}

// catalog renders the product grid at GET /.
func (h *handler) catalog(c echo.Context) error {
	products, err := h.deps.Catalog.List(c.Request().Context(), shopperCurrency(c))
	if err != nil {
		return err
	}
	layout, err := h.shopLayout(c, "")
	if err != nil {
		return err
	}
	page := views.CatalogPage{Layout: layout, CSRFToken: csrfToken(c)}
	for _, p := range products {
		page.Products = append(page.Products, views.ProductCard{
			ID:          p.ID,
			Name:        p.Name,
			Description: p.Description,
			Price:       p.Price().String(),
			Image:       p.Image,
			SoldOut:     p.Stock.SoldOut(),
			Left:        lowStock(p.Stock),
		})
	}
	return render(c, http.StatusOK, views.Catalog(page))
}

// lowStock is the "Only N left" of a product with a few units left; 0 otherwise.
func lowStock(l orders.Level) int {
	if l.Low() {
		return l.Available()
	}
	return 0
}
