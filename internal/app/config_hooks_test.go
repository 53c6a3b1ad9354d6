package app

import (
	"strings"
	"testing"
)

// TestLoadConfigMerchantWebhook: the webhook URL is optional; with one, a
// well-formed secret is required, and no error repeats either.
func TestLoadConfigMerchantWebhook(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	c, err := LoadConfig(env(nil))
	if err != nil || c.MerchantWebhookURL != "" || c.MerchantWebhookSecret != "" {
		t.Fatalf("default: %v %q, want no webhooks", err, c.MerchantWebhookURL)
	}
	c, err = LoadConfig(env(map[string]string{"MERCHANT_WEBHOOK_URL": "https://erp.example/hooks?token=t0ken", "MERCHANT_WEBHOOK_SECRET": secret}))
	if err != nil || c.MerchantWebhookURL != "https://erp.example/hooks?token=t0ken" || c.MerchantWebhookSecret != secret {
		t.Fatalf("valid settings: %v %+v", err, c)
	}
	tests := []struct {
		name, url, secret, want string
	}{
		{"no secret", "https://erp.example/hooks?token=t0ken", "", "MERCHANT_WEBHOOK_SECRET is required"},
		{"secret without prefix", "https://erp.example/hooks?token=t0ken", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MERCHANT_WEBHOOK_SECRET must start with whsec_"},
		{"secret not base64", "https://erp.example/hooks?token=t0ken", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZ*o2LaLaSw", "MERCHANT_WEBHOOK_SECRET must be whsec_ followed by base64"},
		{"short secret", "https://erp.example/hooks?token=t0ken", "whsec_c2hvcnQ=", "at least 24 bytes"},
		{"relative URL", "/hooks?token=t0ken", secret, "MERCHANT_WEBHOOK_URL must be an absolute http(s) URL"},
		{"other scheme", "ftp://erp.example/hooks?token=t0ken", secret, "MERCHANT_WEBHOOK_URL must be an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(env(map[string]string{"MERCHANT_WEBHOOK_URL": tt.url, "MERCHANT_WEBHOOK_SECRET": tt.secret}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			for _, leak := range []string{"t0ken", "MfKQ9r8GKYqrTwjUPD8ILPZ", "c2hvcnQ"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the error repeats %q: %v", leak, err)
				}
			}
		})
	}
	m := validProduction()
	m["MERCHANT_WEBHOOK_URL"], m["MERCHANT_WEBHOOK_SECRET"] = "http://erp.example/hooks", secret
	if _, err := LoadConfig(env(m)); err == nil || !strings.Contains(err.Error(), "MERCHANT_WEBHOOK_URL must be https in production") {
		t.Errorf("production with an http webhook URL: %v", err)
	}
}
