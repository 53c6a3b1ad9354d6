package handlers

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/static"
)

// minCompressLength is the smallest body worth gzipping: below about one
// packet, compression saves no round trip and costs CPU.
const minCompressLength = 1400

// compress gzips text responses of at least minCompressLength bytes for clients
// that accept gzip: pages, htmx fragments, the CSV export (flushed as it
// streams). klauspost's gzhttp at BestSpeed: nearly the best level's size for
// a fraction of its CPU (docs/BENCHMARKS.md has the figures). Static files are
// served precompressed (static.Gzipped); /metrics negotiates its own encoding.
func (h *handler) compress() echo.MiddlewareFunc {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(minCompressLength),
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.EnableZstd(false), // one encoding, as the static files have
	)
	if err != nil { // the options are constants; TestTextResponsesAreCompressed would fail
		h.cfg.Logger.Error("compression disabled", "error", err)
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	withGzip := echo.WrapMiddleware(func(next http.Handler) http.Handler { return wrap(next) })
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		compressed := withGzip(next)
		return func(c echo.Context) error {
			if p := c.Request().URL.Path; strings.HasPrefix(p, "/static/") || p == "/metrics" {
				return next(c)
			}
			return compressed(c)
		}
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed,
// or "*", with no q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(params)), "q="); ok {
			if q, err := strconv.ParseFloat(v, 64); err != nil || q == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// serveGzipped answers with the precompressed form of the static file name when
// it has one and the client accepts gzip, and reports whether it did. Caches
// keep the two forms apart by Accept-Encoding.
func serveGzipped(c echo.Context, name string) bool {
	gz, ok := static.Gzipped(name)
	if !ok {
		return false
	}
	hdr := c.Response().Header()
	hdr.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if !acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		return false
	}
	hdr.Set(echo.HeaderContentEncoding, "gzip")
	// ServeContent sets the type from the name's extension and answers ranges
	// of the encoded bytes, as HTTP defines them for a Content-Encoding.
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(gz))
	return true
}
