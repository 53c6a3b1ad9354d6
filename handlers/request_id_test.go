package handlers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/orchestrate-checkout/checkout/handlers"
)

// syncBuffer is a log destination safe for the request logger's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRequestIDFromClient sends safe, unsafe and huge X-Request-Id headers: a
// safe one is kept; any other is replaced by a generated id, which is what the
// response header, the request's log line and the error page all carry, and the
// client's value appears in none of them. The middleware needs no database: the
// app is built with only a logger.
func TestRequestIDFromClient(t *testing.T) {
	logs := &syncBuffer{}
	e := handlers.New(handlers.Config{StoreName: "Field Kettle", Logger: slog.New(slog.NewJSONHandler(logs, nil))}, handlers.Deps{})
	generated := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

	tests := []struct {
		name string
		ids  []string // the X-Request-Id headers sent
		keep bool     // whether the id sent is the one used
	}{
		{"none", nil, false},
		{"safe", []string{"req-2026.01_31-ABC"}, true},
		{"64 characters", []string{strings.Repeat("a", 64)}, true},
		{"a proxy's UUID", []string{"0d9f1c5e-6b2a-4c9e-9d1e-7c1f0a2b3c4d"}, true},
		{"65 characters", []string{strings.Repeat("a", 65)}, false},
		{"500 KB", []string{strings.Repeat("A", 500<<10)}, false},
		{"markup", []string{"<script>alert(1)</script>"}, false},
		{"a space", []string{"req 1"}, false},
		{"a newline", []string{"req\nlevel=ERROR msg=forged"}, false},
		{"NUL", []string{"req\x00"}, false},
		{"not UTF-8", []string{"req\xff\xfe"}, false},
		{"non-ASCII letters", []string{"réq"}, false},
		{"empty", []string{""}, false},
		{"two headers", []string{"req-1", "req-2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []string{"/healthz", "/no-such-page"} {
				before := len(logs.String())
				req := httptest.NewRequest(http.MethodGet, target, nil)
				for _, id := range tc.ids {
					req.Header.Add("X-Request-Id", id)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)

				got := rec.Header().Get("X-Request-Id")
				if tc.keep {
					if got != tc.ids[0] {
						t.Errorf("GET %s: X-Request-Id = %q, want the client's %q", target, got, tc.ids[0])
					}
				} else if !generated.MatchString(got) {
					t.Errorf("GET %s: X-Request-Id = %.80q, want a generated id", target, got)
				}
				if n := len(rec.Header().Values("X-Request-Id")); n != 1 {
					t.Errorf("GET %s: %d X-Request-Id headers, want 1", target, n)
				}

				var line struct {
					Msg       string `json:"msg"`
					RequestID string `json:"request_id"`
					Path      string `json:"path"`
				}
				out := logs.String()[before:]
				if strings.Count(out, "\n") != 1 {
					t.Fatalf("GET %s logged %d lines, want 1: %.300s", target, strings.Count(out, "\n"), out)
				}
				if err := json.Unmarshal([]byte(out), &line); err != nil {
					t.Fatalf("GET %s: log line %.300q: %v", target, out, err)
				}
				if line.Msg != "request" || line.Path != target || line.RequestID != got {
					t.Errorf("GET %s: log line has msg %q, path %q, request_id %.80q; want the request line with id %q", target, line.Msg, line.Path, line.RequestID, got)
				}
				if len(out) > 1000 {
					t.Errorf("GET %s: log line is %d bytes", target, len(out))
				}

				if target == "/no-such-page" {
					if rec.Code != http.StatusNotFound {
						t.Fatalf("GET %s = %d, want 404", target, rec.Code)
					}
					if ref := doc(t, rec).Find("main code").Text(); ref != got {
						t.Errorf("the error page shows reference %.80q, want %q", ref, got)
					}
					if len(rec.Body.String()) > 20000 {
						t.Errorf("the error page is %d bytes", len(rec.Body.String()))
					}
				}
				for _, id := range tc.ids {
					if !tc.keep && len(id) > 3 && (strings.Contains(out, id) || strings.Contains(rec.Body.String(), id)) {
						t.Errorf("GET %s: the refused id %.40q is in the log or the page", target, id)
					}
				}
			}
		})
	}
}
