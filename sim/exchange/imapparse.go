package exchange

import (
	"errors"
	"strconv"
	"strings"
)

// imapArg is one parsed IMAP argument: an atom, a string (quoted or
// literal), or a parenthesised list.
type imapArg struct {
	value  string
	str    bool // quoted string or literal, as opposed to an atom
	isList bool
	list   []imapArg
}

var errIMAPSyntax = errors.New("imap: syntax error")

// maxIMAPDepth bounds list nesting so hostile input cannot recurse deeply.
const maxIMAPDepth = 16

// parseIMAPArgs splits the arguments of a command. s is the text after the
// command name; literals appear inline as {n}\r\n followed by n bytes (the
// reader has already gathered them). It never panics.
func parseIMAPArgs(s string) ([]imapArg, error) {
	p := imapParser{s: s}
	args, err := p.list(0, false)
	if err != nil {
		return nil, err
	}
	return args, nil
}

type imapParser struct {
	s   string
	pos int
}

func (p *imapParser) list(depth int, inList bool) ([]imapArg, error) {
	if depth > maxIMAPDepth {
		return nil, errIMAPSyntax
	}
	var out []imapArg
	for {
		for p.pos < len(p.s) && p.s[p.pos] == ' ' {
			p.pos++
		}
		if p.pos >= len(p.s) {
			if inList {
				return nil, errIMAPSyntax
			}
			return out, nil
		}
		switch c := p.s[p.pos]; c {
		case ')':
			if !inList {
				return nil, errIMAPSyntax
			}
			p.pos++
			return out, nil
		case '(':
			p.pos++
			sub, err := p.list(depth+1, true)
			if err != nil {
				return nil, err
			}
			out = append(out, imapArg{isList: true, list: sub})
		case '"':
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			out = append(out, imapArg{value: v, str: true})
		case '{':
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			out = append(out, imapArg{value: v, str: true})
		default:
			v, err := p.atom()
			if err != nil {
				return nil, err
			}
			out = append(out, imapArg{value: v})
		}
	}
}

func (p *imapParser) quoted() (string, error) {
	var b strings.Builder
	p.pos++ // opening quote
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.pos >= len(p.s) {
				return "", errIMAPSyntax
			}
			b.WriteByte(p.s[p.pos])
			p.pos++
		case '\r', '\n':
			return "", errIMAPSyntax
		default:
			b.WriteByte(c)
		}
	}
	return "", errIMAPSyntax
}

func (p *imapParser) literal() (string, error) {
	end := strings.IndexByte(p.s[p.pos:], '}')
	if end < 0 {
		return "", errIMAPSyntax
	}
	spec := strings.TrimSuffix(p.s[p.pos+1:p.pos+end], "+")
	n, err := strconv.Atoi(spec)
	if err != nil || n < 0 {
		return "", errIMAPSyntax
	}
	p.pos += end + 1
	if !strings.HasPrefix(p.s[p.pos:], "\r\n") {
		return "", errIMAPSyntax
	}
	p.pos += 2
	if n > len(p.s)-p.pos {
		return "", errIMAPSyntax
	}
	v := p.s[p.pos : p.pos+n]
	p.pos += n
	return v, nil
}

// atom reads up to a space or parenthesis, except that a [...] section (as
// in BODY[HEADER.FIELDS (SUBJECT)]) is kept whole, spaces and all.
func (p *imapParser) atom() (string, error) {
	start := p.pos
	depth := 0
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '[':
			depth++
		case c == ']':
			if depth == 0 {
				return "", errIMAPSyntax
			}
			depth--
		case depth > 0:
		case c == ' ' || c == '(' || c == ')':
			return p.s[start:p.pos], nil
		case c < 0x20 || c == 0x7f || c == '"' || c == '{':
			return "", errIMAPSyntax
		}
		p.pos++
	}
	if depth != 0 {
		return "", errIMAPSyntax
	}
	return p.s[start:p.pos], nil
}

// literalSize reports the size of the literal a command line ends with
// ({n} or {n+}), if any.
func literalSize(line string) (n int, nonSync, ok bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false, false
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, false
	}
	spec := line[open+1 : len(line)-1]
	if strings.HasSuffix(spec, "+") {
		nonSync = true
		spec = spec[:len(spec)-1]
	}
	n, err := strconv.Atoi(spec)
	if err != nil || n < 0 {
		return 0, false, false
	}
	return n, nonSync, true
}

// numRange is one element of an IMAP sequence set; 0 stands for "*".
type numRange struct{ lo, hi uint32 }

// parseNumSet parses "1:3,5,7:*". An empty or malformed set is an error.
func parseNumSet(s string) ([]numRange, error) {
	if s == "" {
		return nil, errIMAPSyntax
	}
	var out []numRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := parseSeqNum(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseSeqNum(hi); err != nil {
				return nil, err
			}
		}
		out = append(out, numRange{a, b})
	}
	return out, nil
}

func parseSeqNum(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, errIMAPSyntax
	}
	return uint32(n), nil
}

// contains reports whether n is in the set, "*" meaning max.
func numSetContains(set []numRange, n, max uint32) bool {
	for _, r := range set {
		lo, hi := r.lo, r.hi
		if lo == 0 {
			lo = max
		}
		if hi == 0 {
			hi = max
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}
