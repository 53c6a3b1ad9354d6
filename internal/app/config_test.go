package app

import (
	"strings"
	"testing"
	"time"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", c.Env, "development"},
		{"Addr", c.Addr, ":8080"},
		{"PublicURL", c.PublicURL.String(), "http://localhost:8080"},
		{"OrchestrateBaseURL (sandbox)", c.OrchestrateBaseURL.String(), "http://localhost:8081"},
		{"OrchestrateAPIKey (sandbox)", c.OrchestrateAPIKey, sandboxAPIKey},
		{"OrchestrateWebhookSecret (sandbox)", c.OrchestrateWebhookSecret, sandboxWebhookSecret},
		{"UseSandbox", c.UseSandbox(), true},
		{"OrchestrateMCC", c.OrchestrateMCC, 5999},
		{"PaymentExpiry", c.PaymentExpiry, time.Hour},
		{"HoldGrace", c.HoldGrace, 10 * time.Minute},
		{"CreateTimeout", c.CreateTimeout, 8 * time.Second},
		{"JobRescueAfter", c.JobRescueAfter, 2 * time.Minute},
		{"SandboxAddr", c.SandboxAddr, ":8081"},
		{"AdminUsername", c.AdminUsername, "admin"},
		{"AdminPassword", c.AdminPassword, "admin"},
		{"DatabaseMaxConns", c.DatabaseMaxConns, int32(20)},
		{"ShutdownTimeout", c.ShutdownTimeout, 15 * time.Second},
		{"ShutdownDrain", c.ShutdownDrain, time.Duration(0)},
		{"AdminSessionLifetime", c.AdminSessionLifetime, 12 * time.Hour},
		{"AdminSessionIdleTimeout", c.AdminSessionIdleTimeout, 30 * time.Minute},
		{"TrustProxy", c.TrustProxy, false},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// A lifetime shorter than the default idle timeout is also the idle timeout,
// rather than an error about a setting the operator never made.
func TestLoadConfigShortAdminSession(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"ADMIN_SESSION_LIFETIME": "10m"}))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if c.AdminSessionIdleTimeout != 10*time.Minute {
		t.Errorf("AdminSessionIdleTimeout = %s, want the 10m lifetime", c.AdminSessionIdleTimeout)
	}
}

func TestLoadConfigRealOrchestrate(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{
		"ORCHESTRATE_API_KEY":        "sk_live_x",
		"ORCHESTRATE_WEBHOOK_SECRET": "whsec_x",
		"ORCHESTRATE_MCC":            "6012",
		"PUBLIC_URL":                 "https://shop.example.com/",
	}))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if c.UseSandbox() {
		t.Error("UseSandbox = true with an API key")
	}
	if got, want := c.OrchestrateBaseURL.String(), defaultOrchestrateURL; got != want {
		t.Errorf("OrchestrateBaseURL = %q, want %q", got, want)
	}
	if got, want := c.PublicURL.String(), "https://shop.example.com"; got != want {
		t.Errorf("PublicURL = %q, want %q (trailing slash trimmed)", got, want)
	}
	if c.OrchestrateMCC != 6012 {
		t.Errorf("OrchestrateMCC = %d, want 6012", c.OrchestrateMCC)
	}
}

// validProduction is a production environment that passes every check.
func validProduction() map[string]string {
	return map[string]string{
		"APP_ENV":                    "production",
		"PUBLIC_URL":                 "https://shop.example.com",
		"COOKIE_SECRET":              "0123456789abcdef0123456789abcdef",
		"ORCHESTRATE_API_KEY":        "sk_live_x",
		"ORCHESTRATE_WEBHOOK_SECRET": "whsec_x",
		"ADMIN_PASSWORD":             "correct horse battery staple",
		"SMTP_URL":                   "smtps://mailer:s3cret-pass@smtp.example.com",
	}
}

func TestLoadConfigProduction(t *testing.T) {
	c, err := LoadConfig(env(validProduction()))
	if err != nil {
		t.Fatalf("a complete production config was refused: %v", err)
	}
	if c.ShutdownDrain != 5*time.Second {
		t.Errorf("ShutdownDrain in production = %s, want 5s", c.ShutdownDrain)
	}
	m := validProduction()
	m["ADMIN_PASSWORD"] = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy" // bcrypt
	if _, err := LoadConfig(env(m)); err != nil {
		t.Fatalf("a bcrypt admin password was refused: %v", err)
	}
}

// TestLoadConfigProductionAdminPassword: production takes a bcrypt or argon2id
// hash, or a plain password zxcvbn rates hard to guess; the refusal names
// ADMIN_PASSWORD and never shows the password.
func TestLoadConfigProductionAdminPassword(t *testing.T) {
	tests := []struct {
		password string
		ok       bool
	}{
		{"aaaaaaaaaaaa", false},
		{"admin", false},
		{"password1234", false},
		{"qwertyuiop123", false},
		{"1234567890123", false},
		{"Summer2024!Summer", false},
		{"FieldKettle2024", false}, // the store's name
		{"merchant-merchant", false},
		{"correct horse battery staple", true},
		{"velvet-orbit-canal-thimble", true},
		{"kZ8#pq2LmV9x", true},
		{"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", true},
		{"$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$TSlL7V0I3nH9D5fzbQW0Ujrw+3sjtiga3/nJqBEqakY", true},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			m := validProduction()
			m["ADMIN_USERNAME"] = "merchant"
			m["ADMIN_PASSWORD"] = tt.password
			_, err := LoadConfig(env(m))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.ok && err == nil:
				t.Fatal("accepted in production")
			case !tt.ok && (!strings.Contains(err.Error(), "ADMIN_PASSWORD") || strings.Contains(err.Error(), tt.password)):
				t.Errorf("error %q should name ADMIN_PASSWORD and not show the password", err)
			}
			// Development takes any password.
			m["APP_ENV"] = "development"
			if _, err := LoadConfig(env(m)); err != nil {
				t.Errorf("refused in development: %v", err)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		base    func() map[string]string // nil: development
		wantErr []string                 // substrings that must all appear
	}{
		{name: "bad APP_ENV", env: map[string]string{"APP_ENV": "staging"}, wantErr: []string{"APP_ENV"}},
		{name: "non-numeric MCC", env: map[string]string{"ORCHESTRATE_MCC": "abcd"}, wantErr: []string{"ORCHESTRATE_MCC", `"abcd"`}},
		{name: "short MCC", env: map[string]string{"ORCHESTRATE_MCC": "60"}, wantErr: []string{"ORCHESTRATE_MCC"}},
		{name: "negative MCC", env: map[string]string{"ORCHESTRATE_MCC": "-601"}, wantErr: []string{"ORCHESTRATE_MCC"}},
		{name: "negative rate limit", env: map[string]string{"ORCHESTRATE_RATE_LIMIT": "-1"}, wantErr: []string{"ORCHESTRATE_RATE_LIMIT", `"-1"`}},
		{name: "rate limit of one", env: map[string]string{"ORCHESTRATE_RATE_LIMIT": "1"}, wantErr: []string{"ORCHESTRATE_RATE_LIMIT", `"1"`}},
		{name: "non-numeric rate limit", env: map[string]string{"ORCHESTRATE_RATE_LIMIT": "fast"}, wantErr: []string{"ORCHESTRATE_RATE_LIMIT"}},
		{name: "relative PUBLIC_URL", env: map[string]string{"PUBLIC_URL": "/shop"}, wantErr: []string{"PUBLIC_URL"}},
		{name: "PUBLIC_URL without scheme", env: map[string]string{"PUBLIC_URL": "localhost:8080"}, wantErr: []string{"PUBLIC_URL"}},
		{name: "PUBLIC_URL with query", env: map[string]string{"PUBLIC_URL": "http://x.test/?a=b"}, wantErr: []string{"PUBLIC_URL"}},
		{name: "ftp ORCHESTRATE_BASE_URL", env: map[string]string{"ORCHESTRATE_BASE_URL": "ftp://x"}, wantErr: []string{"ORCHESTRATE_BASE_URL"}},
		{name: "bad SANDBOX_PUBLIC_URL", env: map[string]string{"SANDBOX_PUBLIC_URL": "::"}, wantErr: []string{"SANDBOX_PUBLIC_URL"}},
		{name: "bad PAYMENT_EXPIRY", env: map[string]string{"PAYMENT_EXPIRY": "soon"}, wantErr: []string{"PAYMENT_EXPIRY"}},
		{name: "PAYMENT_EXPIRY too short", env: map[string]string{"PAYMENT_EXPIRY": "10ms"}, wantErr: []string{"PAYMENT_EXPIRY"}},
		{name: "bad HOLD_GRACE", env: map[string]string{"HOLD_GRACE": "a while"}, wantErr: []string{"HOLD_GRACE", `"a while"`}},
		{name: "HOLD_GRACE too short", env: map[string]string{"HOLD_GRACE": "0s"}, wantErr: []string{"HOLD_GRACE"}},
		{name: "HOLD_GRACE too long", env: map[string]string{"HOLD_GRACE": "25h"}, wantErr: []string{"HOLD_GRACE"}},
		{name: "bad SHUTDOWN_TIMEOUT", env: map[string]string{"SHUTDOWN_TIMEOUT": "5"}, wantErr: []string{"SHUTDOWN_TIMEOUT"}},
		{name: "negative SHUTDOWN_DRAIN", env: map[string]string{"SHUTDOWN_DRAIN": "-1s"}, wantErr: []string{"SHUTDOWN_DRAIN"}},
		{name: "bad DATABASE_MAX_CONNS", env: map[string]string{"DATABASE_MAX_CONNS": "many"}, wantErr: []string{"DATABASE_MAX_CONNS"}},
		{name: "DATABASE_MAX_CONNS too small", env: map[string]string{"DATABASE_MAX_CONNS": "1"}, wantErr: []string{"DATABASE_MAX_CONNS"}},
		{name: "bad DATABASE_QUERY_EXEC_MODE", env: map[string]string{"DATABASE_QUERY_EXEC_MODE": "prepared"}, wantErr: []string{"DATABASE_QUERY_EXEC_MODE"}},
		{name: "bad DATABASE_DIRECT_URL", env: map[string]string{"DATABASE_DIRECT_URL": "mysql://db"}, wantErr: []string{"DATABASE_DIRECT_URL"}},
		{name: "bad DATABASE_READ_URL", env: map[string]string{"DATABASE_READ_URL": "replica:5432"}, wantErr: []string{"DATABASE_READ_URL"}},
		{name: "bad LOG_LEVEL", env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: []string{"LOG_LEVEL"}},
		{name: "bad DATABASE_URL", env: map[string]string{"DATABASE_URL": "mysql://x"}, wantErr: []string{"DATABASE_URL"}},
		{name: "bad ADDR", env: map[string]string{"ADDR": "8080"}, wantErr: []string{"ADDR"}},
		{name: "API key without webhook secret", env: map[string]string{"ORCHESTRATE_API_KEY": "sk"}, wantErr: []string{"ORCHESTRATE_WEBHOOK_SECRET"}},
		{name: "several problems reported at once", env: map[string]string{"ORCHESTRATE_MCC": "x", "ADDR": "y"}, wantErr: []string{"ORCHESTRATE_MCC", "ADDR"}},
		{name: "production without API key", base: validProduction, env: map[string]string{"ORCHESTRATE_API_KEY": ""}, wantErr: []string{"ORCHESTRATE_API_KEY"}},
		{name: "production without SMTP", base: validProduction, env: map[string]string{"SMTP_URL": ""}, wantErr: []string{"SMTP_URL is required"}},
		{name: "SMTP_URL of another scheme", env: map[string]string{"SMTP_URL": "http://u:hidden-pw@mail.test"}, wantErr: []string{"SMTP_URL must start with smtp://"}},
		{name: "SMTP_URL with a bad tls", env: map[string]string{"SMTP_URL": "smtp://u:hidden-pw@mail.test?tls=maybe"}, wantErr: []string{"SMTP_URL: tls"}},
		{name: "bad MAIL_FROM", env: map[string]string{"MAIL_FROM": "not an address"}, wantErr: []string{"MAIL_FROM"}},
		{name: "production without webhook secret", base: validProduction, env: map[string]string{"ORCHESTRATE_WEBHOOK_SECRET": ""}, wantErr: []string{"ORCHESTRATE_WEBHOOK_SECRET"}},
		{name: "production over http", base: validProduction, env: map[string]string{"PUBLIC_URL": "http://shop.example.com"}, wantErr: []string{"PUBLIC_URL must be https"}},
		{name: "production with http Orchestrate", base: validProduction, env: map[string]string{"ORCHESTRATE_BASE_URL": "http://orchestrate.test"}, wantErr: []string{"ORCHESTRATE_BASE_URL must be https"}},
		{name: "production with default admin password", base: validProduction, env: map[string]string{"ADMIN_PASSWORD": ""}, wantErr: []string{"ADMIN_PASSWORD"}},
		{name: "production with short admin password", base: validProduction, env: map[string]string{"ADMIN_PASSWORD": "hunter2"}, wantErr: []string{"ADMIN_PASSWORD"}},
		{name: "malformed bcrypt admin password", env: map[string]string{"ADMIN_PASSWORD": "$2a$10$tooshort"}, wantErr: []string{"ADMIN_PASSWORD", "bcrypt"}},
		{name: "malformed argon2id admin password", env: map[string]string{"ADMIN_PASSWORD": "$argon2id$v=19$m=x$salt$hash"}, wantErr: []string{"ADMIN_PASSWORD", "argon2id"}},
		{name: "bad ADMIN_SESSION_LIFETIME", env: map[string]string{"ADMIN_SESSION_LIFETIME": "1m"}, wantErr: []string{"ADMIN_SESSION_LIFETIME"}},
		{name: "bad ADMIN_SESSION_IDLE_TIMEOUT", env: map[string]string{"ADMIN_SESSION_IDLE_TIMEOUT": "10s"}, wantErr: []string{"ADMIN_SESSION_IDLE_TIMEOUT"}},
		{name: "idle timeout longer than the lifetime", env: map[string]string{"ADMIN_SESSION_LIFETIME": "1h", "ADMIN_SESSION_IDLE_TIMEOUT": "2h"}, wantErr: []string{"ADMIN_SESSION_IDLE_TIMEOUT", "must not be longer"}},
		{name: "bad TRUST_PROXY", env: map[string]string{"TRUST_PROXY": "yes"}, wantErr: []string{"TRUST_PROXY"}},
		{name: "production names every problem", base: validProduction, env: map[string]string{"ORCHESTRATE_API_KEY": "", "PUBLIC_URL": "http://x.test", "ADMIN_PASSWORD": "admin"}, wantErr: []string{"ORCHESTRATE_API_KEY", "PUBLIC_URL", "ADMIN_PASSWORD"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			if tc.base != nil {
				m = tc.base()
			}
			for k, v := range tc.env {
				m[k] = v
			}
			c, err := LoadConfig(env(m))
			if err == nil {
				t.Fatalf("LoadConfig accepted %v: %+v", tc.env, c)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestLoadConfigNeverLeaksSecrets(t *testing.T) {
	m := validProduction()
	m["ORCHESTRATE_API_KEY"] = "sk_live_SECRETKEY"
	m["ADMIN_PASSWORD"] = "short-SECRETPW"[:7]
	_, err := LoadConfig(env(m))
	if err == nil {
		t.Fatal("expected an error for the short admin password")
	}
	for _, secret := range []string{"SECRETKEY", m["ADMIN_PASSWORD"]} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

// STORE_TIMEZONE is an IANA zone, UTC by default; anything else stops the app
// with a message naming the variable, including "Local" (the machine's zone).
func TestLoadConfigStoreTimezone(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreTimezone != time.UTC {
		t.Errorf("StoreTimezone = %v by default, want UTC", c.StoreTimezone)
	}
	c, err = LoadConfig(env(map[string]string{"STORE_TIMEZONE": "America/Toronto"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreTimezone.String() != "America/Toronto" {
		t.Errorf("StoreTimezone = %v, want America/Toronto", c.StoreTimezone)
	}
	for _, bad := range []string{"America/Torontoo", "Toronto", "EST+5", "Local", "../../etc/passwd"} {
		_, err := LoadConfig(env(map[string]string{"STORE_TIMEZONE": bad}))
		if err == nil || !strings.Contains(err.Error(), "STORE_TIMEZONE") || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("STORE_TIMEZONE=%q: error %v, want one naming the variable and the value", bad, err)
		}
	}
}

// METRICS_ADDR keeps /metrics on loopback by default and "off" turns it off.
func TestLoadConfigMetricsAddr(t *testing.T) {
	tests := []struct {
		name, value, want string
		wantErr           bool
	}{
		{name: "default", want: "127.0.0.1:9090"},
		{name: "every interface", value: ":9100", want: ":9100"},
		{name: "off", value: "off", want: ""},
		{name: "no port", value: "9090", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(env(map[string]string{"METRICS_ADDR": tc.value}))
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
					t.Fatalf("LoadConfig = %v, want an error naming METRICS_ADDR", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if c.MetricsAddr != tc.want {
				t.Errorf("MetricsAddr = %q, want %q", c.MetricsAddr, tc.want)
			}
		})
	}
}

// COOKIE_SECRET is optional in development (the handlers draw a random one) and
// required in production; when set it must be long enough for an HMAC key.
func TestLoadConfigCookieSecret(t *testing.T) {
	tests := []struct {
		name    string
		base    func() map[string]string // nil: development
		value   string
		wantErr string // "" for success
	}{
		{name: "development without", value: ""},
		{name: "development with", value: strings.Repeat("k", 32)},
		{name: "too short", value: strings.Repeat("k", 31), wantErr: "COOKIE_SECRET must be at least 32"},
		{name: "production without", base: validProduction, value: "", wantErr: "COOKIE_SECRET is required in production"},
		{name: "production too short", base: validProduction, value: "short-SECRET", wantErr: "COOKIE_SECRET must be at least 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			if tc.base != nil {
				m = tc.base()
			}
			m["COOKIE_SECRET"] = tc.value
			c, err := LoadConfig(env(m))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig = %v, want an error mentioning %q", err, tc.wantErr)
				}
				if tc.value != "" && strings.Contains(err.Error(), tc.value) {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if c.CookieSecret != tc.value {
				t.Errorf("CookieSecret = %q, want %q", c.CookieSecret, tc.value)
			}
		})
	}
}

// SHIP_TO_COUNTRIES defaults to the US, Canada, the UK and the euro area; a code
// without an address format stops the app with a message naming it.
func TestLoadConfigShipTo(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.ShipTo, ","); got != "US,CA,GB,AT,BE,HR,CY,EE,FI,FR,DE,GR,IE,IT,LV,LT,LU,MT,NL,PT,SK,SI,ES" {
		t.Errorf("ShipTo = %s by default", got)
	}
	c, err = LoadConfig(env(map[string]string{"SHIP_TO_COUNTRIES": "gb, ie"}))
	if err != nil || strings.Join(c.ShipTo, ",") != "GB,IE" {
		t.Errorf("SHIP_TO_COUNTRIES=gb, ie: %v, %v", c, err)
	}
	_, err = LoadConfig(env(map[string]string{"SHIP_TO_COUNTRIES": "US,JP"}))
	if err == nil || !strings.Contains(err.Error(), "SHIP_TO_COUNTRIES") || !strings.Contains(err.Error(), "JP") {
		t.Errorf("SHIP_TO_COUNTRIES=US,JP: error %v, want one naming the variable and JP", err)
	}
}
