// Package views renders the pages. Components take typed view models shaped like
// the screen; they run no queries and read nothing from the request context.
package views

import "github.com/orchestrate-checkout/checkout/static"

// Layout is what every page's frame needs.
type Layout struct {
	Title     string // the page's own title; the store name is appended
	StoreName string
	CartCount int    // items in the shopper's cart, shown in the header
	CSRFToken string // for forms in the frame (the admin's sign-out)
	Admin     bool   // render the merchant's navigation instead of the shop's
	// UsesHTMX loads htmx, for pages that update themselves (the payment status).
	UsesHTMX bool
}

// asset returns the versioned URL of a static file.
func asset(name string) string { return static.Path(name) }
