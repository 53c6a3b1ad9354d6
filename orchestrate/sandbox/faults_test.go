package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	const latency = 150 * time.Millisecond
	e.setFaults(map[string]any{"latency": latency.String()})
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/payments"},
		{http.MethodPost, "/api/v1/payments"},
	} {
		var body any
		if req.method == http.MethodPost {
			body = paymentRequest()
		}
		start := time.Now()
		resp, data := e.do(req.method, req.path, body)
		if took := time.Since(start); took < latency {
			t.Errorf("%s %s took %v, want at least %v", req.method, req.path, took, latency)
		}
		if resp.StatusCode >= 300 {
			t.Errorf("%s %s: status %d, body %s", req.method, req.path, resp.StatusCode, data)
		}
	}
}

func TestFaultErrorRates(t *testing.T) {
	tests := []struct {
		name           string
		faults         map[string]any
		method, path   string
		wantStatus     int
		wantRetryAfter string
	}{
		{"create 500", map[string]any{"create_error_rate": 1.0}, "POST", "/api/v1/payments", 500, ""},
		{"create 429", map[string]any{"create_error_rate": 1.0, "error_status": 429}, "POST", "/api/v1/payments", 429, "1"},
		{"create 503", map[string]any{"create_error_rate": 1.0, "error_status": 503}, "POST", "/api/v1/payments", 503, ""},
		{"get 500", map[string]any{"get_error_rate": 1.0}, "GET", "/api/v1/payments/{id}", 500, ""},
		{"list 429", map[string]any{"get_error_rate": 1.0, "error_status": 429}, "GET", "/api/v1/payments", 429, "1"},
		{"get unaffected by create errors", map[string]any{"create_error_rate": 1.0}, "GET", "/api/v1/payments/{id}", 200, ""},
		{"create unaffected by get errors", map[string]any{"get_error_rate": 1.0}, "POST", "/api/v1/payments", 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Config{})
			p := e.create(paymentRequest())
			e.setFaults(tt.faults)
			var body any
			if tt.method == "POST" {
				body = paymentRequest()
			}
			resp, data := e.do(tt.method, strings.ReplaceAll(tt.path, "{id}", p.ID), body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, data)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetryAfter)
			}
			if tt.wantStatus >= 400 && decode[struct{ Message string }](t, data).Message == "" {
				t.Errorf("injected error body %s has no message", data)
			}
			if tt.method == "POST" && tt.wantStatus >= 400 {
				_, list := e.do("GET", "/api/v1/payments", nil, "Authorization", "Bearer "+testAPIKey)
				if n := decode[listBody](t, list).Pagination.TotalItems; n != 1 {
					t.Errorf("a failed create stored something: %d payments, want 1", n)
				}
			}
		})
	}
}

func TestFaultCountsFailTheNextRequestsOnly(t *testing.T) {
	e := newEnv(t, sandbox.Config{Faults: sandbox.Faults{GetErrors: 2}})
	p := e.create(paymentRequest())
	var statuses []int
	for range 3 {
		resp, _ := e.do(http.MethodGet, "/api/v1/payments/"+p.ID, nil)
		statuses = append(statuses, resp.StatusCode)
	}
	if diff := cmp.Diff([]int{500, 500, 200}, statuses); diff != "" {
		t.Errorf("statuses with get_errors=2 (-want +got):\n%s", diff)
	}

	e.setFaults(map[string]any{"create_errors": 1})
	resp, _ := e.do(http.MethodPost, "/api/v1/payments", paymentRequest())
	if resp.StatusCode != 500 {
		t.Errorf("first create with create_errors=1: status %d, want 500", resp.StatusCode)
	}
	e.create(paymentRequest())
	_, data := e.do(http.MethodGet, "/_sandbox/faults", nil)
	if got := decode[map[string]any](t, data)["create_errors"]; got != 0.0 {
		t.Errorf("create_errors after use = %v, want 0", got)
	}
}

func TestFaultDropConnection(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())

	e.setFaults(map[string]any{"drop_connection_rate": 1.0})
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/payments/" + p.ID},
		{http.MethodPost, "/api/v1/payments"},
	} {
		var body any
		if req.method == http.MethodPost {
			body = paymentRequest()
		}
		resp, _, err := e.request(req.method, req.path, body)
		if err == nil {
			t.Errorf("%s %s: got status %d, want the connection dropped without an answer", req.method, req.path, resp.StatusCode)
		}
	}

	e.setFaults(map[string]any{"drop_connections": 1})
	if _, _, err := e.request(http.MethodGet, "/api/v1/payments/"+p.ID, nil); err == nil {
		t.Errorf("first request with drop_connections=1 was answered")
	}
	if got := e.get(p.ID).ID; got != p.ID {
		t.Errorf("second request: got payment %q", got)
	}
	_, data := e.do(http.MethodGet, "/api/v1/payments", nil)
	if n := decode[listBody](t, data).Pagination.TotalItems; n != 1 {
		t.Errorf("a dropped create stored something: %d payments, want 1", n)
	}
}

func TestFaultLoseCreateResponse(t *testing.T) {
	for _, faults := range []map[string]any{
		{"lose_create_response": 1},
		{"lose_create_response_rate": 1.0},
	} {
		t.Run(strings.Join(mapKeys(faults), ","), func(t *testing.T) {
			e := newEnv(t, sandbox.Config{})
			e.setFaults(faults)
			body := paymentRequest()
			body["description"] = "the lost one"
			resp, _, err := e.request(http.MethodPost, "/api/v1/payments", body, "Idempotency-Key", "lost-1")
			if err == nil {
				t.Fatalf("create answered with status %d, want the response lost", resp.StatusCode)
			}
			e.setFaults(map[string]any{})

			// The payment exists although the client never heard of it.
			_, data := e.do(http.MethodGet, "/api/v1/payments", nil)
			list := decode[listBody](t, data)
			if len(list.Items) != 1 || list.Items[0].Description != "the lost one" {
				t.Fatalf("list after a lost create = %+v, want the one payment", list.Items)
			}
			// Retrying with the same key finds it instead of paying twice.
			again := e.create(body, "Idempotency-Key", "lost-1")
			if again.ID != list.Items[0].ID {
				t.Errorf("retry created %s, want the lost payment %s", again.ID, list.Items[0].ID)
			}
		})
	}
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestFaultRatesReplayWithSeed(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	p := e.create(paymentRequest())
	pattern := func() string {
		e.setFaults(map[string]any{"get_error_rate": 0.5, "seed": 42})
		var b strings.Builder
		for range 40 {
			resp, _ := e.do(http.MethodGet, "/api/v1/payments/"+p.ID, nil)
			if resp.StatusCode == 200 {
				b.WriteByte('.')
			} else {
				b.WriteByte('x')
			}
		}
		return b.String()
	}
	first, second := pattern(), pattern()
	if first != second {
		t.Errorf("same seed, different faults:\n%s\n%s", first, second)
	}
	if !strings.Contains(first, ".") || !strings.Contains(first, "x") {
		t.Errorf("rate 0.5 over 40 requests gave %s, want both outcomes", first)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	put := map[string]any{
		"latency": "5ms", "error_status": 429, "create_error_rate": 0.25, "create_errors": 0,
		"get_error_rate": 0.5, "get_errors": 3, "drop_connection_rate": 0.0, "drop_connections": 0,
		"lose_create_response_rate": 0.0, "lose_create_response": 2, "webhooks_disabled": true,
		"webhook_delay": "2s", "webhook_duplicate": true, "webhook_reorder": true, "rate_limit": 5, "seed": 7,
	}
	resp, data := e.do(http.MethodPut, "/_sandbox/faults", put)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: status %d, body %s", resp.StatusCode, data)
	}
	want := decode[map[string]any](t, mustJSON(t, put))
	if diff := cmp.Diff(want, decode[map[string]any](t, data)); diff != "" {
		t.Errorf("PUT answer (-sent +answered):\n%s", diff)
	}
	_, data = e.do(http.MethodGet, "/_sandbox/faults", nil)
	if diff := cmp.Diff(want, decode[map[string]any](t, data)); diff != "" {
		t.Errorf("GET after PUT (-sent +got):\n%s", diff)
	}

	tests := []struct {
		name       string
		body       string
		header     []string
		wantStatus int
		wantMsg    string
	}{
		{"unknown field", `{"latencyy": "1s"}`, nil, 400, "latencyy"},
		{"bad duration", `{"latency": "soon"}`, nil, 400, "latency"},
		{"not JSON", `{`, nil, 400, "malformed"},
		{"rate above 1", `{"get_error_rate": 1.5}`, nil, 422, "get_error_rate"},
		{"negative count", `{"drop_connections": -1}`, nil, 422, "drop_connections"},
		{"negative delay", `{"webhook_delay": "-1s"}`, nil, 422, "webhook_delay"},
		{"status not 429 or 5xx", `{"error_status": 404}`, nil, 422, "error_status"},
		{"no API key", `{}`, []string{"Authorization", ""}, 401, "API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := e.do(http.MethodPut, "/_sandbox/faults", tt.body, tt.header...)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(data), tt.wantMsg) {
				t.Errorf("status %d body %s; want %d mentioning %q", resp.StatusCode, data, tt.wantStatus, tt.wantMsg)
			}
		})
	}
	resp, _ = e.do(http.MethodGet, "/_sandbox/faults", nil, "Authorization", "")
	if resp.StatusCode != 401 {
		t.Errorf("GET /_sandbox/faults without key: status %d, want 401", resp.StatusCode)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFaultsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    sandbox.Faults
		wantErr []string // substrings of the error; nil means no error
	}{
		{name: "nothing set", env: nil, want: sandbox.Faults{}},
		{
			name: "everything set",
			env: map[string]string{
				"SANDBOX_LATENCY": "100ms", "SANDBOX_ERROR_STATUS": "429",
				"SANDBOX_CREATE_ERROR_RATE": "0.1", "SANDBOX_CREATE_ERRORS": "1",
				"SANDBOX_GET_ERROR_RATE": "0.2", "SANDBOX_GET_ERRORS": "2",
				"SANDBOX_DROP_CONNECTION_RATE": "0.3", "SANDBOX_DROP_CONNECTIONS": "3",
				"SANDBOX_LOSE_CREATE_RESPONSE_RATE": "0.4", "SANDBOX_LOSE_CREATE_RESPONSE": "4",
				"SANDBOX_WEBHOOKS_DISABLED": "true", "SANDBOX_WEBHOOK_DELAY": "2s",
				"SANDBOX_WEBHOOK_DUPLICATE": "1", "SANDBOX_WEBHOOK_REORDER": "true", "SANDBOX_SEED": "99",
			},
			want: sandbox.Faults{
				Latency: 100 * time.Millisecond, ErrorStatus: 429,
				CreateErrorRate: 0.1, CreateErrors: 1, GetErrorRate: 0.2, GetErrors: 2,
				DropConnectionRate: 0.3, DropConnections: 3, LoseCreateResponseRate: 0.4, LoseCreateResponse: 4,
				WebhooksDisabled: true, WebhookDelay: 2 * time.Second, WebhookDuplicate: true, WebhookReorder: true, Seed: 99,
			},
		},
		{
			name:    "malformed values are all named",
			env:     map[string]string{"SANDBOX_LATENCY": "fast", "SANDBOX_GET_ERROR_RATE": "half", "SANDBOX_WEBHOOK_DUPLICATE": "sure"},
			wantErr: []string{`SANDBOX_LATENCY="fast"`, `SANDBOX_GET_ERROR_RATE="half"`, `SANDBOX_WEBHOOK_DUPLICATE="sure"`},
		},
		{
			name:    "out of range values name the variable",
			env:     map[string]string{"SANDBOX_CREATE_ERROR_RATE": "2", "SANDBOX_ERROR_STATUS": "302"},
			wantErr: []string{"SANDBOX_CREATE_ERROR_RATE must be between 0 and 1", "SANDBOX_ERROR_STATUS must be 429 or a 5xx status"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sandbox.FaultsFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("faults (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  sandbox.Config
	}{
		{"no API key", sandbox.Config{BaseURL: "http://localhost:8081"}},
		{"no base URL", sandbox.Config{APIKey: "k"}},
		{"relative base URL", sandbox.Config{APIKey: "k", BaseURL: "/sandbox"}},
		{"bad faults", sandbox.Config{APIKey: "k", BaseURL: "http://localhost:8081", Faults: sandbox.Faults{GetErrorRate: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sandbox.New(tt.cfg); err == nil {
				t.Errorf("New accepted %+v", tt.cfg)
			}
		})
	}
}
