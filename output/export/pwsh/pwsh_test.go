package pwsh

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// The reader is ReadLiteral (pwsh.go), written from the specification's
// grammar, not from Quote.
var readVerbatim = ReadLiteral

func TestQuoteEveryQuoteCharacter(t *testing.T) {
	cases := map[string]string{
		"Bob’s helpdesk":             "'Bob’’s helpdesk'",
		"Evil’;Start-Process calc;#": "'Evil’’;Start-Process calc;#'",
		"O'Brien":                    "'O''Brien'",
		"‘a‚b‛c’":                    "'‘‘a‚‚b‛‛c’’'",
		"":                           "''",
		"$(rm -rf /) `x` \"y\"":      "'$(rm -rf /) `x` \"y\"'",
		"邮件 Agiloft":                 "'邮件 Agiloft'",
	}
	for in, want := range cases {
		got, err := Quote(in)
		if err != nil || got != want {
			t.Errorf("Quote(%q) = %q, %v; want %q", in, got, err, want)
		}
		v, rest, err := readVerbatim(got + " -Next")
		if err != nil || v != in || rest != " -Next" {
			t.Errorf("%q read back as %q, rest %q, %v", got, v, rest, err)
		}
	}
}

func TestCheckRefusesControlAndFormatCharacters(t *testing.T) {
	for _, s := range []string{"a\nb", "a\rb", "a\u0085b", "a\u202eb", "a\u200bb", "a\u2066b", "a\x00b", "a\x7fb", "a\u2028b", "a\u2029b", "a\ufeffb", "bad \xff utf8"} {
		_, err := Quote(s)
		var te *TextError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "accepted form") {
			t.Errorf("Quote(%q) = %v, want a TextError naming the accepted form", s, err)
		}
		if _, err := Comment(s); err == nil {
			t.Errorf("Comment(%q) accepted", s)
		}
	}
	_, err := Quote("x\u202ey")
	if !strings.Contains(err.Error(), "U+202E") || !strings.Contains(err.Error(), "format character") {
		t.Errorf("error does not name the character: %v", err)
	}
}

// FuzzQuoteRoundTrips: any accepted string comes back unchanged through a
// PowerShell single-quoted literal, the literal ends exactly where Quote's
// output ends (so nothing after it is inside the string, and nothing inside
// it escapes), and each quote character is doubled with itself. A refused
// string holds a control, format or separator character, or bad UTF-8.
func FuzzQuoteRoundTrips(f *testing.F) {
	for _, s := range []string{"Bob’s helpdesk", "Evil’;Start-Process calc;#", "''", "‘’‚‛'", "a\u0085b", "\u202e", "x''", "'", "’", "helpdesk@contoso.com", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Quote(s)
		if err != nil {
			var te *TextError
			if !errors.As(err, &te) {
				t.Fatalf("refusal is not a TextError: %v", err)
			}
			if te.Rune != utf8.RuneError && refused(te.Rune) == "" {
				t.Fatalf("refused %U without a reason", te.Rune)
			}
			return
		}
		for _, r := range s {
			if refused(r) != "" {
				t.Fatalf("accepted %U", r)
			}
		}
		v, rest, err := readVerbatim(q + ";Start-Process calc")
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if v != s {
			t.Fatalf("%q read back as %q", s, v)
		}
		if rest != ";Start-Process calc" {
			t.Fatalf("%q: the literal ends early; PowerShell would run %q", q, rest)
		}
	})
}
