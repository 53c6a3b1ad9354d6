package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// dbState fingerprints every table a request could write, so two equal states
// mean nothing was written in between. Left out: the admin's sessions (each
// signed-in request moves its idle deadline) and River's own bookkeeping and
// periodic sweep, which run by themselves.
func (a *app) dbState(t testing.TB) map[string]string {
	t.Helper()
	tables := map[string]string{
		"products":              "products",
		"product_prices":        "product_prices",
		"product_changes":       "product_changes",
		"carts":                 "carts",
		"cart_items":            "cart_items",
		"orders":                "orders",
		"order_items":           "order_items",
		"payment_attempts":      "payment_attempts",
		"order_events":          "order_events",
		"webhook_events":        "webhook_events",
		"admin_signin_failures": "admin_signin_failures",
		"river_job":             "(SELECT id, kind, args FROM river_job WHERE kind <> 'sweep_attempts')",
	}
	state := map[string]string{}
	for name, from := range tables {
		var s string
		err := a.pool.QueryRow(context.Background(),
			`SELECT count(*) || ' rows ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM `+from+` t`).Scan(&s)
		if err != nil {
			t.Fatalf("fingerprint %s: %v", name, err)
		}
		state[name] = s
	}
	return state
}

// hostileRef is as long as a real order reference, so only its bytes can refuse it.
const (
	hostileRefNUL  = "aaaaaaaaaaaaaaaaaaaa%00a"
	hostileRefFFFE = "aaaaaaaaaaaaaaaaaaa%FF%FEa"
)

// TestShopRefusesHostileText sends the shop's every input with NUL bytes, invalid
// UTF-8, and invisible or direction-changing characters: each is refused where it
// enters with its exact 4xx, and nothing is written.
func TestShopRefusesHostileText(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)
	s := a.newShopper(t)
	s.addToCart(ids["enamel-mug"], "1")
	a.insertOrder(t, "Ada Lovelace", "ada@example.com", "awaiting_payment", "USD", time.Now().Add(-time.Hour), "pay_existing")

	const (
		msgName  = "Your name contains a character we cannot accept: a control, invisible or formatting character (shown as �). Remove it and try again."
		msgEmail = "Your email address contains a control, invisible or formatting character (shown as �). Remove it and try again."
	)
	checkouts := []struct {
		name, fullName, email string
		wantErrors            map[string]string
		wantName, wantEmail   string // the fields as re-rendered
	}{
		{"NUL in the name", "Null\x00byte", "ada@example.com", map[string]string{"name": msgName}, "Null\uFFFDbyte", "ada@example.com"},
		{"invalid UTF-8 in the name", "Ada \xff\xfeLovelace", "ada@example.com", map[string]string{"name": msgName}, "Ada \uFFFD\uFFFDLovelace", "ada@example.com"},
		{"right-to-left override in the name", "Ada \u202egnp.exe", "ada@example.com", map[string]string{"name": msgName}, "Ada \uFFFDgnp.exe", "ada@example.com"},
		{"left-to-right embedding in the name", "\u202aAda", "ada@example.com", map[string]string{"name": msgName}, "\uFFFDAda", "ada@example.com"},
		{"right-to-left isolate in the name", "Ada\u2067 Lovelace\u2069", "ada@example.com", map[string]string{"name": msgName}, "Ada\uFFFD Lovelace\uFFFD", "ada@example.com"},
		{"tab in the name", "Ada\tLovelace", "ada@example.com", map[string]string{"name": msgName}, "Ada\uFFFDLovelace", "ada@example.com"},
		{"zero-width space in the name", "Ada\u200bLovelace", "ada@example.com", map[string]string{"name": msgName}, "Ada\uFFFDLovelace", "ada@example.com"},
		{"NUL in the email", "Ada", "ada\x00@example.com", map[string]string{"email": msgEmail}, "Ada", "ada\uFFFD@example.com"},
		{"invalid UTF-8 in the email", "Ada", "ada\xff@example.com", map[string]string{"email": msgEmail}, "Ada", "ada\uFFFD@example.com"},
		{"zero-width space in the email", "Ada", "ada\u200b@example.com", map[string]string{"email": msgEmail}, "Ada", "ada\uFFFD@example.com"},
		{"zero-width joiner in the email's domain", "Ada", "ada@exa\u200dmple.com", map[string]string{"email": msgEmail}, "Ada", "ada@exa\uFFFDmple.com"},
		{"override in the email", "Ada", "moc.elpmaxe\u202e@ada.com", map[string]string{"email": msgEmail}, "Ada", "moc.elpmaxe\uFFFD@ada.com"},
		{"both", "\x00", "\x00", map[string]string{"name": msgName, "email": msgEmail}, "\uFFFD", "\uFFFD"},
	}
	for _, tc := range checkouts {
		t.Run(tc.name, func(t *testing.T) {
			before := a.dbState(t)
			p := s.followRefused(t, s.checkout(tc.fullName, tc.email), "/checkout")
			got := map[string]string{}
			for _, field := range []string{"name", "email"} {
				if e := p.doc.Find("#" + field + "-error"); e.Length() > 0 {
					got[field] = e.Text()
				}
			}
			if diff := cmp.Diff(tc.wantErrors, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if v, _ := p.doc.Find("#name").Attr("value"); v != tc.wantName {
				t.Errorf("name kept as %q, want %q", v, tc.wantName)
			}
			if v, _ := p.doc.Find("#email").Attr("value"); v != tc.wantEmail {
				t.Errorf("email kept as %q, want %q", v, tc.wantEmail)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused checkout wrote (-before +after):\n%s", diff)
			}
		})
	}

	requests := []struct {
		method, path string
		form         url.Values
		want         int
	}{
		{"GET", "/orders/" + hostileRefNUL, nil, 404},
		{"GET", "/orders/" + hostileRefNUL + "/status", nil, 404},
		{"GET", "/orders/" + hostileRefNUL + "/success", nil, 404},
		{"GET", "/orders/" + hostileRefNUL + "/cancel", nil, 404},
		{"POST", "/orders/" + hostileRefNUL + "/pay", nil, 404},
		{"GET", "/orders/" + hostileRefFFFE, nil, 404},
		{"GET", "/orders/" + hostileRefFFFE + "/status?return=success", nil, 404},
		{"GET", "/orders/" + hostileRefFFFE + "/success", nil, 404},
		{"GET", "/orders/" + hostileRefFFFE + "/cancel", nil, 404},
		{"POST", "/orders/" + hostileRefFFFE + "/pay", nil, 404},
		{"GET", "/orders/aaaaaaaaaaaaaaaaaaaa%E2%80%AE", nil, 404}, // an override is no reference either
		{"POST", "/cart/items/%00", url.Values{"quantity": {"1"}}, 404},
		{"POST", "/cart/items/%FF%FE", url.Values{"quantity": {"1"}}, 404},
		{"POST", "/cart/items/%00/remove", nil, 404},
		{"POST", "/cart/items/%FF/remove", nil, 404},
		{"POST", "/cart/items", url.Values{"product_id": {"\x00"}}, 400},
		{"POST", "/cart/items", url.Values{"product_id": {ids["enamel-mug"] + "\x00"}}, 400},
		{"POST", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"1\x00"}}, 400},
		{"POST", "/cart/items", url.Values{"product_id": {ids["enamel-mug"]}, "quantity": {"\xff"}}, 400},
		{"POST", "/cart/items/" + ids["enamel-mug"], url.Values{"quantity": {"\x00"}}, 422},
		{"POST", "/cart/items/" + ids["enamel-mug"], url.Values{"quantity": {"\xff\xfe"}}, 422},
	}
	for _, tc := range requests {
		t.Run(tc.method+" "+tc.path+" "+tc.form.Encode(), func(t *testing.T) {
			before := a.dbState(t)
			var p *page
			switch {
			case tc.method == http.MethodPost && tc.want == http.StatusUnprocessableEntity:
				p = s.followRefused(t, s.post(tc.path, tc.form), "/cart")
			case tc.method == http.MethodPost:
				p = s.post(tc.path, tc.form)
			default:
				p = s.get(tc.path)
			}
			if p.StatusCode != tc.want {
				t.Errorf("%s %s = %d, want %d; body %s", tc.method, tc.path, p.StatusCode, tc.want, p.body)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused request wrote (-before +after):\n%s", diff)
			}
		})
	}
	// The cart's 422 keeps the quantity typed, its refused bytes shown as U+FFFD.
	p := s.followRefused(t, s.post("/cart/items/"+ids["enamel-mug"], url.Values{"quantity": {"1\xff"}}), "/cart")
	if got, _ := p.doc.Find("#qty-" + ids["enamel-mug"]).Attr("value"); got != "1\uFFFD" {
		t.Errorf("re-rendered quantity = %q, want %q", got, "1\uFFFD")
	}
}

// TestAdminRefusesHostileText sends the admin's filters, search, CSV and totals
// parameters, order, delivery and product ids and sign-in form with NUL bytes, invalid
// UTF-8 and invisible characters: a filter is a 400 that says what is wrong, an id
// a 404, a form field a 422, and nothing is written.
func TestAdminRefusesHostileText(t *testing.T) {
	a := newApp(t)
	id, _ := a.insertOrder(t, "Ada Lovelace", "ada@example.com", "failed", "USD", time.Now().Add(-time.Hour), "pay_existing")
	if _, err := a.pool.Exec(context.Background(), `
		INSERT INTO webhook_events (dedup_key, event_id, event_type, payment_id, raw_body, result, processed_at)
		VALUES ('event:evt_1', 'evt_1', 'payment.failed', 'pay_existing', '{}', 'unchanged', now())`); err != nil {
		t.Fatal(err)
	}
	admin := a.newAdmin(t)
	orderURL := "/admin/orders/" + strconv.FormatInt(id, 10)
	if p := admin.get(orderURL); p.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d; the fixture is broken", orderURL, p.StatusCode)
	}

	const (
		badSearch = "The search contains a character that cannot be searched for"
		badFilter = "That filter is not one the list knows."
		badInbox  = "The filter contains a character that cannot be searched for"
	)
	requests := []struct {
		method, path string
		want         int
		wantText     string // in the page, when set
	}{
		{"GET", "/admin/orders?q=%00", 400, badSearch},
		{"GET", "/admin/orders?q=Null%00byte", 400, badSearch},
		{"GET", "/admin/orders?q=%FF%FE", 400, badSearch},
		{"GET", "/admin/orders?q=ada%E2%80%AE", 400, badSearch},
		{"GET", "/admin/orders?q=ada%40example.com%E2%80%8B", 400, badSearch},
		{"GET", "/admin/orders?status=%00", 400, badFilter},
		{"GET", "/admin/orders?currency=%FF", 400, badFilter},
		{"GET", "/admin/orders?flag=%00", 400, badFilter},
		{"GET", "/admin/orders?from=%00", 400, "The from date must look like 2026-01-31."},
		{"GET", "/admin/orders?to=2026-01-01%00", 400, "The to date must look like 2026-01-31."},
		{"GET", "/admin/orders?paid_since=%FF", 400, "The paid since date must look like 2026-01-31."},
		{"GET", "/admin/orders?after=%00", 400, "That page link is broken"},
		{"GET", "/admin/orders?before=1-%FF", 400, "That page link is broken"},
		{"GET", "/admin/orders.csv?q=%00", 400, ""},
		{"GET", "/admin/orders.csv?q=%FF", 400, ""},
		{"GET", "/admin/orders.csv?status=%00", 400, ""},
		{"GET", "/admin/orders/totals?q=%00", 400, badSearch},
		{"GET", "/admin/orders/totals?q=%FF%FE", 400, badSearch},
		{"GET", "/admin/orders/totals?currency=%00", 400, badFilter},
		{"GET", "/admin/orders/%00", 404, ""},
		{"GET", "/admin/orders/%FF", 404, ""},
		{"GET", "/admin/orders/1%00", 404, ""},
		{"POST", "/admin/orders/%00/sync", 404, ""},
		{"POST", "/admin/orders/%FF/sync", 404, ""},
		{"GET", "/admin/webhooks?payment=%00", 400, badInbox},
		{"GET", "/admin/webhooks?payment=pay_existing%00", 400, badInbox},
		{"GET", "/admin/webhooks?payment=%FF%FE", 400, badInbox},
		{"GET", "/admin/webhooks?type=%00", 400, badInbox},
		{"GET", "/admin/webhooks?type=payment.failed%E2%80%AE", 400, badInbox},
		{"GET", "/admin/webhooks?result=%00", 400, "That filter is not one the inbox knows."},
		{"GET", "/admin/webhooks?before=%FF", 400, "That page link is broken"},
		{"POST", "/admin/webhooks/%00/reprocess", 404, ""},
		{"POST", "/admin/webhooks/%FF/reprocess", 404, ""},
		{"GET", "/admin/products/%00", 404, ""},
		{"GET", "/admin/products/%FF", 404, ""},
		{"GET", "/admin/products/1%00", 404, ""},
		{"POST", "/admin/products/%00/prices", 404, ""},
		{"POST", "/admin/products/%FF/active", 404, ""},
	}
	for _, tc := range requests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			before := a.dbState(t)
			var p *page
			if tc.method == http.MethodPost {
				p = admin.post(tc.path, nil)
			} else {
				p = admin.get(tc.path)
			}
			if p.StatusCode != tc.want {
				t.Errorf("%s %s = %d, want %d; body %s", tc.method, tc.path, p.StatusCode, tc.want, p.body)
			}
			if tc.wantText != "" && !strings.Contains(p.body, tc.wantText) {
				t.Errorf("%s %s does not say %q; body %s", tc.method, tc.path, tc.wantText, p.body)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused request wrote (-before +after):\n%s", diff)
			}
		})
	}

	// The sign-in form: a username that cannot be anyone's is a 422 before the
	// throttle counts anything, with the input kept and the refused bytes marked.
	signIns := []struct{ name, user, wantKept string }{
		{"NUL", "merchant\x00", "merchant\uFFFD"},
		{"invalid UTF-8", "\xff\xfemerchant", "\uFFFD\uFFFDmerchant"},
		{"override", "\u202etnahcrem", "\uFFFDtnahcrem"},
	}
	for _, tc := range signIns {
		t.Run("sign-in with "+tc.name, func(t *testing.T) {
			before := a.dbState(t)
			p := a.newShopper(t).signIn(tc.user, "a password", "")
			if p.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("sign-in = %d, want 422; body %s", p.StatusCode, p.body)
			}
			if got, want := strings.TrimSpace(p.doc.Find("#signin-error").Text()), "Your username contains a character that is not allowed (shown as �)."; got != want {
				t.Errorf("sign-in says %q, want %q", got, want)
			}
			if v, _ := p.doc.Find("#username").Attr("value"); v != tc.wantKept {
				t.Errorf("username kept as %q, want %q", v, tc.wantKept)
			}
			if diff := cmp.Diff(before, a.dbState(t)); diff != "" {
				t.Errorf("the refused sign-in wrote (-before +after):\n%s", diff)
			}
		})
	}
}

// followRefused checks that a refused form was answered 303 to location and
// returns that page, which must show the refusal (422).
func (s *shopper) followRefused(t *testing.T, p *page, location string) *page {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != location {
		t.Fatalf("refused form = %d to %q, want 303 to %s; body %s", p.StatusCode, p.Header.Get("Location"), location, p.body)
	}
	if p = s.get(location); p.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("GET %s after a refused form = %d, want 422", location, p.StatusCode)
	}
	return p
}

// TestCheckoutStoresNormalisedCustomer checks that the order, and the payment
// created at Orchestrate, hold the name and email as the validators normalise
// them: spaces collapsed, full-width forms folded, the email's domain in lower
// case and its mailbox as typed.
func TestCheckoutStoresNormalisedCustomer(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	p := s.checkout("Ａｄａ\u00a0  Lovelace", "Ada.Lovelace＠Ｅｘａｍｐｌｅ．ＣＯＭ")
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d, want 303; body %s", p.StatusCode, p.body)
	}
	const wantName, wantEmail = "Ada Lovelace", "Ada.Lovelace@example.com"
	var name, email string
	if err := a.pool.QueryRow(context.Background(), `SELECT customer_name, customer_email FROM orders`).Scan(&name, &email); err != nil {
		t.Fatal(err)
	}
	if name != wantName || email != wantEmail {
		t.Errorf("order customer = %q <%s>, want %q <%s>", name, email, wantName, wantEmail)
	}
	pays := a.payments(t)
	if len(pays) != 1 || pays[0].Customer.Name != wantName || pays[0].Customer.Email != wantEmail {
		t.Errorf("Orchestrate payments = %+v, want one for %q <%s>", pays, wantName, wantEmail)
	}
}

// TestAdminIsolatesStoredNames: a name stored before the checkout refused
// direction overrides cannot reverse the text around it in the admin; each
// customer's name and email are rendered inside their own <bdi>.
func TestAdminIsolatesStoredNames(t *testing.T) {
	a := newApp(t)
	const name = "Ada \u202egnp.exe"
	id, _ := a.insertOrder(t, name, "ada@example.com", "paid", "USD", time.Now().Add(-time.Hour), "pay_legacy")
	admin := a.newAdmin(t)
	list := admin.get("/admin/orders")
	if got := list.doc.Find("td.customer bdi").First().Text(); got != name {
		t.Errorf("the list's customer cell isolates %q, want %q", got, name)
	}
	detail := admin.get(fmt.Sprintf("/admin/orders/%d", id))
	if got := detail.doc.Find("#customer dd bdi").First().Text(); got != name {
		t.Errorf("the order page isolates %q, want %q", got, name)
	}
}
