package handlers

import (
	"bytes"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component with the given status. It renders into a buffer
// first so a failing component becomes a clean 500 page rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		// A buffer that grew for a rare huge page is dropped, not kept forever.
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	// A known length spares net/http chunking the page (it chunks any body over
	// 2 KiB written without one) and the client decoding the chunks. HTMLBlob has
	// written the bytes to the connection when it returns, so the buffer may go
	// back to the pool.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers keeps page buffers between requests, so a page is not written
// into a fresh buffer grown to its size each time.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer worth keeping: several times a big page.
const maxPooledBuffer = 256 << 10

// noStore marks a response as private to this shopper and never cached, for pages
// that show an order or a cart.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}
