package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// productEditor reads a product with its history, and changes its prices and
// whether the shop lists it.
type productEditor interface {
	AdminProduct(ctx context.Context, id int64) (orders.AdminProduct, error)
	ProductChanges(ctx context.Context, id int64, limit int) ([]orders.ProductChange, error)
	SetPrices(ctx context.Context, id int64, changes []orders.PriceChange, by orders.Change) error
	SetActive(ctx context.Context, id int64, active bool, by orders.Change) (bool, error)
}

// productHistory is how many of a product's latest changes its page shows.
const productHistory = 200

// msgStaleForm answers a price form whose hidden fields are not what the page
// wrote: altered, or from a page of another version.
const msgStaleForm = "This form is out of date or was altered. Open the product's page again and redo your change."

// productID reads the :id of an admin product URL; anything but a positive
// number is a 404 like any unknown product.
func productID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("product %q: %w", c.Param("id"), orders.ErrNotFound)
	}
	return id, nil
}

// change is who changes the catalog now: the signed-in admin, at the app
// clock's time.
func (h *handler) change(c echo.Context) orders.Change {
	return orders.Change{
		Actor: h.deps.Sessions.GetString(c.Request().Context(), adminSessionKey),
		At:    h.cfg.Clock.Now(),
	}
}

// priceInput is one currency's price as a form sent it: what was typed, in
// major units, and the price the form was loaded with, in minor units.
type priceInput struct {
	Currency string
	Value    string
	Was      string
}

// readPrices reads a form's price of every currency the shop sells in.
func readPrices(c echo.Context) []priceInput {
	in := make([]priceInput, 0, len(orders.Currencies))
	for _, cur := range orders.Currencies {
		in = append(in, priceInput{Currency: cur, Value: c.FormValue("price_" + cur), Was: c.FormValue("was_" + cur)})
	}
	return in
}

// loadedPrices are p's prices as its page loads them into the form.
func loadedPrices(p orders.AdminProduct) []priceInput {
	in := make([]priceInput, 0, len(orders.Currencies))
	for _, cur := range orders.Currencies {
		f := priceInput{Currency: cur}
		if minor, ok := p.Prices[cur]; ok {
			f.Value, f.Was = orders.PriceInput(minor, cur), strconv.FormatInt(minor, 10)
		}
		in = append(in, f)
	}
	return in
}

// parsePrice reads one typed price: 0 for an empty field (no price), or a
// message saying what to fix.
func parsePrice(currency, typed string) (int64, string) {
	if strings.TrimSpace(typed) == "" {
		return 0, ""
	}
	minor, err := orders.ParsePrice(typed, currency)
	switch {
	case err == nil:
		return minor, ""
	case errors.Is(err, orders.ErrPriceDecimals):
		return 0, fmt.Sprintf("A price in %s has at most %s.", currency, decimals(orders.PriceDecimals(currency)))
	case errors.Is(err, orders.ErrPriceRange):
		max, _ := orders.MaxPrice(currency)
		return 0, fmt.Sprintf("Enter a price above zero and at most %s.", orders.Money{Minor: max, Currency: currency})
	default:
		return 0, fmt.Sprintf("Enter the price in %s as digits with an optional decimal point, like %s, without a currency sign or separators; or leave it empty.",
			currency, examplePrice(currency))
	}
}

// decimals says how many decimals a currency has, in words.
func decimals(n int) string {
	switch n {
	case 0:
		return "no decimals"
	case 1:
		return "1 decimal"
	}
	return strconv.Itoa(n) + " decimals"
}

// examplePrice is 32 in major units of currency, as a price field takes it.
func examplePrice(currency string) string {
	minor := int64(32)
	for range orders.PriceDecimals(currency) {
		minor *= 10
	}
	return orders.PriceInput(minor, currency)
}

// parseWas reads the price a form was loaded with: 0 for none. Anything the
// page could not have written is an error.
func parseWas(currency, was string) (int64, error) {
	if was == "" {
		return 0, nil
	}
	minor, err := strconv.ParseInt(was, 10, 64)
	if max, _ := orders.MaxPrice(currency); err != nil || minor <= 0 || minor > max {
		return 0, echo.NewHTTPError(http.StatusBadRequest, msgStaleForm)
	}
	return minor, nil
}

// priceFields are the price inputs of a form as the page shows them: in, with
// the refused characters of what was typed marked, each field's message from
// errs (by field name), and the saved prices of p.
func priceFields(in []priceInput, errs map[string]string, p orders.AdminProduct) []views.AdminPriceField {
	fields := make([]views.AdminPriceField, 0, len(in))
	for _, f := range in {
		v := views.AdminPriceField{
			Currency: f.Currency,
			Value:    orders.MarkRefused(f.Value),
			Was:      f.Was,
			Saved:    priceOrNone(p, f.Currency, ""),
			Decimals: orders.PriceDecimals(f.Currency),
			Example:  examplePrice(f.Currency),
		}
		v.Error = errs[v.Name()]
		fields = append(fields, v)
	}
	return fields
}

// adminProduct handles GET /admin/products/:id: its prices, ready to edit, its
// status and its history.
func (h *handler) adminProduct(c echo.Context) error {
	id, err := productID(c)
	if err != nil {
		return err
	}
	p, err := h.deps.Orders.AdminProduct(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderProduct(c, http.StatusOK, p, priceFields(loadedPrices(p), nil, p), "")
}

// renderProduct renders product p's page with the price fields given and its
// stock form loaded.
func (h *handler) renderProduct(c echo.Context, status int, p orders.AdminProduct, prices []views.AdminPriceField, notice string) error {
	return h.renderProductWith(c, status, p, prices, notice, stockForm(p, loadedStock(p), ""))
}

// renderProductWith renders product p's page with the price fields and the
// stock form given.
func (h *handler) renderProductWith(c echo.Context, status int, p orders.AdminProduct, prices []views.AdminPriceField, notice string, stock views.AdminStock) error {
	changes, err := h.deps.Orders.ProductChanges(c.Request().Context(), p.ID, productHistory)
	if err != nil {
		return err
	}
	page := views.AdminProductPage{
		Layout:      h.adminLayout(c, p.Name),
		Flash:       h.popFlash(c),
		Notice:      notice,
		Name:        p.Name,
		Slug:        p.Slug,
		Description: p.Description,
		Image:       p.Image,
		Active:      p.Active,
		CSRFToken:   csrfToken(c),
		PricesURL:   views.AdminProductPricesURL(p.ID),
		ActiveURL:   views.AdminProductActiveURL(p.ID),
		Prices:      prices,
		Stock:       stock,
	}
	for _, ch := range changes {
		page.Changes = append(page.Changes, views.AdminProductChange{
			At:    h.adminTime(ch.At),
			Actor: ch.Actor,
			Field: changeField(ch.Field),
			From:  changeValue(ch.Field, ch.From),
			To:    changeValue(ch.Field, ch.To),
		})
	}
	return render(c, status, views.AdminProduct(page))
}

// changeField names a recorded change's field for the merchant.
func changeField(field string) string {
	if cur, ok := strings.CutPrefix(field, orders.PriceField("")); ok {
		return "Price in " + cur
	}
	switch field {
	case orders.FieldCreated:
		return "Created"
	case orders.FieldStatus:
		return "Status"
	case orders.FieldStock:
		return "Stock on hand"
	}
	return field
}

// changeValue shows a recorded value: a price formatted in its currency, "none"
// for no value, anything else as it is.
func changeValue(field string, v *string) string {
	if v == nil {
		return "none"
	}
	if cur, ok := strings.CutPrefix(field, orders.PriceField("")); ok {
		if minor, err := orders.ParsePrice(*v, cur); err == nil {
			return orders.Money{Minor: minor, Currency: cur}.String()
		}
	}
	return *v
}

// describePrices says what a save changed: "EUR €19.00 → €21.00; GBP £16.00 → none".
func describePrices(changes []orders.PriceChange) string {
	parts := make([]string, 0, len(changes))
	for _, c := range changes {
		parts = append(parts, c.Currency+" "+describePrice(c.From, c.Currency)+" → "+describePrice(c.To, c.Currency))
	}
	return strings.Join(parts, "; ")
}

// saveProductPrices handles POST /admin/products/:id/prices. Each price is
// changed only if it is still the one the form was loaded with: one changed by
// someone else meanwhile fails the whole save (409), nothing written, with
// every such price shown as it is now. Prices the rules refuse are a 422 with
// the input kept and a message beside each field. A save is answered 303 to the
// product's page with what changed.
func (h *handler) saveProductPrices(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := productID(c)
	if err != nil {
		return err
	}
	p, err := h.deps.Orders.AdminProduct(ctx, id)
	if err != nil {
		return err
	}
	in := readPrices(c)
	errs := map[string]string{}
	var changes []orders.PriceChange
	for _, f := range in {
		was, err := parseWas(f.Currency, f.Was)
		if err != nil {
			return err
		}
		to, msg := parsePrice(f.Currency, f.Value)
		if msg != "" {
			errs["price_"+f.Currency] = msg
			continue
		}
		if to != was {
			changes = append(changes, orders.PriceChange{Currency: f.Currency, From: was, To: to})
		}
	}
	if len(errs) > 0 {
		return h.renderProduct(c, http.StatusUnprocessableEntity, p, priceFields(in, errs, p), "")
	}
	if len(changes) == 0 {
		h.flash(c, "warn", "Nothing to save: the prices are as they were.")
		return c.Redirect(http.StatusSeeOther, views.AdminProductURL(id))
	}
	err = h.deps.Orders.SetPrices(ctx, id, changes, h.change(c))
	if errors.Is(err, orders.ErrConflict) {
		return h.pricesChangedMeanwhile(c, id, in)
	}
	if err != nil {
		return err
	}
	h.flash(c, "ok", "Prices saved: "+describePrices(changes)+".")
	return c.Redirect(http.StatusSeeOther, views.AdminProductURL(id))
}

// pricesChangedMeanwhile answers a save refused because a price changed since
// the form was loaded: 409, the merchant's input kept, each price that changed
// marked with what it is now, and the form now loaded with those prices, so
// saving again replaces them knowingly.
func (h *handler) pricesChangedMeanwhile(c echo.Context, id int64, in []priceInput) error {
	now, err := h.deps.Orders.AdminProduct(c.Request().Context(), id)
	if err != nil {
		return err
	}
	errs := map[string]string{}
	for i, f := range in {
		loaded, _ := parseWas(f.Currency, f.Was) // checked by the caller
		current := now.Prices[f.Currency]
		if current != loaded {
			errs["price_"+f.Currency] = fmt.Sprintf("Changed by someone else while you were editing: it is now %s (it was %s when you opened this page). Save again to replace it with yours.",
				priceOrNone(now, f.Currency, "none"), describePrice(loaded, f.Currency))
		}
		in[i].Was = ""
		if current != 0 {
			in[i].Was = strconv.FormatInt(current, 10)
		}
	}
	return h.renderProduct(c, http.StatusConflict, now, priceFields(in, errs, now),
		"Someone changed this product's prices while you were editing, so nothing was saved. Check the prices marked below and save again.")
}

// describePrice is minor units of currency formatted, or "none" for 0.
func describePrice(minor int64, currency string) string {
	if minor == 0 {
		return "none"
	}
	return orders.Money{Minor: minor, Currency: currency}.String()
}

// setProductActive handles POST /admin/products/:id/active: active=true lists the
// product in the shop, active=false takes it out. Either is answered 303 to the
// product's page, saying what changed.
func (h *handler) setProductActive(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := productID(c)
	if err != nil {
		return err
	}
	var active bool
	switch c.FormValue("active") {
	case "true":
		active = true
	case "false":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, msgStaleForm)
	}
	p, err := h.deps.Orders.AdminProduct(ctx, id)
	if err != nil {
		return err
	}
	changed, err := h.deps.Orders.SetActive(ctx, id, active, h.change(c))
	if err != nil {
		return err
	}
	switch {
	case !changed && active:
		h.flash(c, "warn", p.Name+" was already active; nothing changed.")
	case !changed:
		h.flash(c, "warn", p.Name+" was already inactive; nothing changed.")
	case active:
		h.flash(c, "ok", p.Name+" is active: the shop lists it.")
	default:
		h.flash(c, "ok", p.Name+" is inactive: the shop no longer lists it, and carts drop it.")
	}
	return c.Redirect(http.StatusSeeOther, views.AdminProductURL(id))
}
