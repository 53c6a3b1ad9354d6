package handlers_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// routePath fills a route template's parameters with values that exist.
func routePath(t *testing.T, template string, values map[string]string) string {
	t.Helper()
	parts := strings.Split(template, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			v, ok := values[p]
			if !ok {
				t.Fatalf("no value for %s in route %s", p, template)
			}
			parts[i] = v
		}
	}
	return strings.Join(parts, "/")
}

// headOnTheWire sends HEAD path over a connection of its own, carrying the
// client's cookies, and returns the response and the bytes the server sent after
// its headers (there must be none).
func headOnTheWire(t *testing.T, s *shopper, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, s.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	req.Close = true // the server closes the connection after the answer
	req.Header.Set("Accept-Encoding", "identity")
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("HEAD %s: %v", path, err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	return resp, rest
}

// comparableHeaders is h without the headers that differ between any two
// requests (the date, the request id) and with each Set-Cookie reduced to its
// cookie's name: a new CSRF cookie has a new value and expiry every time.
func comparableHeaders(h http.Header) http.Header {
	out := h.Clone()
	out.Del("Date")
	out.Del(echo.HeaderXRequestID)
	out.Del("Set-Cookie")
	for _, c := range (&http.Response{Header: h}).Cookies() {
		out.Add("Set-Cookie", c.Name)
	}
	return out
}

// TestEveryGETRouteAnswersHEAD: for every registered GET route, HEAD answers with
// the status and headers GET answers (Content-Length included), and the server
// sends no body. Health checkers and link checkers use HEAD.
func TestEveryGETRouteAnswersHEAD(t *testing.T) {
	// A clock that does not move: the CSV's file name carries the time, and a GET
	// and its HEAD a second apart would name different files.
	a := newAppWith(t, testdb.New(t).Pool, appOptions{clock: clockwork.NewFakeClockAt(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))})
	a.setFaults(t, `{"webhooks_disabled": true}`) // nothing changes an order between GET and HEAD
	shopper := a.checkoutOne(t)
	admin := a.newAdmin(t)
	values := map[string]string{
		":ref": shopper.ref,
		":id":  a.orderIDByRef(t, shopper.ref),
		"*":    "css/app.css",
	}

	statuses := map[string]int{}
	for _, r := range a.e.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		t.Run(r.Path, func(t *testing.T) {
			client := shopper.shopper
			if strings.HasPrefix(r.Path, "/admin") && r.Path != "/admin/login" {
				client = admin
			}
			path := routePath(t, r.Path, values)
			// Both ask for the page uncompressed, so their headers compare as sent.
			req, err := http.NewRequest(http.MethodGet, client.url(path), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", "identity")
			get := client.do(req)
			head, rest := headOnTheWire(t, client, path)
			statuses[r.Path] = head.StatusCode
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD %s = %d, GET = %d", path, head.StatusCode, get.StatusCode)
			}
			if get.Header.Get("Content-Length") == "0" && head.Header.Get("Content-Length") == "" {
				// net/http cannot tell a HEAD answer's empty body from an unknown
				// one, so it leaves "0" out; that is allowed.
				head.Header.Set("Content-Length", "0")
			}
			if diff := cmp.Diff(comparableHeaders(get.Header), comparableHeaders(head.Header)); diff != "" {
				t.Errorf("HEAD %s headers differ from GET's (-GET +HEAD):\n%s", path, diff)
			}
			if len(rest) != 0 {
				t.Errorf("HEAD %s sent a body of %d bytes", path, len(rest))
			}
		})
	}
	for _, route := range []string{"/", "/healthz", "/readyz", "/orders/:ref", "/orders/:ref/status", "/static/*", "/admin/login", "/admin/orders"} {
		if statuses[route] != http.StatusOK {
			t.Errorf("HEAD %s = %d, want 200", route, statuses[route])
		}
	}
}

// TestUnsupportedMethodsAre405: every route path answers a method none of its
// routes takes with 405 and an Allow header listing the ones they do — OPTIONS
// included, as the app serves no CORS — before CSRF or the admin's sign-in
// redirect could answer instead. No cookies, tokens or session are sent.
func TestUnsupportedMethodsAre405(t *testing.T) {
	a := newApp(t)
	methods := map[string][]string{} // route path → its methods
	for _, r := range a.e.Routes() {
		if r.Method != echo.RouteNotFound {
			methods[r.Path] = append(methods[r.Path], r.Method)
		}
	}
	if len(methods) < 15 {
		t.Fatalf("only %d route paths registered: %v", len(methods), methods)
	}
	values := map[string]string{":ref": "aaaaaaaaaaaaaaaaaaaa", ":id": "1", "*": "css/app.css"}
	order := []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace}
	for route, have := range methods {
		var allow []string
		for _, m := range order {
			if slices.Contains(have, m) {
				allow = append(allow, m)
			}
		}
		want := strings.Join(allow, ", ")
		path := routePath(t, route, values)
		for _, method := range append(order, http.MethodOptions, "PROPFIND", "BREW") {
			if slices.Contains(have, method) {
				continue
			}
			rec := a.do(t, method, path, strings.NewReader(url.Values{"x": {"1"}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != want {
				t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", method, path, rec.Code, rec.Header().Get("Allow"), want)
			}
		}
	}
}
