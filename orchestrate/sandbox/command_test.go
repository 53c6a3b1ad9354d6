package sandbox_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of Command's
// banner and logger and the test's reads.
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

func TestCommandServesUntilCancelled(t *testing.T) {
	rc := newReceiver(t, "whsec_cmd", nil)
	env := map[string]string{"SANDBOX_API_KEY": "sk_cmd_key", "SANDBOX_GET_ERRORS": "1"}
	args := []string{"-addr", "127.0.0.1:0", "-merchant-name", "Command Shop",
		"-webhook-url", rc.URL, "-webhook-secret", "whsec_cmd"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- sandbox.Command(ctx, args, func(k string) string { return env[k] }, out) }()

	listening := regexp.MustCompile(`listening on (\S+)`)
	apiLine := regexp.MustCompile(`API: +(\S+)/api/v1`)
	eventually(t, "the startup banner", func() bool { return strings.Contains(out.String(), "State:") })
	addr := listening.FindStringSubmatch(out.String())
	base := apiLine.FindStringSubmatch(out.String())
	if addr == nil || base == nil {
		t.Fatalf("banner lacks the addresses:\n%s", out)
	}
	port := addr[1][strings.LastIndex(addr[1], ":"):]
	if want := "http://localhost" + port; base[1] != want {
		t.Errorf("base URL = %q, want %q", base[1], want)
	}
	if strings.Contains(out.String(), "sk_cmd_key") {
		t.Errorf("the banner prints a chosen API key:\n%s", out)
	}

	e := &testEnv{t: t, URL: "http://" + addr[1], Client: &http.Client{Timeout: waitTimeout}}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/payments", nil)
	req.Header.Set("Authorization", "Bearer sk_cmd_key")
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("first GET with SANDBOX_GET_ERRORS=1: status %d, want the injected 500", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, e.URL+"/api/v1/payments", strings.NewReader(string(mustJSON(t, paymentRequest()))))
	req.Header.Set("Authorization", "Bearer sk_cmd_key")
	resp, err = e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p apiPayment
	if err := jsonDecode(resp, &p); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: status %d, err %v", resp.StatusCode, err)
	}
	if !strings.HasPrefix(p.PaymentLink, base[1]+"/payments/") {
		t.Errorf("payment_link %q does not use the base URL %q", p.PaymentLink, base[1])
	}
	if got := rc.waitFor(t, 1); got[0].Event.Type != "payment.created" || !got[0].SignedOK {
		t.Errorf("webhook from the command: %s, signed %v", got[0].Event.Type, got[0].SignedOK)
	}
	page := e.page(e.URL + p.PaymentLink[len(base[1]):])
	if !strings.Contains(page.text(), "Command Shop") {
		t.Errorf("hosted page lacks the merchant name: %s", page.text())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Command after cancel = %v, want nil", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Command did not return after cancel")
	}
}

func TestCommandRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"unknown flag", []string{"-port", "1"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"serve"}, nil, "unexpected arguments"},
		{"webhook URL without secret", []string{"-webhook-url", "http://localhost:9/hook"}, nil, "in pairs"},
		{"bad webhook URL", []string{"-addr", "127.0.0.1:0", "-webhook-url", "/hook", "-webhook-secret", "s"}, nil, "absolute http"},
		{"malformed fault variable", nil, map[string]string{"SANDBOX_LATENCY": "slow"}, "SANDBOX_LATENCY"},
		{"bad address", []string{"-addr", "127.0.0.1:notaport"}, nil, "sandbox:"},
		{"unreachable database", []string{"-database-url", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, nil, "orchestrate_sandbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &syncBuffer{}
			err := sandbox.Command(t.Context(), tt.args, func(k string) string { return tt.env[k] }, out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Command(%q) = %v, want an error mentioning %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestCommandHelp(t *testing.T) {
	out := &syncBuffer{}
	if err := sandbox.Command(t.Context(), []string{"-h"}, func(string) string { return "" }, out); err != nil {
		t.Errorf("Command(-h) = %v, want nil", err)
	}
	for _, flag := range []string{"-addr", "-base-url", "-api-key", "-webhook-url", "-webhook-secret", "-database-url"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("usage lacks %s:\n%s", flag, out)
		}
	}
}
