package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/static"
	"github.com/orchestrate-checkout/checkout/views"
)

// productCreator adds a product to the catalog.
type productCreator interface {
	CreateProduct(ctx context.Context, p orders.NewProduct, by orders.Change) (int64, error)
}

// newProductForm is the form that creates a product, as sent.
type newProductForm struct {
	Name        string
	Slug        string
	Description string
	Image       string
	Active      bool
	Prices      []priceInput
}

// validate returns the product the form describes, or a message per field
// (price fields by their name, price_EUR) for what the rules refuse.
func (f newProductForm) validate() (orders.NewProduct, map[string]string) {
	errs := map[string]string{}
	p := orders.NewProduct{Slug: f.Slug, Image: f.Image, Active: f.Active, Prices: map[string]int64{}}
	var err error
	p.Name, err = orders.CleanProductName(f.Name)
	switch {
	case errors.Is(err, orders.ErrBadText):
		errs["name"] = "The name contains a character that is not allowed (shown as �): a control, invisible or formatting character, or bytes that are not text."
	case errors.Is(err, orders.ErrTooLong):
		errs["name"] = fmt.Sprintf("The name is too long: at most %d characters.", orders.MaxProductNameLength)
	case err != nil:
		errs["name"] = "Enter the product's name."
	}
	switch {
	case f.Slug == "":
		errs["slug"] = "Enter a slug."
	case len(f.Slug) > orders.MaxSlugLength:
		errs["slug"] = fmt.Sprintf("The slug is too long: at most %d characters.", orders.MaxSlugLength)
	case !orders.ValidSlug(f.Slug):
		errs["slug"] = "A slug is lower-case letters (a–z) and digits, words joined by single hyphens, like enamel-mug."
	}
	p.Description, err = orders.CleanDescription(f.Description)
	switch {
	case errors.Is(err, orders.ErrBadText):
		errs["description"] = "The description contains a character that is not allowed (shown as �): a control, invisible or formatting character, or bytes that are not text."
	case errors.Is(err, orders.ErrTooLong):
		errs["description"] = fmt.Sprintf("The description is too long: at most %d characters.", orders.MaxDescriptionLength)
	}
	if !slices.Contains(static.Images(), f.Image) {
		errs["image"] = "Choose one of the images."
	}
	priceErrors := false
	for _, in := range f.Prices {
		minor, msg := parsePrice(in.Currency, in.Value)
		if msg != "" {
			errs["price_"+in.Currency] = msg
			priceErrors = true
		} else if minor > 0 {
			p.Prices[in.Currency] = minor
		}
	}
	if len(p.Prices) == 0 && !priceErrors {
		errs["price_"+orders.Currencies[0]] = "Give the product a price in at least one currency."
	}
	return p, errs
}

// renderNewProduct renders the new product form, filled in with f.
func (h *handler) renderNewProduct(c echo.Context, status int, f newProductForm, errs map[string]string) error {
	page := views.AdminNewProductPage{
		Layout:      h.adminLayout(c, "New product"),
		CSRFToken:   csrfToken(c),
		Name:        orders.MarkRefused(f.Name),
		Slug:        orders.MarkRefused(f.Slug),
		Description: keptDescription(f.Description),
		Active:      f.Active,
		Prices:      priceFields(f.Prices, errs, orders.AdminProduct{}),
		Errors:      errs,
	}
	for _, img := range static.Images() {
		page.Images = append(page.Images, views.AdminImageChoice{Image: img, Label: path.Base(img), Selected: img == f.Image})
	}
	return render(c, status, views.AdminNewProduct(page))
}

// keptDescription is a description as the form shows it again: its line breaks
// kept and the refused characters of each line marked. (The admin's body limit
// bounds what a form can bring back.)
func keptDescription(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, line := range lines {
		lines[i] = orders.MarkRefused(line)
	}
	return strings.Join(lines, "\n")
}

// newProduct handles GET /admin/products/new: the empty form, the product
// active by default.
func (h *handler) newProduct(c echo.Context) error {
	return h.renderNewProduct(c, http.StatusOK, newProductForm{Active: true, Prices: loadedPrices(orders.AdminProduct{})}, nil)
}

// createProduct handles POST /admin/products: a product the rules accept, with a
// slug no other has, is created and the admin sent (303) to its page; otherwise
// the form comes back (422) with the input kept and a message beside each field.
func (h *handler) createProduct(c echo.Context) error {
	f := newProductForm{
		Name:        c.FormValue("name"),
		Slug:        strings.TrimSpace(c.FormValue("slug")),
		Description: c.FormValue("description"),
		Image:       c.FormValue("image"),
		Active:      c.FormValue("active") == "true",
		Prices:      readPrices(c),
	}
	for i := range f.Prices {
		f.Prices[i].Was = "" // a new product has no price yet
	}
	p, errs := f.validate()
	if len(errs) > 0 {
		return h.renderNewProduct(c, http.StatusUnprocessableEntity, f, errs)
	}
	id, err := h.deps.Orders.CreateProduct(c.Request().Context(), p, h.change(c))
	if errors.Is(err, orders.ErrConflict) {
		errs["slug"] = fmt.Sprintf("Another product already has the slug %s. Choose another.", p.Slug)
		return h.renderNewProduct(c, http.StatusUnprocessableEntity, f, errs)
	}
	if err != nil {
		return err
	}
	h.flash(c, "ok", fmt.Sprintf("%s is created with prices in %s.", p.Name, strings.Join(pricedIn(p.Prices), ", ")))
	return c.Redirect(http.StatusSeeOther, views.AdminProductURL(id))
}

// pricedIn lists the currencies prices has a price in, in the shop's order.
func pricedIn(prices map[string]int64) []string {
	var out []string
	for _, cur := range orders.Currencies {
		if _, ok := prices[cur]; ok {
			out = append(out, cur)
		}
	}
	return out
}
