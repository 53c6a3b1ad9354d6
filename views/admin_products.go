package views

// The view models of the catalog admin's pages: the products list, a product's
// page and the form that creates one.

// AdminProductRow is one product of the catalog admin's list.
type AdminProductRow struct {
	URL    string
	Name   string
	Slug   string
	Image  string // an asset name ("img/mug.svg")
	Active bool
	Prices []string // one per currency of the page, formatted; "—" where none
	Stock  string   // "Untracked", or "9 of 12" (available of on hand)
	// SoldOut: tracked with nothing available.
	SoldOut bool
}

// AdminProductsPage is /admin/products.
type AdminProductsPage struct {
	Layout     Layout
	Flash      Flash
	Currencies []string // the price columns
	Products   []AdminProductRow
}

// AdminPriceField is one currency's price in a product form: what was typed (or
// loaded), in major units, and the price the form was loaded with.
type AdminPriceField struct {
	Currency string
	Value    string // in major units ("32.00"); empty is no price
	Was      string // the price when the form was loaded, in minor units; empty is none
	Saved    string // the price saved now, formatted, or empty for none
	Decimals int    // the currency's decimals, for the hint
	Example  string // a price as the field takes it ("32.00")
	Error    string
}

// Name is the field's name and id.
func (f AdminPriceField) Name() string { return "price_" + f.Currency }

// WasName is the name of the hidden field with the price the form was loaded with.
func (f AdminPriceField) WasName() string { return "was_" + f.Currency }

// AdminProductChange is one recorded change on a product's page.
type AdminProductChange struct {
	At    string
	Actor string
	Field string // "Price in EUR", "Status", "Created", "Stock on hand"
	From  string // "none" when there was no value
	To    string
}

// AdminProductPage is /admin/products/:id: its prices to edit, its status and
// its history.
type AdminProductPage struct {
	Layout      Layout
	Flash       Flash
	Notice      string // a problem of the whole form: a save refused because of a change made meanwhile
	Name        string
	Slug        string
	Description string
	Image       string
	Active      bool
	CSRFToken   string
	PricesURL   string
	ActiveURL   string
	Prices      []AdminPriceField
	Stock       AdminStock
	Changes     []AdminProductChange
}

// AdminStock is a product's stock on its page, and the form that sets the
// on-hand count.
type AdminStock struct {
	URL         string
	OversoldURL string // the orders list of oversold orders
	Tracked     bool
	OnHand      int
	Held        int
	Available   int
	// Value is the form's field: what was typed, or the count on hand (empty when
	// untracked).
	Value string
	Error string
}

// OverHeld reports whether orders awaiting payment hold more units than are on
// hand: a recount lower than what is held.
func (s AdminStock) OverHeld() bool { return s.Tracked && s.Held > max(s.OnHand, 0) }

// ShortIfPaid is how many units would be missing if every holding order is paid.
func (s AdminStock) ShortIfPaid() int { return s.Held - max(s.OnHand, 0) }

// TakenPast is how many units paid orders took beyond what was on hand (on hand
// below zero: oversold orders), or 0.
func (s AdminStock) TakenPast() int { return max(0, -s.OnHand) }

// AdminImageChoice is one shipped image a new product may show.
type AdminImageChoice struct {
	Image    string // the asset name ("img/mug.svg"), the value sent
	Label    string // its file name
	Selected bool
}

// AdminNewProductPage is the form that creates a product, empty or as the
// merchant filled it in when it came back with problems.
type AdminNewProductPage struct {
	Layout      Layout
	CSRFToken   string
	Name        string
	Slug        string
	Description string
	Active      bool
	Images      []AdminImageChoice
	Prices      []AdminPriceField
	Errors      map[string]string // field name → message
}

// priceErrors lists the prices' problems in the form's order.
func priceErrors(prices []AdminPriceField) []FieldError {
	var out []FieldError
	for _, f := range prices {
		if f.Error != "" {
			out = append(out, FieldError{Field: f.Name(), Message: f.Error})
		}
	}
	return out
}

// newProductErrors lists the new product form's problems in the form's order.
func newProductErrors(p AdminNewProductPage) []FieldError {
	out := fieldErrors(p.Errors, "name", "slug", "description", "image")
	return append(out, priceErrors(p.Prices)...)
}
