// Package views renders the pages. Components take typed view models shaped like
// the screen; they run no queries and read nothing from the request context.
package views

import (
	"github.com/a-h/templ"

	"github.com/orchestrate-checkout/checkout/static"
)

// Layout is what every page's frame needs.
type Layout struct {
	Title     string // the page's own title; the store name is appended
	StoreName string
	CartCount int    // items in the shopper's cart, shown in the header
	CSRFToken string // for forms in the frame (the admin's sign-out)
	Admin     bool   // the admin's frame: its name, and no cart
	SignedIn  bool   // an admin is signed in: the admin's navigation and sign-out
	// Description is the page's meta description (search results, link
	// previews); pages set it with Described, others get the store's.
	Description string
	// UsesHTMX loads htmx, for pages that update themselves (the payment status).
	UsesHTMX bool
	// Currency is the shopper's currency on a shop page, shown by the header's
	// switcher, which offers Currencies and shows the page again in the one
	// picked, or CurrencyAction (a local path) when set; empty: no switcher.
	Currency       string
	Currencies     []Option
	CurrencyAction string
}

// asset returns the versioned URL of a static file.
func asset(name string) string { return static.Path(name) }

// Described returns the layout with the page's meta description.
func (l Layout) Described(text string) Layout {
	l.Description = text
	return l
}

// description is the page's meta description, or the store's when it has none.
func (l Layout) description() string {
	if l.Description != "" {
		return l.Description
	}
	return l.StoreName + ": browse the catalog, fill a cart and pay securely through Orchestrate."
}

// itemsInCart is what a screen reader hears after the cart count: "Cart 1 item".
func itemsInCart(n int) string {
	return " " + plural(n, "item", "items")
}

// oobSwap marks an element of an htmx response that replaces the element with
// its id elsewhere on the page.
func oobSwap(oob bool) templ.Attributes {
	if oob {
		return templ.Attributes{"data-hx-swap-oob": "true"}
	}
	return nil
}

// plural returns one when n is 1 and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
