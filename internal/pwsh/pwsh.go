// Package pwsh writes values into PowerShell source so that PowerShell reads
// them back exactly, as data and never as code: the fix commands mailoauth
// prints for an admin to paste (azure/explain) and the scripts it writes
// (output/export) quote every interpolated value with Quote.
//
// Quote writes a single-quoted (verbatim) string literal as the PowerShell
// Language Specification defines it (lexical grammar, verbatim-string-literal):
//
//	verbatim-string-literal:    single-quote-character verbatim-string-characters? single-quote-character
//	verbatim-string-part:       any Unicode character except single-quote-character
//	                            | single-quote-character single-quote-character
//	single-quote-character:     ' (U+0027) U+2018 U+2019 U+201A U+201B
//
// Inside single quotes PowerShell expands nothing ($(...), $var and the
// backtick are plain text), but it ends the string on any of the five
// quote characters: `Evil’; Start-Process calc; #` would close a literal on
// the typographic quote and run code. Quote therefore doubles each of the
// five (a doubled one is one literal character). Characters that could make
// a line end early or read differently on screen than PowerShell reads it
// are refused: control characters (Unicode Cc: CR, LF, NEL, ...), format
// characters (Cf: bidirectional overrides, zero-width characters), the line
// and paragraph separators (Zl, Zp), and invalid UTF-8.
package pwsh

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quotes are the characters PowerShell reads as a single-quote-character.
const Quotes = "'\u2018\u2019\u201a\u201b"

// IsQuote reports whether PowerShell reads r as a single-quote-character.
func IsQuote(r rune) bool { return strings.ContainsRune(Quotes, r) }

// TextError is a value that cannot go into PowerShell source.
type TextError struct {
	Offset int  // byte offset of the character
	Rune   rune // utf8.RuneError for invalid UTF-8
	Why    string
}

func (e *TextError) Error() string {
	if e.Rune == utf8.RuneError {
		return fmt.Sprintf("is not valid UTF-8 text (byte %d); accepted form: printable text on one line", e.Offset)
	}
	return fmt.Sprintf("contains %U (%s) at byte %d; accepted form: printable text on one line, without control or format characters", e.Rune, e.Why, e.Offset)
}

// Check returns a *TextError for the first character that must not go into
// PowerShell source, or nil.
func Check(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return &TextError{Offset: i, Rune: utf8.RuneError, Why: "invalid UTF-8"}
			}
		}
		if why := refused(r); why != "" {
			return &TextError{Offset: i, Rune: r, Why: why}
		}
	}
	return nil
}

func refused(r rune) string {
	switch {
	case r == '\n' || r == '\r' || r == 0x85:
		return "a line break"
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Cf, r):
		return "a format character such as a bidirectional override or zero-width character"
	case unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
		return "a line or paragraph separator"
	}
	return ""
}

// Quote returns s as a PowerShell single-quoted string literal, or a
// *TextError saying why it cannot be one.
func Quote(s string) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		if IsQuote(r) {
			b.WriteRune(r) // doubled: one literal character
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// MustQuote is Quote for a value already validated (an ID parsed as a GUID,
// an address that passed the input checks); it panics on a value Quote
// refuses, which is then a defect in that validation.
func MustQuote(s string) string {
	q, err := Quote(s)
	if err != nil {
		panic(fmt.Sprintf("pwsh.MustQuote: value %s", err))
	}
	return q
}

// Comment returns s for the text of a '#' comment line, under Check's rules
// so that nothing can end the line early; PowerShell never reads the text.
func Comment(s string) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	return s, nil
}
