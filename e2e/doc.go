// Package e2e holds the end-to-end tests: the real app binary, its built-in
// Orchestrate sandbox and a fresh database, driven by headless Chromium through
// the Chrome DevTools Protocol (chromedp) the way a person uses them — click,
// type, read the page.
//
// Every page a journey visits is also checked for JavaScript console errors,
// Content-Security-Policy violations, failed requests for the app's own assets,
// serious or critical accessibility violations (axe-core, vendored in
// testdata), errors of the Nu HTML Checker (vnu, one server per test binary),
// elements that cover each other, and on a phone anything wider than the
// screen or cut off at the side. Each step saves a screenshot under test-artifacts/e2e/<TestName>/;
// a failing test also leaves the page's HTML, the browser console and the app's
// log there.
//
// The tests need TEST_DATABASE_URL (`make test` sets it), a Chromium, and the
// Nu HTML Checker with Java (scripts/vnu.sh installs it): they skip without
// one, except when CI is set, where a missing browser or checker fails.
package e2e
