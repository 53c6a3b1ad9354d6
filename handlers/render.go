package handlers

import (
	"bytes"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component with the given status. It renders into a buffer
// first so a failing component becomes a clean 500 page rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// noStore marks a response as private to this shopper and never cached, for pages
// that show an order or a cart.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}
