// Package handlers is the HTTP face of the shop: routes, middleware, and one
// handler per page or endpoint. Handlers declare the small interfaces they need;
// main passes the concrete stores in.
package handlers

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/orders"
)

// Config holds the settings the handlers need from the app's configuration.
type Config struct {
	StoreName  string
	Production bool     // Secure cookies and HSTS
	PublicURL  *url.URL // where shoppers reach us
	// OrchestrateURL is the API's base URL; the hosted payment page lives on the
	// same origin, so it is both the only allowed redirect target and a permitted
	// form-action in the Content-Security-Policy.
	OrchestrateURL *url.URL
	Logger         *slog.Logger
	Registry       *prometheus.Registry // nil: metrics are not exposed
}

// Catalog reads products.
type Catalog interface {
	List(ctx context.Context) ([]orders.Product, error)
}

// Readiness reports whether the app can serve: nil when the database answers and
// every migration is applied.
type Readiness interface {
	Ready(ctx context.Context) error
}

// Deps are the stores and services the handlers call.
type Deps struct {
	Catalog   Catalog
	Carts     Carts
	Orders    Orders
	Payments  Payments
	Readiness Readiness
}

// handler carries the dependencies of every route.
type handler struct {
	cfg  Config
	deps Deps
}

// New returns the app's Echo instance with every route and middleware in place.
func New(cfg Config, deps Deps) *echo.Echo {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg, deps: deps}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	h.routes(e)
	return e
}
