package handlers

import (
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/static"
)

// loggerKey is where each request finds the app's logger; logger(c) tags it with
// the request's id.
const loggerKey = "logger"

// logRequests logs one line per request with its id, route, status and latency,
// and gives handlers the logger that logger(c) tags with the same id. The query
// string is never logged: it is the one part of a URL a client may fill with
// anything.
func (h *handler) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogLatency:   true,
		LogMethod:    true,
		LogURIPath:   true,
		LogRoutePath: true,
		LogRequestID: true,
		LogRemoteIP:  true,
		HandleError:  true, // run the error handler first so the status logged is the one sent
		BeforeNextFunc: func(c echo.Context) {
			c.Set(loggerKey, h.cfg.Logger)
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			h.cfg.Logger.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.String("route", v.RoutePath),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("remote_ip", v.RemoteIP),
			)
			return nil
		},
	})
}

// logger returns the request's logger, tagged with the id of its request log
// line. The tagged logger is built when a handler asks, not for every request:
// few requests log anything besides their request line, and With allocates.
func logger(c echo.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey).(*slog.Logger); ok {
		return l.With("request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	return slog.New(slog.DiscardHandler)
}

// httpMetrics are the request counters and latency histograms by route and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// recordMetrics counts requests and their latency by method, route template and
// status. The route template (not the path) keeps the label set small.
func (h *handler) recordMetrics() echo.MiddlewareFunc {
	if h.cfg.Registry == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	m := httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency, by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
	}
	h.cfg.Registry.MustRegister(m.requests, m.duration)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // let the error handler choose the status we record
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := strconv.Itoa(c.Response().Status)
			m.requests.WithLabelValues(c.Request().Method, route, status).Inc()
			m.duration.WithLabelValues(c.Request().Method, route, status).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// securityHeaders sets a strict Content-Security-Policy (no inline script or style,
// no framing) and the other headers every page should carry. Forms may post to
// ourselves and be redirected to Orchestrate's hosted page, so its origin is a
// permitted form-action.
func (h *handler) securityHeaders() echo.MiddlewareFunc {
	formAction := "'self'"
	if u := h.cfg.OrchestrateURL; u != nil {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action " + formAction,
		"frame-ancestors 'none'",
	}, "; ")
	headers := [][2]string{
		{"Content-Security-Policy", csp},
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "strict-origin-when-cross-origin"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"},
	}
	if h.cfg.Production {
		headers = append(headers, [2]string{"Strict-Transport-Security", "max-age=63072000; includeSubDomains"})
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hdr := c.Response().Header()
			// One allocation for every value instead of one per header (Header.Set
			// allocates a slice each). The keys are canonical already; each slice
			// has capacity 1, so a later Add copies rather than writing into it.
			values := make([]string, len(headers))
			for i, kv := range headers {
				values[i] = kv[1]
				hdr[kv[0]] = values[i : i+1 : i+1]
			}
			return next(c)
		}
	}
}

// static serves the embedded assets, text files gzipped when the client accepts
// it. A URL carrying the current version (?v=…) is cached for a year; anything
// else for five minutes, so a stale link heals.
func (h *handler) static() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		if info, err := fs.Stat(static.FS, name); err != nil || info.IsDir() {
			return echo.ErrNotFound // no directory listings
		}
		if c.QueryParam("v") == static.Version {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set("Cache-Control", "public, max-age=300")
		}
		if serveGzipped(c, name) {
			return nil
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
