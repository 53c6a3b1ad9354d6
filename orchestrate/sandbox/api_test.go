package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreatePaymentReturnsDocumentedObject(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	before := time.Now().UTC().Truncate(time.Second)
	resp, data := e.do(http.MethodPost, "/api/v1/payments", paymentRequest())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %s", resp.StatusCode, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}

	// Exactly the documented fields, amount as a JSON string.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"amount", "cancel_url", "completed_at", "created_at", "currency", "customer",
		"description", "expires_at", "id", "metadata", "payment_link", "payment_method", "status",
		"success_url", "updated_at"}
	var gotKeys []string
	for k := range raw {
		gotKeys = append(gotKeys, k)
	}
	slices.Sort(gotKeys)
	if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
		t.Errorf("payment object fields (-want +got):\n%s", diff)
	}
	if got := string(raw["amount"]); got != `"19.99"` {
		t.Errorf("amount = %s, want the string \"19.99\"", got)
	}
	for _, k := range []string{"completed_at", "payment_method"} {
		if got := string(raw[k]); got != "null" {
			t.Errorf("%s = %s, want null while pending", k, got)
		}
	}

	p := decode[apiPayment](t, data)
	if !uuidPattern.MatchString(p.ID) || !uuidPattern.MatchString(p.Customer.ID) {
		t.Errorf("id %q and customer.id %q must be UUIDs", p.ID, p.Customer.ID)
	}
	created, err := time.Parse(time.RFC3339, p.CreatedAt)
	if err != nil || !strings.HasSuffix(p.CreatedAt, "Z") {
		t.Fatalf("created_at %q is not RFC 3339 UTC: %v", p.CreatedAt, err)
	}
	if created.Before(before) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("created_at %v is not about now", created)
	}
	want := apiPayment{
		ID:          p.ID,
		Status:      "pending",
		Description: "Payment for order #123",
		Metadata:    map[string]string{"order_id": "order-123"},
		Currency:    "USD",
		Amount:      "19.99",
		UpdatedAt:   p.CreatedAt,
		ExpiresAt:   created.Add(time.Hour).Format(time.RFC3339),
		CreatedAt:   p.CreatedAt,
		PaymentLink: e.URL + "/payments/" + p.ID + "/collection",
		SuccessURL:  "https://shop.example/orders/123/success",
		CancelURL:   "https://shop.example/orders/123/cancel",
	}
	want.Customer.ID = p.Customer.ID
	want.Customer.Name = "John Doe"
	want.Customer.Email = "john@example.com"
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("payment (-want +got):\n%s", diff)
	}
	if got, want := resp.Header.Get("Location"), "/api/v1/payments/"+p.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

func TestCreateAcceptsQuickstartCurlContentType(t *testing.T) {
	// The quickstart's curl -d sends application/x-www-form-urlencoded with
	// a JSON body; the API reads the body as JSON whatever the type says.
	e := newEnv(t, sandbox.Config{})
	resp, data := e.do(http.MethodPost, "/api/v1/payments", string(mustJSON(t, paymentRequest())),
		"Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("status %d, want 201; body %s", resp.StatusCode, data)
	}
}

func TestCreatePaymentAmountsAreExact(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	tests := []struct {
		name   string
		amount string // the JSON number as sent
		want   string
	}{
		{"two decimals", "19.99", "19.99"},
		{"float-unfriendly", "0.29", "0.29"},
		{"integer", "100", "100.00"},
		{"one decimal", "500.0", "500.00"},
		{"trailing zero", "19.90", "19.90"},
		{"smallest", "0.01", "0.01"},
		{"exponent", "1e2", "100.00"},
		{"negative exponent", "1999e-2", "19.99"},
		{"extra zeros beyond cents", "5.100", "5.10"},
		{"large", "9999999999999.99", "9999999999999.99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := paymentRequest()
			body["amount"] = json.Number(tt.amount)
			p := e.create(body)
			if p.Amount != tt.want {
				t.Errorf("amount %s: got %q, want %q", tt.amount, p.Amount, tt.want)
			}
			if got := e.get(p.ID).Amount; got != tt.want {
				t.Errorf("amount %s read back: got %q, want %q", tt.amount, got, tt.want)
			}
		})
	}
}

func TestCreatePaymentErrors(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	valid := func() map[string]any { return paymentRequest() }
	with := func(change func(map[string]any)) string {
		b := valid()
		change(b)
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	validJSON := with(func(map[string]any) {})
	tests := []struct {
		name        string
		body        string
		auth        string // Authorization header; "" means the right key
		wantStatus  int
		wantMessage string
	}{
		{"no API key", validJSON, "-", 401, "API key"},
		{"wrong API key", validJSON, "Bearer sk_wrong", 401, "API key"},
		{"not a bearer", validJSON, "Basic " + testAPIKey, 401, "API key"},
		{"malformed JSON", `{"amount": 19.99,`, "", 400, "malformed JSON"},
		{"empty body", ``, "", 400, "malformed JSON"},
		{"array body", `[1, 2]`, "", 400, "JSON object"},
		{"trailing data", validJSON + `{}`, "", 400, "malformed JSON"},
		{"quickstart's missing comma", `{"metadata": {"order_id": "order-123" "other": "x"}}`, "", 400, "malformed JSON"},
		{"unknown currency", with(func(b map[string]any) { b["currency"] = "JPY" }), "", 422, "currency"},
		{"lowercase currency", with(func(b map[string]any) { b["currency"] = "usd" }), "", 422, "currency"},
		{"missing currency", with(func(b map[string]any) { delete(b, "currency") }), "", 422, "currency is required"},
		{"currency of wrong type", with(func(b map[string]any) { b["currency"] = 840 }), "", 422, "currency must be a string"},
		{"missing amount", with(func(b map[string]any) { delete(b, "amount") }), "", 422, "amount is required"},
		{"zero amount", with(func(b map[string]any) { b["amount"] = 0 }), "", 422, "greater than 0"},
		{"negative amount", with(func(b map[string]any) { b["amount"] = json.Number("-5.00") }), "", 422, "greater than 0"},
		{"three decimals", with(func(b map[string]any) { b["amount"] = json.Number("19.999") }), "", 422, "at most 2 decimal places"},
		{"amount as string", with(func(b map[string]any) { b["amount"] = "19.99" }), "", 422, "JSON number"},
		{"amount too large", with(func(b map[string]any) { b["amount"] = json.Number("1e20") }), "", 422, "too large"},
		{"missing customer", with(func(b map[string]any) { delete(b, "customer") }), "", 422, "customer is required"},
		{"missing email", with(func(b map[string]any) { b["customer"] = map[string]any{"name": "J"} }), "", 422, "customer.email is required"},
		{"bad email", with(func(b map[string]any) { b["customer"] = map[string]any{"email": "john.example.com"} }), "", 422, "not a valid email"},
		{"email with display name", with(func(b map[string]any) { b["customer"] = map[string]any{"email": "John <john@example.com>"} }), "", 422, "not a valid email"},
		{"missing success_url", with(func(b map[string]any) { delete(b, "success_url") }), "", 422, "success_url is required"},
		{"relative success_url", with(func(b map[string]any) { b["success_url"] = "/orders/123/success" }), "", 422, "success_url must be an absolute"},
		{"javascript cancel_url", with(func(b map[string]any) { b["cancel_url"] = "javascript:alert(1)" }), "", 422, "cancel_url must be an absolute"},
		{"ftp cancel_url", with(func(b map[string]any) { b["cancel_url"] = "ftp://shop.example/x" }), "", 422, "cancel_url must be an absolute"},
		{"metadata number", with(func(b map[string]any) { b["metadata"] = map[string]any{"order_id": 212121212} }), "", 422, "metadata.order_id must be a string"},
		{"metadata not an object", with(func(b map[string]any) { b["metadata"] = "x" }), "", 422, "metadata"},
		{"expires_in zero", with(func(b map[string]any) { b["expires_in"] = 0 }), "", 422, "expires_in"},
		{"expires_in fractional", with(func(b map[string]any) { b["expires_in"] = 1.5 }), "", 422, "expires_in"},
		{"mcc out of range", with(func(b map[string]any) { b["mcc"] = 123456 }), "", 422, "mcc"},
		{"several problems at once", with(func(b map[string]any) { b["currency"] = "XXX"; delete(b, "cancel_url") }), "", 422, "currency \"XXX\" is not supported: use one of USD, EUR, GBP, CAD; cancel_url is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			switch tt.auth {
			case "":
			case "-":
				header = []string{"Authorization", ""}
			default:
				header = []string{"Authorization", tt.auth}
			}
			resp, data := e.do(http.MethodPost, "/api/v1/payments", tt.body, header...)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, data)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var body struct{ Message string }
			if err := json.Unmarshal(data, &body); err != nil || !strings.Contains(body.Message, tt.wantMessage) {
				t.Errorf("body = %s, want a JSON message containing %q", data, tt.wantMessage)
			}
		})
	}
	// None of the refused requests created anything.
	resp, data := e.do(http.MethodGet, "/api/v1/payments", nil)
	if got := decode[listBody](t, data).Pagination.TotalItems; resp.StatusCode != 200 || got != 0 {
		t.Errorf("after refused creates: %d payments, want 0", got)
	}
}

func TestGetPayment(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	created := e.create(paymentRequest())
	tests := []struct {
		name       string
		path       string
		header     []string
		wantStatus int
	}{
		{"known", "/api/v1/payments/" + created.ID, nil, 200},
		{"unknown", "/api/v1/payments/2b1c6a36-1f9e-4a44-9a7c-7d6c3f1e0b11", nil, 404},
		{"not a uuid", "/api/v1/payments/nope", nil, 404},
		{"no API key", "/api/v1/payments/" + created.ID, []string{"Authorization", ""}, 401},
		{"unknown API path", "/api/v1/refunds", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := e.do(http.MethodGet, tt.path, nil, tt.header...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, data)
			}
			if tt.wantStatus != 200 {
				if msg := decode[struct{ Message string }](t, data).Message; msg == "" {
					t.Errorf("error body %s has no message", data)
				}
				return
			}
			if diff := cmp.Diff(created, decode[apiPayment](t, data)); diff != "" {
				t.Errorf("GET differs from create (-create +get):\n%s", diff)
			}
		})
	}
}

func TestWrongMethodIsJSON405(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	resp, data := e.do(http.MethodDelete, "/api/v1/payments", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("DELETE /api/v1/payments: status %d, Allow %q; want 405 with Allow: GET, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if msg := decode[struct{ Message string }](t, data).Message; msg == "" {
		t.Errorf("405 body %s has no message", data)
	}
}

type listBody struct {
	Items      []apiPayment `json:"items"`
	Pagination struct {
		Page       int `json:"page"`
		PerPage    int `json:"per_page"`
		TotalPages int `json:"total_pages"`
		TotalItems int `json:"total_items"`
	} `json:"pagination"`
}

func TestListPayments(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	var ids []string // oldest first
	for i := range 12 {
		body := paymentRequest()
		body["description"] = fmt.Sprintf("order %d", i)
		ids = append(ids, e.create(body).ID)
	}
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)

	type page struct{ Page, PerPage, TotalPages, TotalItems int }
	tests := []struct {
		query   string
		wantIDs []string
		want    page
	}{
		{"", newestFirst[:10], page{1, 10, 2, 12}},
		{"?page=2", newestFirst[10:], page{2, 10, 2, 12}},
		{"?page=2&per_page=5", newestFirst[5:10], page{2, 5, 3, 12}},
		{"?page=3&per_page=5", newestFirst[10:], page{3, 5, 3, 12}},
		{"?page=4&per_page=5", nil, page{4, 5, 3, 12}},
		{"?per_page=100", newestFirst, page{1, 100, 1, 12}},
	}
	for _, tt := range tests {
		t.Run("list"+tt.query, func(t *testing.T) {
			resp, data := e.do(http.MethodGet, "/api/v1/payments"+tt.query, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, body %s", resp.StatusCode, data)
			}
			if !strings.Contains(string(data), `"items":[`) {
				t.Errorf("items must be a JSON array even when empty: %s", data)
			}
			got := decode[listBody](t, data)
			var gotIDs []string
			for _, p := range got.Items {
				gotIDs = append(gotIDs, p.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, gotIDs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			gotPage := page{got.Pagination.Page, got.Pagination.PerPage, got.Pagination.TotalPages, got.Pagination.TotalItems}
			if diff := cmp.Diff(tt.want, gotPage); diff != "" {
				t.Errorf("pagination (-want +got):\n%s", diff)
			}
		})
	}
	for _, q := range []string{"?per_page=101", "?per_page=0", "?page=0", "?page=abc", "?page=-1"} {
		t.Run("refuse"+q, func(t *testing.T) {
			resp, data := e.do(http.MethodGet, "/api/v1/payments"+q, nil)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("status = %d, want 422; body %s", resp.StatusCode, data)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	first := e.create(paymentRequest(), "Idempotency-Key", "order-123-attempt")

	resp, data := e.do(http.MethodPost, "/api/v1/payments", paymentRequest(), "Idempotency-Key", "order-123-attempt")
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: status %d, Idempotent-Replayed %q; want 201 and true", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"))
	}
	if diff := cmp.Diff(first, decode[apiPayment](t, data)); diff != "" {
		t.Errorf("replay returned another payment (-first +replay):\n%s", diff)
	}

	other := paymentRequest()
	other["amount"] = json.Number("20.00")
	resp, data = e.do(http.MethodPost, "/api/v1/payments", other, "Idempotency-Key", "order-123-attempt")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(data), "Idempotency-Key") {
		t.Errorf("same key, other parameters: status %d body %s; want 422 naming the key", resp.StatusCode, data)
	}

	second := e.create(paymentRequest(), "Idempotency-Key", "order-124-attempt")
	third := e.create(paymentRequest()) // no key: always a new payment
	if second.ID == first.ID || third.ID == first.ID || third.ID == second.ID {
		t.Errorf("different keys (or none) must create different payments: %s %s %s", first.ID, second.ID, third.ID)
	}
	_, data = e.do(http.MethodGet, "/api/v1/payments", nil)
	if got := decode[listBody](t, data).Pagination.TotalItems; got != 3 {
		t.Errorf("payments stored = %d, want 3", got)
	}
}

func TestEveryResponseHasRequestID(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	tests := []struct {
		method, path string
		body         any
		header       []string
	}{
		{"POST", "/api/v1/payments", paymentRequest(), nil},
		{"POST", "/api/v1/payments", "{", nil},
		{"GET", "/api/v1/payments/" + p.ID, nil, nil},
		{"GET", "/api/v1/payments", nil, []string{"Authorization", ""}},
		{"GET", "/api/v1/nothing", nil, nil},
		{"GET", "/payments/" + p.ID + "/collection", nil, nil},
		{"GET", "/payments/nope/collection", nil, nil},
		{"GET", "/static/sandbox.css", nil, nil},
		{"GET", "/_sandbox/", nil, nil},
		{"GET", "/_sandbox/faults", nil, nil},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		resp, _ := e.do(tt.method, tt.path, tt.body, tt.header...)
		id := resp.Header.Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Errorf("%s %s (status %d): X-Request-Id %q, want a fresh id", tt.method, tt.path, resp.StatusCode, id)
		}
		seen[id] = true
	}
}
