package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// The shopper's side of stock: what the cart says when a line was capped or is
// short, the checkout refused for lack of stock (409) with its button that fits
// the cart to what is left, and paying again refused because the order's units
// sold since (409). The checkout's hold decides who gets the units (orders'
// stock.go); these pages only say what it decided.

// soldOut is the message for a product none of which is available.
func soldOut(name string) string { return name + " is sold out." }

// stockLeft is what a short line says about its product: how many are left.
func stockLeft(available int) string {
	if available == 0 {
		return "Sold out"
	}
	return "Only " + strconv.Itoa(available) + " left"
}

// cartChanged sends the shopper to the cart (303), which says so when the line
// holds less than they asked for because stock ran short.
func (h *handler) cartChanged(c echo.Context, change orders.LineChange) error {
	if !change.Capped() {
		return c.Redirect(http.StatusSeeOther, views.CartURL)
	}
	notice := fmt.Sprintf("%s: only %d left, so your cart has %d, not %d.",
		change.Name, change.Available, change.Quantity, change.Wanted)
	if err := h.putShopFlash(c, flashCart, cartFlash{Notice: notice}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.CartURL)
}

// shortNotice says which of the cart's lines ask for more than is available
// now; "" when none does.
func shortNotice(short []orders.CartLine) string {
	if len(short) == 0 {
		return ""
	}
	parts := make([]string, len(short))
	for i, l := range short {
		parts[i] = l.Name + " (" + strings.ToLower(stockLeft(l.Stock.Available())) + ")"
	}
	return "Not enough in stock now: " + strings.Join(parts, ", ") +
		". Lower " + plural(len(short), "that quantity", "those quantities") + " before you check out."
}

// shortLines are the lines of a ShortageError as the 409 pages list them.
func shortLines(short *orders.ShortageError) []views.ShortLine {
	lines := make([]views.ShortLine, len(short.Lines))
	for i, l := range short.Lines {
		lines[i] = views.ShortLine{Name: l.Name, Wanted: l.Wanted, Available: l.Available}
	}
	return lines
}

// renderCheckoutShort answers a checkout refused for lack of stock: 409, each
// short line with what is available, the cart left as it was, and a button that fits
// the cart to what is left and returns to the form with the customer kept.
func (h *handler) renderCheckoutShort(c echo.Context, short *orders.ShortageError, form checkoutForm) error {
	noStore(c)
	layout, err := h.shopLayout(c, "Not enough in stock")
	if err != nil {
		return err
	}
	return render(c, http.StatusConflict, views.CheckoutShort(views.CheckoutShortPage{
		Layout:    layout,
		Lines:     shortLines(short),
		CSRFToken: csrfToken(c),
		Form:      viewForm(form.kept()),
	}))
}

// fitCart handles POST /cart/fit, the shortage page's button: each short line
// is lowered to what is available (removed when none is), then the shopper goes
// back to the checkout form (303) with the customer and address it sent kept and what
// changed said, or to the cart when nothing is left in it.
func (h *handler) fitCart(c echo.Context) error {
	// Only shown again in the form, where the checkout validates them; a refused
	// character is shown as U+FFFD, as the form's own messages show it.
	kept := readCheckoutForm(c).kept()
	ctx := c.Request().Context()
	fitted, err := h.deps.Carts.FitToStock(ctx, cartID(c))
	if err != nil {
		return err
	}
	left, err := h.deps.Carts.Count(ctx, cartID(c))
	if err != nil {
		return err
	}
	var changes []string
	for _, l := range fitted {
		if l.Available == 0 {
			changes = append(changes, l.Name+" sold out and was removed")
		} else {
			changes = append(changes, fmt.Sprintf("%d × %s (you asked for %d)", l.Available, l.Name, l.Wanted))
		}
	}
	if left == 0 {
		notice := "Your cart is empty."
		if len(changes) > 0 {
			notice = "Everything in your cart sold out: " + strings.Join(changes, "; ") + "."
		}
		if err := h.putShopFlash(c, flashCart, cartFlash{Notice: notice}); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, views.CartURL)
	}
	notice := "Everything in your cart is in stock now. Check the total, then continue to payment."
	if len(changes) > 0 {
		notice = "Your cart now holds what is in stock: " + strings.Join(changes, "; ") +
			". Check the total, then continue to payment."
	}
	if err := h.putShopFlash(c, flashCheckout, checkoutFlash{Form: kept, Notice: notice}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.CheckoutURL)
}

// renderSoldOutSince answers paying an order again when its units sold since it
// was made: 409, the lines that sold out, and the way back to the shop; the
// order is unchanged and its page still shows it.
func (h *handler) renderSoldOutSince(c echo.Context, order *orders.Order, short *orders.ShortageError) error {
	noStore(c)
	layout, err := h.shopLayout(c, "Sold out since you ordered")
	if err != nil {
		return err
	}
	return render(c, http.StatusConflict, views.SoldOutSince(views.SoldOutSincePage{
		Layout: layout,
		Ref:    order.PublicRef,
		Number: order.Number,
		Lines:  shortLines(short),
	}))
}
