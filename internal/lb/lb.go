// Package lb is a small HTTP load balancer for the tests that run several
// instances of the app, and the reference for what a production balancer
// (haproxy, nginx, a cloud balancer, a Kubernetes Service) must do in front of
// them:
//
//   - round robin among the backends that are in rotation;
//   - an active health check: every Interval it GETs each backend's Path
//     (/readyz); Fall answers in a row that are not 200 (or not answers at all
//     within Timeout) take the backend out of rotation, Rise answers of 200 put
//     it back. An instance that received SIGTERM answers 503 for SHUTDOWN_DRAIN
//     while it still serves, so the balancer stops sending it requests before
//     its listener closes — provided Fall × Interval (+ Timeout) is well under
//     SHUTDOWN_DRAIN;
//   - with no backend in rotation, a 503 at once, never a hung request;
//   - a request is sent to one backend once. A POST whose connection failed may
//     or may not have been processed, so it is never sent again blindly: the
//     client gets a 502 and decides (the app's checkout and webhooks are safe to
//     repeat, but a balancer cannot know that). net/http's Transport resends a
//     request only when it is known not to have been processed: an idempotent
//     one (GET, HEAD) on a kept-alive connection the backend had closed, or any
//     request of which not a byte was written. A refused connection is not
//     retried on another backend either (haproxy's `option redispatch`, nginx's
//     `proxy_next_upstream error` would), so the tests prove the drain alone
//     keeps clients whole.
//
// Idle connections to a backend are dropped after IdleConnTimeout, which must be
// shorter than the backend's own keep-alive timeout (the app's is 120 s), or the
// balancer may write to a connection the backend is closing.
package lb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Balancer; the zero value suits the tests.
type Options struct {
	Path     string        // the health check's path; "" is /readyz
	Interval time.Duration // time between two checks of a backend; 0 is 100 ms
	Timeout  time.Duration // how long a check may take; 0 is 1 s
	Fall     int           // failed checks in a row that take a backend out; 0 is 2
	Rise     int           // passed checks in a row that put it back; 0 is 1
	// IdleConnTimeout drops kept-alive connections to a backend unused this
	// long; 0 is 30 s.
	IdleConnTimeout time.Duration
	Logger          *slog.Logger // state changes and proxy errors; nil discards them
}

// Balancer is an http.Handler that spreads requests over its backends. Its
// health checks run only between Start and Close; until a backend's first
// check passes it is out of rotation.
type Balancer struct {
	o        Options
	backends []*backend
	next     atomic.Uint64
	proxy    *httputil.ReverseProxy
	client   *http.Client // the health checks'
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

type backend struct {
	url     *url.URL
	up      atomic.Bool
	served  atomic.Int64 // responses proxied from it
	failed  atomic.Int64 // requests sent to it that got no response (502)
	changes atomic.Int64 // times it went in or out of rotation

	// run of equal check results, touched by its checker only
	passes, fails int
}

type backendKey struct{}

// New returns a Balancer over the backends' base URLs (http://host:port). A
// backend restarted on the same address is found again by its health check.
func New(backends []string, o Options) (*Balancer, error) {
	if len(backends) == 0 {
		return nil, errors.New("lb: no backends")
	}
	if o.Path == "" {
		o.Path = "/readyz"
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Fall <= 0 {
		o.Fall = 2
	}
	if o.Rise <= 0 {
		o.Rise = 1
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Balancer{o: o}
	for _, raw := range backends {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("lb: backend %q is not an http://host:port URL", raw)
		}
		b.backends = append(b.backends, &backend{url: u})
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.IdleConnTimeout = o.IdleConnTimeout
	transport.MaxIdleConnsPerHost = 64
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			be := r.In.Context().Value(backendKey{}).(*backend)
			r.SetURL(be.url)
			r.SetXForwarded()
			r.Out.Host = r.In.Host // the app builds no URL from Host; keep what the client sent
		},
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			resp.Request.Context().Value(backendKey{}).(*backend).served.Add(1)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			be := r.Context().Value(backendKey{}).(*backend)
			be.failed.Add(1)
			b.o.Logger.Warn("lb: proxy error", "backend", be.url.Host, "method", r.Method, "path", r.URL.Path, "error", err)
			http.Error(w, "bad gateway", http.StatusBadGateway)
		},
	}
	b.client = &http.Client{Timeout: o.Timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	return b, nil
}

// Start runs one health checker per backend until Close.
func (b *Balancer) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	for _, be := range b.backends {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.watch(ctx, be)
		}()
	}
}

// Close stops the health checks and closes idle connections to the backends.
func (b *Balancer) Close() {
	if b.stop != nil {
		b.stop()
	}
	b.wg.Wait()
	b.proxy.Transport.(*http.Transport).CloseIdleConnections()
}

// ServeHTTP sends r to the next backend in rotation, or answers 503 when there
// is none.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	be := b.pick()
	if be == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "no backend is ready", http.StatusServiceUnavailable)
		return
	}
	b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, be)))
}

// pick returns the next backend in rotation after the last one picked, or nil.
func (b *Balancer) pick() *backend {
	n := uint64(len(b.backends))
	start := b.next.Add(1)
	for i := range n {
		if be := b.backends[(start+i)%n]; be.up.Load() {
			return be
		}
	}
	return nil
}

// watch checks be every Interval until ctx ends, moving it in and out of
// rotation after Rise passes or Fall failures in a row.
func (b *Balancer) watch(ctx context.Context, be *backend) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := b.check(ctx, be)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			be.passes, be.fails = be.passes+1, 0
			if !be.up.Load() && be.passes >= b.o.Rise {
				be.up.Store(true)
				be.changes.Add(1)
				b.o.Logger.Info("lb: backend in rotation", "backend", be.url.Host)
			}
		default:
			be.passes, be.fails = 0, be.fails+1
			if be.up.Load() && be.fails >= b.o.Fall {
				be.up.Store(false)
				be.changes.Add(1)
				b.o.Logger.Info("lb: backend out of rotation", "backend", be.url.Host, "error", err)
			}
		}
		t.Reset(b.o.Interval)
	}
}

// check GETs be's health check path; nil when it answered 200.
func (b *Balancer) check(ctx context.Context, be *backend) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, be.url.JoinPath(b.o.Path).String(), nil)
	if err != nil {
		return err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // only the status matters
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", b.o.Path, resp.StatusCode)
	}
	return nil
}

// Stats is what happened at one backend.
type Stats struct {
	URL     string
	Up      bool  // in rotation now
	Served  int64 // responses it gave
	Failed  int64 // requests sent to it that got no response (answered 502)
	Changes int64 // times it went in or out of rotation
}

// Stats returns each backend's figures, in the order New was given them.
func (b *Balancer) Stats() []Stats {
	s := make([]Stats, len(b.backends))
	for i, be := range b.backends {
		s[i] = Stats{URL: be.url.String(), Up: be.up.Load(), Served: be.served.Load(), Failed: be.failed.Load(), Changes: be.changes.Load()}
	}
	return s
}
