package app_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"

	"github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/mailer"
)

// TestDevelopmentMailGoesToTheCatcher: in development with no SMTP_URL the app
// starts the local mail catcher; a message sent to it over smtp:// (plain SMTP,
// as the catcher offers no STARTTLS) is listed on its page, escaped. With
// SMTP_URL set, no catcher starts.
func TestDevelopmentMailGoesToTheCatcher(t *testing.T) {
	db := testdb.New(t)
	a, err := app.New(t.Context(), testConfig(t, map[string]string{"MAIL_CATCHER_ADDR": "127.0.0.1:0"}), app.WithPool(db.Pool), app.WithoutJobs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if a.MailCatcher == nil {
		t.Fatal("no mail catcher in development without SMTP_URL")
	}
	smtp, err := mailer.ParseSMTPURL("smtp://" + a.MailCatcher.Addr())
	if err != nil {
		t.Fatal(err)
	}
	msg := gomail.NewMsg()
	if err := msg.From("shop@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := msg.To("ada@example.com"); err != nil {
		t.Fatal(err)
	}
	msg.Subject("<b>receipt</b>")
	msg.SetBodyString(gomail.TypeTextPlain, "hello")
	if err := smtp.Send(context.Background(), msg); err != nil {
		t.Fatalf("sending to the catcher: %v", err)
	}
	rec := httptest.NewRecorder()
	a.MailCatcher.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/_sandbox/mail", nil))
	if !strings.Contains(rec.Body.String(), "&lt;b&gt;receipt&lt;/b&gt;") || !strings.Contains(rec.Body.String(), "ada@example.com") {
		t.Errorf("the catcher's page does not list the message, escaped:\n%s", rec.Body.String())
	}

	withSMTP, err := app.New(t.Context(), testConfig(t, map[string]string{"SMTP_URL": "smtp://127.0.0.1:25"}), app.WithPool(db.Pool), app.WithoutJobs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(withSMTP.Close)
	if withSMTP.MailCatcher != nil {
		t.Error("a mail catcher started although SMTP_URL is set")
	}
}
