package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
)

// currencyKey is where the shop's middleware leaves the shopper's currency.
const currencyKey = "currency"

// shopperCurrency returns the currency the shopper's pages are priced in.
func shopperCurrency(c echo.Context) string {
	if code, ok := c.Get(currencyKey).(string); ok && code != "" {
		return code
	}
	return orders.DefaultCurrency
}
