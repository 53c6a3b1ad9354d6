package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// stockSetter sets a product's count on hand, or stops tracking its stock.
type stockSetter interface {
	SetStock(ctx context.Context, id int64, onHand int, track bool, by orders.Change) (orders.StockChange, error)
}

// Messages of a refused stock count.
const (
	msgStockFormat = "Enter the units on hand as a whole number, like 12, without a sign, decimals or separators; or leave it empty to stop tracking stock."
	msgStockRange  = "Enter at most 1,000,000 units on hand; or leave it empty to stop tracking stock."
)

// loadedStock is p's count on hand as its page loads it into the stock form:
// empty when untracked, and 0 when paid orders took more than was on hand (a
// count is never negative).
func loadedStock(p orders.AdminProduct) string {
	if p.OnHand == nil {
		return ""
	}
	return strconv.Itoa(max(*p.OnHand, 0))
}

// stockForm is p's stock and its form, with value in the field and msg beside
// it (empty: none).
func stockForm(p orders.AdminProduct, value, msg string) views.AdminStock {
	l := p.Stock()
	return views.AdminStock{URL: views.AdminProductStockURL(p.ID), Tracked: l.Tracked, OnHand: l.OnHand, Held: l.Held,
		Available: l.Available(), Value: orders.MarkRefused(value), Error: msg,
		OversoldURL: views.AdminOrdersURL(url.Values{"flag": {orders.FlagOversold}})}
}

// saveProductStock handles POST /admin/products/:id/stock: the form field stock
// is the count on hand the merchant counted (a whole number from 0 to
// orders.MaxOnHand), or empty to stop tracking. The count replaces what is on
// hand and keeps every hold, so orders awaiting payment keep their units. A count
// the rules refuse is a 422 with the input kept and nothing written; a save is
// answered 303 to the product's page saying what changed.
func (h *handler) saveProductStock(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := productID(c)
	if err != nil {
		return err
	}
	p, err := h.deps.Orders.AdminProduct(ctx, id)
	if err != nil {
		return err
	}
	typed := c.FormValue("stock")
	count, track, err := orders.ParseOnHand(typed)
	if err != nil {
		msg := msgStockFormat
		if errors.Is(err, orders.ErrStockRange) {
			msg = msgStockRange
		}
		return h.renderProductWith(c, http.StatusUnprocessableEntity, p, priceFields(loadedPrices(p), nil, p), "", stockForm(p, typed, msg))
	}
	ch, err := h.deps.Orders.SetStock(ctx, id, count, track, h.change(c))
	if err != nil {
		return err
	}
	switch {
	case !ch.Changed() && !track:
		h.flash(c, "warn", p.Name+"'s stock was not tracked; nothing changed.")
	case !ch.Changed():
		h.flash(c, "warn", fmt.Sprintf("%s already had %d on hand; nothing changed.", p.Name, count))
	case !track:
		h.flash(c, "ok", fmt.Sprintf("%s's stock is no longer tracked (it had %d on hand): the shop sells any quantity.", p.Name, ch.From.OnHand))
	case ch.To.Held > ch.To.OnHand:
		h.flash(c, "bad", fmt.Sprintf("%s now has %d on hand (%s), but orders awaiting payment hold %d: if they are all paid, %d will be short.",
			p.Name, count, wasStock(ch.From), ch.To.Held, ch.To.Held-ch.To.OnHand))
	default:
		h.flash(c, "ok", fmt.Sprintf("%s now has %d on hand (%s): %d held, %d available.",
			p.Name, count, wasStock(ch.From), ch.To.Held, ch.To.Available()))
	}
	return c.Redirect(http.StatusSeeOther, views.AdminProductURL(id))
}

// wasStock says what a stock level was before a change.
func wasStock(l orders.Level) string {
	if !l.Tracked {
		return "it was not tracked"
	}
	return "it had " + strconv.Itoa(l.OnHand)
}
