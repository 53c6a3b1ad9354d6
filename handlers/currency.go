package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// The shopper's currency: what the shop's pages price everything in. It is, in
// order, the one a shop GET names in ?currency= (any case; the shopper's pick in
// the header's switcher, or a merchant's link), the one remembered in the
// currency cookie, or a guess from Accept-Language. A value the shop does not
// sell in is ignored, never an error. Only a choice is remembered, not a guess.
const (
	currencyCookie   = "currency" // __Host-currency in production
	currencyKey      = "currency" // where readCurrency leaves it for the handlers
	currencyLifetime = 365 * 24 * time.Hour
)

// readCurrency decides the shopper's currency for a shop request (see above),
// and remembers a ?currency= that changes it.
func (h *handler) readCurrency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		code, remembered := "", false
		if ck, err := req.Cookie(h.cookieName(currencyCookie)); err == nil {
			code, remembered = orders.ParseCurrency(ck.Value)
		}
		if req.Method == http.MethodGet || req.Method == http.MethodHead {
			if asked, ok := orders.ParseCurrency(c.QueryParam("currency")); ok {
				if !remembered || asked != code {
					h.setShopCookie(c, currencyCookie, asked, currencyLifetime)
				}
				code, remembered = asked, true
			}
		}
		if !remembered {
			code = orders.GuessCurrency(req.Header.Get("Accept-Language"))
		}
		// The page's prices depend on the guess; the cookie is in Vary already.
		c.Response().Header().Add(echo.HeaderVary, "Accept-Language")
		c.Set(currencyKey, code)
		return next(c)
	}
}

// shopperCurrency returns the currency the shopper's pages are priced in.
func shopperCurrency(c echo.Context) string {
	if code, ok := c.Get(currencyKey).(string); ok && code != "" {
		return code
	}
	return orders.DefaultCurrency
}

// currencySwitcher fills the header's currency switcher of a shop page: every
// currency the shop sells in, the shopper's selected. A switch shows the same
// page in the new currency; a page answering a form (an error page) has no GET
// of its own, so there it goes to the catalog. Outside the shop (no currency
// decided) it leaves l as it is.
func currencySwitcher(c echo.Context, l *views.Layout) {
	code, ok := c.Get(currencyKey).(string)
	if !ok || code == "" {
		return
	}
	l.Currency = code
	if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
		l.CurrencyAction = views.CatalogURL
	}
	l.Currencies = make([]views.Option, 0, len(orders.Currencies))
	for _, cur := range orders.Currencies {
		l.Currencies = append(l.Currencies, views.Option{
			Value:    cur,
			Label:    cur + " (" + orders.Symbol(cur) + ")",
			Selected: cur == code,
		})
	}
}
