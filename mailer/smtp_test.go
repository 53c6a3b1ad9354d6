package mailer

import (
	"strings"
	"testing"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		name, raw string
		want      SMTP
		wantErr   string
	}{
		{name: "smtps", raw: "smtps://u%40x:p%3Ass@mail.example.com", want: SMTP{Host: "mail.example.com", Port: 465, Implicit: true, Username: "u@x", password: "p:ss"}},
		{name: "smtp with port", raw: "smtp://127.0.0.1:1025", want: SMTP{Host: "127.0.0.1", Port: 1025}},
		{name: "smtp tls required", raw: "smtp://u:pw@mail.example.com?tls=required", want: SMTP{Host: "mail.example.com", Port: 587, RequireTLS: true, Username: "u", password: "pw"}},
		{name: "other scheme", raw: "https://u:secret-pw@mail.example.com", wantErr: "smtp://"},
		{name: "no host", raw: "smtp://u:secret-pw@", wantErr: "no host"},
		{name: "bad port", raw: "smtp://u:secret-pw@h:99999", wantErr: "port"},
		{name: "bad tls", raw: "smtp://u:secret-pw@h?tls=maybe", wantErr: "tls"},
		{name: "tls on smtps", raw: "smtps://u:secret-pw@h?tls=required", wantErr: "tls=required"},
		{name: "unknown parameter", raw: "smtp://u:secret-pw@h?auth=plain", wantErr: "auth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSMTPURL(tc.raw)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret-pw") {
					t.Errorf("the error %q repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			if tc.want.password != "" && strings.Contains(got.String(), tc.want.password) {
				t.Errorf("String() %q shows the password", got.String())
			}
		})
	}
}
