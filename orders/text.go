// Text from clients passes one of these before it is stored or searched for:
// CheckText for search terms and filters, CleanName for a person's name and
// NormalizeEmail for an email address. They rest on PRECIS (RFC 8264), the IETF's
// rules for which characters a user-entered string may hold, and refuse rather
// than strip what they do not allow: a character removed unseen would make the
// stored text differ from what the shopper saw and confirmed.

package orders

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// ErrBadText is returned for text that is not valid UTF-8 or holds a character
// the shop refuses: a control character (NUL, tab, newline), an invisible or
// direction-changing one (zero-width space, bidi override or isolate, soft
// hyphen) or an unassigned code point. PostgreSQL cannot store some of them and
// the others make the text read differently from what it holds.
var ErrBadText = fmt.Errorf("text holds a control, invisible or formatting character: %w", ErrInvalid)

// freeform is PRECIS's FreeformClass with nothing mapped: letters, digits,
// spaces, punctuation and symbols of any script, with zero-width joiners only
// where a script needs them.
var freeform = precis.NewFreeform()

// CheckText returns nil for "" or valid UTF-8 text every character of which the
// PRECIS FreeformClass allows, and ErrBadText otherwise.
func CheckText(s string) error {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w (invalid UTF-8)", ErrBadText)
	}
	if _, err := freeform.String(s); err != nil {
		return fmt.Errorf("%w (%v)", ErrBadText, err)
	}
	return nil
}

// CleanName returns a person's name as the shop stores and shows it, enforced by
// the PRECIS Nickname profile (RFC 8266): spaces of any kind become one ASCII
// space, leading and trailing ones go, and compatibility forms are folded
// (full-width letters, ligatures) by NFKC. It returns ErrBadText for what
// CheckText refuses and ErrInvalid for a name that is empty once cleaned.
func CleanName(s string) (string, error) {
	if err := CheckText(s); err != nil {
		return "", err
	}
	name, err := precis.Nickname.String(s)
	if err != nil {
		return "", fmt.Errorf("name: %w (%v)", ErrInvalid, err)
	}
	return name, nil
}

// emailProfile enforces PRECIS's IdentifierClass on an email address after
// folding full-width forms (＠ is @) and normalising to NFC: no spaces, controls,
// invisible or direction-changing characters, so nothing can hide in an address.
// It leaves out the usernames' Bidi Rule, which refuses a right-to-left mailbox
// at a left-to-right domain.
var emailProfile = precis.NewIdentifier(precis.FoldWidth, precis.Norm(norm.NFC))

// NormalizeEmail returns the email address as the shop stores it: enforced by
// emailProfile, with the domain in lower case (domains are case-insensitive; the
// mailbox part is kept as typed, since only its own server may fold its case),
// and accepted by ValidEmail. It returns ErrBadText when the address holds a
// character CheckText refuses, and ErrInvalid for anything else that is not an
// address.
func NormalizeEmail(s string) (string, error) {
	if err := CheckText(s); err != nil {
		return "", err
	}
	addr, err := emailProfile.String(s)
	if err != nil {
		return "", fmt.Errorf("email: %w (%v)", ErrInvalid, err)
	}
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		addr = addr[:at+1] + strings.ToLower(addr[at+1:])
	}
	if !ValidEmail(addr) {
		return "", fmt.Errorf("email %q: %w", addr, ErrInvalid)
	}
	return addr, nil
}

// MarkRefused returns s as valid UTF-8 with every character CheckText refuses
// (and every byte that is not UTF-8) replaced by U+FFFD, so a form can show what
// was typed and where the problem is.
func MarkRefused(s string) string {
	if CheckText(s) == nil {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
		}
		if CheckText(string(r)) != nil {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}
