package views

// CheckoutPage is the form that turns the cart into an order.
type CheckoutPage struct {
	Layout    Layout
	Lines     []CartLine
	Total     string
	CSRFToken string
	Form      CheckoutForm
	Errors    map[string]string // field name → message; empty when valid
}

// CheckoutForm is what the shopper typed, kept on error.
type CheckoutForm struct {
	Name  string
	Email string
}
