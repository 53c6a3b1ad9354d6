package views

// CheckoutPage is the form that turns the cart into an order.
type CheckoutPage struct {
	Layout    Layout
	Lines     []CartLine
	Total     string
	CSRFToken string
	Form      CheckoutForm
	Errors    map[string]string // field name → message; empty when valid
	// Notice says what changed in the cart since the shopper last saw it (the
	// shortage page's button fitted it to what is in stock).
	Notice string
	// Currency is the one the page's prices are in; the form sends it back, so
	// an order is never made in a currency the shopper did not see.
	Currency string
}

// CheckoutForm is what the shopper typed, kept on error.
type CheckoutForm struct {
	Name  string
	Email string
}
