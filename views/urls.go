package views

import (
	"net/url"
	"strconv"
)

// The app's URLs, built here only: pages link to them and handlers redirect to
// them. handlers/routes.go holds the route patterns each must match
// (TestURLsReachTheirRoutes checks that they do). A fixed path is a constant; a
// path with a part in it is a function.

// The shop's fixed paths.
const (
	CatalogURL  = "/"
	CartURL     = "/cart"
	CheckoutURL = "/checkout"
	// CartItemsURL adds a product (POST). A line's quantity is set at
	// CartItemsURL/{product id} and the line removed at …/{product id}/remove;
	// the cart's rows write those from this prefix (cart_rows.go).
	CartItemsURL = "/cart/items"
	// CartFitURL (POST) lowers the cart's short lines to what is in stock.
	CartFitURL = "/cart/fit"
	// OrderLookupURL is the form that mails a lost order's link (GET, POST).
	OrderLookupURL = "/orders/lookup"
	// OrderLookupSentURL is where the form lands, whether or not an order matched.
	OrderLookupSentURL = OrderLookupURL + "?sent=1"
)

// OrderURL is the shopper's page of the order with public reference ref.
func OrderURL(ref string) string { return "/orders/" + url.PathEscape(ref) }

// OrderStatusURL is the payment status fragment the order page polls; kind ("",
// "success" or "cancel") keeps the page's wording.
func OrderStatusURL(ref, kind string) string {
	return OrderURL(ref) + "/status?return=" + url.QueryEscape(kind)
}

// OrderPayURL (POST) continues to the order's payment or starts a new one.
func OrderPayURL(ref string) string { return OrderURL(ref) + "/pay" }

// The admin's fixed paths.
const (
	AdminURL         = "/admin"
	AdminSignOutURL  = "/admin/logout"
	adminSignInPath  = "/admin/login"
	adminOrdersPath  = "/admin/orders"
	adminWebhookPath = "/admin/webhooks"
	// AdminOutgoingWebhooksURL lists the webhooks sent to the merchant's systems.
	AdminOutgoingWebhooksURL = "/admin/outgoing-webhooks"
	// AdminProductsURL lists the catalog's products; a POST creates one.
	AdminProductsURL = "/admin/products"
	// AdminNewProductURL is the form that creates a product.
	AdminNewProductURL = AdminProductsURL + "/new"
)

// AdminSignInURL is the sign-in page, returning to next (a local admin URL) once
// signed in; "" returns to the overview.
func AdminSignInURL(next string) string {
	if next == "" {
		return adminSignInPath
	}
	return adminSignInPath + "?next=" + url.QueryEscape(next)
}

// AdminOrdersURL is the orders list filtered (and paged) by q; nil is all orders.
func AdminOrdersURL(q url.Values) string { return withQuery(adminOrdersPath, q) }

// AdminOrdersCSVURL is the CSV export of the orders q selects.
func AdminOrdersCSVURL(q url.Values) string { return withQuery(adminOrdersPath+".csv", q) }

// AdminOrderTotalsURL is the count and sum per currency of the orders q selects.
func AdminOrderTotalsURL(q url.Values) string { return withQuery(adminOrdersPath+"/totals", q) }

// AdminOrderURL is the admin's page of order id.
func AdminOrderURL(id int64) string { return adminOrdersPath + "/" + strconv.FormatInt(id, 10) }

// AdminOrderSyncURL (POST) reads order id's payments from Orchestrate now.
func AdminOrderSyncURL(id int64) string { return AdminOrderURL(id) + "/sync" }

// AdminWebhooksURL is the webhook inbox filtered (and paged) by q; nil is the
// newest deliveries.
func AdminWebhooksURL(q url.Values) string { return withQuery(adminWebhookPath, q) }

// AdminWebhookReprocessURL (POST) queues delivery id's processing again.
func AdminWebhookReprocessURL(id int64) string {
	return adminWebhookPath + "/" + strconv.FormatInt(id, 10) + "/reprocess"
}

// AdminProductURL is the admin's page of product id.
func AdminProductURL(id int64) string { return AdminProductsURL + "/" + strconv.FormatInt(id, 10) }

// AdminProductPricesURL (POST) saves product id's prices.
func AdminProductPricesURL(id int64) string { return AdminProductURL(id) + "/prices" }

// AdminProductActiveURL (POST) lists product id in the shop or takes it out.
func AdminProductActiveURL(id int64) string { return AdminProductURL(id) + "/active" }

// AdminProductStockURL (POST) sets product id's count on hand, or stops
// tracking its stock.
func AdminProductStockURL(id int64) string { return AdminProductURL(id) + "/stock" }

// withQuery is path with q encoded (keys sorted), or path alone when q is empty.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// AdminOutgoingWebhooksPageURL is the outgoing webhooks' page after the webhook
// before (its last row's id).
func AdminOutgoingWebhooksPageURL(before string) string {
	return AdminOutgoingWebhooksURL + "?before=" + url.QueryEscape(before)
}

// AdminResendWebhookURL (POST) queues another attempt at an outgoing webhook.
func AdminResendWebhookURL(id string) string {
	return AdminOutgoingWebhooksURL + "/" + url.PathEscape(id) + "/resend"
}
