package app

import (
	"errors"
	"fmt"
	"strings"

	zxcvbn "github.com/ccojocar/zxcvbn-go"

	"github.com/orchestrate-checkout/checkout/handlers"
)

// minAdminPasswordScore is the zxcvbn score, from 0 to 4, a plain ADMIN_PASSWORD
// needs in production: 3 means about 10^10 guesses on average, far beyond what
// the sign-in throttle lets anyone try.
const minAdminPasswordScore = 3

// checkProductionAdminPassword refuses the default admin password and a plain one
// that zxcvbn finds easy to guess, counting the username and the store's name as
// words an attacker knows. A bcrypt or argon2id hash passes: its strength cannot
// be measured. The error never contains the password.
func checkProductionAdminPassword(password, username, storeName string) error {
	if password == defaultAdminPassword {
		return errors.New("ADMIN_PASSWORD must be set in production: the default is refused")
	}
	if handlers.IsAdminPasswordHash(password) {
		return nil
	}
	words := strings.Fields(strings.ToLower(storeName))
	known := append([]string{strings.ToLower(username), strings.Join(words, "")}, words...)
	if score := zxcvbn.PasswordStrength(password, known).Score; score < minAdminPasswordScore {
		return fmt.Errorf("ADMIN_PASSWORD is too easy to guess for production (strength %d of 4, %d needed): "+
			"use four or more random words, or a bcrypt/argon2id hash", score, minAdminPasswordScore)
	}
	return nil
}
