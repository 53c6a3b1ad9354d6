package e2e

import (
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
	`))
	b.waitVisible(`img[src="/static/img/missing.svg"]`, stepTimeout)
	// The events arrive asynchronously; poll until all have been seen.
	var all []string
	want := map[string]string{
		"console error":      "e2e: a console error",
		"exception":          "e2e: an uncaught exception",
		"CSP violation":      "Content-Security-Policy violation",
		"failed asset":       "/static/img/missing.svg answered 404",
		"axe violation":      "accessibility: label",
		"too wide for phone": "wider than the phone",
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
}
