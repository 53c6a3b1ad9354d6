package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPageChecksCatchProblems breaks a real page of the app on purpose and
// expects every kind of page check to notice, so a journey that passes has
// really been checked.
func TestPageChecksCatchProblems(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	b := newBrowser(t, a, phoneViewport)
	b.open("/")
	if problems := b.pageProblems(); len(problems) > 0 {
		t.Fatalf("the catalog has problems before it was broken:\n%s", strings.Join(problems, "\n"))
	}

	b.do("break the page", evalVoid(`
		console.error("e2e: a console error");
		setTimeout(() => { throw new Error("e2e: an uncaught exception"); });
		const s = document.createElement("script"); s.textContent = "1"; document.body.append(s);   // inline: CSP
		const img = document.createElement("img"); img.src = "/static/img/missing.svg"; img.alt = "x"; document.body.append(img); // 404
		const unlabelled = document.createElement("input"); document.querySelector("main").append(unlabelled); // axe: label
		const wide = document.createElement("div"); wide.style.width = "2000px"; wide.textContent = "wide"; // CSP allows CSSOM
		document.querySelector("main").append(wide);
		const strip = document.createElement("div"); strip.style.overflowX = "auto"; // a table that hides columns off to the side
		const inner = document.createElement("p"); inner.style.width = "900px"; inner.textContent = "cut off"; strip.append(inner);
		document.querySelector("main").append(strip);
		const name = document.querySelector("li.product h2").getBoundingClientRect();
		const cover = document.createElement("button"); cover.textContent = "e2e: covering button"; // over a product's name
		cover.style.position = "absolute"; cover.style.left = (name.left + scrollX) + "px"; cover.style.top = (name.top + scrollY) + "px";
		document.body.append(cover);
		const badge = document.createElement("span"); badge.setAttribute("aria-label", "e2e: 3 items"); badge.textContent = "3"; // Nu: not on a span
		document.querySelector("main").append(badge);
	`))
	b.waitVisible(`img[src="/static/img/missing.svg"]`, stepTimeout)
	// The events arrive asynchronously; poll until all have been seen.
	var all []string
	want := map[string]string{
		"console error":       "e2e: a console error",
		"exception":           "e2e: an uncaught exception",
		"CSP violation":       "Content-Security-Policy violation",
		"failed asset":        "/static/img/missing.svg answered 404",
		"axe violation":       "accessibility: label",
		"too wide for phone":  "wider than the phone",
		"cut off at the side": "cut off on the phone: div is",
		"overlap":             `button "e2e: covering button" and text`,
		"invalid HTML (DOM)":  "invalid HTML in the page's DOM: The “aria-label” attribute must not be specified on any “span” element",
	}
	var missing []string
	b.poll("every problem to be reported", func() bool {
		all = append(all, b.pageProblems()...)
		text := strings.Join(all, "\n")
		missing = missing[:0]
		for kind, w := range want {
			if !strings.Contains(text, w) {
				missing = append(missing, kind)
			}
		}
		if len(missing) > 0 {
			t.Logf("not reported yet: %v; reported so far:\n%s", missing, text)
		}
		return len(missing) == 0
	})
	t.Logf("reported:\n%s", strings.Join(all, "\n"))

	// Markup the browser repairs as it parses — here a stray end tag — is
	// invalid in the document as served, though the DOM hides it.
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Stray</title></head>`+
			`<body><main><h1>Stray</h1><p>An end tag without its start.</div></main></body></html>`)
	}))
	defer page.Close()
	b.origins = append(b.origins, page.URL)
	b.open(page.URL + "/stray")
	problems := strings.Join(b.pageProblems(), "\n")
	if !strings.Contains(problems, "invalid HTML as served: Stray end tag “div”") {
		t.Errorf("a page served with a stray end tag was not reported as invalid; reported:\n%s", problems)
	}
}
