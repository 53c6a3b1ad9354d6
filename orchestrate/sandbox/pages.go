package sandbox

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The pages' templates, stylesheet and script are embedded so the sandbox is
// one binary. The pages use no inline script or style, so they work under the
// strict Content-Security-Policy the sandbox sends with them; they work without
// script too, which only reloads a page shown from the back/forward cache.
var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// pages holds the parsed templates, one set per page, each with the layout.
type pages struct {
	collection *template.Template
	dashboard  *template.Template
	message    *template.Template
}

// parsePages parses the embedded templates.
func parsePages() (*pages, error) {
	parse := func(page string) (*template.Template, error) {
		return template.ParseFS(templateFS, "templates/layout.html", "templates/"+page)
	}
	var p pages
	var err error
	if p.collection, err = parse("collection.html"); err != nil {
		return nil, err
	}
	if p.dashboard, err = parse("dashboard.html"); err != nil {
		return nil, err
	}
	if p.message, err = parse("message.html"); err != nil {
		return nil, err
	}
	return &p, nil
}

// originPattern matches the origins allowed into the CSP header: a scheme
// and a host with an optional port, nothing that could end the directive.
var originPattern = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]+)?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// contentSecurityPolicy allows the sandbox's own stylesheet and script and
// nothing else, with forms posting to the sandbox or to formTargets' origins.
func contentSecurityPolicy(formTargets []string) string {
	sources := []string{"'self'"}
	for _, t := range formTargets {
		u, err := url.Parse(t)
		if err != nil {
			continue
		}
		origin := u.Scheme + "://" + u.Host
		if originPattern.MatchString(origin) && !slices.Contains(sources, origin) {
			sources = append(sources, origin)
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action " +
		strings.Join(sources, " ") + "; frame-ancestors 'none'; base-uri 'none'"
}

// render executes page's layout with view v into a buffer first, so a
// template error becomes a clean 500 rather than half a page, then writes
// it with status and the security headers.
func (s *Server) render(w http.ResponseWriter, status int, page *template.Template, v any, formTargets ...string) {
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("sandbox: render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy(formTargets))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// messageView is the view model of a page that only says something.
type messageView struct {
	Title   string
	Heading string
	Text    string
}

// renderMessage renders a short page with a heading and one sentence.
func (s *Server) renderMessage(w http.ResponseWriter, status int, heading, text string) {
	s.render(w, status, s.pages.message, messageView{Title: heading, Heading: heading, Text: text})
}

// staticHandler serves the embedded stylesheet and script under /static/.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static") // "static" is embedded above, so Sub cannot fail.
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
