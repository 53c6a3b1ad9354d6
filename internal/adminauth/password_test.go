package adminauth_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
)

// argon2id of "s3cret-argon" with salt "somesaltsomesalt", m=64 MiB, t=1, p=1.
const argonSetting = "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$TSlL7V0I3nH9D5fzbQW0Ujrw+3sjtiga3/nJqBEqakY"

// TestPasswordCheckAcceptsOnlyThePassword: each form of the setting accepts the
// password it stands for, and neither a wrong one nor the hash itself.
func TestPasswordCheckAcceptsOnlyThePassword(t *testing.T) {
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("s3cret-bcrypt"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, setting, password string
		hash                    bool
	}{
		{"bcrypt", string(bcryptHash), "s3cret-bcrypt", true},
		{"argon2id", argonSetting, "s3cret-argon", true},
		{"plain", "s3cret-plain-text", "s3cret-plain-text", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := adminauth.IsPasswordHash(tt.setting); got != tt.hash {
				t.Errorf("IsPasswordHash = %v, want %v", got, tt.hash)
			}
			check, err := adminauth.NewPasswordCheck(tt.setting)
			if err != nil {
				t.Fatal(err)
			}
			if !check(tt.password) {
				t.Error("the right password is refused")
			}
			if check(tt.password + "x") {
				t.Error("a wrong password is accepted")
			}
			if tt.hash && check(tt.setting) {
				t.Error("the hash itself is accepted as the password")
			}
		})
	}
}

// TestMalformedHashesAreRefused: a setting that looks like a hash but is not one
// is an error, never a plain password that happens to start with $2a$.
func TestMalformedHashesAreRefused(t *testing.T) {
	for _, bad := range []string{"$2a$10$short", "$argon2id$v=19$m=65536,t=1,p=1$c2FsdA", "$argon2id$v=16$m=1,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"} {
		if err := adminauth.CheckPasswordSetting(bad); err == nil {
			t.Errorf("CheckPasswordSetting(%q) = nil, want an error", bad)
		}
	}
}

// TestPasswordStrength: a guessable password (the username or the store's name
// counting as known words) is refused without being shown; random words and a
// hash pass.
func TestPasswordStrength(t *testing.T) {
	for _, tt := range []struct {
		password string
		ok       bool
	}{
		{"password1234", false},
		{"FieldKettle2024", false},
		{"merchant-merchant", false},
		{"velvet-orbit-canal-thimble", true},
		{argonSetting, true},
	} {
		err := adminauth.CheckPasswordStrength(tt.password, "merchant", "Field Kettle")
		switch {
		case tt.ok && err != nil:
			t.Errorf("%q refused: %v", tt.password, err)
		case !tt.ok && err == nil:
			t.Errorf("%q accepted", tt.password)
		case !tt.ok && strings.Contains(err.Error(), tt.password):
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
