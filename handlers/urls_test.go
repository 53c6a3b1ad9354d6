package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/views"
)

// TestURLsReachTheirRoutes: every URL the pages link to and the handlers redirect
// to (views/urls.go) is routed to the pattern in routes.go meant for it, not to a
// group's catch-all 404.
func TestURLsReachTheirRoutes(t *testing.T) {
	e := handlers.New(handlers.Config{StoreName: "Field Kettle"}, handlers.Deps{
		Sessions: handlers.NewSessionManager(memstore.NewWithCleanupInterval(0), time.Hour, 30*time.Minute, false),
	})
	filter := url.Values{"status": {"paid"}, "q": {"a b&c"}}
	tests := []struct {
		method, url, route string
	}{
		{http.MethodGet, views.CatalogURL, "/"},
		{http.MethodGet, views.CartURL, "/cart"},
		{http.MethodPost, views.CartItemsURL, "/cart/items"},
		{http.MethodPost, views.CartItemsURL + "/7", "/cart/items/:id"},
		{http.MethodPost, views.CartItemsURL + "/7/remove", "/cart/items/:id/remove"},
		{http.MethodPost, views.CartFitURL, "/cart/fit"},
		{http.MethodGet, views.OrderLookupURL, "/orders/lookup"},
		{http.MethodPost, views.OrderLookupURL, "/orders/lookup"},
		{http.MethodGet, views.OrderLookupSentURL, "/orders/lookup"},
		{http.MethodGet, views.CheckoutURL, "/checkout"},
		{http.MethodPost, views.CheckoutURL, "/checkout"},
		{http.MethodGet, views.OrderURL("Ab3-x_9"), "/orders/:ref"},
		{http.MethodGet, views.OrderStatusURL("Ab3-x_9", "success"), "/orders/:ref/status"},
		{http.MethodPost, views.OrderPayURL("Ab3-x_9"), "/orders/:ref/pay"},
		{http.MethodGet, views.AdminURL, "/admin"},
		{http.MethodGet, views.AdminSignInURL(""), "/admin/login"},
		{http.MethodGet, views.AdminSignInURL("/admin/orders?status=paid"), "/admin/login"},
		{http.MethodPost, views.AdminSignOutURL, "/admin/logout"},
		{http.MethodGet, views.AdminOrdersURL(nil), "/admin/orders"},
		{http.MethodGet, views.AdminOrdersURL(filter), "/admin/orders"},
		{http.MethodGet, views.AdminOrdersCSVURL(filter), "/admin/orders.csv"},
		{http.MethodGet, views.AdminOrderTotalsURL(filter), "/admin/orders/totals"},
		{http.MethodGet, views.AdminOrderURL(12), "/admin/orders/:id"},
		{http.MethodPost, views.AdminOrderSyncURL(12), "/admin/orders/:id/sync"},
		{http.MethodGet, views.AdminWebhooksURL(url.Values{"before": {"40"}}), "/admin/webhooks"},
		{http.MethodPost, views.AdminWebhookReprocessURL(3), "/admin/webhooks/:id/reprocess"},
		{http.MethodGet, views.AdminProductsURL, "/admin/products"},
		{http.MethodPost, views.AdminProductsURL, "/admin/products"},
		{http.MethodGet, views.AdminNewProductURL, "/admin/products/new"},
		{http.MethodGet, views.AdminProductURL(5), "/admin/products/:id"},
		{http.MethodPost, views.AdminProductPricesURL(5), "/admin/products/:id/prices"},
		{http.MethodPost, views.AdminProductActiveURL(5), "/admin/products/:id/active"},
	}
	for _, tt := range tests {
		u := mustParse(t, tt.url)
		if u.IsAbs() || u.Host != "" {
			t.Errorf("%s is not a local path", tt.url)
		}
		c := e.NewContext(httptest.NewRequest(tt.method, tt.url, nil), httptest.NewRecorder())
		e.Router().Find(tt.method, u.Path, c)
		if got := c.Path(); got != tt.route {
			t.Errorf("%s %s is routed to %q, want %q", tt.method, tt.url, got, tt.route)
		}
	}
	// A query's values read back as they went in.
	if got := mustParse(t, views.AdminOrdersURL(filter)).Query(); got.Get("q") != "a b&c" || got.Get("status") != "paid" {
		t.Errorf("AdminOrdersURL(%v) reads back as %v", filter, got)
	}
	if got := mustParse(t, views.AdminSignInURL("/admin/orders?status=paid")).Query().Get("next"); got != "/admin/orders?status=paid" {
		t.Errorf("the sign-in URL's next reads back as %q", got)
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
