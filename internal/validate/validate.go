// Package validate holds mailoauth's one rule for each kind of value an
// administrator types: a GUID, an e-mail address, a tenant (GUID or domain),
// an https URL, a redirect URI, a display name, and a list of them. The
// wizard, the answers file, the command line, provisioning and the exporter
// all call these, so every layer accepts and refuses the same inputs.
//
// Each check returns a *Error that says what was given, what is wrong and
// the accepted form; callers put the field's name in front.
package validate

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits Microsoft documents or that keep a value to one sane line.
const (
	// MaxName is the longest app display name: the Entra portal's limit
	// (Graph documents none for application.displayName; see
	// azure/provision.MaxDisplayName), so longer names are refused up front.
	MaxName = 120
	// MaxEmail is RFC 5321's limit on a forward path (254 octets).
	MaxEmail = 254
	// MaxLocalPart is RFC 5321's limit on the part before the @.
	MaxLocalPart = 64
	// MaxDomain is the longest DNS name.
	MaxDomain = 253
	// MaxRedirectURI is Entra ID's limit on one redirect URI.
	MaxRedirectURI = 256
	// MaxURL bounds any other URL an administrator types.
	MaxURL = 2048
)

// Error is a refused value.
type Error struct {
	Value    string // what was given
	Problem  string // what is wrong, e.g. "is not an email address"
	Accepted string // the accepted form, e.g. "name@domain, e.g. helpdesk@contoso.com"
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s; accepted form: %s", Quote(e.Value), e.Problem, e.Accepted)
}

// Quote shows a value in a message: quoted with invisible characters
// escaped (a right-to-left override shows as \u202e), and cut short when
// someone pasted a page of text.
func Quote(s string) string {
	if len(s) > 80 {
		cut := 77
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// ---- GUID

// AcceptedGUID is the accepted form of an ID.
const AcceptedGUID = "a GUID (8-4-4-4-12 hex digits, e.g. 1b2c3d4e-0000-1111-2222-333344445555)"

// IsGUID reports whether s is a GUID in its 8-4-4-4-12 form (any case,
// no braces).
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// GUID refuses anything but a GUID.
func GUID(s string) error {
	if IsGUID(s) {
		return nil
	}
	return &Error{Value: s, Problem: "is not an ID", Accepted: AcceptedGUID}
}

// ---- domain and tenant

// IsDomain reports whether s is a DNS name of two or more labels (letters,
// digits, hyphens inside a label) whose last label starts with a letter:
// contoso.com, contoso.onmicrosoft.com, xn--bcher-kva.example.
func IsDomain(s string) bool {
	if len(s) == 0 || len(s) > MaxDomain {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1][0]
	return 'a' <= tld && tld <= 'z' || 'A' <= tld && tld <= 'Z'
}

// AcceptedTenant is the accepted form of a tenant.
const AcceptedTenant = "00000000-0000-0000-0000-000000000000 or contoso.onmicrosoft.com (the tenant ID, or a domain verified in it)"

// IsTenant reports whether s names a tenant: its ID or one of its domains.
func IsTenant(s string) bool { return IsGUID(s) || IsDomain(s) }

// Tenant refuses anything but a tenant ID or domain.
func Tenant(s string) error {
	if IsTenant(s) {
		return nil
	}
	return &Error{Value: s, Problem: "is not a tenant ID (GUID) or domain", Accepted: AcceptedTenant}
}

// ---- e-mail address

// AcceptedEmail is the accepted form of one address.
const AcceptedEmail = "name@domain, e.g. helpdesk@contoso.com"

// Email accepts one bare mailbox address: an RFC 5322 dot-atom before the
// @ (ASCII letters, digits and !#$%&'*+-/=?^_`{|}~, dots between them) and
// a DNS domain after it, at most 254 characters. No display name, no
// quotes, no comments, no spaces: exactly what Exchange Online stores as a
// primary SMTP address and Entra ID as a user principal name.
func Email(s string) error {
	bad := func(problem string) error { return &Error{Value: s, Problem: problem, Accepted: AcceptedEmail} }
	if s == "" {
		return bad("is empty")
	}
	if len(s) > MaxEmail {
		return bad(fmt.Sprintf("is longer than %d characters", MaxEmail))
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return bad("is not an email address")
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > MaxLocalPart || !isDotAtom(local) || !IsDomain(domain) {
		return bad("is not an email address")
	}
	return nil
}

// IsEmail reports whether Email accepts s.
func IsEmail(s string) bool { return Email(s) == nil }

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.', '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// EmailList splits a list of addresses (SplitList) and checks each;
// repeats are dropped, compared case-insensitively as Exchange does.
func EmailList(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range SplitList(s) {
		if err := Email(v); err != nil {
			return nil, err
		}
		if k := strings.ToLower(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// ---- lists

// SplitList splits a list typed on one line: items separated by commas,
// semicolons (Outlook's separator) or white space; empty items dropped.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// ---- URLs

// AcceptedHTTPSURL is the accepted form of an https address.
const AcceptedHTTPSURL = "an absolute https address such as https://host.example.com/path"

// HTTPSURL accepts an absolute https URL with a host, without a user name
// or password, spaces or control characters, at most 2048 characters.
func HTTPSURL(s string) error {
	return checkURL(s, AcceptedHTTPSURL, MaxURL, false)
}

// AcceptedRedirectURI is the accepted form of a redirect URI.
const AcceptedRedirectURI = "an absolute https URL such as https://app.example.com/oauth2/callback (http only for localhost or 127.0.0.1), without a #fragment, at most 256 characters"

// RedirectURI accepts what Entra ID accepts as a redirect (reply) URI
// ("Redirect URI (reply URL) restrictions and limitations"): https, or http
// only on localhost or 127.0.0.1; no #fragment; at most 256 characters;
// none of the characters ! $ ' ( ) , ; that Entra does not support.
func RedirectURI(s string) error {
	if err := checkURL(s, AcceptedRedirectURI, MaxRedirectURI, true); err != nil {
		return err
	}
	if strings.ContainsAny(s, "!$'(),;") {
		return &Error{Value: s, Problem: "contains one of ! $ ' ( ) , ; which Entra ID does not accept in a redirect URI", Accepted: AcceptedRedirectURI}
	}
	return nil
}

// IsRedirectURI reports whether RedirectURI accepts s.
func IsRedirectURI(s string) bool { return RedirectURI(s) == nil }

func checkURL(s, accepted string, max int, redirect bool) error {
	bad := func(problem string) error { return &Error{Value: s, Problem: problem, Accepted: accepted} }
	if s == "" {
		return bad("is empty")
	}
	if len(s) > max {
		return bad(fmt.Sprintf("is longer than %d characters", max))
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || invisible(r) }) >= 0 || !utf8.ValidString(s) {
		return bad("contains spaces or invisible characters")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || u.Hostname() == "" {
		return bad("is not an absolute URL")
	}
	if u.User != nil {
		return bad("must not contain a user name or password")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !redirect {
			return bad("must use https")
		}
		if h := u.Hostname(); !strings.EqualFold(h, "localhost") && h != "127.0.0.1" {
			return bad("uses http, which Entra ID accepts only for localhost or 127.0.0.1")
		}
	default:
		if !redirect {
			return bad("must use https")
		}
		return bad("is not an absolute URL with the https scheme")
	}
	if redirect && (u.Fragment != "" || strings.Contains(s, "#")) {
		return bad("has a #fragment, which a redirect URI may not have")
	}
	return nil
}

// ---- names and text

// invisible reports characters that change how text reads without being
// seen: controls (Cc, which includes U+0085 NEL), format characters (Cf:
// the bidi overrides U+202A–U+202E and isolates U+2066–U+2069, zero-width
// joiners, soft hyphen) and the Unicode line and paragraph separators.
// They let a name look like another, break a line in a script or sheet,
// or reverse what an administrator reads.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// AcceptedName is the accepted form of an app display name.
var AcceptedName = fmt.Sprintf("1 to %d characters, no control or invisible formatting characters, e.g. \"ExtraView mail\"", MaxName)

// AppName accepts an app registration's display name: 1 to 120
// characters once the spaces around it are trimmed, valid UTF-8, nothing
// invisible (see Name).
func AppName(s string) error { return Name(s, MaxName, AcceptedName) }

// Name is the rule for any name an administrator types: at most max
// characters (runes) once ASCII blanks around it are trimmed, at least
// one, valid UTF-8, and no control, format or line-separator character
// anywhere (U+0085 NEL and the bidi overrides included: they are refused,
// not trimmed, so what is sent is what was seen).
func Name(s string, max int, accepted string) error {
	bad := func(problem string) error { return &Error{Value: s, Problem: problem, Accepted: accepted} }
	if !utf8.ValidString(s) {
		return bad("is not valid UTF-8 text")
	}
	t := strings.Trim(s, " \t\r\n")
	if strings.TrimSpace(t) == "" {
		return bad("is empty")
	}
	if i := strings.IndexFunc(t, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(t[i:])
		return bad(fmt.Sprintf("contains the invisible character U+%04X", r))
	}
	if n := utf8.RuneCountInString(t); n > max {
		return bad(fmt.Sprintf("has %d characters", n))
	}
	return nil
}

// Text bounds any other value typed on one line: valid UTF-8, at most max
// bytes, no control, format or line-separator character.
func Text(s string, max int) error {
	accepted := fmt.Sprintf("one line of text, at most %d characters", max)
	switch {
	case !utf8.ValidString(s):
		return &Error{Value: s, Problem: "is not valid UTF-8 text", Accepted: accepted}
	case len(s) > max:
		return &Error{Value: s, Problem: fmt.Sprintf("is longer than %d characters", max), Accepted: accepted}
	}
	if i := strings.IndexFunc(s, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return &Error{Value: s, Problem: fmt.Sprintf("contains the invisible character U+%04X", r), Accepted: accepted}
	}
	return nil
}
