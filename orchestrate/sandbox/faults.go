package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults selects failures the sandbox injects so the app's handling of a
// misbehaving Orchestrate can be exercised. The zero value injects nothing.
//
// A count (CreateErrors, GetErrors, DropConnections, LoseCreateResponse)
// makes the next N matching requests fail and then runs down, so a test can
// fail exactly one request. A rate (0 to 1) makes that share of requests
// fail, drawn from a generator seeded with Seed, so a run can be replayed:
// 0 never, 1 always. Counts are consulted before rates.
//
// Request faults apply to the API (/api/v1/...) only, never to the hosted
// page, the dashboard or the fault controls themselves.
//
// A dropped connection or lost response may not reach a Go client: when a
// reused keep-alive connection closes before any answer, net/http's
// Transport resends a GET, or a request carrying an Idempotency-Key, once
// by itself. With a count of 1 that silent resend succeeds (a lost create
// then comes back as the idempotent replay). To see the error, use a fresh
// connection per request, a count of 2, or a rate of 1.
type Faults struct {
	// Latency is waited before each API request is handled.
	Latency time.Duration
	// ErrorStatus is the status of injected errors: 500 (used when zero),
	// another 5xx, or 429, which carries Retry-After: 1.
	ErrorStatus int
	// CreateErrorRate and CreateErrors fail POST /api/v1/payments before
	// anything is created.
	CreateErrorRate float64
	CreateErrors    int
	// GetErrorRate and GetErrors fail GET /api/v1/payments/{id} and the list.
	GetErrorRate float64
	GetErrors    int
	// DropConnectionRate and DropConnections close the connection of an API
	// request without any answer, before it is handled.
	DropConnectionRate float64
	DropConnections    int
	// LoseCreateResponseRate and LoseCreateResponse let a create succeed
	// (the payment exists, payment.created is queued) and then close the
	// connection instead of answering: a create whose response is lost.
	LoseCreateResponseRate float64
	LoseCreateResponse     int
	// WebhooksDisabled queues no webhook deliveries at all.
	WebhooksDisabled bool
	// WebhookDelay postpones each delivery's first attempt.
	WebhookDelay time.Duration
	// WebhookDuplicate delivers every event twice (same event id and body).
	WebhookDuplicate bool
	// WebhookReorder holds a payment's events until the newest is
	// WebhookDelay old (1s when WebhookDelay is zero), then sends them
	// newest first.
	WebhookReorder bool
	// RateLimit, when above zero, is how many API requests (creates and
	// reads, from all callers together) the sandbox serves in any one second;
	// the rest are answered 429 with a Retry-After, as a real payments API's
	// rate limit would.
	RateLimit int
	// Seed seeds the generator behind the rates; zero picks a random seed,
	// which the fault endpoint then reports so the run can be replayed.
	Seed uint64
}

// faultsJSON is Faults on the wire (GET/PUT /_sandbox/faults), with
// durations as strings like "250ms".
type faultsJSON struct {
	Latency                string  `json:"latency"`
	ErrorStatus            int     `json:"error_status"`
	CreateErrorRate        float64 `json:"create_error_rate"`
	CreateErrors           int     `json:"create_errors"`
	GetErrorRate           float64 `json:"get_error_rate"`
	GetErrors              int     `json:"get_errors"`
	DropConnectionRate     float64 `json:"drop_connection_rate"`
	DropConnections        int     `json:"drop_connections"`
	LoseCreateResponseRate float64 `json:"lose_create_response_rate"`
	LoseCreateResponse     int     `json:"lose_create_response"`
	WebhooksDisabled       bool    `json:"webhooks_disabled"`
	WebhookDelay           string  `json:"webhook_delay"`
	WebhookDuplicate       bool    `json:"webhook_duplicate"`
	WebhookReorder         bool    `json:"webhook_reorder"`
	RateLimit              int     `json:"rate_limit"`
	Seed                   uint64  `json:"seed"`
}

// MarshalJSON encodes f with snake_case names and durations as strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Latency:                f.Latency.String(),
		ErrorStatus:            f.ErrorStatus,
		CreateErrorRate:        f.CreateErrorRate,
		CreateErrors:           f.CreateErrors,
		GetErrorRate:           f.GetErrorRate,
		GetErrors:              f.GetErrors,
		DropConnectionRate:     f.DropConnectionRate,
		DropConnections:        f.DropConnections,
		LoseCreateResponseRate: f.LoseCreateResponseRate,
		LoseCreateResponse:     f.LoseCreateResponse,
		WebhooksDisabled:       f.WebhooksDisabled,
		WebhookDelay:           f.WebhookDelay.String(),
		WebhookDuplicate:       f.WebhookDuplicate,
		WebhookReorder:         f.WebhookReorder,
		RateLimit:              f.RateLimit,
		Seed:                   f.Seed,
	})
}

// UnmarshalJSON decodes the MarshalJSON form. Fields left out are zero, and
// an unknown field is an error, so a typo cannot silently disable a fault.
// It does not check ranges: see Validate.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	latency, err := parseFaultDuration("latency", w.Latency)
	if err != nil {
		return err
	}
	delay, err := parseFaultDuration("webhook_delay", w.WebhookDelay)
	if err != nil {
		return err
	}
	*f = Faults{
		Latency:                latency,
		ErrorStatus:            w.ErrorStatus,
		CreateErrorRate:        w.CreateErrorRate,
		CreateErrors:           w.CreateErrors,
		GetErrorRate:           w.GetErrorRate,
		GetErrors:              w.GetErrors,
		DropConnectionRate:     w.DropConnectionRate,
		DropConnections:        w.DropConnections,
		LoseCreateResponseRate: w.LoseCreateResponseRate,
		LoseCreateResponse:     w.LoseCreateResponse,
		WebhooksDisabled:       w.WebhooksDisabled,
		WebhookDelay:           delay,
		WebhookDuplicate:       w.WebhookDuplicate,
		WebhookReorder:         w.WebhookReorder,
		RateLimit:              w.RateLimit,
		Seed:                   w.Seed,
	}
	return nil
}

func parseFaultDuration(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like \"250ms\"", name, s)
	}
	return d, nil
}

// Validate reports every out-of-range setting: a negative duration or
// count, a rate outside 0..1, or an ErrorStatus other than 429 or 5xx.
func (f Faults) Validate() error {
	return f.check(func(field string) string { return field })
}

// check is Validate naming each field through name, so FaultsFromEnv can
// name the environment variable instead of the JSON field.
func (f Faults) check(name func(field string) string) error {
	var errs []error
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"latency", f.Latency}, {"webhook_delay", f.WebhookDelay}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name(d.field)))
		}
	}
	for _, r := range []struct {
		field string
		v     float64
	}{
		{"create_error_rate", f.CreateErrorRate},
		{"get_error_rate", f.GetErrorRate},
		{"drop_connection_rate", f.DropConnectionRate},
		{"lose_create_response_rate", f.LoseCreateResponseRate},
	} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			errs = append(errs, fmt.Errorf("%s must be between 0 and 1", name(r.field)))
		}
	}
	for _, c := range []struct {
		field string
		v     int
	}{
		{"create_errors", f.CreateErrors},
		{"get_errors", f.GetErrors},
		{"drop_connections", f.DropConnections},
		{"lose_create_response", f.LoseCreateResponse},
		{"rate_limit", f.RateLimit},
	} {
		if c.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name(c.field)))
		}
	}
	if s := f.ErrorStatus; s != 0 && s != http.StatusTooManyRequests && (s < 500 || s > 599) {
		errs = append(errs, fmt.Errorf("%s must be 429 or a 5xx status", name("error_status")))
	}
	return errors.Join(errs...)
}

// faultKinds says how to read each fault from the environment; the names
// are the JSON field names, and the variable is SANDBOX_ + the name in
// upper case, so the two spellings cannot drift apart.
var faultKinds = []struct{ field, kind string }{
	{"latency", "duration"},
	{"error_status", "int"},
	{"create_error_rate", "float"},
	{"create_errors", "int"},
	{"get_error_rate", "float"},
	{"get_errors", "int"},
	{"drop_connection_rate", "float"},
	{"drop_connections", "int"},
	{"lose_create_response_rate", "float"},
	{"lose_create_response", "int"},
	{"webhooks_disabled", "bool"},
	{"webhook_delay", "duration"},
	{"webhook_duplicate", "bool"},
	{"webhook_reorder", "bool"},
	{"rate_limit", "int"},
	{"seed", "uint"},
}

// faultEnvName is the environment variable for a fault's JSON field.
func faultEnvName(field string) string { return "SANDBOX_" + strings.ToUpper(field) }

// FaultsFromEnv reads fault settings from SANDBOX_LATENCY,
// SANDBOX_ERROR_STATUS, SANDBOX_CREATE_ERROR_RATE, SANDBOX_CREATE_ERRORS,
// SANDBOX_GET_ERROR_RATE, SANDBOX_GET_ERRORS, SANDBOX_DROP_CONNECTION_RATE,
// SANDBOX_DROP_CONNECTIONS, SANDBOX_LOSE_CREATE_RESPONSE_RATE,
// SANDBOX_LOSE_CREATE_RESPONSE, SANDBOX_WEBHOOKS_DISABLED,
// SANDBOX_WEBHOOK_DELAY, SANDBOX_WEBHOOK_DUPLICATE, SANDBOX_WEBHOOK_REORDER,
// SANDBOX_RATE_LIMIT and SANDBOX_SEED (see Faults); unset or empty variables leave the zero
// value. It returns one error naming every malformed or out-of-range
// variable.
func FaultsFromEnv(getenv func(string) string) (Faults, error) {
	values := map[string]any{}
	var errs []error
	for _, k := range faultKinds {
		env := faultEnvName(k.field)
		raw := strings.TrimSpace(getenv(env))
		if raw == "" {
			continue
		}
		var err error
		switch k.kind {
		case "duration":
			_, err = time.ParseDuration(raw)
			values[k.field] = raw
		case "int":
			values[k.field], err = strconv.Atoi(raw)
		case "uint":
			values[k.field], err = strconv.ParseUint(raw, 10, 64)
		case "float":
			values[k.field], err = strconv.ParseFloat(raw, 64)
		case "bool":
			values[k.field], err = strconv.ParseBool(raw)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a valid %s", env, raw, k.kind))
		}
	}
	if len(errs) > 0 {
		return Faults{}, errors.Join(errs...)
	}
	b, err := json.Marshal(values)
	if err != nil {
		return Faults{}, err
	}
	var f Faults
	if err := json.Unmarshal(b, &f); err != nil {
		return Faults{}, err
	}
	if err := f.check(faultEnvName); err != nil {
		return Faults{}, err
	}
	return f, nil
}

// faultState is the live fault settings, changed at run time through
// PUT /_sandbox/faults, and the seeded generator behind the rates.
type faultState struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
	// served holds when the API requests of the last second were let
	// through, oldest first, for RateLimit.
	served []time.Time
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{}
	fs.set(f)
	return fs
}

// set replaces the settings and reseeds the generator, so the same PUT
// replays the same sequence of random faults.
func (fs *faultState) set(f Faults) {
	if f.ErrorStatus == 0 {
		f.ErrorStatus = http.StatusInternalServerError
	}
	if f.Seed == 0 {
		f.Seed = rand.Uint64() | 1 // nonzero, so reporting it means "this seed"
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(f.Seed, f.Seed))
}

// get returns the current settings, counts as they have run down.
func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

// fire decides one fault: a pending count fires (and runs down) first,
// otherwise the rate is drawn. fs.mu must be held.
func (fs *faultState) fire(count *int, rate float64) bool {
	switch {
	case *count > 0:
		*count--
		return true
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	}
	return fs.rng.Float64() < rate
}

// requestKind says which error knobs apply to an API request.
type requestKind int

const (
	kindOther  requestKind = iota // routing answers (404, 405): latency only
	kindCreate                    // POST /api/v1/payments
	kindGet                       // GET /api/v1/payments[/{id}]
)

// onRequest decides the faults of one authenticated API request: whether
// to drop its connection and, if not, which error status to answer with (0
// for none).
func (fs *faultState) onRequest(kind requestKind) (drop bool, errStatus int) {
	if kind == kindOther {
		return false, 0
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.fire(&fs.f.DropConnections, fs.f.DropConnectionRate) {
		return true, 0
	}
	fail := false
	switch kind {
	case kindCreate:
		fail = fs.fire(&fs.f.CreateErrors, fs.f.CreateErrorRate)
	case kindGet:
		fail = fs.fire(&fs.f.GetErrors, fs.f.GetErrorRate)
	}
	if fail {
		return false, fs.f.ErrorStatus
	}
	return false, 0
}

// overRateLimit counts an API request arriving at now against RateLimit:
// it returns zero and counts the request when fewer than RateLimit were
// served in the second before now, otherwise how long until one of those
// leaves the window (the request is then refused and not counted).
func (fs *faultState) overRateLimit(kind requestKind, now time.Time) time.Duration {
	if kind == kindOther {
		return 0
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	limit := fs.f.RateLimit
	if limit <= 0 {
		fs.served = nil
		return 0
	}
	cut := 0
	for cut < len(fs.served) && now.Sub(fs.served[cut]) >= time.Second {
		cut++
	}
	fs.served = fs.served[cut:]
	if len(fs.served) >= limit {
		return time.Second - now.Sub(fs.served[len(fs.served)-limit])
	}
	fs.served = append(fs.served, now)
	return 0
}

// loseCreateResponse decides whether to drop the answer of a create that
// succeeded.
func (fs *faultState) loseCreateResponse() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.fire(&fs.f.LoseCreateResponse, fs.f.LoseCreateResponseRate)
}

// withFaults wraps an authenticated API handler with the injected
// connection drops and errors of its kind.
func (s *Server) withFaults(kind requestKind, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait := s.faults.overRateLimit(kind, time.Now()); wait > 0 {
			s.log.Info("sandbox: fault: rate limit", "path", r.URL.Path)
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, http.StatusTooManyRequests, "sandbox: rate limit exceeded (see /_sandbox/faults)")
			return
		}
		drop, status := s.faults.onRequest(kind)
		switch {
		case drop:
			s.log.Info("sandbox: fault: dropping connection", "path", r.URL.Path)
			dropConnection(w)
		case status != 0:
			s.log.Info("sandbox: fault: injected error", "path", r.URL.Path, "status", status)
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			writeError(w, status, "sandbox: injected fault (see /_sandbox/faults)")
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// withLatency waits the configured latency before handling the request,
// giving up quietly if the client goes away first.
func (s *Server) withLatency(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sleep(r.Context(), s.faults.get().Latency) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sleep waits d or until ctx is done, reporting whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client's connection without writing a byte, as
// a crashed server or a broken network would. Where the connection cannot
// be hijacked (HTTP/2), it aborts the handler with http.ErrAbortHandler,
// which net/http turns into a reset stream; that panic is net/http's own
// documented way to abort a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// handleGetFaults answers GET /_sandbox/faults with the current settings.
func (s *Server) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.faults.get())
}

// handlePutFaults replaces every fault setting (fields left out become
// zero) and answers with the new settings: 400 for malformed JSON or an
// unknown field, 422 for an out-of-range value.
func (s *Server) handlePutFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read request body: "+err.Error())
		return
	}
	var f Faults
	if err := json.Unmarshal(body, &f); err != nil {
		writeError(w, http.StatusBadRequest, "malformed faults: "+err.Error())
		return
	}
	if err := f.Validate(); err != nil {
		writeError(w, http.StatusUnprocessableEntity, strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	s.faults.set(f)
	s.log.Info("sandbox: faults changed", "faults", s.faults.get())
	writeJSON(w, http.StatusOK, s.faults.get())
}
