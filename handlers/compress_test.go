package handlers_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/static"
)

// gunzip decodes a gzip body, failing the test when it is not gzip.
func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the body is not gzip: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the body is not gzip: %v", err)
	}
	return out
}

// TestTextResponsesAreCompressed: pages and static text files go out gzipped to
// a client that accepts it, and whole to one that does not (or refuses gzip
// with q=0); bodies too small to gain are sent as they are.
func TestTextResponsesAreCompressed(t *testing.T) {
	a := newApp(t)
	const htmx = "js/htmx-2.0.11.min.js"
	want, err := fs.ReadFile(static.FS, htmx)
	if err != nil {
		t.Fatal(err)
	}
	asset := static.Path(htmx)
	tests := []struct {
		name, target, acceptEncoding string
		wantGzip                     bool
	}{
		{"page, gzip accepted", "/", "gzip, deflate, br, zstd", true},
		{"page, no Accept-Encoding", "/", "", false},
		{"tiny JSON answer", "/healthz", "gzip", false},
		{"static script, gzip accepted", asset, "gzip", true},
		{"static script, gzip among others with q", asset, "br;q=1.0, gzip;q=0.5", true},
		{"static script, any encoding", asset, "*", true},
		{"static script, gzip refused", asset, "gzip;q=0, identity", false},
		{"static script, no Accept-Encoding", asset, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.acceptEncoding != "" {
				headers = []string{"Accept-Encoding", tc.acceptEncoding}
			}
			rec := a.get(t, tc.target, headers...)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", tc.target, rec.Code)
			}
			body := rec.Body.Bytes()
			gotGzip := rec.Header().Get("Content-Encoding") == "gzip"
			if gotGzip != tc.wantGzip {
				t.Fatalf("Content-Encoding = %q, want gzip: %v", rec.Header().Get("Content-Encoding"), tc.wantGzip)
			}
			if gotGzip {
				body = gunzip(t, body)
				if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
					t.Errorf("a gzipped answer without Vary: Accept-Encoding (Vary %q)", rec.Header().Get("Vary"))
				}
			}
			if cl := rec.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length = %s for a body of %d bytes", cl, rec.Body.Len())
			}
			switch {
			case strings.HasPrefix(tc.target, "/static/"):
				if !bytes.Equal(body, want) {
					t.Errorf("the script as received (%d bytes) is not the embedded file (%d bytes)", len(body), len(want))
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
					t.Errorf("Content-Type = %q, want text/javascript", ct)
				}
			case tc.target == "/":
				if !bytes.Contains(body, []byte(`<meta name="description" content="`)) {
					t.Errorf("the page as received is not the catalog:\n%.300s", body)
				}
			}
		})
	}
}
