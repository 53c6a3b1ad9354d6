package views

// CatalogPage is the shop's front page.
type CatalogPage struct {
	Layout    Layout
	Products  []ProductCard
	CSRFToken string
	Added     string // name of the product just added to the cart, for the notice
}

// ProductCard is one product as the catalog shows it.
type ProductCard struct {
	ID          int64
	Name        string
	Description string
	Price       string // formatted, e.g. "$19.99"
	Image       string // path under static/, e.g. "img/mug.svg"
}
