package orchestrate

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Version is this client's version, sent in the default User-Agent.
const Version = "0.1.0"

// apiPath is where the API lives under the base URL (API.md "Hosts and auth").
const apiPath = "/api/v1"

// Limits on how much of a response body is read. A list of 100 payments is
// well under the first; error bodies only need enough for a message.
const (
	maxResponseBytes = 8 << 20
	maxErrorBytes    = 64 << 10
	maxErrorBodyKept = 1 << 10
)

// Client calls the Orchestrate API. It is safe for concurrent use; create one
// per API key and reuse it.
type Client struct {
	baseURL    *url.URL // base URL with apiPath appended
	apiKey     string
	httpClient *http.Client
	userAgent  string
	logger     *slog.Logger
	retry      retryPolicy
	limiter    *RateLimiter // nil: no client-side rate limit
}

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithHTTPClient makes the client send requests with hc instead of the
// default, which has a 10 s overall timeout, 5 s dial and TLS handshake
// timeouts, and does not follow redirects. NewClient returns an error
// wrapping ErrInvalidParams if hc is nil.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return fmt.Errorf("%w: nil *http.Client", ErrInvalidParams)
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent replaces the default User-Agent ("orchestrate-checkout/"
// followed by Version). NewClient returns an error wrapping ErrInvalidParams
// if ua is empty or not a valid header value.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if ua == "" || !validHeaderValue(ua) {
			return fmt.Errorf("%w: user agent must be a non-empty header value", ErrInvalidParams)
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger makes the client log retries and exhausted retries at debug
// level to l. Log records name the request, attempt, wait and error, never
// the API key or any request header. By default nothing is logged. NewClient
// returns an error wrapping ErrInvalidParams if l is nil.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return fmt.Errorf("%w: nil *slog.Logger", ErrInvalidParams)
		}
		c.logger = l
		return nil
	}
}

// WithRetry sets how often and how patiently safe requests are retried (see
// the package documentation for which requests are safe). maxAttempts counts
// the first try, so 1 disables retries. Waits grow exponentially from
// minBackoff and are capped at maxBackoff, with full jitter; a Retry-After
// longer than maxBackoff ends the retries, returning the error with its
// RetryAfter set. The default is 3 attempts, 250ms, 5s. NewClient returns an
// error wrapping ErrInvalidParams unless maxAttempts >= 1 and
// 0 < minBackoff <= maxBackoff.
func WithRetry(maxAttempts int, minBackoff, maxBackoff time.Duration) Option {
	return func(c *Client) error {
		if maxAttempts < 1 || minBackoff <= 0 || maxBackoff < minBackoff {
			return fmt.Errorf("%w: retry needs maxAttempts >= 1 and 0 < minBackoff <= maxBackoff", ErrInvalidParams)
		}
		c.retry.maxAttempts = maxAttempts
		c.retry.minBackoff = minBackoff
		c.retry.maxBackoff = maxBackoff
		return nil
	}
}

// NewClient returns a client for the Orchestrate API at baseURL (for example
// https://sandbox.orchestrate.global) that authenticates with apiKey. The
// API is reached under baseURL's path followed by /api/v1.
//
// It returns an error wrapping ErrInvalidParams if baseURL is not an absolute
// http or https URL without credentials, query or fragment, if apiKey is
// empty or not a valid header value, or if an option is invalid. The error
// never contains the API key.
func NewClient(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		// url.Error repeats the input; baseURL holds no secret once we have
		// rejected credentials, but a malformed one might, so keep it out.
		return nil, fmt.Errorf("%w: base URL does not parse", ErrInvalidParams)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: base URL must be an absolute http or https URL", ErrInvalidParams)
	case u.Host == "":
		return nil, fmt.Errorf("%w: base URL has no host", ErrInvalidParams)
	case u.User != nil:
		return nil, fmt.Errorf("%w: base URL must not contain credentials", ErrInvalidParams)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%w: base URL must not have a query or fragment", ErrInvalidParams)
	}
	if apiKey == "" {
		return nil, fmt.Errorf("%w: API key is empty", ErrInvalidParams)
	}
	if !validHeaderValue(apiKey) || strings.ContainsAny(apiKey, " \t") {
		return nil, fmt.Errorf("%w: API key contains spaces or control characters", ErrInvalidParams)
	}
	// Append apiPath to both forms of the path, keeping any escaping of the
	// base path as given.
	escaped := strings.TrimSuffix(u.EscapedPath(), "/")
	u.Path = strings.TrimSuffix(u.Path, "/") + apiPath
	u.RawPath = escaped + apiPath
	c := &Client{
		baseURL:    u,
		apiKey:     apiKey,
		httpClient: defaultHTTPClient(),
		userAgent:  "orchestrate-checkout/" + Version,
		logger:     slog.New(slog.DiscardHandler),
		retry:      defaultRetryPolicy(),
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// String describes c by its API URL only, so that printing or logging a
// Client (with %v, %+v or %#v) cannot reveal the API key.
func (c *Client) String() string {
	return "orchestrate.Client(" + c.baseURL.String() + ")"
}

// GoString is String, for the %#v verb.
func (c *Client) GoString() string { return c.String() }

// defaultHTTPClient bounds every phase of a request so a stuck Orchestrate
// cannot hold a checkout request (or a worker) forever.
func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 5 * time.Second
	tr.ResponseHeaderTimeout = 10 * time.Second
	tr.MaxIdleConnsPerHost = 10
	// Drop idle connections well before common server and load-balancer
	// keep-alive limits (often 60s): a create sent on a connection the
	// server is closing fails with an unknown outcome.
	tr.IdleConnTimeout = 30 * time.Second
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: tr,
		// The API documents no redirects. Following one could turn a POST
		// into a GET (301/302/303) and silently drop a create, so a redirect
		// is returned as an *Error instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// request describes one API call, independent of attempts.
type request struct {
	method string
	path   string // below apiPath, already escaped, e.g. "/payments/abc"
	query  url.Values
	body   []byte // JSON, nil for none
	header http.Header
	// retryUnsent limits retries to failures where the request provably was
	// not sent; set for non-idempotent calls (CreatePayment).
	retryUnsent bool
}

// do runs req with retries and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, req request, out any) error {
	for attempt := 1; ; attempt++ {
		err := c.send(ctx, req, out)
		if err == nil {
			return nil
		}
		if attempt >= c.retry.maxAttempts || ctx.Err() != nil || !c.shouldRetry(req, err) {
			if attempt > 1 {
				c.logger.LogAttrs(ctx, slog.LevelDebug, "orchestrate: request failed after retries",
					slog.String("method", req.method), slog.String("path", c.escapedPath(req)),
					slog.Int("attempts", attempt), slog.String("error", err.Error()))
			}
			return err
		}
		wait, ok := c.retry.wait(attempt, err)
		if !ok {
			return err
		}
		// Sleeping past the caller's deadline would only delay the failure.
		if deadline, has := ctx.Deadline(); has && time.Until(deadline) < wait {
			return err
		}
		c.logger.LogAttrs(ctx, slog.LevelDebug, "orchestrate: retrying request",
			slog.String("method", req.method), slog.String("path", c.escapedPath(req)),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if c.retry.sleep(ctx, wait) != nil {
			// The context ended while waiting: the last response is more
			// useful to the caller than the context's own error.
			return err
		}
	}
}

// shouldRetry decides whether err, from one attempt of req, may be retried.
func (c *Client) shouldRetry(req request, err error) bool {
	if req.retryUnsent {
		te, ok := errors.AsType[*TransportError](err)
		return ok && !te.RequestSent && IsRetryable(err)
	}
	if _, ok := errors.AsType[*DecodeError](err); ok {
		return false
	}
	// The limiter has already said how long to wait; the caller decides.
	if _, ok := errors.AsType[*RateLimitedError](err); ok {
		return false
	}
	return IsRetryable(err)
}

func (c *Client) escapedPath(req request) string {
	return c.baseURL.EscapedPath() + req.path
}

// send makes one attempt of req.
func (c *Client) send(ctx context.Context, req request, out any) error {
	u := *c.baseURL
	u.RawPath = c.baseURL.EscapedPath() + req.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("%w: bad request path", ErrInvalidParams)
	}
	u.Path = p
	u.RawQuery = req.query.Encode()
	op := req.method + " " + u.EscapedPath()

	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	// sent records whether any part of the request may have been written
	// to a connection. Trace hooks can run on transport goroutines.
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { sent.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { sent.Store(true) },
	}
	httpReq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%w: building request: %v", ErrInvalidParams, err)
	}
	if req.retryUnsent {
		// net/http replays a request on a broken keep-alive connection by
		// itself when it considers it idempotent, and an Idempotency-Key
		// header makes a POST count as idempotent. Orchestrate does not
		// document honouring that key, so a silent replay could create a
		// second payment. Without GetBody the transport cannot replay a
		// request body; retries of creates are left to do, which only
		// retries when nothing was sent.
		httpReq.GetBody = nil
	}
	httpReq.Header.Set("Authorization", "Bearer "+c.apiKey)
	httpReq.Header.Set("Accept", "application/json")
	httpReq.Header.Set("User-Agent", c.userAgent)
	if req.body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range req.header {
		httpReq.Header[k] = vs
	}

	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
	}
	resp, err := c.httpClient.Do(httpReq)
	if err != nil {
		// url.Error repeats method and URL, which Op already carries.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return &TransportError{Op: op, Err: err, RequestSent: sent.Load()}
	}
	defer resp.Body.Close()
	requestID := resp.Header.Get("X-Request-Id")
	if requestID == "" {
		requestID = resp.Header.Get("Request-Id")
	}
	requestID = truncate(requestID, 128)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		apiErr := c.apiError(req.method, u.EscapedPath(), resp, requestID, raw)
		if c.limiter != nil && apiErr.StatusCode == http.StatusTooManyRequests {
			c.limiter.BackOff(max(apiErr.RetryAfter, time.Second))
		}
		return apiErr
	}

	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		// The server answered but the body broke off: the request was
		// certainly received, and its outcome is not known.
		return &TransportError{Op: op, Err: fmt.Errorf("reading response body: %w", err), RequestSent: true}
	}
	if len(raw) > maxResponseBytes {
		return &DecodeError{Method: req.method, Path: u.EscapedPath(), StatusCode: resp.StatusCode, RequestID: requestID,
			Err: fmt.Errorf("response body exceeds %d bytes", maxResponseBytes)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &DecodeError{Method: req.method, Path: u.EscapedPath(), StatusCode: resp.StatusCode, RequestID: requestID, Err: err}
	}
	return nil
}

// apiError builds the *Error for a non-2xx response, keeping the API key out
// of it even if the server echoed it back.
func (c *Client) apiError(method, path string, resp *http.Response, requestID string, raw []byte) *Error {
	text := c.redact(string(raw))
	var parsed struct {
		Message any `json:"message"`
		Error   any `json:"error"`
	}
	var msg string
	if err := json.Unmarshal(raw, &parsed); err == nil {
		// API.md: the body has at least a "message" string. "error" is a
		// common alternative, accepted as a string or {"message": ...}.
		msg = messageText(parsed.Message)
		if msg == "" {
			msg = messageText(parsed.Error)
		}
	}
	if msg == "" {
		msg = text
	}
	// One line, so the message reads well inside Error() and log records.
	msg = strings.Join(strings.Fields(msg), " ")
	return &Error{
		StatusCode: resp.StatusCode,
		Message:    truncate(c.redact(msg), 200),
		RequestID:  c.redact(requestID),
		Body:       truncate(text, maxErrorBodyKept),
		Method:     method,
		Path:       path,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

func messageText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if s, ok := v["message"].(string); ok {
			return s
		}
	}
	return ""
}

// redact removes the API key from text that came from the server.
func (c *Client) redact(s string) string {
	if c.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, "[redacted]")
}

// validHeaderValue reports whether v can be sent as an HTTP header value:
// visible ASCII, spaces and tabs only, so nothing can smuggle in a new
// header line.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if (b < 0x20 && b != '\t') || b >= 0x7f {
			return false
		}
	}
	return true
}
