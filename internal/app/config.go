package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // STORE_TIMEZONE works on images without a zone database

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/mailer"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

// Environments the app knows. Production turns on the strict startup checks, JSON
// logs, Secure cookies and HSTS.
const (
	envDevelopment = "development"
	envProduction  = "production"
)

// Development defaults that production refuses to run with.
const (
	defaultAdminPassword  = "admin"
	sandboxAPIKey         = "sk_sandbox_dev"
	sandboxWebhookSecret  = "whsec_sandbox_dev"
	defaultOrchestrateURL = "https://sandbox.orchestrate.global"
)

// defaultMetricsAddr keeps /metrics on the loopback interface unless the operator
// chooses otherwise.
const defaultMetricsAddr = "127.0.0.1:9090"

// minCookieSecret is the shortest COOKIE_SECRET accepted: 32 bytes, as many as the
// HMAC-SHA256 keys derived from it.
const minCookieSecret = 32

// Config is every setting of the app, read from the environment by LoadConfig. The
// README's configuration table lists the same variables with the same defaults.
type Config struct {
	Env string // APP_ENV
	// Addr is ADDR, where Run serves the shop; "" serves it nowhere (a test serves
	// App.Handler itself). Port 0 picks a free port: see App.Addr.
	Addr      string
	PublicURL *url.URL // PUBLIC_URL: base of every URL handed to Orchestrate and shoppers
	// MetricsAddr is METRICS_ADDR: the internal listener serving /metrics; "" when
	// it is "off".
	MetricsAddr string
	// CookieSecret is COOKIE_SECRET: the key that signs the shop's cookies (the
	// CSRF token and the cart id). Empty in development: the handlers then draw a
	// random one at start.
	CookieSecret string

	DatabaseURL      string // DATABASE_URL
	DatabaseMaxConns int32  // DATABASE_MAX_CONNS
	// DatabaseDirectURL (DATABASE_DIRECT_URL) reaches PostgreSQL without a
	// transaction pooler, for what needs a session: the migrations' advisory
	// locks and River (LISTEN/NOTIFY, leader election). "" uses DatabaseURL.
	DatabaseDirectURL string
	// DatabaseQueryExecMode (DATABASE_QUERY_EXEC_MODE) is pgx's
	// default_query_exec_mode on DatabaseURL; behind PgBouncer's transaction
	// pooling it must be one that prepares no named statement. "" leaves pgx's
	// default (cache_statement, or the URL's default_query_exec_mode).
	DatabaseQueryExecMode string
	// DatabaseReadURL (DATABASE_READ_URL) is a read replica for the admin's
	// order totals and CSV export, which may lag the primary by the replica's
	// delay; "" reads them from DatabaseURL.
	DatabaseReadURL string

	OrchestrateBaseURL       *url.URL      // ORCHESTRATE_BASE_URL
	OrchestrateAPIKey        string        // ORCHESTRATE_API_KEY; empty starts the built-in sandbox
	OrchestrateWebhookSecret string        // ORCHESTRATE_WEBHOOK_SECRET
	OrchestrateMCC           int           // ORCHESTRATE_MCC
	OrchestrateRateLimit     int           // ORCHESTRATE_RATE_LIMIT: requests a second to Orchestrate from this instance; 0 is unlimited
	PaymentExpiry            time.Duration // PAYMENT_EXPIRY: expires_in of each payment
	SweepInterval            time.Duration // SWEEP_INTERVAL: how often open payments are re-read
	CreateTimeout            time.Duration // ORCHESTRATE_CREATE_TIMEOUT: how long a shopper waits for a payment
	JobRescueAfter           time.Duration // JOB_RESCUE_AFTER: when a crashed instance's job runs again
	HoldGrace                time.Duration // HOLD_GRACE: how long past a payment's expiry its units stay held

	SandboxAddr       string         // SANDBOX_ADDR
	SandboxPublicURL  *url.URL       // SANDBOX_PUBLIC_URL
	SandboxWebhookURL *url.URL       // SANDBOX_WEBHOOK_URL: where the sandbox posts webhooks
	SandboxFaults     sandbox.Faults // SANDBOX_LATENCY and the other SANDBOX_* fault settings

	StoreName string // STORE_NAME

	// SMTP is SMTP_URL, where the shop's mail goes; nil when unset, in which case
	// development starts the local mail catcher on MailCatcherAddr.
	SMTP *mailer.SMTP
	// MailFrom is MAIL_FROM, the sender of the shop's mail.
	MailFrom string
	// MailCatcherAddr is MAIL_CATCHER_ADDR, where the development mail catcher
	// listens; "" when "off".
	MailCatcherAddr string
	// StoreTimezone is STORE_TIMEZONE: the zone of the admin's days, weeks and times.
	StoreTimezone *time.Location
	// ShipTo is SHIP_TO_COUNTRIES: the ISO codes of the countries the checkout
	// ships to, in the order its country list shows them.
	ShipTo []string

	AdminUsername string // ADMIN_USERNAME
	AdminPassword string // ADMIN_PASSWORD (plain, or a bcrypt/argon2id hash)
	// AdminSessionLifetime is ADMIN_SESSION_LIFETIME: how long an admin stays signed in.
	AdminSessionLifetime time.Duration
	// AdminSessionIdleTimeout is ADMIN_SESSION_IDLE_TIMEOUT: an admin session
	// unused this long ends before its lifetime does.
	AdminSessionIdleTimeout time.Duration
	// TrustProxy is TRUST_PROXY: take the client address from X-Forwarded-For set
	// by a proxy on a private network (the admin's sign-in throttle counts by it).
	TrustProxy bool

	// MerchantWebhookURL is MERCHANT_WEBHOOK_URL: where the order's changes are
	// POSTed as signed webhooks; "" sends none.
	MerchantWebhookURL string
	// MerchantWebhookSecret is MERCHANT_WEBHOOK_SECRET (whsec_ and base64), which
	// signs them; required with the URL. Never logged.
	MerchantWebhookSecret string

	LogLevel        slog.Level    // LOG_LEVEL
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	// ShutdownDrain is SHUTDOWN_DRAIN: how long after SIGTERM /readyz answers 503
	// while every other request is still served, before the listeners close.
	ShutdownDrain time.Duration

	sandbox bool // set when ORCHESTRATE_API_KEY was empty outside production
}

// Production reports whether the app runs with APP_ENV=production.
func (c *Config) Production() bool { return c.Env == envProduction }

// UseSandbox reports whether the app starts the built-in Orchestrate sandbox: it does
// whenever no API key is configured (never in production, which LoadConfig refuses).
func (c *Config) UseSandbox() bool { return c.sandbox }

// LoadConfig reads the configuration from getenv. Every variable has a documented
// default; a malformed value is an error naming the variable, never a silent default.
// In production it also refuses missing secrets, a non-https PUBLIC_URL and a
// default or easily guessed admin password. All problems are reported at once.
func LoadConfig(getenv func(string) string) (*Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}

	c := &Config{
		Env:                      get("APP_ENV", envDevelopment),
		Addr:                     get("ADDR", ":8080"),
		MetricsAddr:              get("METRICS_ADDR", defaultMetricsAddr),
		CookieSecret:             getenv("COOKIE_SECRET"),
		DatabaseURL:              get("DATABASE_URL", "postgres://postgres:postgres@localhost:5432/checkout?sslmode=disable"),
		OrchestrateAPIKey:        getenv("ORCHESTRATE_API_KEY"),
		OrchestrateWebhookSecret: getenv("ORCHESTRATE_WEBHOOK_SECRET"),
		SandboxAddr:              get("SANDBOX_ADDR", ":8081"),
		AdminUsername:            get("ADMIN_USERNAME", "admin"),
		AdminPassword:            get("ADMIN_PASSWORD", defaultAdminPassword),
		StoreName:                get("STORE_NAME", "Field Kettle"),
	}
	if raw := getenv("SMTP_URL"); strings.TrimSpace(raw) != "" {
		smtp, err := mailer.ParseSMTPURL(strings.TrimSpace(raw))
		if err != nil {
			bad("%v", err) // never the URL itself: it may hold a password
		}
		c.SMTP = smtp
	}
	c.MailCatcherAddr = get("MAIL_CATCHER_ADDR", "127.0.0.1:0")
	if c.MailCatcherAddr == "off" {
		c.MailCatcherAddr = ""
	} else if portOf(c.MailCatcherAddr, "") == "" {
		bad("MAIL_CATCHER_ADDR must be host:port, :port or off, not %q", c.MailCatcherAddr)
	}
	if c.Env != envDevelopment && c.Env != envProduction {
		bad("APP_ENV must be %q or %q, not %q", envDevelopment, envProduction, c.Env)
	}
	if shipTo, err := orders.ParseShipTo(get("SHIP_TO_COUNTRIES", strings.Join(orders.DefaultShipTo, ","))); err != nil {
		bad("SHIP_TO_COUNTRIES must be comma-separated ISO country codes the shop has address formats for (%s): %v",
			strings.Join(orders.DefaultShipTo, ","), err)
	} else {
		c.ShipTo = shipTo
	}
	// "Local" would tie the store's day to the machine's zone, which is what this
	// setting exists to avoid.
	zone := get("STORE_TIMEZONE", "UTC")
	if tz, err := time.LoadLocation(zone); err != nil || zone == "Local" {
		bad("STORE_TIMEZONE must be an IANA time zone name such as UTC or America/Toronto, not %q", zone)
	} else {
		c.StoreTimezone = tz
	}

	parseURL := func(name, def string) *url.URL {
		raw := get(name, def)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s must be an absolute http(s) URL, not %q", name, raw)
			return nil
		}
		if u.RawQuery != "" || u.Fragment != "" {
			bad("%s must not have a query or fragment: %q", name, raw)
			return nil
		}
		u.Path = strings.TrimRight(u.Path, "/")
		return u
	}
	c.PublicURL = parseURL("PUBLIC_URL", "http://localhost:8080")
	c.OrchestrateBaseURL = parseURL("ORCHESTRATE_BASE_URL", defaultOrchestrateURL)
	c.SandboxPublicURL = parseURL("SANDBOX_PUBLIC_URL", "http://localhost"+portOf(c.SandboxAddr, ":8081"))
	webhookDefault := "http://localhost:8080/webhooks/orchestrate"
	if c.PublicURL != nil {
		webhookDefault = c.PublicURL.String() + "/webhooks/orchestrate"
	}
	c.SandboxWebhookURL = parseURL("SANDBOX_WEBHOOK_URL", webhookDefault)

	mccRaw := get("ORCHESTRATE_MCC", "5999")
	mcc, err := strconv.Atoi(mccRaw)
	if err != nil || mcc < 0 || len(mccRaw) != 4 {
		bad("ORCHESTRATE_MCC must be a four-digit merchant category code such as 5999, not %q", mccRaw)
	}
	c.OrchestrateMCC = mcc
	rateRaw := get("ORCHESTRATE_RATE_LIMIT", "20")
	if c.OrchestrateRateLimit, err = strconv.Atoi(rateRaw); err != nil || c.OrchestrateRateLimit < 0 || c.OrchestrateRateLimit == 1 || c.OrchestrateRateLimit > 10000 {
		bad("ORCHESTRATE_RATE_LIMIT must be 0 (unlimited) or a number of requests a second between 2 and 10000, not %q", rateRaw)
	}
	parseDuration := func(name, def string, min, max time.Duration) time.Duration {
		raw := get(name, def)
		d, err := time.ParseDuration(raw)
		if err != nil || d < min || d > max {
			bad("%s must be a duration between %s and %s such as %q, not %q", name, min, max, def, raw)
		}
		return d
	}
	c.PaymentExpiry = parseDuration("PAYMENT_EXPIRY", "1h", time.Second, 7*24*time.Hour)
	c.HoldGrace = parseDuration("HOLD_GRACE", "10m", time.Second, 24*time.Hour)
	c.ShutdownTimeout = parseDuration("SHUTDOWN_TIMEOUT", "15s", 0, 10*time.Minute)
	drainDefault := "0s" // a developer's Ctrl-C stops at once
	if c.Env == envProduction {
		drainDefault = "5s" // a load balancer's few failed probes
	}
	c.ShutdownDrain = parseDuration("SHUTDOWN_DRAIN", drainDefault, 0, 10*time.Minute)
	c.SweepInterval = parseDuration("SWEEP_INTERVAL", "15s", time.Second, time.Hour)
	c.CreateTimeout = parseDuration("ORCHESTRATE_CREATE_TIMEOUT", "8s", time.Second, time.Minute)
	c.JobRescueAfter = parseDuration("JOB_RESCUE_AFTER", "2m", time.Second, 24*time.Hour)
	c.AdminSessionLifetime = parseDuration("ADMIN_SESSION_LIFETIME", "12h", 5*time.Minute, 7*24*time.Hour)
	c.AdminSessionIdleTimeout = parseDuration("ADMIN_SESSION_IDLE_TIMEOUT", "30m", time.Minute, 7*24*time.Hour)
	switch {
	case c.AdminSessionIdleTimeout <= c.AdminSessionLifetime:
	case getenv("ADMIN_SESSION_IDLE_TIMEOUT") == "":
		c.AdminSessionIdleTimeout = c.AdminSessionLifetime // a lifetime shorter than the default idle timeout
	default:
		bad("ADMIN_SESSION_IDLE_TIMEOUT (%s) must not be longer than ADMIN_SESSION_LIFETIME (%s)", c.AdminSessionIdleTimeout, c.AdminSessionLifetime)
	}
	if err := adminauth.CheckPasswordSetting(c.AdminPassword); err != nil {
		bad("%v", err)
	}
	switch raw := get("TRUST_PROXY", "false"); raw {
	case "true", "false":
		c.TrustProxy = raw == "true"
	default:
		bad("TRUST_PROXY must be true or false, not %q", raw)
	}

	connsRaw := get("DATABASE_MAX_CONNS", "20")
	conns, err := strconv.ParseInt(connsRaw, 10, 32)
	if err != nil || conns < 2 || conns > 1000 {
		bad("DATABASE_MAX_CONNS must be a whole number from 2 to 1000, not %q", connsRaw)
	}
	c.DatabaseMaxConns = int32(conns)
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		bad("LOG_LEVEL must be debug, info, warn or error, not %q", getenv("LOG_LEVEL"))
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL must be a postgres:// URL")
	}
	c.DatabaseDirectURL = get("DATABASE_DIRECT_URL", "")
	if c.DatabaseDirectURL != "" && !strings.HasPrefix(c.DatabaseDirectURL, "postgres://") && !strings.HasPrefix(c.DatabaseDirectURL, "postgresql://") {
		bad("DATABASE_DIRECT_URL must be a postgres:// URL")
	}
	c.DatabaseReadURL = get("DATABASE_READ_URL", "")
	if c.DatabaseReadURL != "" && !strings.HasPrefix(c.DatabaseReadURL, "postgres://") && !strings.HasPrefix(c.DatabaseReadURL, "postgresql://") {
		bad("DATABASE_READ_URL must be a postgres:// URL")
	}
	c.DatabaseQueryExecMode = get("DATABASE_QUERY_EXEC_MODE", "")
	if _, ok := queryExecModes[c.DatabaseQueryExecMode]; !ok && c.DatabaseQueryExecMode != "" {
		bad("DATABASE_QUERY_EXEC_MODE must be cache_statement, cache_describe, describe_exec, exec or simple_protocol, not %q", c.DatabaseQueryExecMode)
	}
	addrs := []struct{ name, value string }{{"ADDR", c.Addr}, {"SANDBOX_ADDR", c.SandboxAddr}}
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	} else {
		addrs = append(addrs, struct{ name, value string }{"METRICS_ADDR", c.MetricsAddr})
	}
	for _, addr := range addrs {
		if portOf(addr.value, "") == "" {
			bad("%s must be host:port or :port, not %q", addr.name, addr.value)
		}
	}
	if c.CookieSecret != "" && len(c.CookieSecret) < minCookieSecret {
		bad("COOKIE_SECRET must be at least %d characters (for example the output of `openssl rand -hex 32`)", minCookieSecret)
	}

	c.MerchantWebhookURL = strings.TrimSpace(getenv("MERCHANT_WEBHOOK_URL"))
	c.MerchantWebhookSecret = strings.TrimSpace(getenv("MERCHANT_WEBHOOK_SECRET"))
	if c.MerchantWebhookURL != "" {
		// A query is allowed: some receivers take a token there. The value is
		// never repeated in an error, for the same reason.
		if u, err := url.Parse(c.MerchantWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("MERCHANT_WEBHOOK_URL must be an absolute http(s) URL")
		} else if c.Production() && u.Scheme != "https" {
			bad("MERCHANT_WEBHOOK_URL must be https in production")
		}
		if c.MerchantWebhookSecret == "" {
			bad("MERCHANT_WEBHOOK_SECRET is required when MERCHANT_WEBHOOK_URL is set (whsec_ followed by base64, for example whsec_$(openssl rand -base64 32))")
		} else if err := orders.ParseWebhookSecret(c.MerchantWebhookSecret); err != nil {
			bad("MERCHANT_WEBHOOK_SECRET %v", err)
		}
	}

	mailHost := "localhost"
	if c.PublicURL != nil {
		mailHost = c.PublicURL.Hostname()
	}
	c.MailFrom = get("MAIL_FROM", c.StoreName+" <orders@"+mailHost+">")
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		bad("MAIL_FROM must be an address such as \"Field Kettle <orders@example.com>\", not %q", c.MailFrom)
	}

	if c.Production() {
		if c.SMTP == nil {
			bad("SMTP_URL is required in production (receipts are mailed)")
		}
		if c.OrchestrateAPIKey == "" {
			bad("ORCHESTRATE_API_KEY is required in production (the built-in sandbox never runs there)")
		}
		if c.OrchestrateWebhookSecret == "" {
			bad("ORCHESTRATE_WEBHOOK_SECRET is required in production")
		}
		if c.CookieSecret == "" {
			bad("COOKIE_SECRET is required in production (for example the output of `openssl rand -hex 32`), and the same on every instance")
		}
		if c.PublicURL != nil && c.PublicURL.Scheme != "https" {
			bad("PUBLIC_URL must be https in production")
		}
		if c.OrchestrateBaseURL != nil && c.OrchestrateBaseURL.Scheme != "https" {
			bad("ORCHESTRATE_BASE_URL must be https in production")
		}
		if c.AdminPassword == defaultAdminPassword {
			bad("ADMIN_PASSWORD must be set in production: the default is refused")
		} else if err := adminauth.CheckPasswordStrength(c.AdminPassword, c.AdminUsername, c.StoreName); err != nil {
			bad("%v", err)
		}
	}

	if c.OrchestrateAPIKey == "" && !c.Production() {
		// The sandbox is the Orchestrate the app talks to: point the client at it and
		// give both sides the same development credentials.
		c.OrchestrateBaseURL = c.SandboxPublicURL
		c.OrchestrateAPIKey = sandboxAPIKey
		if c.OrchestrateWebhookSecret == "" {
			c.OrchestrateWebhookSecret = sandboxWebhookSecret
		}
		c.sandbox = true
		faults, err := sandbox.FaultsFromEnv(getenv)
		if err != nil {
			bad("sandbox: %v", err)
		}
		c.SandboxFaults = faults
	} else if c.OrchestrateWebhookSecret == "" {
		bad("ORCHESTRATE_WEBHOOK_SECRET is required when ORCHESTRATE_API_KEY is set (copy it from Developer » Webhooks)")
	}

	if len(problems) > 0 {
		return nil, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// portOf returns the ":port" part of a listen address, or def when there is none.
func portOf(addr, def string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return def
	}
	if _, err := strconv.ParseUint(addr[i+1:], 10, 16); err != nil {
		return def
	}
	return addr[i:]
}
