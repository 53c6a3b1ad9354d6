package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes registers every route and middleware group; keep them on one screen.
func (h *handler) routes(e *echo.Echo) {
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: 308}))
	e.Use(
		middleware.RequestID(),
		h.logRequests(),
		h.recordMetrics(),
		middleware.Recover(),
		h.securityHeaders(),
		middleware.BodyLimit("64K"), // forms are small; the webhook route reads its own bounded body
	)

	// Machine routes: JSON, no CSRF, no sessions.
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	if h.cfg.Registry != nil {
		e.GET("/metrics", h.metrics())
	}
	e.Match([]string{http.MethodGet, http.MethodHead}, "/static/*", h.static())

	// The shop.
	shop := e.Group("", h.csrf())
	shop.GET("/", h.catalog)
}
