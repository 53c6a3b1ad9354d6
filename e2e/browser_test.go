package e2e

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (see testdata/axe-LICENSE.txt), injected into each page
// through the DevTools protocol, where the page's Content-Security-Policy does
// not apply.
//
//go:embed testdata/axe.min.js
var axeSource string

// stepTimeout bounds every single browser step (a click, a wait for an element),
// so a missing element fails the step with its name instead of hanging the test.
const stepTimeout = 20 * time.Second

// chromiumPath returns the browser to drive: $CHROME_PATH, else the first of the
// usual names on PATH. Without one the test is skipped, or fails when CI is set.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (chromium, chromium-browser or google-chrome on PATH, or CHROME_PATH); CI requires it: .ci/run installs `chromium`")
	}
	t.Skip("no Chromium found: install it (`apt-get install chromium`) or set CHROME_PATH to run the browser tests")
	return ""
}

// browser is one headless Chromium with one tab, driving one app. Its methods
// fail the test on error; every step is bounded by stepTimeout.
type browser struct {
	t     *testing.T
	app   *app
	ctx   context.Context // the tab
	phone bool
	dir   string // where screenshots and failure artifacts go
	// checkoutTotal is the total with shipping the last checkout form showed.
	checkoutTotal string

	origins []string // the app's origins (shop and sandbox): their requests must not fail

	mu       sync.Mutex
	step     int
	console  []string // every console message and browser log entry, for the artifacts
	problems []string // console errors, CSP violations, failed requests since the last check
	requests map[network.RequestID]*network.Request
	docURL   string // the main frame's current document
	doc      document

	checkedDoc network.RequestID // the last document run through the HTML checker
}

// document is the response that loaded the main frame's page, when it is ours.
type document struct {
	id  network.RequestID
	url string
}

// browserOption changes how the browser is set up.
type browserOption func(*browser)

// phoneViewport makes the tab a 390×844 phone (mobile emulation with touch).
func phoneViewport(b *browser) { b.phone = true }

// newBrowser starts Chromium headless with a fresh profile and opens a tab. It is
// closed when the test ends; if the test failed, the page's HTML, a screenshot and
// the console log are saved in the test's artifacts folder first.
func newBrowser(t *testing.T, a *app, opts ...browserOption) *browser {
	t.Helper()
	exe := chromiumPath(t)
	vnu.require(t)
	b := &browser{t: t, app: a, origins: []string{a.URL, a.SandboxURL}, requests: map[network.RequestID]*network.Request{}}
	for _, o := range opts {
		o(b)
	}
	b.dir = a.Artifacts
	if t.Name() != a.testName { // a subtest sharing its parent's app
		b.dir = artifactsDir(t)
	}

	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.onEvent),
		chromedp.WithLogf(t.Logf),
		chromedp.WithErrorf(func(format string, args ...any) { t.Logf("chromedp: "+format, args...) }),
	)
	b.ctx = ctx
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	t.Cleanup(b.saveFailureArtifacts) // runs first, while the browser is still open

	// The first action starts the browser; it gets no timeout of its own, or
	// the browser would end with it (see chromedp's docs/API.md, example 21).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", exe, err)
	}
	if b.phone {
		b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(3)))
	}
	return b
}

// onEvent runs in chromedp's event loop for every event of the tab: it records
// console output and every sign of a broken page. It must return fast.
func (b *browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventFrameNavigated:
		if ev.Frame.ParentID == "" {
			b.docURL = ev.Frame.URL
		}
	case *runtime.EventConsoleAPICalled:
		msg := fmt.Sprintf("console.%s: %s", ev.Type, remoteObjects(ev.Args))
		b.console = append(b.console, msg)
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			b.problem("%s (on %s)", msg, b.docURL)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		b.console = append(b.console, "exception: "+msg)
		b.problem("uncaught JavaScript exception %s at %s:%d (on %s)", msg, d.URL, d.LineNumber+1, b.docURL)
	case *log.EventEntryAdded:
		e := ev.Entry
		msg := fmt.Sprintf("log %s/%s: %s %s", e.Source, e.Level, e.Text, e.URL)
		b.console = append(b.console, msg)
		switch {
		case isCSPViolation(e.Text):
			b.problem("Content-Security-Policy violation: %s (on %s)", e.Text, b.docURL)
		case e.Source == log.EntrySourceNetwork:
			// Failed loads are judged from the network events below, which know
			// the resource type (a 422 form page is expected, a 404 stylesheet
			// is not).
		case e.Level == log.EntryLevelError:
			b.problem("browser error: %s (on %s)", strings.TrimSpace(msg), b.docURL)
		}
	case *network.EventRequestWillBeSent:
		b.requests[ev.RequestID] = ev.Request
	case *network.EventResponseReceived:
		r := ev.Response
		if !b.ours(r.URL) || isImplicitFavicon(ev.Type, r.URL) {
			return
		}
		if ev.Type == network.ResourceTypeDocument && r.MimeType == "text/html" { // not a download; the pages have no frames
			b.doc = document{id: ev.RequestID, url: r.URL}
		}
		// A page may answer 4xx on purpose (422 for a form with errors, 404 for
		// an unknown order); the journeys check those. Anything else of ours —
		// stylesheets, scripts, images, htmx requests — must load.
		if (ev.Type != network.ResourceTypeDocument && r.Status >= 400) || r.Status >= 500 {
			b.problem("%s %s answered %d (on %s)", ev.Type, r.URL, r.Status, b.docURL)
		}
	case *network.EventLoadingFailed:
		req := b.requests[ev.RequestID]
		if req == nil || !b.ours(req.URL) {
			return
		}
		// A request cancelled because the page moved on (a poll cut short by a
		// navigation) is not a failure; one blocked by CSP or that errored is.
		if ev.Canceled && ev.BlockedReason == "" {
			return
		}
		b.problem("%s %s failed: %s %s (on %s)", ev.Type, req.URL, ev.ErrorText, ev.BlockedReason, b.docURL)
	}
}

// cspViolation matches Chromium's console text for a Content-Security-Policy
// violation ("Refused to load the script … because it violates the following
// Content Security Policy directive …").
var cspViolation = regexp.MustCompile(`(?i)refused to .*content security policy|content[- ]security[- ]policy`)

func isCSPViolation(text string) bool { return cspViolation.MatchString(text) }

// isImplicitFavicon reports whether a request is the browser's own guess at
// /favicon.ico for a page that declares no icon (the sandbox's pages; the shop
// declares one, which is checked like any other asset).
func isImplicitFavicon(typ network.ResourceType, u string) bool {
	return typ == network.ResourceTypeOther && strings.HasSuffix(u, "/favicon.ico")
}

func (b *browser) problem(format string, args ...any) {
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

// ours reports whether u belongs to the app (the shop or its sandbox).
func (b *browser) ours(u string) bool {
	for _, o := range b.origins {
		if u == o || strings.HasPrefix(u, o+"/") {
			return true
		}
	}
	return false
}

func remoteObjects(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, strings.Trim(string(a.Value), `"`))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// do runs steps on the tab within stepTimeout and fails the test, naming what,
// if one fails.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (page %s)", what, err, b.location())
	}
}

// run runs one action returning a value, like do.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v (page %s)", what, err, b.location())
	}
	return v
}

// navigate runs steps that load a new page (a click on a link or a submit button,
// or chromedp.Navigate), waits for it and returns its HTTP status.
func (b *browser) navigate(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.t.Fatalf("%s: %v (page %s)", what, err, b.location())
	}
	if resp == nil {
		b.t.Fatalf("%s: no page loaded (page %s)", what, b.location())
	}
	return resp.Status
}

// open loads path of the shop (or an absolute URL) and expects 200.
func (b *browser) open(path string) {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.app.URL + path
	}
	if status := b.navigate("open "+u, chromedp.Navigate(u)); status != 200 {
		b.t.Fatalf("open %s: status %d", u, status)
	}
}

// mustHave fails the test at once, naming sel and the page, when the loaded
// page has no element matching sel. The actions below call it first: chromedp's
// queries would otherwise wait for the element until the step times out. (Use
// waitVisible for what appears later, such as an htmx update.)
func (b *browser) mustHave(sel string) {
	b.t.Helper()
	if !eval[bool](b, "look for "+sel, fmt.Sprintf(`document.querySelector(%q) !== null`, sel)) {
		b.t.Fatalf("the page %s has no %s", b.location(), sel)
	}
}

// click clicks the first element matching the CSS selector sel and waits for the
// page it loads; it returns that page's status.
func (b *browser) click(sel string) int64 {
	b.t.Helper()
	b.mustHave(sel)
	return b.navigate("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeInto clears the field matching sel and types text into it, key by key.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.mustHave(sel)
	b.do("type into "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	b.mustHave(sel)
	return strings.TrimSpace(run(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// value returns the value of the form field matching sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	b.mustHave(sel)
	return run(b, "read the value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// waitVisible waits until an element matching sel is visible, for up to timeout.
func (b *browser) waitVisible(sel string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("waiting %s for %s to be visible: %v (page %s)", timeout, sel, err, b.location())
	}
}

// eval evaluates a JavaScript expression that reads the page and decodes its
// result into T.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	return run(b, what, chromedp.Evaluate[T](expr))
}

// location returns the URL of the page, or a note when it cannot be read.
func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return u
}

// path returns the path of the current page if it is on the shop, and fails the
// test otherwise.
func (b *browser) path() string {
	b.t.Helper()
	loc := b.location()
	if !strings.HasPrefix(loc, b.app.URL+"/") {
		b.t.Fatalf("expected to be on the shop (%s), but the page is %s", b.app.URL, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u.Path
}

// checkpoint ends a step: it saves a screenshot as NN-name.png, then checks the
// page (see pageProblems). It fails the test at the first broken page.
func (b *browser) checkpoint(name string) {
	b.t.Helper()
	b.mu.Lock()
	b.step++
	n := b.step
	b.mu.Unlock()
	b.screenshot(fmt.Sprintf("%02d-%s.png", n, name))
	if problems := b.pageProblems(); len(problems) > 0 {
		b.t.Fatalf("step %02d-%s on %s:\n  %s", n, name, b.location(), strings.Join(problems, "\n  "))
	}
}

// pageProblems returns what is wrong with the page: the console errors, CSP
// violations and failed requests of ours recorded since it was last called,
// serious or critical axe violations, errors of the Nu HTML Checker, elements
// that cover each other, and on a phone anything wider than the screen or cut
// off at the side.
func (b *browser) pageProblems() []string {
	b.t.Helper()
	var problems []string
	for _, v := range b.axe() {
		problems = append(problems, "accessibility: "+v)
	}
	problems = append(problems, b.htmlProblems()...)
	problems = append(problems, b.layoutProblems()...)
	b.mu.Lock()
	defer b.mu.Unlock()
	problems = append(b.problems, problems...)
	b.problems = nil
	return problems
}

// screenshot saves the whole page as a PNG in the artifacts folder.
func (b *browser) screenshot(file string) {
	b.t.Helper()
	png := run(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.dir, file), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// readmeScreenshot saves the visible part of the page as docs/img/<name>.png
// when E2E_UPDATE_SCREENSHOTS is set, so the README shows what the tests saw.
func (b *browser) readmeScreenshot(name string) {
	b.t.Helper()
	if os.Getenv("E2E_UPDATE_SCREENSHOTS") == "" {
		return
	}
	png := run(b, "screenshot for the README", chromedp.CaptureScreenshot())
	dir := filepath.Join("..", "docs", "img")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axeViolation is the part of an axe-core result the tests report.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs axe-core on the page against WCAG 2.x A/AA and best practices and
// keeps the serious and critical violations.
const axeRun = `axe.run(document, {
	resultTypes: ["violations"],
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}
}).then(r => r.violations
	.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " "))})))`

// axe injects axe-core into the page (once per document) and returns its serious
// and critical violations, one line each.
func (b *browser) axe() []string {
	b.t.Helper()
	if !eval[bool](b, "look for axe", `typeof window.axe !== "undefined"`) {
		run(b, "inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource+";void 0"))
	}
	violations := run(b, "run axe-core", chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	var out []string
	for _, v := range violations {
		out = append(out, fmt.Sprintf("%s (%s): %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; ")))
	}
	return out
}

// saveFailureArtifacts saves the page's HTML, a screenshot and the console log
// when the test failed, so a failing CI run can be understood.
func (b *browser) saveFailureArtifacts() {
	if !b.t.Failed() {
		return
	}
	dir := b.dir
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	var errs []error
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		errs = append(errs, os.WriteFile(filepath.Join(dir, "failure-page.html"), []byte(html), 0o644))
	} else {
		errs = append(errs, fmt.Errorf("page HTML: %w", err))
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		errs = append(errs, os.WriteFile(filepath.Join(dir, "failure-screenshot.png"), png, 0o644))
	} else {
		errs = append(errs, fmt.Errorf("screenshot: %w", err))
	}
	b.mu.Lock()
	console := strings.Join(b.console, "\n") + "\n"
	b.mu.Unlock()
	errs = append(errs, os.WriteFile(filepath.Join(dir, "failure-console.log"), []byte(console), 0o644))
	if err := errors.Join(errs...); err != nil {
		b.t.Logf("saving the failure artifacts: %v", err)
	}
	b.t.Logf("screenshots, page HTML and console log of the failure are in %s (page %s)", dir, b.location())
}

// reloadUntil reloads the page every half second until an element matching sel
// is in it, for up to timeout — what a person waiting for a page to change does.
func (b *browser) reloadUntil(sel string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		b.navigate("reload", chromedp.Reload())
		if eval[bool](b, "look for "+sel, fmt.Sprintf(`document.querySelector(%q) !== null`, sel)) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s did not appear within %s of reloading %s", sel, timeout, b.location())
		}
		<-tick.C
	}
}

// evalVoid is an action that evaluates expr in the page and ignores its result.
func evalVoid(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}

// poll calls cond every 100ms until it returns true, for up to stepTimeout.
func (b *browser) poll(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %s for %s", stepTimeout, what)
		}
		<-tick.C
	}
}
