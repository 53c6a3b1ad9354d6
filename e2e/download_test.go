package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// download clicks the link or button matching sel, which must make the browser
// download a file (an export such as the admin's CSV), waits until the file is
// complete and returns the name the server suggested and the file's content.
func (b *browser) download(sel string) (name string, content []byte) {
	b.t.Helper()
	b.mustHave(sel)
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	events := true
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:      cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, // saved as <dir>/<guid>
		DownloadPath:  dir,
		EventsEnabled: &events,
	}); err != nil {
		b.t.Fatalf("allowing downloads: %v", err)
	}
	// Subscribe before the click, so no event is missed.
	begins := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))

	var guid string
	for ev, err := range begins {
		if err != nil {
			b.t.Fatalf("clicking %s started no download: %v (page %s)", sel, err, b.location())
		}
		guid, name = ev.GUID, ev.SuggestedFilename
		break
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("the download of %s did not finish: %v", name, err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			b.t.Fatalf("the download of %s was cancelled", name)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			break
		}
	}
	content, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		b.t.Fatalf("reading the downloaded %s: %v", name, err)
	}
	return name, content
}

// TestDownloadHelper checks the download helper on a page with an attachment
// link, so journeys that export files can rely on it.
func TestDownloadHelper(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><title>Export</title><main><a id="csv" href="/orders.csv">Download CSV</a></main>`)) //nolint:errcheck // test server
	})
	mux.HandleFunc("GET /orders.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="orders.csv"`)
		w.Write([]byte("number,email\nFK-100001,ada@example.com\n")) //nolint:errcheck // test server
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	fake := &app{URL: ts.URL, SandboxURL: ts.URL, Artifacts: artifactsDir(t), testName: t.Name()}
	b := newBrowser(t, fake)
	b.open("/")
	name, content := b.download("#csv")
	if name != "orders.csv" {
		t.Errorf("downloaded file name = %q, want orders.csv", name)
	}
	if want := "number,email\nFK-100001,ada@example.com\n"; string(content) != want {
		t.Errorf("downloaded content = %q, want %q", content, want)
	}
}
