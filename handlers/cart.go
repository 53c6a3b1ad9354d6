package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// Carts stores shoppers' carts.
type Carts interface {
	Get(ctx context.Context, cartID string) (*orders.Cart, error)
	Count(ctx context.Context, cartID string) (int, error)
	Add(ctx context.Context, cartID string, productID int64, quantity int) error
	SetQuantity(ctx context.Context, cartID string, productID int64, quantity int) error
}

// cartCookie holds only the cart's random id; the cart itself is in PostgreSQL.
const cartCookie = "cart"

// cartID returns the shopper's cart id, or "" when they have none yet.
func cartID(c echo.Context) string {
	ck, err := c.Cookie(cartCookie)
	if err != nil || len(ck.Value) < 32 || len(ck.Value) > 64 {
		return ""
	}
	return ck.Value
}

// ensureCartID returns the shopper's cart id, issuing a new one in a cookie when
// they have none: HttpOnly, SameSite=Lax, Secure in production, 30 days.
func (h *handler) ensureCartID(c echo.Context) string {
	if id := cartID(c); id != "" {
		return id
	}
	id := orders.NewCartID()
	c.SetCookie(&http.Cookie{
		Name:     cartCookie,
		Value:    id,
		Path:     "/",
		MaxAge:   int((30 * 24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   h.cfg.Production,
		SameSite: http.SameSiteLaxMode,
	})
	return id
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

// addToCart handles POST /cart/items: product_id and an optional quantity.
func (h *handler) addToCart(c echo.Context) error {
	productID, err := strconv.ParseInt(c.FormValue("product_id"), 10, 64)
	if err != nil || productID <= 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose a product to add.")
	}
	qty := 1
	if raw := strings.TrimSpace(c.FormValue("quantity")); raw != "" {
		if qty, err = strconv.Atoi(raw); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The quantity must be a whole number.")
		}
	}
	err = h.deps.Carts.Add(c.Request().Context(), h.ensureCartID(c), productID, qty)
	switch {
	case errors.Is(err, orders.ErrNotFound):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "That product is not available.")
	case errors.Is(err, orders.ErrInvalid):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, fmt.Sprintf("You can add between 1 and %d of a product.", orders.MaxQuantity))
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cart")
}

// showCart handles GET /cart.
func (h *handler) showCart(c echo.Context) error {
	return h.renderCart(c, http.StatusOK, views.CartPage{})
}

// renderCart renders the cart page with status, keeping any error already in page.
func (h *handler) renderCart(c echo.Context, status int, page views.CartPage) error {
	noStore(c)
	cart, err := h.deps.Carts.Get(c.Request().Context(), cartID(c))
	if err != nil {
		return err
	}
	page.Layout = h.layout(c, "Cart")
	page.Layout.CartCount = cart.Count()
	page.CSRFToken = csrfToken(c)
	page.Lines = cartLines(cart)
	if total, err := cart.Total(); err == nil {
		page.Total = total.String()
	} else {
		page.Error = "Your cart mixes currencies; remove the items in one of them to check out."
	}
	return render(c, status, views.Cart(page))
}

func cartLines(cart *orders.Cart) []views.CartLine {
	lines := make([]views.CartLine, 0, len(cart.Lines))
	for _, l := range cart.Lines {
		lines = append(lines, views.CartLine{
			ProductID: l.ProductID,
			Name:      l.Name,
			Image:     l.Image,
			UnitPrice: l.UnitPrice().String(),
			Quantity:  l.Quantity,
			LineTotal: l.LineTotal().String(),
		})
	}
	return lines
}

// updateCartLine handles POST /cart/items/:id with a new quantity; 0 removes it.
// An invalid quantity re-renders the cart with 422 and what the shopper typed.
func (h *handler) updateCartLine(c echo.Context) error {
	productID, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	raw := strings.TrimSpace(c.FormValue("quantity"))
	qty, err := strconv.Atoi(raw)
	if err != nil || qty < 0 || qty > orders.MaxQuantity {
		return h.renderCart(c, http.StatusUnprocessableEntity, views.CartPage{
			Error:          fmt.Sprintf("Enter a quantity from 0 to %d (0 removes the item).", orders.MaxQuantity),
			ErrorProductID: productID,
			ErrorQuantity:  orders.MarkRefused(raw),
		})
	}
	return h.setQuantity(c, productID, qty)
}

// removeCartLine handles POST /cart/items/:id/remove.
func (h *handler) removeCartLine(c echo.Context) error {
	productID, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	return h.setQuantity(c, productID, 0)
}

func (h *handler) setQuantity(c echo.Context, productID int64, qty int) error {
	err := h.deps.Carts.SetQuantity(c.Request().Context(), cartID(c), productID, qty)
	if errors.Is(err, orders.ErrNotFound) {
		// The line is already gone (a second tab removed it): show the cart as it is.
		return c.Redirect(http.StatusSeeOther, "/cart")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cart")
}
