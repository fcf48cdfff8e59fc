package pwsh

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ReadLiteral reads one single-quoted (verbatim) string literal at the start
// of src as PowerShell's tokenizer does (specification §2.3.5.2; a doubled
// quote character stands for one, the second of the pair, as in the
// tokenizer's ScanStringLiteral) and returns its value and what follows the
// closing quote. Tests use it to prove what a generated script says.
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
