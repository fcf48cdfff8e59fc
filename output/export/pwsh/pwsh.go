// Package pwsh writes values into PowerShell source so that PowerShell reads
// them back exactly and as data, never as code.
//
// Every value a script interpolates (an app name, a mailbox address from an
// edited state file, an ID) goes through Quote, which writes a single-quoted
// (verbatim) string literal as the PowerShell Language Specification 3.0
// defines it (§2.3.5.2, verbatim-string-literal):
//
//	single-quote-character: ' (U+0027), U+2018, U+2019, U+201A, U+201B
//	verbatim-string-part:   any character except single-quote-character
//	                        | single-quote-character single-quote-character
//
// PowerShell therefore ends a single-quoted string on the typographic quotes
// too: `Evil’;Start-Process calc;#` in '…' would close the string and run
// code. Quote doubles each of the five characters; a doubled one is one
// literal character. Control and format characters (Unicode Cc, Cf: line
// breaks, U+0085, bidi overrides, zero-width characters) and the line and
// paragraph separators are refused: they could end a comment line, or make
// the script read differently on screen than PowerShell reads it.
package pwsh

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quotes are the characters PowerShell reads as a single quote.
const Quotes = "'\u2018\u2019\u201a\u201b"

// IsQuote reports whether PowerShell reads r as a single-quote-character.
func IsQuote(r rune) bool { return strings.ContainsRune(Quotes, r) }

// TextError is a value that cannot go into a script.
type TextError struct {
	Offset int  // byte offset of the character
	Rune   rune // utf8.RuneError for invalid UTF-8
	Why    string
}

func (e *TextError) Error() string {
	if e.Rune == utf8.RuneError {
		return "is not valid UTF-8 text; accepted form: printable text on one line"
	}
	return fmt.Sprintf("contains %U (%s) at byte %d; accepted form: printable text on one line, without control or format characters", e.Rune, e.Why, e.Offset)
}

// Check returns a *TextError for the first character that must not go into
// a script, or nil.
func Check(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return &TextError{Offset: i, Rune: utf8.RuneError}
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

// Quote returns s as a PowerShell single-quoted string literal, or the
// reason it cannot be one.
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

// Comment returns s for a '#' comment line: Check's rules, so nothing can
// end the line early; the text itself is never read by PowerShell.
func Comment(s string) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	return s, nil
}

// ReadLiteral reads one single-quoted (verbatim) string literal at the start
// of src as PowerShell's tokenizer does (specification §2.3.5.2; a doubled
// quote character stands for one, the second of the pair, as in the
// tokenizer's ScanStringLiteral) and returns its value and what follows the
// closing quote. Tests use it to prove what a script says.
func ReadLiteral(src string) (value, rest string, err error) {
	r, n := utf8.DecodeRuneInString(src)
	if !IsQuote(r) {
		return "", src, errors.New("does not start with a single-quote-character")
	}
	i := n
	var b strings.Builder
	for i < len(src) {
		r, n := utf8.DecodeRuneInString(src[i:])
		i += n
		if !IsQuote(r) {
			b.WriteRune(r)
			continue
		}
		if next, m := utf8.DecodeRuneInString(src[i:]); i < len(src) && IsQuote(next) {
			b.WriteRune(next)
			i += m
			continue
		}
		return b.String(), src[i:], nil
	}
	return "", "", errors.New("unterminated string (PowerShell: TerminatorExpectedAtEndOfString)")
}
