package views

// CatalogPage is the shop's front page.
type CatalogPage struct {
	Layout    Layout
	Products  []ProductCard
	CSRFToken string
}

// ProductCard is one product as the catalog shows it.
type ProductCard struct {
	ID          int64
	Name        string
	Description string
	Price       string // formatted, e.g. "$19.99"
	Image       string // path under static/, e.g. "img/mug.svg"
	// SoldOut: none is available; the card says so and offers no add button.
	SoldOut bool
	// Left, when above zero, is how many are available, shown as "Only N left".
	Left int
}
