package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// hostedPage is a fetched hosted page.
type hostedPage struct {
	URL    *url.URL
	Status int
	Header http.Header
	Doc    *goquery.Document
}

// page GETs an HTML page by absolute URL.
func (e *testEnv) page(rawURL string) hostedPage {
	e.t.Helper()
	resp, err := e.Client.Get(rawURL)
	if err != nil {
		e.t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	return e.parsePage(resp)
}

func (e *testEnv) parsePage(resp *http.Response) hostedPage {
	e.t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		e.t.Fatalf("parse HTML: %v", err)
	}
	return hostedPage{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Doc: doc}
}

// text is the page's visible text with whitespace collapsed.
func (p hostedPage) text() string {
	return strings.Join(strings.Fields(p.Doc.Find("body").Text()), " ")
}

// form finds the form whose submit button reads button, and returns its
// absolute action URL.
func (p hostedPage) form(t *testing.T, button string) (action string, ok bool) {
	t.Helper()
	p.Doc.Find("form").EachWithBreak(func(_ int, f *goquery.Selection) bool {
		if strings.TrimSpace(f.Find(`button[type="submit"]`).Text()) != button {
			return true
		}
		if m, _ := f.Attr("method"); !strings.EqualFold(m, "post") {
			t.Errorf("form %q has method %q, want post", button, m)
		}
		a, _ := f.Attr("action")
		u, err := p.URL.Parse(a)
		if err != nil {
			t.Fatalf("form action %q: %v", a, err)
		}
		action, ok = u.String(), true
		return false
	})
	return action, ok
}

// cardField returns the name and value of the input labelled "Card number".
func (p hostedPage) cardField(t *testing.T) (name, value string) {
	t.Helper()
	label := p.Doc.Find("label").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.TrimSpace(s.Text()) == "Card number"
	})
	id, ok := label.Attr("for")
	if !ok {
		t.Fatalf("no label \"Card number\" with a for attribute")
	}
	input := p.Doc.Find("input#" + id)
	name, ok = input.Attr("name")
	if !ok {
		t.Fatalf("no input #%s named for the card number", id)
	}
	value, _ = input.Attr("value")
	return name, value
}

// submit POSTs a form as a same-origin browser would.
func (e *testEnv) submit(action string, values url.Values, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, action, strings.NewReader(values.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", action, err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// pay fills the Card number field of page and presses Pay.
func (e *testEnv) pay(page hostedPage, card string) *http.Response {
	e.t.Helper()
	action, ok := page.form(e.t, "Pay")
	if !ok {
		e.t.Fatalf("no Pay form on the page; text: %s", page.text())
	}
	name, _ := page.cardField(e.t)
	return e.submit(action, url.Values{name: {card}})
}

func wantRedirect(t *testing.T, resp *http.Response, location string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Fatalf("got %d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), location)
	}
}

func TestHostedPageFullFlowSendsSignedWebhook(t *testing.T) {
	const secret = "whsec_full_flow"
	rc := newReceiver(t, secret, nil)
	e := newEnv(t, sandbox.Config{MerchantName: "Acme Shoes"})
	e.registerReceiver(rc)
	e.run()

	p := e.create(paymentRequest())
	page := e.page(p.PaymentLink)
	if page.Status != http.StatusOK {
		t.Fatalf("hosted page status %d", page.Status)
	}
	text := page.text()
	for _, want := range []string{"Acme Shoes", "Payment for order #123", "US$19.99",
		"4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 0077"} {
		if !strings.Contains(text, want) {
			t.Errorf("hosted page lacks %q; text: %s", want, text)
		}
	}
	if _, ok := page.form(t, "Cancel"); !ok {
		t.Errorf("hosted page has no Cancel button")
	}

	resp := e.pay(page, "4242 4242 4242 4242")
	wantRedirect(t, resp, p.SuccessURL)

	got := e.get(p.ID)
	if got.Status != "completed" || got.CompletedAt == nil || got.PaymentMethod == nil ||
		got.PaymentMethod.Type != "card" || got.PaymentMethod.Last4 != "4242" {
		t.Errorf("after paying: status %q, completed_at %v, payment_method %+v; want completed, set, card 4242",
			got.Status, got.CompletedAt, got.PaymentMethod)
	}

	events := rc.waitFor(t, 2)
	if diff := cmp.Diff([]string{"payment.created", "payment.succeeded"}, types(events)); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	for _, ev := range events {
		if !ev.SignedOK {
			t.Errorf("%s: signature %q does not verify with the endpoint's secret", ev.Event.Type, ev.Header.Get("X-Webhook-Signature"))
		}
		if ev.DecodeErr != nil {
			t.Errorf("%s: body does not decode: %v", ev.Event.Type, ev.DecodeErr)
		}
		if ct, ua := ev.Header.Get("Content-Type"), ev.Header.Get("User-Agent"); ct != "application/json" || ua != "Orchestrate-Sandbox/1" {
			t.Errorf("%s: Content-Type %q, User-Agent %q", ev.Event.Type, ct, ua)
		}
		if !strings.HasPrefix(ev.Event.ID, "evt_") || ev.Event.APIVersion != "1" || ev.Event.Timestamp == "" {
			t.Errorf("envelope id %q, api_version %q, timestamp %q", ev.Event.ID, ev.Event.APIVersion, ev.Event.Timestamp)
		}
	}
	if diff := cmp.Diff(got, events[1].Event.Payload); diff != "" {
		t.Errorf("payment.succeeded payload differs from GET (-get +payload):\n%s", diff)
	}

	after := e.page(p.PaymentLink)
	if !strings.Contains(after.text(), "This payment has been paid") {
		t.Errorf("paid page text: %s", after.text())
	}
	if _, ok := after.form(t, "Pay"); ok {
		t.Errorf("a paid page must not offer the Pay form")
	}

	// Pressing Pay again on the stale page charges nothing twice.
	wantRedirect(t, e.pay(page, "4242424242424242"), p.SuccessURL)
	succeeded := 0
	for _, d := range e.deliveries().Items {
		if d.EventType == "payment.succeeded" {
			succeeded++
		}
	}
	if succeeded != 1 {
		t.Errorf("payment.succeeded deliveries = %d, want 1", succeeded)
	}
}

func TestHostedPageDeclineThenSuccess(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())

	resp := e.pay(e.page(p.PaymentLink), "4000 0000 0000 0002")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("declined card: status %d, want 422", resp.StatusCode)
	}
	declined := e.parsePage(resp)
	if !strings.Contains(declined.text(), "Your card was declined") {
		t.Errorf("declined page text: %s", declined.text())
	}
	if _, value := declined.cardField(t); value != "4000 0000 0000 0002" {
		t.Errorf("card input after decline = %q, want the number typed", value)
	}
	if got := e.get(p.ID); got.Status != "pending" || got.PaymentMethod != nil {
		t.Errorf("after a decline: status %q, payment_method %+v; want pending, null", got.Status, got.PaymentMethod)
	}

	// Retry from the very page that showed the decline.
	wantRedirect(t, e.pay(declined, "4242424242424242"), p.SuccessURL)
	if got := e.get(p.ID).Status; got != "completed" {
		t.Errorf("after retrying with the success card: status %q, want completed", got)
	}
}

func TestHostedPageRefusesUnknownCards(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	tests := []struct {
		name, card, wantText string
	}{
		{"unknown number", "4111 1111 1111 1111", "This is not a test card"},
		{"letters", "pay me", "This is not a test card"},
		{"empty", "", "Enter a card number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.pay(e.page(p.PaymentLink), tt.card)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			page := e.parsePage(resp)
			if !strings.Contains(page.text(), tt.wantText) {
				t.Errorf("page text %q lacks %q", page.text(), tt.wantText)
			}
			if _, value := page.cardField(t); value != tt.card {
				t.Errorf("card input = %q, want %q kept", value, tt.card)
			}
			if alert := page.Doc.Find(`[role="alert"]`).Text(); !strings.Contains(alert, tt.wantText) {
				t.Errorf("error not announced in a role=alert element: %q", alert)
			}
		})
	}
	if got := e.get(p.ID).Status; got != "pending" {
		t.Errorf("status after refused cards = %q, want pending", got)
	}
}

func TestHostedPagePendingCardRedirectsWithPaymentPending(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	wantRedirect(t, e.pay(e.page(p.PaymentLink), "4000000000000077"), p.SuccessURL)
	if got := e.get(p.ID); got.Status != "pending" || got.CompletedAt != nil || got.PaymentMethod != nil {
		t.Errorf("after the pending card: status %q, completed_at %v, payment_method %+v; want pending, null, null",
			got.Status, got.CompletedAt, got.PaymentMethod)
	}
}

func TestHostedPageCancelFailsPayment(t *testing.T) {
	rc := newReceiver(t, "whsec_cancel", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	p := e.create(paymentRequest())

	action, ok := e.page(p.PaymentLink).form(t, "Cancel")
	if !ok {
		t.Fatal("no Cancel form")
	}
	wantRedirect(t, e.submit(action, nil), p.CancelURL)
	if got := e.get(p.ID).Status; got != "failed" {
		t.Errorf("status after cancel = %q, want failed", got)
	}
	events := rc.waitFor(t, 2)
	if diff := cmp.Diff([]string{"payment.created", "payment.failed"}, types(events)); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	if events[1].Event.Payload.Status != "failed" || !events[1].SignedOK {
		t.Errorf("payment.failed payload status %q, signed %v", events[1].Event.Payload.Status, events[1].SignedOK)
	}
	page := e.page(p.PaymentLink)
	if !strings.Contains(page.text(), "This payment has failed") {
		t.Errorf("failed page text: %s", page.text())
	}
	if _, ok := page.form(t, "Pay"); ok {
		t.Errorf("a failed payment's page must not offer the Pay form")
	}
}

func TestPaymentExpiresByItself(t *testing.T) {
	rc := newReceiver(t, "whsec_expiry", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	body := paymentRequest()
	body["expires_in"] = 1
	p := e.create(body)

	// Nothing reads the payment meanwhile: the sweep alone must expire it.
	var expired received
	eventually(t, "payment.expired webhook", func() bool {
		for _, ev := range rc.events() {
			if ev.Event.Type == "payment.expired" {
				expired = ev
				return true
			}
		}
		return false
	})
	if expired.Event.Payload.ID != p.ID || expired.Event.Payload.Status != "expired" || !expired.SignedOK {
		t.Errorf("payment.expired: payload id %q status %q signed %v", expired.Event.Payload.ID, expired.Event.Payload.Status, expired.SignedOK)
	}
	if got := e.get(p.ID); got.Status != "expired" || got.CompletedAt != nil {
		t.Errorf("after expiry: status %q, completed_at %v", got.Status, got.CompletedAt)
	}
	page := e.page(p.PaymentLink)
	if !strings.Contains(page.text(), "This payment has expired") {
		t.Errorf("expired page text: %s", page.text())
	}
	if _, ok := page.form(t, "Pay"); ok {
		t.Errorf("an expired payment's page must not offer the Pay form")
	}
	// A stale form cannot pay it: back to the page that says it expired.
	resp := e.submit(e.URL+"/payments/"+p.ID+"/pay", url.Values{"card_number": {"4242424242424242"}})
	wantRedirect(t, resp, "/payments/"+p.ID+"/collection")
	if got := e.get(p.ID).Status; got != "expired" {
		t.Errorf("status after paying an expired payment = %q", got)
	}
}

func TestExpiredPaymentReadsExpiredBeforeTheSweep(t *testing.T) {
	// Without Run there is no sweep: a read past expires_at expires it.
	e := newEnv(t, sandbox.Config{})
	body := paymentRequest()
	body["expires_in"] = 1
	p := e.create(body)
	eventually(t, "GET to report expired", func() bool { return e.get(p.ID).Status == "expired" })
}

func TestHostedFormsRefuseCrossOriginPosts(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	action := e.URL + "/payments/" + p.ID + "/pay"
	card := url.Values{"card_number": {"4242424242424242"}}
	tests := []struct {
		name   string
		header []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.shop.example"}},
		{"older browser, foreign Origin", []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.submit(action, card, tt.header...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	cancel := e.submit(e.URL+"/payments/"+p.ID+"/cancel", nil, "Sec-Fetch-Site", "cross-site")
	if cancel.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site cancel: status %d, want 403", cancel.StatusCode)
	}
	if got := e.get(p.ID).Status; got != "pending" {
		t.Errorf("status after refused posts = %q, want pending", got)
	}
}

func TestPagesWorkUnderStrictCSP(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	declined := e.parsePage(e.pay(e.page(p.PaymentLink), "4000000000000002"))
	pages := map[string]hostedPage{
		"hosted page":      e.page(p.PaymentLink),
		"declined page":    declined,
		"not found page":   e.page(e.URL + "/payments/8f0c1f6e-4a0b-4d3e-9d6a-1b2c3d4e5f60/collection"),
		"dashboard":        e.page(e.URL + "/_sandbox/"),
		"cross-site error": e.parsePage(e.submit(e.URL+"/payments/"+p.ID+"/pay", nil, "Sec-Fetch-Site", "cross-site")),
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			csp := page.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
				!strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("Content-Security-Policy = %q, want a strict policy", csp)
			}
			if n := page.Doc.Find("script:not([src]), style, [style]").Length(); n != 0 {
				t.Errorf("%d inline script/style elements or style attributes; the CSP would block them", n)
			}
			if got := page.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store: a page must show the payment as it is now", got)
			}
			page.Doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
				src, _ := s.Attr("src")
				resp, data := e.do(http.MethodGet, src, nil)
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(data) == 0 {
					t.Errorf("script %s: status %d, type %q, %d bytes", src, resp.StatusCode, resp.Header.Get("Content-Type"), len(data))
				}
			})
			page.Doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("inline event handler %s on <%s>", a.Key, goquery.NodeName(s))
					}
				}
			})
			href, ok := page.Doc.Find(`link[rel="stylesheet"]`).Attr("href")
			if !ok {
				t.Fatal("no stylesheet link")
			}
			resp, data := e.do(http.MethodGet, href, nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || len(data) == 0 {
				t.Errorf("stylesheet %s: status %d, type %q, %d bytes", href, resp.StatusCode, resp.Header.Get("Content-Type"), len(data))
			}
		})
	}
	// The pay form's redirect goes to the merchant: its origin must be an
	// allowed form target, or browsers block the redirect.
	if csp := pages["hosted page"].Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://shop.example") {
		t.Errorf("hosted page CSP %q does not allow the merchant's origin as form target", csp)
	}
	if got := pages["not found page"].Status; got != http.StatusNotFound {
		t.Errorf("unknown payment page: status %d, want 404", got)
	}
}

func TestForceCompleteAndExpire(t *testing.T) {
	rc := newReceiver(t, "whsec_force", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	paid := e.create(paymentRequest())
	lapsed := e.create(paymentRequest())
	unknown := "0e8a7c1d-2b3f-4c5d-8e9f-a0b1c2d3e4f5"
	tests := []struct {
		name       string
		path       string
		header     []string
		wantStatus int
		wantState  string
	}{
		{"complete", "/_sandbox/payments/" + paid.ID + "/complete", nil, 200, "completed"},
		{"complete again is a no-op", "/_sandbox/payments/" + paid.ID + "/complete", nil, 200, "completed"},
		{"expire a completed payment", "/_sandbox/payments/" + paid.ID + "/expire", nil, 409, ""},
		{"expire", "/_sandbox/payments/" + lapsed.ID + "/expire", nil, 200, "expired"},
		{"complete an expired payment", "/_sandbox/payments/" + lapsed.ID + "/complete", nil, 409, ""},
		{"unknown payment", "/_sandbox/payments/" + unknown + "/complete", nil, 404, ""},
		{"no API key", "/_sandbox/payments/" + paid.ID + "/expire", []string{"Authorization", ""}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := e.do(http.MethodPost, tt.path, nil, tt.header...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, data)
			}
			if tt.wantState != "" {
				if got := decode[apiPayment](t, data).Status; got != tt.wantState {
					t.Errorf("status = %q, want %q", got, tt.wantState)
				}
			}
		})
	}
	events := rc.waitFor(t, 4)
	got := map[string]int{}
	for _, ev := range events {
		got[ev.Event.Payload.ID+" "+ev.Event.Type]++
	}
	want := map[string]int{
		paid.ID + " payment.created":   1,
		paid.ID + " payment.succeeded": 1,
		lapsed.ID + " payment.created": 1,
		lapsed.ID + " payment.expired": 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events per payment (-want +got):\n%s", diff)
	}
}
