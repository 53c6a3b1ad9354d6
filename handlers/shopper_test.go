package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// shopper is a browser-like client of the app over real HTTP: it keeps cookies,
// does not follow redirects (tests look at them), and echoes the CSRF token.
type shopper struct {
	t    *testing.T
	c    *http.Client
	base string
}

var serverMu sync.Mutex

// server returns the app served over HTTP, started on first use.
func (a *app) server(t testing.TB) *httptest.Server {
	t.Helper()
	serverMu.Lock()
	defer serverMu.Unlock()
	if a.srv == nil {
		a.srv = httptest.NewServer(a.e)
		t.Cleanup(a.srv.Close)
	}
	return a.srv
}

func (a *app) newShopper(t *testing.T) *shopper {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &shopper{
		t:    t,
		base: a.server(t).URL,
		c: &http.Client{
			Jar:           jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// page is a response with its body read and, for HTML, parsed.
type page struct {
	*http.Response
	body string
	doc  *goquery.Document
}

func (s *shopper) do(req *http.Request) *page {
	s.t.Helper()
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	p := &page{Response: resp, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.doc, err = goquery.NewDocumentFromReader(strings.NewReader(p.body))
		if err != nil {
			s.t.Fatal(err)
		}
	}
	return p
}

func (s *shopper) get(path string) *page {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url(path), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req)
}

// post submits a form with the shopper's CSRF token added.
func (s *shopper) post(path string, form url.Values) *page {
	s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", s.csrf())
	}
	return s.postRaw(path, form)
}

// postRaw submits a form exactly as given.
func (s *shopper) postRaw(path string, form url.Values, headers ...string) *page {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(req)
}

func (s *shopper) url(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return s.base + path
}

// csrf returns the token from the _csrf cookie, fetching a page first if needed.
func (s *shopper) csrf() string {
	s.t.Helper()
	u, _ := url.Parse(s.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	s.get("/")
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	s.t.Fatal("no _csrf cookie after GET /")
	return ""
}

// addToCart adds quantity of product id and expects the redirect to the cart.
func (s *shopper) addToCart(productID, quantity string) {
	s.t.Helper()
	p := s.post("/cart/items", url.Values{"product_id": {productID}, "quantity": {quantity}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/cart" {
		s.t.Fatalf("add to cart = %d %q, want 303 to /cart; body %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
}

// checkout submits the checkout form.
func (s *shopper) checkout(name, email string) *page {
	s.t.Helper()
	return s.post("/checkout", withAddress(url.Values{"name": {name}, "email": {email}}))
}

// payments lists every payment the sandbox holds, newest first.
func (a *app) payments(t *testing.T) []orchestrate.Payment {
	t.Helper()
	c, err := orchestrate.NewClient(a.sandbox.URL, a.sandboxKey)
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListPayments(context.Background(), &orchestrate.ListPaymentsParams{Page: 1, PerPage: 100})
	if err != nil {
		t.Fatalf("list sandbox payments: %v", err)
	}
	return list.Items
}

// setFaults replaces the sandbox's fault settings (JSON as its control endpoint takes).
func (a *app) setFaults(t *testing.T, faults string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, a.sandbox.URL+"/_sandbox/faults", strings.NewReader(faults))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.sandboxKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("set sandbox faults %s = %d %s", faults, resp.StatusCode, b)
	}
}
