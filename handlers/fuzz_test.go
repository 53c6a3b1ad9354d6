package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/orders"
)

// The fuzz tests drive the real app (Echo, PostgreSQL, the sandbox over HTTP)
// with whatever the fuzzer makes of the shop's and the admin's inputs, and fail
// on any 5xx: hostile input must get a 4xx, never a server error. `go test` runs
// their seeds; run one for longer with, for example,
//
//	TEST_DATABASE_URL=… go test -run '^$' -fuzz '^FuzzShop$' -fuzztime 5m ./handlers

// fuzzClient is one browser talking to the app in-process: it keeps the cookies
// it is given and marks every request same-origin, which the CSRF check accepts
// from a browser in place of the token.
type fuzzClient struct {
	a       *app
	addr    string // the client's address, for the sign-in throttle
	cookies map[string]*http.Cookie
}

func (a *app) newFuzzClient(addr string) *fuzzClient {
	return &fuzzClient{a: a, addr: addr, cookies: map[string]*http.Cookie{}}
}

// do sends one request. Every path segment and form value arrives as given,
// whatever its bytes: segments are escaped into the URL and decoded by the
// server. It fails the test on a 5xx.
func (fc *fuzzClient) do(t testing.TB, method string, segments []string, query, form url.Values, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var path strings.Builder
	for _, s := range segments {
		path.WriteString("/" + url.PathEscape(s))
	}
	target := path.String()
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.RemoteAddr = fc.addr + ":40000"
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, c := range fc.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	fc.a.e.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		body := rec.Body.String()
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("%s %s form %q = %d, want no server error; body %s", method, target, form.Encode(), rec.Code, body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(fc.cookies, c.Name)
		} else {
			fc.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	return rec
}

// safeRequestID is what every response's X-Request-Id must look like.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// shopSeeds are the hostile inputs the security probe found, and their kin.
var shopSeeds = []struct{ name, email, ref, id, qty, requestID string }{
	{"Ada Lovelace", "ada@example.com", "aaaaaaaaaaaaaaaaaaaaaa", "1", "1", "req-1"},
	{"Null\x00byte", "ada@example.com", "aaaaaaaaaaaaaaaaaaaa\x00a", "\x00", "\x00", "\x00"},
	{"Ada \xff\xfeLovelace", "ada\xff\xfe@example.com", "aaaaaaaaaaaaaaaaaaa\xff\xfea", "\xff\xfe", "\xff", "\xff\xfe"},
	{"evil\u202egnp.exe", "ada\u200b@example.com", "aaaaaaaaaaaaaaaaaaaa\u202e", "1\x00", "1\x00", "\u202e"},
	{"\u2067Ada\u2069", "moc.elpmaxe\u202e@ada.com", "aaaaaaaaaaaaaaaaaaaaa%", "-1", "-1", strings.Repeat("r", 65)},
	{"Ａｄａ Ｌｏｖｅｌａｃｅ", "ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ", "../../../../etc/passwd", "99999999999999999999", "99999999999999999999", "a b"},
	{"Ada\tLovelace\n", "ada@exa\u200dmple.com", "", "", "", strings.Repeat("x", 10000)},
	{strings.Repeat("é", 101), strings.Repeat("a", 250) + "@example.com", strings.Repeat("a", 65), "1 ", " 2", "<script>"},
	{"=HYPERLINK(\"x\")", "\"quoted x\"@example.com", "aaaaaaaaaaaaaaaaaaaaa\ufffd", "0x1", "1e3", "ok.id_1-2"},
}

// FuzzShop sends one fuzzed name, email, order reference, cart item id,
// quantity and request id to every shop input, as one shopper with a cart. On top
// of "no 5xx", a checkout that is accepted must have stored a name and an email
// that CleanName and NormalizeEmail leave as they are, and a response's request
// id must be a safe one.
func FuzzShop(f *testing.F) {
	for _, s := range shopSeeds {
		f.Add(s.name, s.email, s.ref, s.id, s.qty, s.requestID)
	}
	a := newApp(f)
	var mug string
	if err := a.pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE slug = 'enamel-mug'`).Scan(&mug); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, email, ref, id, qty, requestID string) {
		fc := a.newFuzzClient("192.0.2.1")
		do := func(method string, segments []string, query, form url.Values) *httptest.ResponseRecorder {
			t.Helper()
			rec := fc.do(t, method, segments, query, form, "X-Request-Id", requestID)
			// (The trailing-slash redirect answers before the id is given.)
			if got := rec.Header().Get("X-Request-Id"); got != "" && !safeRequestID.MatchString(got) {
				t.Fatalf("X-Request-Id %q answered with %q", requestID, got)
			}
			return rec
		}
		do("POST", []string{"cart", "items"}, nil, url.Values{"product_id": {id}, "quantity": {qty}})
		do("POST", []string{"cart", "items"}, nil, url.Values{"product_id": {mug}})
		do("POST", []string{"cart", "items", id}, nil, url.Values{"quantity": {qty}})
		do("GET", []string{"cart"}, nil, nil)
		do("GET", []string{"checkout"}, nil, nil)
		do("POST", []string{"cart", "fit"}, nil, url.Values{"name": {name}, "email": {email}})
		rec := do("POST", []string{"checkout"}, nil, withAddress(url.Values{"name": {name}, "email": {email}}))
		if rec.Code == http.StatusSeeOther && !strings.HasPrefix(rec.Header().Get("Location"), "/") {
			// Sent to pay: the order holds the customer as normalised.
			var storedName, storedEmail, storedRef string
			if err := a.pool.QueryRow(context.Background(), `
				SELECT o.customer_name, o.customer_email, o.public_ref
				FROM carts c JOIN orders o ON o.id = c.order_id WHERE c.id = $1`, cartIDOf(fc.cookies["cart"].Value)).Scan(&storedName, &storedEmail, &storedRef); err != nil {
				t.Fatal(err)
			}
			if clean, err := orders.CleanName(storedName); err != nil || clean != storedName {
				t.Fatalf("checkout with name %q stored %q, which CleanName makes %q, %v", name, storedName, clean, err)
			}
			if clean, err := orders.NormalizeEmail(storedEmail); err != nil || clean != storedEmail {
				t.Fatalf("checkout with email %q stored %q, which NormalizeEmail makes %q, %v", email, storedEmail, clean, err)
			}
			do("GET", []string{"orders", storedRef}, nil, nil)
		}
		do("GET", []string{"orders", ref}, nil, nil)
		do("GET", []string{"orders", ref, "status"}, url.Values{"return": {qty}}, nil)
		do("GET", []string{"orders", ref, "success"}, nil, nil)
		do("GET", []string{"orders", ref, "cancel"}, nil, nil)
		do("POST", []string{"orders", ref, "pay"}, nil, url.Values{})
		do("POST", []string{"cart", "items", id, "remove"}, nil, url.Values{})
		do("GET", []string{ref}, nil, nil)
	})
}

// FuzzAdmin sends fuzzed filters, search, dates, cursors and ids to every admin
// page, its CSV export and totals, and fuzzed product names, slugs and prices to
// the catalog admin's forms, as a signed-in merchant.
func FuzzAdmin(f *testing.F) {
	type seed struct{ q, status, currency, flag, date, cursor, whType, result, payment, id string }
	for _, s := range []seed{
		{"ada", "paid", "USD", "stuck", "2026-01-31", "1767225600000000-1", "payment.failed", "applied", "pay_1", "1"},
		{"\x00", "\x00", "\x00", "\x00", "\x00", "\x00", "\x00", "\x00", "\x00", "\x00"},
		{"Null\x00byte", "paid\x00", "USD\x00", "stuck\x00", "2026-01-31\x00", "1-1\x00", "payment.failed\x00", "applied\x00", "pay_1\x00", "1\x00"},
		{"\xff\xfe", "\xff", "\xff", "\xff", "\xff", "\xff", "\xff", "\xff", "\xff\xfe", "\xff"},
		{"ada@example.com\u200b", "\u202e", "usd", "refund_needed", "2026-02-30", "-1--1", "\u202e", "pending", "pay\u2067", "-1"},
		{"ada@example.com", "", "", "", "9999-12-31", "9223372036854775807-9223372036854775807", "", "error", "", "9223372036854775808"},
		{"FK-100042", "expired", "EUR", "", "0001-01-01", "-9223372036854775808-1", "payment.succeeded", "unknown_payment", "%", "0"},
		{strings.Repeat("a", 201), "needs_review", "GBP", "", "2026-1-1", "1-0", strings.Repeat("t", 1000), "invalid", strings.Repeat("p", 1000), strings.Repeat("9", 30)},
		{"%_\\", "", "CAD", "", "", "", "'; DROP TABLE orders; --", "", "' OR '1'='1", "1 OR 1=1"},
	} {
		f.Add(s.q, s.status, s.currency, s.flag, s.date, s.cursor, s.whType, s.result, s.payment, s.id, "Cold brew jar", "cold-brew-jar", "24.00")
	}
	// The catalog admin's inputs: a product's name (and description), slug and a
	// price, with a product id and the price the form was loaded with in id and
	// cursor; status, currency, flag and whType carry a new product's activation,
	// a price's currency, an activation and an image.
	for _, s := range [][5]string{
		{"Cold brew jar", "cold-brew-jar", "24.00", "1", "1999"},
		{"Jar\x00", "jar\x00", "24\x00", "1\x00", "1999\x00"},
		{"Jar \xff\xfe", "jar\xff", "\xff24", "\xff", "\xff"},
		{"\u202eraJ\u200b", "\u202ejar", "2\u200b4", "-1", "-1"},
		{"Ｊａｒ", "JAR", "３２.００", "0", "0"},
		{"  Ｊａｒ   two ", "jar-two", "32", "1", "1900"},
		{strings.Repeat("é", 201), strings.Repeat("a", 101), "1000000.01", "9223372036854775808", "100000001"},
		{"<script>alert(1)</script>", "../../etc/passwd", "19.999", "2", ""},
		{"Jar\r\nTwo lines", "a--b", "1e3", "1 OR 1=1", "1e3"},
		{"=HYPERLINK(\"x\")", "enamel-mug", "-5.00", "3", "1900"},
		{"", "", "", "", ""},
	} {
		f.Add("", "true", "EUR", "false", "", s[4], "img/mug.svg", "", "", s[3], s[0], s[1], s[2])
	}
	a := newApp(f)
	ctx := context.Background()
	if _, err := a.pool.Exec(ctx, `
		INSERT INTO orders (id, public_ref, status, currency, total_minor, customer_name, customer_email)
		OVERRIDING SYSTEM VALUE VALUES (1, 'fuzz-order-reference-0001', 'failed', 'USD', 1999, 'Ada Lovelace', 'ada@example.com');
		INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency, orchestrate_payment_id, expires_at)
		VALUES (gen_random_uuid(), 1, 'failed', 1999, 'USD', 'pay_1', now());
		INSERT INTO webhook_events (id, dedup_key, event_id, event_type, payment_id, raw_body, result, processed_at)
		OVERRIDING SYSTEM VALUE VALUES (1, 'event:evt_1', 'evt_1', 'payment.failed', 'pay_1', '{}', 'unchanged', now())`); err != nil {
		f.Fatal(err)
	}
	admin := a.newFuzzClient("192.0.2.2")
	signIn := url.Values{"username": {testAdminUser}, "password": {testAdminPassword}}
	if rec := admin.do(f, "POST", []string{"admin", "login"}, nil, signIn); rec.Code != http.StatusSeeOther {
		f.Fatalf("sign in = %d, want 303", rec.Code)
	}
	f.Fuzz(func(t *testing.T, q, status, currency, flag, date, cursor, whType, result, payment, id, name, slug, price string) {
		// Each parameter alone, so that no other refused one answers first, then all
		// of them together.
		list := url.Values{"q": {q}, "status": {status}, "currency": {currency}, "flag": {flag},
			"from": {date}, "to": {date}, "paid_since": {date}, "after": {cursor}}
		queries := []url.Values{list, {"status": {status}, "before": {cursor}}}
		for _, name := range slices.Sorted(maps.Keys(list)) {
			queries = append(queries, url.Values{name: list[name]})
		}
		for _, query := range queries {
			for _, path := range [][]string{{"admin", "orders"}, {"admin", "orders.csv"}, {"admin", "orders", "totals"}} {
				admin.do(t, "GET", path, query, nil)
			}
		}
		admin.do(t, "GET", []string{"admin", "orders", "totals"}, url.Values{"q": {q}}, nil, "HX-Request", "true")
		inbox := url.Values{"type": {whType}, "result": {result}, "payment": {payment}, "before": {id}}
		for _, name := range slices.Sorted(maps.Keys(inbox)) {
			admin.do(t, "GET", []string{"admin", "webhooks"}, url.Values{name: inbox[name]}, nil)
		}
		admin.do(t, "GET", []string{"admin", "webhooks"}, inbox, nil)
		admin.do(t, "GET", []string{"admin", "orders", id}, nil, nil)
		admin.do(t, "POST", []string{"admin", "orders", id, "sync"}, nil, url.Values{})
		admin.do(t, "POST", []string{"admin", "webhooks", id, "reprocess"}, nil, url.Values{"next": {cursor}})
		admin.do(t, "GET", []string{"admin"}, nil, nil)
		admin.do(t, "GET", []string{"admin", "login"}, url.Values{"next": {cursor}}, nil)

		// The catalog admin: a product's page, its prices (as typed, over the price
		// the form was loaded with), its activation, and a new product.
		admin.do(t, "GET", []string{"admin", "products"}, nil, nil)
		admin.do(t, "GET", []string{"admin", "products", id}, nil, nil)
		admin.do(t, "POST", []string{"admin", "products", id, "prices"}, nil,
			url.Values{"price_EUR": {price}, "was_EUR": {cursor}, "price_USD": {price}, "was_USD": {"1999"}})
		admin.do(t, "POST", []string{"admin", "products", id, "active"}, nil, url.Values{"active": {flag}})
		rec := admin.do(t, "POST", []string{"admin", "products"}, nil, url.Values{"name": {name}, "slug": {slug},
			"description": {name + "\r\n" + q}, "image": {whType}, "price_" + currency: {price}, "price_GBP": {price}, "active": {status}})
		if rec.Code == http.StatusSeeOther {
			// Created: the product holds its text as the rules leave it.
			var storedName, storedDesc string
			if err := a.pool.QueryRow(ctx, `SELECT name, description FROM products WHERE slug = $1`, slug).Scan(&storedName, &storedDesc); err != nil {
				t.Fatal(err)
			}
			if clean, err := orders.CleanProductName(storedName); err != nil || clean != storedName {
				t.Fatalf("a product named %q stored %q, which CleanProductName makes %q, %v", name, storedName, clean, err)
			}
			if clean, err := orders.CleanDescription(storedDesc); err != nil || clean != storedDesc {
				t.Fatalf("a description %q stored as %q, which CleanDescription makes %q, %v", name+"\r\n"+q, storedDesc, clean, err)
			}
		}
		admin.do(t, "GET", []string{"admin", "products", "new"}, nil, nil)
	})
}

// FuzzAdminSignIn sends fuzzed usernames, passwords and next links to the
// sign-in form, each from its own address so the throttle's answer (429) does
// not hide what follows it.
func FuzzAdminSignIn(f *testing.F) {
	for _, s := range [][3]string{
		{testAdminUser, "wrong", "/admin/orders"},
		{"merchant\x00", "\x00", "/admin\x00"},
		{"\xff\xfe", "\xff\xfe", "/admin/orders?q=%FF"},
		{"\u202etnahcrem", "pass\u202e", "//evil.example"},
		{strings.Repeat("é", 60), strings.Repeat("p", 10000), "/admin/../../etc"},
		{"admin", "admin", "javascript:alert(1)"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	a := newApp(f)
	n := 0
	f.Fuzz(func(t *testing.T, user, password, next string) {
		n++
		fc := a.newFuzzClient("198.18." + strconv.Itoa(n/250%250) + "." + strconv.Itoa(n%250))
		fc.do(t, "GET", []string{"admin", "login"}, url.Values{"next": {next}}, nil)
		fc.do(t, "POST", []string{"admin", "login"}, nil, url.Values{"username": {user}, "password": {password}, "next": {next}})
	})
}

// cartIDOf is the cart id inside a signed cart cookie value ("id.signature").
func cartIDOf(cookie string) string {
	id, _, _ := strings.Cut(cookie, ".")
	return id
}
