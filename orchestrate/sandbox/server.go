package sandbox

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server. APIKey and BaseURL are required.
type Config struct {
	// APIKey is the bearer key the API and the JSON control endpoints accept.
	APIKey string
	// BaseURL is the sandbox's public base URL, e.g. "http://localhost:8081",
	// used to build payment_link.
	BaseURL string
	// Store holds the state; nil means a fresh NewMemoryStore.
	Store Store
	// Logger receives the sandbox's logs; nil discards them.
	Logger *slog.Logger
	// Faults are the initial fault settings (see FaultsFromEnv).
	Faults Faults
	// MerchantName is shown on the hosted payment page; empty means
	// "Sandbox Merchant".
	MerchantName string
	// HTTPClient sends webhooks; nil means a client with a 5s timeout that
	// does not follow redirects. Its timeout is the per-attempt timeout.
	HTTPClient *http.Client
	// WebhookRetryBase is the wait after a first failed delivery attempt,
	// doubled after each further failure; zero means 1s.
	WebhookRetryBase time.Duration
	// WebhookMaxAttempts is how many attempts a delivery gets before it is
	// marked failed; zero means 8.
	WebhookMaxAttempts int
}

// Server is the sandbox. It is safe for concurrent use; its background work
// (expiry and webhook delivery) runs only while Run runs.
type Server struct {
	cfg        Config
	store      Store
	log        *slog.Logger
	baseURL    string
	keyScope   string // scopes idempotency keys to the API key
	httpClient *http.Client
	faults     *faultState
	hooks      *webhookRegistry
	pages      *pages
	handler    http.Handler
	wake       chan struct{} // nudges the delivery loop
	running    atomic.Bool
	sweepEvery time.Duration
}

// New checks cfg, fills in defaults and returns a Server. It returns an
// error when APIKey or BaseURL is missing or BaseURL is not an absolute
// http(s) URL, or when cfg.Faults is out of range.
func New(cfg Config) (*Server, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sandbox: Config.APIKey is required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("sandbox: Config.BaseURL %q must be an absolute http or https URL", cfg.BaseURL)
	}
	if err := cfg.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: Config.Faults: %w", err)
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MerchantName == "" {
		cfg.MerchantName = "Sandbox Merchant"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: 5 * time.Second,
			// A redirect is not a 2xx: report it as the receiver's answer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.WebhookRetryBase <= 0 {
		cfg.WebhookRetryBase = time.Second
	}
	if cfg.WebhookMaxAttempts <= 0 {
		cfg.WebhookMaxAttempts = 8
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	scope := sha256.Sum256([]byte(cfg.APIKey))
	s := &Server{
		cfg:        cfg,
		store:      cfg.Store,
		log:        cfg.Logger,
		baseURL:    strings.TrimRight(cfg.BaseURL, "/"),
		keyScope:   hex.EncodeToString(scope[:8]),
		httpClient: cfg.HTTPClient,
		faults:     newFaultState(cfg.Faults),
		hooks:      &webhookRegistry{},
		pages:      pg,
		wake:       make(chan struct{}, 1),
		sweepEvery: time.Second,
	}
	s.handler = s.withRequestID(s.routes())
	return s, nil
}

// Handler returns the sandbox's HTTP handler: the API, the hosted pages,
// the dashboard and the control endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Run runs the background work until ctx is done: expiring payments past
// their expires_at (about every second) and delivering webhooks with
// retries, resuming deliveries a previous process left pending. It returns
// nil once ctx is done and its workers have stopped, or an error if Run is
// already running.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("sandbox: Run is already running")
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	wg.Go(func() { s.deliverLoop(ctx) })
	wg.Go(func() { s.expiryLoop(ctx) })
	wg.Wait()
	return nil
}

// routes lists every route on one screen.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(kind requestKind, h http.HandlerFunc) http.Handler {
		return s.withLatency(s.withAPIKey(s.withFaults(kind, h)))
	}
	control := func(h http.HandlerFunc) http.Handler { return s.withAPIKey(h) }
	// Browser forms are refused when a browser says they come from another
	// site (Sec-Fetch-Site, or Origin on older browsers).
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(s.handleCrossOrigin))
	form := func(h http.HandlerFunc) http.Handler { return csrf.Handler(h) }

	// API (API.md).
	mux.Handle("POST /api/v1/payments", api(kindCreate, s.handleCreatePayment))
	mux.Handle("GET /api/v1/payments", api(kindGet, s.handleListPayments))
	mux.Handle("GET /api/v1/payments/{id}", api(kindGet, s.handleGetPayment))
	mux.Handle("/api/v1/payments", api(kindOther, methodNotAllowed("GET, POST")))
	mux.Handle("/api/v1/payments/{id}", api(kindOther, methodNotAllowed("GET")))
	mux.Handle("/api/v1/", api(kindOther, notFoundJSON))

	// Hosted payment page.
	mux.HandleFunc("GET /payments/{id}/collection", s.handleCollection)
	mux.Handle("POST /payments/{id}/pay", form(s.handlePay))
	mux.Handle("POST /payments/{id}/cancel", form(s.handleCancel))
	mux.Handle("GET /static/", staticHandler())

	// Dashboard (HTML, open like a local dev tool) and JSON controls
	// (behind the API key).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/_sandbox/", http.StatusFound)
	})
	mux.HandleFunc("GET /_sandbox/{$}", s.handleDashboard)
	mux.Handle("POST /_sandbox/deliveries/{id}/resend", form(s.handleResend))
	mux.Handle("GET /_sandbox/deliveries", control(s.handleListDeliveries))
	mux.Handle("GET /_sandbox/faults", control(s.handleGetFaults))
	mux.Handle("PUT /_sandbox/faults", control(s.handlePutFaults))
	mux.Handle("POST /_sandbox/payments/{id}/expire", control(s.handleForceExpire))
	mux.Handle("POST /_sandbox/payments/{id}/complete", control(s.handleForceComplete))
	return mux
}

// withRequestID gives every response an X-Request-Id, as Orchestrate's API
// does, and logs each request with it.
func (s *Server) withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := randomID("req_")
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		h.ServeHTTP(rec, r)
		s.log.Debug("sandbox: request", "id", id, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start))
	})
}

// statusRecorder notes the status a handler writes, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for the
// dropped-connection faults).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// withAPIKey answers 401 unless the request carries
// "Authorization: Bearer <Config.APIKey>". The key is compared in constant
// time.
func (s *Server) withAPIKey(h http.Handler) http.Handler {
	want := []byte(s.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="orchestrate-sandbox"`)
			writeError(w, http.StatusUnauthorized, "missing or invalid API key: send Authorization: Bearer <API key>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// errorBody is the API's error shape: at least a message (API.md, Errors).
type errorBody struct {
	Message string `json:"message"`
}

// writeError writes the API's JSON error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg})
}

// internalError logs err and answers 500 without leaking it.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("sandbox: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}

// notFoundJSON answers unknown API paths.
var notFoundJSON = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "not found")
})

// methodNotAllowed answers a known API path asked with the wrong method.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}
