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
	Get(ctx context.Context, cartID, currency string) (*orders.Cart, error)
	Count(ctx context.Context, cartID string) (int, error)
	AddLine(ctx context.Context, cartID string, productID int64, quantity int, currency string) (orders.LineChange, error)
	SetQuantity(ctx context.Context, cartID string, productID int64, quantity int) (orders.LineChange, error)
	FitToStock(ctx context.Context, cartID string) ([]orders.Shortage, error)
}

// cartIDKey is where readCart leaves the shopper's cart id. The cart cookie holds
// only that random id, signed (see cookies.go); the cart itself is in PostgreSQL.
const cartIDKey = "cart_id"

// readCart makes the id in the shopper's cart cookie what cartID returns, when the
// shop signed it: a forged or planted value is no cart, and the shopper gets a new
// one when they next add something.
func (h *handler) readCart(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id, _, ok := signedCookie(c, h.cookieName(cartCookie), h.keys.cart); ok && len(id) >= 32 && len(id) <= 64 {
			c.Set(cartIDKey, id)
		}
		return next(c)
	}
}

// cartID returns the shopper's cart id, or "" when they have none yet.
func cartID(c echo.Context) string {
	id, _ := c.Get(cartIDKey).(string)
	return id
}

// ensureCartID returns the shopper's cart id, issuing a new one in a signed cookie
// when they have none: HttpOnly, SameSite=Lax, Secure and __Host- in production,
// 30 days.
func (h *handler) ensureCartID(c echo.Context) string {
	if id := cartID(c); id != "" {
		return id
	}
	id := orders.NewCartID()
	h.setShopCookie(c, cartCookie, sign(h.keys.cart, id), 30*24*time.Hour)
	c.Set(cartIDKey, id)
	return id
}

// addToCart handles POST /cart/items: product_id and an optional quantity. A
// product that cannot be added sends the shopper to the cart (303), which says so,
// as it says when the line was capped at what is in stock.
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
	currency := shopperCurrency(c)
	change, err := h.deps.Carts.AddLine(c.Request().Context(), h.ensureCartID(c), productID, qty, currency)
	switch {
	case errors.Is(err, orders.ErrSoldOut):
		return h.rejectCartChange(c, cartFlash{Error: soldOut(change.Name)})
	case errors.Is(err, orders.ErrNotFound):
		return h.rejectCartChange(c, cartFlash{Error: "That product is not available."})
	case errors.Is(err, orders.ErrNotOffered):
		return h.rejectCartChange(c, cartFlash{Error: "That product is not sold in " + currency + "."})
	case errors.Is(err, orders.ErrInvalid):
		return h.rejectCartChange(c, cartFlash{Error: fmt.Sprintf("You can add between 1 and %d of a product.", orders.MaxQuantity)})
	case err != nil:
		return err
	}
	return h.cartChanged(c, change)
}

// rejectCartChange sends the shopper to the cart (303), which shows why their
// change was refused.
func (h *handler) rejectCartChange(c echo.Context, why cartFlash) error {
	if err := h.putShopFlash(c, flashCart, why); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.CartURL)
}

// showCart handles GET /cart: the cart, or (422) the cart with why a change was
// refused, which a cart POST left in a flash, or the cart with what a change did
// other than what was asked (a notice).
func (h *handler) showCart(c echo.Context) error {
	var refused cartFlash
	if h.popShopFlash(c, flashCart, &refused) {
		if refused.Error != "" {
			return h.renderCart(c, http.StatusUnprocessableEntity, views.CartPage{
				Error:          refused.Error,
				ErrorProductID: refused.ProductID,
				ErrorQuantity:  refused.Quantity,
			})
		}
		return h.renderCart(c, http.StatusOK, views.CartPage{Notice: refused.Notice})
	}
	return h.renderCart(c, http.StatusOK, views.CartPage{})
}

// renderCart renders the cart page with status, keeping any error already in page.
func (h *handler) renderCart(c echo.Context, status int, page views.CartPage) error {
	noStore(c)
	cart, err := h.deps.Carts.Get(c.Request().Context(), cartID(c), shopperCurrency(c))
	if err != nil {
		return err
	}
	page.Layout = h.layout(c, "Cart")
	page.Layout.CartCount = cart.Count()
	page.CSRFToken = csrfToken(c)
	page.Lines = cartLines(cart)
	page.Total = cart.Total().String()
	page.Short = shortNotice(cart.Short())
	if missing := cart.Unavailable(); len(missing) > 0 {
		names := make([]string, len(missing))
		for i, l := range missing {
			names[i] = l.Name
		}
		page.Unavailable = fmt.Sprintf("Not sold in %s: %s. Remove %s to check out in %s, or change the currency.",
			cart.Currency, strings.Join(names, ", "), plural(len(missing), "it", "them"), cart.Currency)
	}
	return render(c, status, views.Cart(page))
}

func cartLines(cart *orders.Cart) []views.CartLine {
	lines := make([]views.CartLine, 0, len(cart.Lines))
	for _, l := range cart.Lines {
		line := views.CartLine{
			ProductID: l.ProductID,
			Name:      l.Name,
			Image:     l.Image,
			UnitPrice: l.UnitPrice().String(),
			Quantity:  l.Quantity,
			LineTotal: l.LineTotal().String(),
		}
		if !l.Available {
			line.Unavailable = true
			line.UnitPrice, line.LineTotal = "", "Not sold in "+cart.Currency
		} else if l.Short() {
			line.Stock = stockLeft(l.Stock.Available())
		}
		lines = append(lines, line)
	}
	return lines
}

// plural returns one when n is 1 and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// updateCartLine handles POST /cart/items/:id with a new quantity; 0 removes it.
// An invalid quantity sends the shopper to the cart (303), which shows the message
// with what they typed.
func (h *handler) updateCartLine(c echo.Context) error {
	productID, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	raw := strings.TrimSpace(c.FormValue("quantity"))
	qty, err := strconv.Atoi(raw)
	if err != nil || qty < 0 || qty > orders.MaxQuantity {
		return h.rejectCartChange(c, cartFlash{
			Error:     fmt.Sprintf("Enter a quantity from 0 to %d (0 removes the item).", orders.MaxQuantity),
			ProductID: productID,
			Quantity:  clip(orders.MarkRefused(raw)),
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
	change, err := h.deps.Carts.SetQuantity(c.Request().Context(), cartID(c), productID, qty)
	switch {
	case errors.Is(err, orders.ErrNotFound):
		// The line is already gone (a second tab removed it): show the cart as it is.
		return c.Redirect(http.StatusSeeOther, views.CartURL)
	case errors.Is(err, orders.ErrSoldOut):
		return h.rejectCartChange(c, cartFlash{
			Error:     soldOut(change.Name) + " Remove it to check out the rest.",
			ProductID: productID,
			Quantity:  strconv.Itoa(qty),
		})
	case err != nil:
		return err
	}
	return h.cartChanged(c, change)
}
