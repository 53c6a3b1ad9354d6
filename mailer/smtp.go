package mailer

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP is where mail is sent: SMTP_URL, parsed.
type SMTP struct {
	Host     string
	Port     int
	Implicit bool // smtps://: TLS from the first byte
	// RequireTLS: smtp:// with ?tls=required refuses a server without STARTTLS;
	// otherwise STARTTLS is used when offered and plain SMTP when not.
	RequireTLS bool
	Username   string
	password   string // never logged: String leaves it out
}

// ParseSMTPURL parses SMTP_URL: smtps://user:pass@host[:465] (implicit TLS) or
// smtp://user:pass@host[:587][?tls=required] (STARTTLS when offered). The error
// never repeats the URL, which may carry a password.
func ParseSMTPURL(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL is not a URL")
	}
	s := &SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtps":
		s.Implicit, s.Port = true, 465
	case "smtp":
		s.Port = 587
	default:
		return nil, fmt.Errorf("SMTP_URL must start with smtp:// or smtps://, not %q", u.Scheme+"://")
	}
	if s.Host == "" {
		return nil, fmt.Errorf("SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP_URL has a bad port %q", p)
		}
		s.Port = n
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return nil, fmt.Errorf("SMTP_URL takes only the query parameter tls, not %q", k)
		}
	}
	switch q.Get("tls") {
	case "":
	case "required":
		if s.Implicit {
			return nil, fmt.Errorf("SMTP_URL: tls=required is for smtp://; smtps:// is always TLS")
		}
		s.RequireTLS = true
	default:
		return nil, fmt.Errorf("SMTP_URL: tls must be \"required\" or absent")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.password, _ = u.User.Password()
	}
	return s, nil
}

// String describes the server without the password, for logs.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.Implicit {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: s.Host + ":" + strconv.Itoa(s.Port)}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	return u.String()
}

// client opens a go-mail client for one send.
func (s *SMTP) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(30 * time.Second)}
	switch {
	case s.Implicit:
		opts = append(opts, gomail.WithSSL())
	case s.RequireTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Username), gomail.WithPassword(s.password))
	}
	return gomail.NewClient(s.Host, opts...)
}

// Send delivers one message.
func (s *SMTP) Send(ctx context.Context, m *gomail.Msg) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, m)
}
