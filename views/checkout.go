package views

// CheckoutPage is the form that turns the cart into an order.
type CheckoutPage struct {
	Layout    Layout
	Lines     []CartLine
	Total     string
	CSRFToken string
	Form      CheckoutForm
	Errors    map[string]string // field name → message; empty when valid
	// Currency is the one the page's prices are in; the form sends it back, so
	// an order is never made in a currency the shopper did not see.
	Currency string
}

// CheckoutForm is what the shopper typed, kept on error.
type CheckoutForm struct {
	Name  string
	Email string
}
