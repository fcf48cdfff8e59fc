package product

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"helpdesk@contoso.com", "a@b.c", "Help <a@b.com>", "a@@b.com", "@b.com", "a@b", "a b@c.com", "ä@ü.de", "\x00@x.com", strings.Repeat("a", 300) + "@x.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Email("mailboxes", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "mailboxes: ") || !strings.Contains(err.Error(), "accepted form") {
				t.Fatalf("error does not name the field and form: %v", err)
			}
			return
		}
		if strings.ContainsAny(v, " ;,<>\"") || strings.Count(v, "@") < 1 || len(v) > 254 {
			t.Fatalf("accepted a bad address %q", v)
		}
		list, err := EmailList("mailboxes", v+"; "+v)
		if err != nil || len(list) != 1 {
			t.Fatalf("list of an accepted address: %v %v", list, err)
		}
	})
}

func FuzzExtraViewURL(f *testing.F) {
	for _, s := range []string{"https://ev.example.com/evj", "https://ev.example.com", "http://ev/evj",
		"https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility", "https://u:p@h/evj", "https://h/evj#x", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, _, err := ExtraViewURL("extraview_url", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "extraview_url: ") || !strings.Contains(err.Error(), "accepted form") {
				t.Fatalf("error does not name the field and form: %v", err)
			}
			return
		}
		u, perr := url.Parse(v + extraViewTokenPath)
		if perr != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v)+len(extraViewTokenPath) > maxRedirectURILen {
			t.Fatalf("accepted %q -> %q, which makes a bad redirect URI", s, v)
		}
		if strings.Trim(u.Path, "/") == "OAuth2" {
			t.Fatalf("accepted %q without an instance path", s)
		}
	})
}

func FuzzRedirectURL(f *testing.F) {
	for _, s := range []string{"https://jira.example.com/cb", "http://localhost:8080/cb", "http://127.0.0.1/cb", "http://jira/cb", "https://x/#f", "/rel"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := RedirectURL("callback_url", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "callback_url: ") || !strings.Contains(err.Error(), "accepted form") {
				t.Fatalf("error does not name the field and form: %v", err)
			}
			return
		}
		u, perr := url.Parse(v)
		if perr != nil || u.Host == "" || strings.Contains(v, "#") || len(v) > maxRedirectURILen {
			t.Fatalf("accepted bad redirect %q", v)
		}
		if u.Scheme == "http" && !strings.EqualFold(u.Hostname(), "localhost") && !strings.HasPrefix(u.Hostname(), "127.") && u.Hostname() != "::1" {
			t.Fatalf("accepted http for %q", v)
		}
	})
}
