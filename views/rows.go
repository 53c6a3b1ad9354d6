package views

import (
	"html"
	"io"
)

// The pages' repeated parts (cart rows, product cards) are written in Go with a
// rowWriter rather than in templ: templ's generated code passes every
// { expression } through fmt.Sprint, two allocations each, so a list in templ
// costs allocations in proportion to its length. Each
// such component's HTML is byte for byte what its templ markup produced, pinned
// by a golden file in testdata, and every value is HTML-escaped as templ escapes
// it.

// rowWriter writes HTML to w, keeping the first error so the caller checks once
// per row. Its number buffers live in the writer, which lives on the stack of one
// Render, so formatting an id allocates nothing.
type rowWriter struct {
	w       io.Writer
	err     error
	id, qty [20]byte
}

// raw writes markup from this file, or data already escaped.
func (rw *rowWriter) raw(s string) {
	if rw.err == nil {
		_, rw.err = io.WriteString(rw.w, s)
	}
}

// text writes data HTML-escaped; html.EscapeString returns s itself when there
// is nothing to escape.
func (rw *rowWriter) text(s string) { rw.raw(html.EscapeString(s)) }

// bytes writes digits, which need no escaping.
func (rw *rowWriter) bytes(b []byte) {
	if rw.err == nil {
		_, rw.err = rw.w.Write(b)
	}
}
