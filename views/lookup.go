package views

// LookupPage is the form where a shopper who lost an order's page asks for its
// link by email.
type LookupPage struct {
	Layout    Layout
	CSRFToken string
	Email     string
	Number    string
	Errors    map[string]string // field name → message; empty when valid
	// Sent: the form was accepted. The page says the same whether or not an
	// order matched.
	Sent bool
}
