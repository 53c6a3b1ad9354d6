// Package handlers is the HTTP face of the shop: routes, middleware, and one
// handler per page or endpoint. Handlers declare the small interfaces they need;
// internal/app passes the concrete stores in.
package handlers

import (
	"log/slog"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/jonboulle/clockwork"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/orchestrate"
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
	Registry       *prometheus.Registry // where the request and webhook metrics are registered; nil: not recorded
	// WebhookSecret verifies the signature of Orchestrate's webhooks.
	WebhookSecret string
	// AdminUsername and AdminPassword sign the merchant in to /admin; the password
	// is plain text or a bcrypt or argon2id hash (see adminauth.NewPasswordCheck).
	AdminUsername string
	AdminPassword string
	// CookieSecret keys the signatures of the shop's cookies (the CSRF token and
	// the cart id); every instance must share it. Empty: a random key, so the
	// cookies last only as long as the process.
	CookieSecret []byte
	// TrustProxy takes the client's address from X-Forwarded-For when the request
	// comes from a private-network or loopback proxy; otherwise the connection's
	// address is used, which a client cannot forge. The admin's sign-in throttle
	// counts failures per client address.
	TrustProxy bool
	// Clock is the time the admin's rules read: the overview's today and this
	// week, which payments are stuck, the CSV's file name. Nil is the real clock.
	Clock clockwork.Clock
	// Location is the store's time zone: the overview's days and weeks (from
	// Monday), the dates of the list's filters, and every time the admin and its
	// CSV show. Nil is UTC.
	Location *time.Location
	// ShipTo lists the countries the checkout ships to (ISO codes the address
	// table holds); nil is orders.DefaultShipTo.
	ShipTo []string
}

// Orders is the order store: what the shop's and the admin's pages read and
// write through it.
type Orders interface {
	shopOrderReader // order.go
	overviewReader  // admin_overview.go
	orderLister     // admin_orders.go
	orderExporter   // admin_csv.go
	orderReader     // admin_order.go
	webhookLog      // admin_webhooks.go
	productLister   // admin_products.go
	productEditor   // admin_product.go
	stockSetter     // admin_stock.go
	productCreator  // admin_product_new.go
}

// Payments starts orders' payments and confirms them with Orchestrate.
type Payments interface {
	orderCreator     // checkout.go
	paymentStarter   // checkout.go
	paymentChecker   // order.go
	shippingQuoter   // checkout.go
	paymentConfirmer // admin_order.go
	orderActor       // admin_order_actions.go
}

// Inbox keeps Orchestrate's webhook deliveries and processes them.
type Inbox interface {
	webhookReceiver    // webhook.go
	webhookReprocessor // admin_webhooks.go
}

// Deps are the stores and services the handlers call, each passed once. Each
// page declares the methods it calls as a small interface in its own file;
// Orders, Payments and Inbox gather those of one object.
type Deps struct {
	Catalog   Catalog
	Carts     Carts
	Orders    Orders
	Payments  Payments
	Inbox     Inbox
	Hooks     OutgoingWebhooks // nil serves no outgoing webhooks page
	Mail      Mail             // nil: the order page says nothing of mail and lookups send none
	Readiness Readiness
	// Flashes carry a rejected form to the page that shows it (NewFlashManager);
	// nil keeps them in this process's memory, for one instance only.
	Flashes *scs.SessionManager

	// The merchant's admin; /admin is not served when Sessions is nil.
	Sessions *scs.SessionManager
	Throttle SigninThrottle
}

// handler carries the dependencies of every route.
type handler struct {
	cfg      Config
	deps     Deps
	webhooks *prometheus.CounterVec // received, by type and result
	signins  *prometheus.CounterVec // admin sign-in attempts, by result
	keys     cookieKeys             // sign the CSRF and cart cookies
	// passwordOK checks an admin password; nil (a malformed hash) accepts none.
	passwordOK adminauth.PasswordCheck
}

// New returns the app's Echo instance with every route and middleware in place.
func New(cfg Config, deps Deps) *echo.Echo {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if deps.Flashes == nil {
		deps.Flashes = NewFlashManager(memstore.NewWithCleanupInterval(0), cfg.Production)
	}
	h := &handler{cfg: cfg, deps: deps, keys: newCookieKeys(cfg.CookieSecret)}
	if check, err := adminauth.NewPasswordCheck(cfg.AdminPassword); err != nil {
		cfg.Logger.Error("admin sign-in disabled", "error", err) // LoadConfig validates this at startup
	} else {
		h.passwordOK = check
	}
	h.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "webhooks_received_total",
		Help: "Orchestrate webhook deliveries, by event type and result (accepted, duplicate, invalid, rejected, unavailable).",
	}, []string{"type", "result"})
	h.signins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "admin_signin_attempts_total",
		Help: "Admin sign-in attempts, by result: refused by the throttle before any comparison, failed or succeeded.",
	}, []string{"result"})
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(h.webhooks, h.signins)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	h.routes(e)
	return e
}

// webhookMetric counts one delivery. Unknown event types share one label so a
// sender cannot grow the label set without bound.
func (h *handler) webhookMetric(eventType, result string) {
	switch orchestrate.EventType(eventType) {
	case orchestrate.EventPaymentCreated, orchestrate.EventPaymentSucceeded, orchestrate.EventPaymentFailed, orchestrate.EventPaymentExpired, "":
	default:
		eventType = "other"
	}
	h.webhooks.WithLabelValues(eventType, result).Inc()
}
