package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// setCookie returns the cookie called name that rec sets, or nil.
func setCookie(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// formPost is the headers of a form POST carrying cookie, plus extra.
func formPost(cookie string, extra ...string) []string {
	return append([]string{"Content-Type", "application/x-www-form-urlencoded", "Cookie", cookie}, extra...)
}

// TestPlantedCSRFCookieIsRefused: a _csrf cookie the server did not sign — made
// up, or planted by a sibling subdomain — is replaced on the next page and never
// accepted with a form, while the server's own token is, even when a planted
// cookie of the same name comes first.
func TestPlantedCSRFCookieIsRefused(t *testing.T) {
	a := newApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	add := func(cookie, token string, extra ...string) int {
		t.Helper()
		body := url.Values{"product_id": {mug}, "_csrf": {token}}.Encode()
		return a.do(t, http.MethodPost, "/cart/items", strings.NewReader(body), formPost(cookie, extra...)...).Code
	}

	const planted = "planted-by-a-sibling-subdomain"
	rec := a.get(t, "/", "Cookie", "_csrf="+planted)
	fresh := setCookie(rec, "_csrf")
	if fresh == nil || fresh.Value == planted {
		t.Fatalf("GET / with a planted _csrf cookie set %v, want a new token", fresh)
	}
	if v, _ := doc(t, rec).Find(`form input[name=_csrf]`).First().Attr("value"); v != fresh.Value {
		t.Errorf("the page's forms carry %q, want the new token %q", v, fresh.Value)
	}

	for _, tc := range []struct{ name, cookie, token string }{
		{"planted value", planted, planted},
		{"well-formed but unsigned", "AAAAAAAAAAAAAAAAAAAAAAAAAA.bm90LWEtbWFj", "AAAAAAAAAAAAAAAAAAAAAAAAAA.bm90LWEtbWFj"},
		{"real token, planted cookie", planted, fresh.Value},
	} {
		if code := add("_csrf="+tc.cookie, tc.token); code != http.StatusForbidden {
			t.Errorf("%s: POST /cart/items = %d, want 403", tc.name, code)
		}
	}
	if n := a.count(t, `SELECT count(*) FROM carts`); n != 0 {
		t.Fatalf("refused posts created %d carts", n)
	}

	if code := add("_csrf="+planted+"; _csrf="+fresh.Value, fresh.Value); code != http.StatusSeeOther {
		t.Errorf("the server's token behind a planted cookie: POST /cart/items = %d, want 303", code)
	}
	if code := add("_csrf="+fresh.Value, fresh.Value); code != http.StatusSeeOther {
		t.Errorf("the server's token: POST /cart/items = %d, want 303", code)
	}
}

// TestCrossOriginPostIsRefused: a browser's form post from another origin is
// refused whatever it carries — from a sibling subdomain (Sec-Fetch-Site:
// same-site) even with a valid cookie and token, and from an older browser by
// its Origin — while same-origin posts pass.
func TestCrossOriginPostIsRefused(t *testing.T) {
	a := newApp(t)
	mug := a.productIDs(t)["enamel-mug"]
	token := setCookie(a.get(t, "/"), "_csrf").Value
	body := url.Values{"product_id": {mug}, "_csrf": {token}}.Encode()
	post := func(host string, headers ...string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/cart/items", strings.NewReader(body))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "_csrf="+token)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		return rec.Code
	}

	for _, tc := range []struct {
		name    string
		headers []string
	}{
		{"cross-site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
		{"sibling subdomain", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://evil.shop.test"}},
		{"older browser, foreign Origin", []string{"Origin", "https://evil.example"}},
	} {
		if code := post("shop.test", tc.headers...); code != http.StatusForbidden {
			t.Errorf("%s: POST /cart/items = %d, want 403", tc.name, code)
		}
	}
	if n := a.count(t, `SELECT count(*) FROM carts`); n != 0 {
		t.Fatalf("refused posts created %d carts", n)
	}
	for _, tc := range []struct {
		name, host string
		headers    []string
	}{
		{"same-origin browser", "shop.test", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://shop.test"}},
		{"older browser, own Origin", "shop.test", []string{"Origin", "http://shop.test"}},
		// A proxy that rewrites Host: the Origin is still PUBLIC_URL's.
		{"older browser behind a proxy", "10.0.0.5:8080", []string{"Origin", "http://shop.test"}},
	} {
		if code := post(tc.host, tc.headers...); code != http.StatusSeeOther {
			t.Errorf("%s: POST /cart/items = %d, want 303", tc.name, code)
		}
	}
}
