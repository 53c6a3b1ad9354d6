package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
)

// vnuVersion is the Nu HTML Checker the tests run, from the npm package
// vnu-jar; scripts/vnu.sh installs it into .cache/vnu (git-ignored). Java runs it.
const vnuVersion = "26.9.27"

// vnuStartTimeout bounds the checker's start: the JVM loads its schemas in
// 10–30 s on a busy two-core machine.
const vnuStartTimeout = 120 * time.Second

// htmlChecker is one Nu HTML Checker server (`java -cp vnu.jar
// nu.validator.servlet.Main <port>`) shared by the whole test binary: started
// by the first browser, stopped by TestMain. Each page is POSTed to it, which
// takes milliseconds once it runs.
type htmlChecker struct {
	once    sync.Once
	url     string        // http://127.0.0.1:<port>/
	ready   chan struct{} // closed when the server answers or has failed to start
	err     error         // why it is not available; set before ready closes
	missing bool          // the jar or java is not installed (as opposed to broken)
	cmd     *exec.Cmd
	log     syncBuffer // the server's output, for a start that fails
}

// vnu is the test binary's checker.
var vnu = &htmlChecker{ready: make(chan struct{})}

// vnuJar returns the path of vnu.jar: $VNU_JAR, else where scripts/vnu.sh
// installs it.
func vnuJar() string {
	if p := os.Getenv("VNU_JAR"); p != "" {
		return p
	}
	return filepath.Join("..", ".cache", "vnu", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
}

// start launches the checker once, in the background; wait reports when it answers.
func (v *htmlChecker) start() {
	v.once.Do(func() {
		jar := vnuJar()
		java, err := exec.LookPath("java")
		if _, serr := os.Stat(jar); serr != nil {
			err = fmt.Errorf("no Nu HTML Checker at %s (%w)", jar, serr)
		}
		if err != nil {
			v.missing = true
			v.fail(err)
			return
		}
		port, err := apptest.FreePort()
		if err != nil {
			v.fail(err)
			return
		}
		v.url = fmt.Sprintf("http://127.0.0.1:%d/", port)
		v.cmd = exec.Command(java, "-Xmx1g", "-Dnu.validator.servlet.bind-address=127.0.0.1",
			"-cp", jar, "nu.validator.servlet.Main", fmt.Sprint(port))
		v.cmd.Stdout, v.cmd.Stderr = &v.log, &v.log
		v.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the tests
		if err := v.cmd.Start(); err != nil {
			v.fail(fmt.Errorf("starting the Nu HTML Checker: %w", err))
			return
		}
		exited := make(chan struct{})
		go func() { _ = v.cmd.Wait(); close(exited) }() // its log says why it ended
		go func() {
			if err := apptest.WaitReady(context.Background(), v.url, exited, vnuStartTimeout); err != nil {
				v.fail(fmt.Errorf("the Nu HTML Checker did not start: %w\n%s", err, tail(v.log.String(), 2000)))
				return
			}
			close(v.ready)
		}()
	})
}

func (v *htmlChecker) fail(err error) {
	v.err = err
	close(v.ready)
}

// stop ends the server, if it was started.
func (v *htmlChecker) stop() {
	if v.cmd != nil && v.cmd.Process != nil {
		_ = v.cmd.Process.Kill()
	}
}

// require starts the checker and makes sure it can run: without the jar or
// Java the test is skipped, or fails when CI is set (the checker is part of
// what a page must pass).
func (v *htmlChecker) require(t *testing.T) {
	t.Helper()
	v.start()
	select {
	case <-v.ready:
	default:
		return // still starting; check waits for it
	}
	if v.err == nil {
		return
	}
	if v.missing && os.Getenv("CI") == "" {
		t.Skipf("%v: run scripts/vnu.sh (make test does; it installs vnu-jar@%s with npm) or set VNU_JAR to run the browser tests", v.err, vnuVersion)
	}
	t.Fatal(v.err)
}

// vnuMessage is one message of the checker's JSON output.
type vnuMessage struct {
	Type    string `json:"type"` // error, info (a warning) or non-document-error
	Message string `json:"message"`
	Line    int    `json:"lastLine"`
	Column  int    `json:"firstColumn"`
	Extract string `json:"extract"`
}

func (m vnuMessage) String() string {
	return fmt.Sprintf("%s (line %d, column %d: %q)", m.Message, m.Line, m.Column, strings.TrimSpace(m.Extract))
}

// check validates one HTML document and returns its errors (warnings are not
// errors). An error return means the checker could not judge.
func (v *htmlChecker) check(ctx context.Context, html []byte) ([]vnuMessage, error) {
	select {
	case <-v.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the Nu HTML Checker to start: %w", ctx.Err())
	}
	if v.err != nil {
		return nil, v.err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url+"?out=json", bytes.NewReader(html))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/html; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Nu HTML Checker: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("Nu HTML Checker: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("Nu HTML Checker answered %d: %s", resp.StatusCode, tail(string(body), 500))
	}
	var out struct {
		Messages []vnuMessage `json:"messages"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("Nu HTML Checker: %w: %s", err, tail(string(body), 500))
	}
	var errs []vnuMessage
	for _, m := range out.Messages {
		switch m.Type {
		case "error":
			errs = append(errs, m)
		case "non-document-error":
			return nil, fmt.Errorf("Nu HTML Checker could not check the page: %s", m.Message)
		}
	}
	return errs, nil
}

// htmlProblems runs the page through the Nu HTML Checker twice: the document
// as the server sent it (what a parser sees; the browser's DOM would hide a
// stray end tag) and the DOM as it is now (what scripts and htmx swapped in).
// The served document is checked once per document.
func (b *browser) htmlProblems() []string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, vnuStartTimeout+stepTimeout)
	defer cancel()
	var problems []string
	seen := map[string]bool{}
	b.mu.Lock()
	doc := b.doc
	b.mu.Unlock()
	if doc.id != "" && doc.id != b.checkedDoc {
		b.checkedDoc = doc.id
		body, err := b.responseBody(doc.id)
		if err != nil {
			return []string{fmt.Sprintf("HTML check: reading the page %s as served: %v", doc.url, err)}
		}
		errs, err := vnu.check(ctx, body)
		if err != nil {
			b.t.Fatalf("HTML check of %s: %v", doc.url, err)
		}
		for _, e := range errs {
			seen[e.Message] = true
			problems = append(problems, "invalid HTML as served: "+e.String())
		}
	}
	if !b.ours(b.location()) {
		return problems
	}
	dom := eval[string](b, "serialise the page", `"<!DOCTYPE html>\n" + document.documentElement.outerHTML`)
	errs, err := vnu.check(ctx, []byte(dom))
	if err != nil {
		b.t.Fatalf("HTML check of the page's DOM: %v", err)
	}
	for _, e := range errs {
		if !seen[e.Message] {
			problems = append(problems, "invalid HTML in the page's DOM: "+e.String())
		}
	}
	return problems
}

// responseBody returns the body the browser received for a request of the
// current page.
func (b *browser) responseBody(id network.RequestID) ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (network.GetResponseBodyResult, error) {
		return cdp.Call(ctx, t, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
	})
	return res.Body, err
}

// syncBuffer collects the checker's stdout and stderr, written and read from
// different goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
