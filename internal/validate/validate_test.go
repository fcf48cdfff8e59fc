package validate

import (
	"errors"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestGUID(t *testing.T) {
	for _, s := range []string{"1b2c3d4e-0000-1111-2222-333344445555", "ABCDEF01-2345-6789-abcd-ef0123456789"} {
		if GUID(s) != nil {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "123", "{1b2c3d4e-0000-1111-2222-333344445555}", "1b2c3d4e00001111222233334444555555", "1b2c3d4e-0000-1111-2222-33334444555g", " 1b2c3d4e-0000-1111-2222-333344445555"} {
		err := GUID(s)
		var ve *Error
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "accepted form: a GUID (8-4-4-4-12 hex digits") {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestTenant(t *testing.T) {
	for _, s := range []string{"contoso.onmicrosoft.com", "contoso.com", "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50", "xn--bcher-kva.example"} {
		if Tenant(s) != nil {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "contoso", "not a tenant!", "contoso..com", "-x.com", "x.123", "a@b.com", "contoso.com.", strings.Repeat("a.", 130) + "com"} {
		if Tenant(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestEmail(t *testing.T) {
	for _, s := range []string{"a@b.co", "helpdesk@contoso.com", "o'brien@contoso.com", "first.last+tag@sub.contoso.co.uk"} {
		if Email(s) != nil {
			t.Errorf("%q refused: %v", s, Email(s))
		}
	}
	for _, s := range []string{"", "a", "a@b", "<a@b.co>", "A <a@b.co>", "a@b.co.", "a b@c.com", ".a@b.com", "a..b@c.com", "a@@b.com", "@b.com",
		"\"a\"@b.com", "ä@ü.de", "a@b.com\n", "a’b@contoso.com", "a\u202e@b.com", strings.Repeat("a", 65) + "@b.com", "a@" + strings.Repeat("b", 250) + ".com"} {
		if err := Email(s); err == nil {
			t.Errorf("%q accepted", s)
		} else if !strings.Contains(err.Error(), "accepted form: name@domain") {
			t.Errorf("%q: message %q lacks the accepted form", s, err)
		}
	}
}

func TestEmailListAndSplit(t *testing.T) {
	got, err := EmailList(" a@contoso.com; B@contoso.com,b@contoso.com\tc@contoso.com\r\n")
	if err != nil || strings.Join(got, ",") != "a@contoso.com,B@contoso.com,c@contoso.com" {
		t.Errorf("EmailList = %v, %v", got, err)
	}
	if _, err := EmailList("a@contoso.com; nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("bad item: %v", err)
	}
	if got := SplitList(" ,;imap, smtp;;ews\n"); strings.Join(got, "|") != "imap|smtp|ews" {
		t.Errorf("SplitList = %q", got)
	}
}

func TestRedirectURI(t *testing.T) {
	for _, s := range []string{"https://jira.example.com/plugins/servlet/oauth2/callback", "http://localhost:8400/cb", "http://127.0.0.1/cb",
		"https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility", "HTTPS://x.example.com/"} {
		if err := RedirectURI(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for s, want := range map[string]string{
		"":                                 "is empty",
		"/relative":                        "absolute",
		"ftp://x.example.com/":             "https",
		"http://jira.example.com/cb":       "localhost",
		"http://127.0.0.1.evil.com/":       "localhost",
		"http://[::1]/cb":                  "localhost",
		"https://x.example.com/#frag":      "fragment",
		"https://u:p@x.example.com/":       "user name",
		"https://x.example.com/a b":        "spaces",
		"https://x.example.com/\u202ecb":   "invisible",
		"https://x.example.com/cb;jsessio": "! $ ' ( ) , ;",
		"https://x.example.com/" + strings.Repeat("a", 250): "256",
	} {
		err := RedirectURI(s)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "accepted form") {
			t.Errorf("%q: %v, want one saying %q", s, err, want)
		}
	}
	if HTTPSURL("http://localhost/x") == nil {
		t.Error("HTTPSURL accepted http")
	}
}

func TestAppName(t *testing.T) {
	for _, s := range []string{"ExtraView mail", "Почта Agiloft", "邮件 Agiloft", "Bob’s helpdesk", "  padded  ", strings.Repeat("é", 120)} {
		if err := AppName(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for s, want := range map[string]string{
		"":                         "empty",
		"   ":                      "empty",
		"Evil\u202eliam.exe":       "U+202E",
		"Evil\u2066x\u2069":        "U+2066",
		"Name\u0085":               "U+0085",
		"Line\nbreak":              "U+000A",
		"zero\u200bwidth":          "U+200B",
		"sep\u2028x":               "U+2028",
		strings.Repeat("a", 121):   "121 characters",
		"bad \xff utf8":            "UTF-8",
		strings.Repeat("a", 1<<20): "characters",
	} {
		err := AppName(s)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "accepted form: 1 to 120 characters") {
			t.Errorf("%s: %v, want one saying %q", Quote(s), err, want)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Errorf("the message repeats the whole value (%d bytes)", len(err.Error()))
		}
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"helpdesk@contoso.com", "a@b.c", "Help <a@b.com>", "a@@b.com", "o'brien@x.com", "ä@ü.de", "\x00@x.com", "a@b.co."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Email(s) != nil {
			return
		}
		// Whatever is accepted is one plain ASCII address that Go's own
		// RFC 5322 parser reads back unchanged, with a DNS domain.
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			t.Fatalf("accepted %q, which net/mail reads as %v (%v)", s, a, err)
		}
		at := strings.LastIndexByte(s, '@')
		if !IsDomain(s[at+1:]) || len(s) > MaxEmail || strings.ContainsAny(s, " \t\r\n\"<>(),;:[]\\") {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range s {
			if r >= utf8.RuneSelf {
				t.Fatalf("accepted non-ASCII %q", s)
			}
		}
		if list, err := EmailList(s + "; " + strings.ToUpper(s)); err != nil || len(list) != 1 {
			t.Fatalf("list of an accepted address: %v %v", list, err)
		}
	})
}

func FuzzTenantAndGUID(f *testing.F) {
	for _, s := range []string{"contoso.onmicrosoft.com", "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50", "a.b", "x..y", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if IsGUID(s) {
			if len(s) != 36 || strings.Count(s, "-") != 4 || strings.Trim(strings.ToLower(s), "0123456789abcdef-") != "" {
				t.Fatalf("accepted GUID %q", s)
			}
		}
		if IsDomain(s) {
			tld := s[strings.LastIndexByte(s, '.')+1:]
			if strings.ContainsAny(s, " /@:_") || strings.Contains(s, "..") || len(s) > MaxDomain || tld == "" || !unicode.IsLetter(rune(tld[0])) {
				t.Fatalf("accepted domain %q", s)
			}
			if u, err := url.Parse("https://" + s + "/"); err != nil || u.Hostname() != s {
				t.Fatalf("accepted domain %q is not a URL host", s)
			}
		}
	})
}

func FuzzRedirectURI(f *testing.F) {
	for _, s := range []string{"https://jira.example.com/cb", "http://localhost:8080/cb", "http://127.0.0.1/cb", "http://jira/cb", "https://x/#f", "/rel", "https://u@x/", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if RedirectURI(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.User != nil || strings.Contains(s, "#") || len(s) > MaxRedirectURI || strings.ContainsAny(s, " !$'(),;") {
			t.Fatalf("accepted redirect %q", s)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && (strings.EqualFold(u.Hostname(), "localhost") || u.Hostname() == "127.0.0.1")) {
			t.Fatalf("accepted %q", s)
		}
		if HTTPSURL(s) != nil && u.Scheme == "https" {
			t.Fatalf("an https redirect URI %q is not an https URL", s)
		}
	})
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"ExtraView mail", "Evil’;Start-Process calc;#", "Name\u0085", "a\u202eb", "", "  x  ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := AppName(s)
		if err != nil {
			if !strings.Contains(err.Error(), "accepted form") {
				t.Fatalf("message lacks the accepted form: %v", err)
			}
			return
		}
		trimmed := strings.TrimSpace(s)
		if !utf8.ValidString(s) || trimmed == "" || utf8.RuneCountInString(strings.Trim(s, " \t\r\n")) > MaxName {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range strings.Trim(s, " \t\r\n") {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("accepted %q with U+%04X", s, r)
			}
		}
	})
}

func FuzzSplitList(f *testing.F) {
	for _, s := range []string{"a, b; c", "", ",,,", "a\tb\r\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items := SplitList(s)
		for _, it := range items {
			if it == "" || strings.ContainsAny(it, ",; \t\r\n") {
				t.Fatalf("item %q of %q", it, s)
			}
		}
		// Joining and splitting again gives the same items.
		if again := SplitList(strings.Join(items, ", ")); strings.Join(again, "\x00") != strings.Join(items, "\x00") {
			t.Fatalf("%q -> %q -> %q", s, items, again)
		}
	})
}
