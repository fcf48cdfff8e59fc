package pwsh

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// specQuote is single-quote-character in the PowerShell Language
// Specification's lexical grammar, written out independently of Quotes.
func specQuote(r rune) bool {
	switch r {
	case '\u0027', '\u2018', '\u2019', '\u201A', '\u201B':
		return true
	}
	return false
}

// readVerbatim parses one verbatim-string-literal at the start of src, as
// the specification's grammar reads it:
//
//	verbatim-string-literal: single-quote-character verbatim-string-characters? single-quote-character
//	verbatim-string-part:    any Unicode character except single-quote-character
//	                         | single-quote-character single-quote-character
//
// A pair stands for one quote character (PowerShell's tokenizer keeps the
// second of the pair). It returns the value and the source after the
// closing quote.
func readVerbatim(src string) (value, rest string, err error) {
	if !utf8.ValidString(src) {
		return "", "", errors.New("invalid UTF-8")
	}
	rs := []rune(src)
	if len(rs) == 0 || !specQuote(rs[0]) {
		return "", "", errors.New("no opening single-quote-character")
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if !specQuote(rs[i]) {
			b.WriteRune(rs[i])
			continue
		}
		if i+1 < len(rs) && specQuote(rs[i+1]) {
			b.WriteRune(rs[i+1])
			i++
			continue
		}
		return b.String(), string(rs[i+1:]), nil
	}
	return "", "", errors.New("unterminated")
}

func TestQuote(t *testing.T) {
	for _, s := range []string{
		"", "helpdesk@contoso.com", "5f0e0a54-3b7e-4b7e-9a2a-1f1b2c3d4e5f",
		"O'Brien", "$(Start-Process calc)", "${env:PATH}", "`n`$x", `"double"`,
		"Evil’; Start-Process calc; #", "‘a’ ‚b‛", "''''", "’’", "München Støtte 東京", "a\tb",
	} {
		q, err := Quote(s)
		if err != nil {
			if s == "a\tb" {
				continue // a tab is a control character
			}
			t.Fatalf("Quote(%q): %v", s, err)
		}
		v, rest, err := readVerbatim(q)
		if err != nil || v != s || rest != "" {
			t.Errorf("Quote(%q) = %q reads back as %q + %q (%v)", s, q, v, rest, err)
		}
		if MustQuote(s) != q {
			t.Errorf("MustQuote(%q) differs", s)
		}
	}
	if q, _ := Quote("Evil’; calc"); q != "'Evil’’; calc'" {
		t.Errorf("typographic quote not doubled: %s", q)
	}
	if q, _ := Quote("$(calc)"); q != "'$(calc)'" {
		t.Errorf("got %s", q)
	}
}

func TestQuoteRefuses(t *testing.T) {
	for _, s := range []string{"a\nb", "a\rb", "\x00", "a\tb", "\u0085", "\u202Eevil", "zero\u200Bwidth", "\uFEFF", "line\u2028sep", "para\u2029", "bad\xffutf8"} {
		q, err := Quote(s)
		var te *TextError
		if err == nil || !errors.As(err, &te) || q != "" {
			t.Errorf("Quote(%q) = %q, %v; want a *TextError", s, q, err)
			continue
		}
		if !strings.Contains(err.Error(), "accepted form") {
			t.Errorf("error does not say the accepted form: %v", err)
		}
		if _, err := Comment(s); err == nil {
			t.Errorf("Comment(%q) accepted", s)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("MustQuote(%q) did not panic", s)
				}
			}()
			MustQuote(s)
		}()
	}
}

// refusedBySpec: a character the package must refuse, decided here from
// the Unicode categories the package documents.
func refusedBySpec(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return true
		}
	}
	return false
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "x", "O'Brien", "’", "‘’‚‛'", "$(calc)", "a\nb", "\u202E", "\xff", "''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Quote(s)
		if refusedBySpec(s) {
			if err == nil {
				t.Fatalf("Quote(%q) accepted a refused character: %q", s, q)
			}
			return
		}
		if err != nil {
			t.Fatalf("Quote(%q) refused printable text: %v", s, err)
		}
		v, rest, perr := readVerbatim(q)
		if perr != nil || v != s || rest != "" {
			t.Fatalf("Quote(%q) = %q reads back as %q + %q (%v)", s, q, v, rest, perr)
		}
		if refusedBySpec(q) {
			t.Fatalf("Quote(%q) = %q holds a control or format character", s, q)
		}
	})
}
