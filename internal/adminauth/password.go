// The admin's password: ADMIN_PASSWORD is plain text or a bcrypt or argon2id hash;
// NewPasswordCheck turns it into the comparison sign-in uses, and
// CheckPasswordStrength judges whether a plain one is hard enough to guess for
// production.

package adminauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// CheckPasswordSetting reports whether a configured ADMIN_PASSWORD that looks like a
// bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$) hash is well formed. Anything
// else is a plain password and always valid.
func CheckPasswordSetting(setting string) error {
	_, err := NewPasswordCheck(setting)
	return err
}

// IsPasswordHash reports whether a configured ADMIN_PASSWORD is given as a
// bcrypt or argon2id hash rather than as the password itself.
func IsPasswordHash(setting string) bool {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$", "$argon2id$"} {
		if strings.HasPrefix(setting, prefix) {
			return true
		}
	}
	return false
}

// PasswordCheck compares a submitted password with the configured one.
type PasswordCheck func(password string) bool

// NewPasswordCheck parses the configured password: a bcrypt hash, an argon2id PHC
// string, or plain text compared in constant time.
func NewPasswordCheck(setting string) (PasswordCheck, error) {
	switch {
	case strings.HasPrefix(setting, "$2a$"), strings.HasPrefix(setting, "$2b$"), strings.HasPrefix(setting, "$2y$"):
		hash := []byte(setting)
		if _, err := bcrypt.Cost(hash); err != nil {
			return nil, fmt.Errorf("ADMIN_PASSWORD looks like a bcrypt hash but is not one: %w", err)
		}
		return func(p string) bool { return bcrypt.CompareHashAndPassword(hash, []byte(p)) == nil }, nil
	case strings.HasPrefix(setting, "$argon2id$"):
		a, err := parseArgon2id(setting)
		if err != nil {
			return nil, fmt.Errorf("ADMIN_PASSWORD looks like an argon2id hash but is not one: %w", err)
		}
		return func(p string) bool {
			got := argon2.IDKey([]byte(p), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
			return subtle.ConstantTimeCompare(got, a.key) == 1
		}, nil
	}
	want := sha256.Sum256([]byte(setting))
	return func(p string) bool {
		got := sha256.Sum256([]byte(p)) // equal lengths: nothing leaks through timing
		return subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}, nil
}

type argon2Params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon2id reads $argon2id$v=19$m=65536,t=3,p=4$<salt>$<key> (unpadded base64).
func parseArgon2id(s string) (*argon2Params, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, errors.New("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("unsupported version %q", parts[2])
	}
	a := &argon2Params{}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.memory, &a.time, &threads); err != nil {
		return nil, fmt.Errorf("parameters %q: %w", parts[3], err)
	}
	if a.memory == 0 || a.time == 0 || threads == 0 || threads > math.MaxUint8 {
		return nil, fmt.Errorf("parameters %q out of range", parts[3])
	}
	a.threads = uint8(threads)
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	if a.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(a.key) < 16 {
		return nil, errors.New("hash: not base64 or shorter than 16 bytes")
	}
	return a, nil
}

// MinProductionScore is the zxcvbn score, from 0 to 4, a plain admin password
// needs in production: 3 means about 10^10 guesses on average, far beyond what
// the sign-in throttle lets anyone try.
const MinProductionScore = 3

// CheckPasswordStrength refuses a plain password that zxcvbn scores below
// MinProductionScore, counting the username and the store's name as words an
// attacker knows. A bcrypt or argon2id hash passes: its strength cannot be
// measured. The error never contains the password.
func CheckPasswordStrength(password, username, storeName string) error {
	if IsPasswordHash(password) {
		return nil
	}
	words := strings.Fields(strings.ToLower(storeName))
	known := append([]string{strings.ToLower(username), strings.Join(words, "")}, words...)
	if score := zxcvbn.PasswordStrength(password, known).Score; score < MinProductionScore {
		return fmt.Errorf("ADMIN_PASSWORD is too easy to guess for production (strength %d of 4, %d needed): "+
			"use four or more random words, or a bcrypt/argon2id hash", score, MinProductionScore)
	}
	return nil
}
