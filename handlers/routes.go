package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes registers every route and middleware group; keep them on one screen.
func (h *handler) routes(e *echo.Echo) {
	e.OnAddRouteHandler = headWithGet(e) // every GET route answers HEAD too
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: 308}))
	e.Use(
		requestID(),
		h.compress(),
		h.logRequests(),
		h.recordMetrics(),
		middleware.Recover(),
		h.securityHeaders(),
	)

	// Machine routes: JSON, no CSRF, no sessions. /metrics is not here: main
	// serves it on its own internal listener (MetricsHandler).
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/static/*", h.static())

	// Orchestrate's webhooks: signature-verified, no CSRF (no cookies involved); the
	// handler reads its own bounded body.
	e.POST("/webhooks/orchestrate", h.webhook)

	// The shop. Forms are small; one that cannot be done redirects to the page
	// that says why, with a flash (flash.go).
	shop := e.Group("", middleware.BodyLimit("64K"), h.csrf(), h.readCart, h.readCurrency, h.loadFlash)
	shop.GET("/", h.catalog)
	shop.GET("/cart", h.showCart)
	shop.POST("/cart/items", h.addToCart)
	shop.POST("/cart/items/:id", h.updateCartLine)
	shop.POST("/cart/items/:id/remove", h.removeCartLine)
	shop.POST("/cart/fit", h.fitCart)
	shop.GET("/checkout", h.showCheckout)
	shop.POST("/checkout", h.checkout)
	shop.GET("/orders/lookup", h.showLookup)
	shop.POST("/orders/lookup", h.lookup, h.lookupRateLimit())
	shop.GET("/orders/:ref", h.showOrder(""))
	shop.GET("/orders/:ref/success", h.showOrder("success"))
	shop.GET("/orders/:ref/cancel", h.showOrder("cancel"))
	shop.GET("/orders/:ref/status", h.orderStatusFragment)
	shop.POST("/orders/:ref/pay", h.payOrder)

	// The merchant's admin: its own session cookie, CSRF on every form, and every
	// page but the sign-in behind requireAdmin.
	if h.deps.Sessions != nil {
		admin := e.Group("/admin", middleware.BodyLimit("64K"), h.csrf(), h.loadSession)
		admin.GET("/login", h.showSignIn)
		admin.POST("/login", h.signIn)
		signedIn := admin.Group("", h.requireAdmin)
		signedIn.POST("/logout", h.signOut)
		signedIn.GET("", h.adminOverview)
		signedIn.GET("/orders", h.adminOrders)
		signedIn.GET("/orders.csv", h.exportOrders)
		signedIn.GET("/orders/totals", h.adminOrderTotals)
		signedIn.GET("/orders/:id", h.adminOrder)
		signedIn.POST("/orders/:id/sync", h.syncOrder)
		signedIn.POST("/orders/:id/ship", h.shipOrder)
		signedIn.POST("/orders/:id/cancel", h.cancelOrder)
		signedIn.POST("/orders/:id/refund", h.recordRefund)
		signedIn.POST("/orders/:id/receipt", h.resendReceipt)
		signedIn.POST("/orders/:id/notes", h.addNote)
		signedIn.GET("/webhooks", h.adminWebhooks)
		signedIn.POST("/webhooks/:id/reprocess", h.reprocessWebhook)
		signedIn.GET("/outgoing-webhooks", h.adminOutgoingWebhooks)
		signedIn.POST("/outgoing-webhooks/:id/resend", h.resendWebhook)
		signedIn.GET("/products", h.adminProducts)
		signedIn.POST("/products", h.createProduct)
		signedIn.GET("/products/new", h.newProduct)
		signedIn.GET("/products/:id", h.adminProduct)
		signedIn.POST("/products/:id/prices", h.saveProductPrices)
		signedIn.POST("/products/:id/active", h.setProductActive)
		signedIn.POST("/products/:id/stock", h.saveProductStock)
	}

	// Last: a method a route does not take is 405, before CSRF or sign-in run.
	e.Use(methodNotAllowed(e.Routes()))
}
