package orders

import (
	"errors"
	"testing"
)

// refusedChars are characters no name, email or search may hold: controls, and
// the invisible and direction-changing ones that make text read as it is not.
var refusedChars = map[string]string{
	"NUL":                        "\x00",
	"tab":                        "\t",
	"newline":                    "\n",
	"DEL":                        "\x7f",
	"C1 next line":               "\u0085",
	"invalid UTF-8 0xFF":         "\xff",
	"invalid UTF-8 0xFE":         "\xfe",
	"truncated UTF-8":            "\xe2\x80",
	"encoded surrogate":          "\xed\xa0\x80",
	"left-to-right embedding":    "\u202a",
	"right-to-left embedding":    "\u202b",
	"pop directional formatting": "\u202c",
	"left-to-right override":     "\u202d",
	"right-to-left override":     "\u202e",
	"left-to-right isolate":      "\u2066",
	"right-to-left isolate":      "\u2067",
	"first strong isolate":       "\u2068",
	"pop directional isolate":    "\u2069",
	"left-to-right mark":         "\u200e",
	"right-to-left mark":         "\u200f",
	"Arabic letter mark":         "\u061c",
	"zero-width space":           "\u200b",
	"zero-width joiner":          "\u200d",
	"word joiner":                "\u2060",
	"byte order mark":            "\ufeff",
	"soft hyphen":                "\u00ad",
	"line separator":             "\u2028",
	"paragraph separator":        "\u2029",
	"interlinear annotation":     "\ufff9",
	"tag character":              "\U000E0041",
	"noncharacter":               "\uffff",
	"private use":                "\ue000",
}

func TestCheckTextRefuses(t *testing.T) {
	for name, c := range refusedChars {
		for _, s := range []string{c, "Ada" + c + "Lovelace", c + "ada@example.com", "ada@example.com" + c} {
			if err := CheckText(s); !errors.Is(err, ErrBadText) || !errors.Is(err, ErrInvalid) {
				t.Errorf("CheckText(%q) (%s) = %v, want ErrBadText", s, name, err)
			}
		}
	}
}

func TestCheckTextAllows(t *testing.T) {
	for _, s := range []string{
		"", "Ada Lovelace", "O'Brien-Smith", "José Núñez", "Zoë Æbelø", "李小龍", "محمد علي",
		"Ελένη", "Привет", "FK-100042", "pay_0123456789", "ann@example.com", "100% & <b>",
		"می\u200cخواهم",            // a zero-width non-joiner where Persian needs one
		"\u0915\u094d\u200d\u0937", // a zero-width joiner after a virama (Devanagari)
		"a\u00a0b",                 // a no-break space is a space
	} {
		if err := CheckText(s); err != nil {
			t.Errorf("CheckText(%q) = %v, want nil", s, err)
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ada Lovelace", "Ada Lovelace"},
		{"  Ada   Lovelace  ", "Ada Lovelace"},
		{"Ada\u00a0Lovelace", "Ada Lovelace"}, // any space is one ASCII space
		{"Ada\u3000Lovelace", "Ada Lovelace"}, // an ideographic space too
		{"Ａｄａ Ｌｏｖｅｌａｃｅ", "Ada Lovelace"},      // full-width letters folded
		{"Jose\u0301", "José"},                // composed
		{"李小龍", "李小龍"},
		{"محمد علي", "محمد علي"},
	}
	for _, tt := range tests {
		got, err := CleanName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for name, c := range refusedChars {
		if got, err := CleanName("Ada" + c + "Lovelace"); !errors.Is(err, ErrBadText) {
			t.Errorf("CleanName with a %s = %q, %v; want ErrBadText", name, got, err)
		}
	}
	if got, err := CleanName("   "); !errors.Is(err, ErrInvalid) || errors.Is(err, ErrBadText) {
		t.Errorf("CleanName of spaces = %q, %v; want ErrInvalid", got, err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann@example.com", "ann@example.com"},
		{"Ann.Lee@Example.COM", "Ann.Lee@example.com"}, // the domain's case folded, the mailbox's kept
		{"ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ann@example.com"},         // full-width forms folded
		{"first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk"},
		{"o'brien@example.com", "o'brien@example.com"},
		{"müller@Bücher.DE", "müller@bücher.de"},
		{"mu\u0308ller@example.com", "müller@example.com"}, // composed (NFC)
		{"مثال@example.com", "مثال@example.com"},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for name, c := range refusedChars {
		for _, s := range []string{"an" + c + "n@example.com", "ann@exa" + c + "mple.com", "ann@example.com" + c} {
			if got, err := NormalizeEmail(s); !errors.Is(err, ErrBadText) {
				t.Errorf("NormalizeEmail with a %s (%q) = %q, %v; want ErrBadText", name, s, got, err)
			}
		}
	}
	for _, s := range []string{
		"ann lee@example.com", "ann@example", "Ann <ann@example.com>", `"ann lee"@example.com`,
		"ann™@example.com", "ann@example.com.", "ann\u3000@example.com", "",
	} {
		if got, err := NormalizeEmail(s); !errors.Is(err, ErrInvalid) || errors.Is(err, ErrBadText) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalid", s, got, err)
		}
	}
}

func TestMarkRefused(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ada Lovelace", "Ada Lovelace"},
		{"Null\x00byte", "Null\uFFFDbyte"},
		{"Ada \xff\xfeLovelace", "Ada \uFFFD\uFFFDLovelace"},
		{"evil\u202egnp.exe", "evil\uFFFDgnp.exe"},
		{"Zoë\u200b", "Zoë\uFFFD"},
		{"\ufffd", "\ufffd"}, // a replacement character typed as such is left alone
	}
	for _, tt := range tests {
		if got := MarkRefused(tt.in); got != tt.want {
			t.Errorf("MarkRefused(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
