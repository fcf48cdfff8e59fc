package sim

import (
	"path"
	"strings"
)

// A subset of Exchange's OPATH filter syntax for New-ManagementScope
// -RecipientRestrictionFilter: comparisons joined by -and/-or, -not and
// parentheses, operators -eq, -ne, -like, -notlike, values in single or
// double quotes or $null. The properties are those of recipientProps.
// MemberOfGroup is refused: the sim has no groups (docs/architecture.md).

type opathExpr interface {
	match(props map[string][]string) bool
}

type opathAnd struct{ l, r opathExpr }
type opathOr struct{ l, r opathExpr }
type opathNot struct{ x opathExpr }
type opathCmp struct {
	prop, op string
	value    string
	null     bool
}

func (e opathAnd) match(p map[string][]string) bool { return e.l.match(p) && e.r.match(p) }
func (e opathOr) match(p map[string][]string) bool  { return e.l.match(p) || e.r.match(p) }
func (e opathNot) match(p map[string][]string) bool { return !e.x.match(p) }

func (e opathCmp) match(p map[string][]string) bool {
	vals := p[strings.ToLower(e.prop)]
	hit := false
	if e.null {
		hit = len(vals) == 0
	} else {
		for _, v := range vals {
			switch e.op {
			case "-eq", "-ne":
				hit = hit || strings.EqualFold(v, e.value)
			default: // -like, -notlike: * and ? wildcards
				ok, _ := path.Match(strings.ToLower(e.value), strings.ToLower(v))
				hit = hit || ok
			}
		}
	}
	if e.op == "-ne" || e.op == "-notlike" {
		return !hit
	}
	return hit
}

// recipientProps are the filterable properties of a mailbox (lower-case
// names); EmailAddresses holds each proxy address with and without its
// SMTP: prefix so either form matches.
func recipientProps(u *user) map[string][]string {
	var emails []string
	for _, p := range u.proxyAddresses() {
		emails = append(emails, p, smtpOf(p))
	}
	return map[string][]string{
		"primarysmtpaddress":        {mailOf(u)},
		"windowsemailaddress":       {mailOf(u)},
		"emailaddresses":            emails,
		"alias":                     {u.alias()},
		"name":                      {u.alias()},
		"displayname":               {u.DisplayName},
		"userprincipalname":         {u.UPN},
		"recipienttype":             {"UserMailbox"},
		"recipienttypedetails":      {recipientTypeDetails(u)},
		"externaldirectoryobjectid": {u.ID},
	}
}

var opathProps = map[string]bool{}

func init() {
	for k := range recipientProps(&user{UPN: "x@y", HasMailbox: true}) {
		opathProps[k] = true
	}
	for i := 1; i <= 15; i++ {
		opathProps["customattribute"+itoa(i)] = true
	}
}

func errOPATH(filter string, pos int) *exoError {
	return exoErr("ParameterBindingException", "Cannot bind parameter 'RecipientRestrictionFilter' to the target. Exception setting \"RecipientRestrictionFilter\": \"Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n\"%s\" at position %d.\"", filter, pos+1)
}

type opathTok struct {
	text   string
	quoted bool
	pos    int
}

func opathTokens(f string) ([]opathTok, *exoError) {
	var out []opathTok
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, opathTok{text: string(c), pos: i})
			i++
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(f); j++ {
				if f[j] == c {
					if j+1 < len(f) && f[j+1] == c {
						b.WriteByte(c)
						j++
						continue
					}
					break
				}
				b.WriteByte(f[j])
			}
			if j >= len(f) {
				return nil, errOPATH(f, i)
			}
			out = append(out, opathTok{text: b.String(), quoted: true, pos: i})
			i = j + 1
		default:
			j := i
			for j < len(f) && f[j] != ' ' && f[j] != '\t' && f[j] != '(' && f[j] != ')' {
				j++
			}
			out = append(out, opathTok{text: f[i:j], pos: i})
			i = j
		}
	}
	return out, nil
}

type opathParser struct {
	f    string
	toks []opathTok
	i    int
}

func parseOPATH(filter string) (opathExpr, *exoError) {
	toks, e := opathTokens(filter)
	if e != nil {
		return nil, e
	}
	if len(toks) == 0 {
		return nil, errOPATH(filter, 0)
	}
	p := &opathParser{f: filter, toks: toks}
	x, e := p.or()
	if e != nil {
		return nil, e
	}
	if p.i < len(p.toks) {
		return nil, errOPATH(filter, p.toks[p.i].pos)
	}
	return x, nil
}

func (p *opathParser) peek(word string) bool {
	return p.i < len(p.toks) && !p.toks[p.i].quoted && strings.EqualFold(p.toks[p.i].text, word)
}

func (p *opathParser) errHere() *exoError {
	if p.i < len(p.toks) {
		return errOPATH(p.f, p.toks[p.i].pos)
	}
	return errOPATH(p.f, len(p.f)-1)
}

func (p *opathParser) or() (opathExpr, *exoError) {
	l, e := p.and()
	for e == nil && p.peek("-or") {
		p.i++
		var r opathExpr
		if r, e = p.and(); e == nil {
			l = opathOr{l, r}
		}
	}
	return l, e
}

func (p *opathParser) and() (opathExpr, *exoError) {
	l, e := p.unary()
	for e == nil && p.peek("-and") {
		p.i++
		var r opathExpr
		if r, e = p.unary(); e == nil {
			l = opathAnd{l, r}
		}
	}
	return l, e
}

func (p *opathParser) unary() (opathExpr, *exoError) {
	switch {
	case p.peek("-not"):
		p.i++
		x, e := p.unary()
		return opathNot{x}, e
	case p.peek("("):
		p.i++
		x, e := p.or()
		if e != nil {
			return nil, e
		}
		if !p.peek(")") {
			return nil, p.errHere()
		}
		p.i++
		return x, nil
	}
	if p.i+2 >= len(p.toks) {
		return nil, p.errHere()
	}
	prop, op, val := p.toks[p.i], p.toks[p.i+1], p.toks[p.i+2]
	name := strings.ToLower(prop.text)
	if prop.quoted || !opathProps[name] {
		if name == "memberofgroup" {
			return nil, errNotModelled("A management scope on MemberOfGroup (the sim has no groups)")
		}
		return nil, exoErr("ParameterBindingException", "Cannot bind parameter 'RecipientRestrictionFilter' to the target. Exception setting \"RecipientRestrictionFilter\": \"The property '%s' is not a filterable property.\"", prop.text)
	}
	o := strings.ToLower(op.text)
	if op.quoted || (o != "-eq" && o != "-ne" && o != "-like" && o != "-notlike") {
		p.i++
		return nil, p.errHere()
	}
	p.i += 3
	c := opathCmp{prop: name, op: o, value: val.text}
	if !val.quoted {
		if strings.EqualFold(val.text, "$null") {
			c.null = true
		} else if strings.HasPrefix(val.text, "-") || val.text == "(" || val.text == ")" {
			p.i--
			return nil, p.errHere()
		}
	}
	return c, nil
}
