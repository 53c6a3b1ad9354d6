// Package mailcatcher is a local SMTP server that keeps every message it
// receives in memory: development mail without an account, shown on a page of
// the sandbox's dashboard, and the real SMTP server the tests count messages at.
package mailcatcher

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// maxMessages is how many messages the catcher keeps; older ones are dropped.
const maxMessages = 500

// Message is one message as received.
type Message struct {
	From       string
	To         []string
	Subject    string
	MessageID  string
	ReceivedAt time.Time
	Raw        []byte
	// Text is the message's plain-text body, decoded (its text/plain part, or
	// the whole body when it is plain text); empty when it has none.
	Text string
}

// Catcher is the SMTP server and its messages.
type Catcher struct {
	mu       sync.Mutex
	messages []Message
	srv      *smtp.Server
	ln       net.Listener
	done     chan struct{}
	// hold, when set, stops every message at DATA, before its body is read,
	// until release is closed; held receives once per message stopped.
	hold, held chan struct{}
}

// Hold makes the catcher stop each message at DATA, before reading it, until
// Release: a test kills the sender at that moment. The returned channel
// receives once per message stopped.
func (c *Catcher) Hold() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold, c.held = make(chan struct{}), make(chan struct{}, 16)
	return c.held
}

// Release drops the held messages (the server never accepts them, as when their
// sender died while held) and stops holding.
func (c *Catcher) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold != nil {
		close(c.hold)
		c.hold, c.held = nil, nil
	}
}

// Start listens on addr ("127.0.0.1:0" picks a port) and serves SMTP until Close.
func Start(addr string) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Catcher{ln: ln, done: make(chan struct{})}
	c.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	c.srv.Domain = "localhost"
	c.srv.ReadTimeout, c.srv.WriteTimeout = time.Minute, time.Minute
	c.srv.MaxMessageBytes = 10 << 20
	c.srv.AllowInsecureAuth = true
	go func() { defer close(c.done); _ = c.srv.Serve(ln) }()
	return c, nil
}

// Addr is the address the catcher listens on.
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Close stops the server and waits for it.
func (c *Catcher) Close() error {
	err := c.srv.Close()
	c.ln.Close() // Serve may not have registered it yet
	<-c.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Messages returns a copy of the messages received, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.messages...)
}

func (c *Catcher) add(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.messages = append(c.messages, m)
	if len(c.messages) > maxMessages {
		c.messages = c.messages[len(c.messages)-maxMessages:]
	}
}

// session is one SMTP conversation; every message is accepted.
type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return nil }
func (s *session) Reset()                   { s.from, s.to = "", nil }
func (s *session) Logout() error            { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }

func (s *session) Data(r io.Reader) error {
	s.c.mu.Lock()
	hold, held := s.c.hold, s.c.held
	s.c.mu.Unlock()
	if hold != nil {
		select {
		case held <- struct{}{}:
		default:
		}
		<-hold
		// The test killed the sender while it was held: the server never
		// accepted this message, whatever bytes of it reached the socket first.
		_, _ = io.Copy(io.Discard, r)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "held and dropped"}
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: s.from, To: s.to, ReceivedAt: time.Now(), Raw: raw}
	if parsed, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		m.Subject, _ = dec.DecodeHeader(parsed.Header.Get("Subject"))
		m.MessageID = parsed.Header.Get("Message-Id")
		m.Text = plainText(parsed.Header.Get("Content-Type"), parsed.Header.Get("Content-Transfer-Encoding"), parsed.Body)
	}
	s.c.add(m)
	return nil
}

// page lists the messages, newest first, each with its raw source.
var page = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mail catcher</title>
<style>body{font-family:sans-serif;margin:2rem}pre{white-space:pre-wrap;background:#f4f4f4;padding:1rem;max-height:30rem;overflow:auto}details{margin:1rem 0;border-bottom:1px solid #ddd}</style></head>
<body><h1>Mail catcher</h1>
<p>SMTP on <code>{{.Addr}}</code>: the shop's mail in development, kept in memory ({{len .Messages}} messages). <a href="/_sandbox/">Sandbox dashboard</a></p>
{{range .Messages}}<details class="message"><summary><strong class="subject">{{.Subject}}</strong> to <span class="to">{{range .To}}{{.}} {{end}}</span> at {{.ReceivedAt.Format "15:04:05"}}</summary>
<pre class="body" tabindex="0">{{.Text}}</pre>
<details class="source"><summary>Source</summary><pre tabindex="0">{{printf "%s" .Raw}}</pre></details></details>
{{else}}<p>No mail yet.</p>{{end}}
</body></html>`))

// Handler serves the page listing the messages.
func (c *Catcher) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msgs := c.Messages()
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = page.Execute(w, struct {
			Addr     string
			Messages []Message
		}{c.Addr(), msgs})
	})
}
