package product

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// Entra ID limits a redirect URI to 256 characters.
const maxRedirectURILen = 256

// extraViewTokenPath is what ExtraView appends to its instance path to receive
// the authorization code (extraview.md, step 3).
const extraViewTokenPath = "/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"

// Email checks one mailbox address (user@domain, no display name).
func Email(field, s string) (string, error) {
	v := strings.TrimSpace(s)
	form := "accepted form: an email address such as helpdesk@contoso.com"
	if v == "" {
		return "", fmt.Errorf("%s: empty; %s", field, form)
	}
	if len(v) > 254 {
		return "", fmt.Errorf("%s: %q is longer than 254 characters; %s", field, short(v), form)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return "", fmt.Errorf("%s: %q is not an email address; %s", field, short(v), form)
	}
	at := strings.LastIndexByte(v, '@')
	domain := v[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.ContainsAny(v, " \t\"'<>;,") {
		return "", fmt.Errorf("%s: %q is not an email address; %s", field, short(v), form)
	}
	return v, nil
}

// EmailList splits a list of addresses separated by semicolons, commas or
// spaces and checks each; repeats are dropped (compared case-insensitively).
func EmailList(field, s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		v, err := Email(field, part)
		if err != nil {
			return nil, err
		}
		if k := strings.ToLower(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// ExtraViewURL checks the ExtraView instance path and returns it without a
// trailing slash. A pasted full redirect URI is cut back to the instance
// path; note then says so.
func ExtraViewURL(field, s string) (value, note string, err error) {
	form := "accepted form: the https address of your ExtraView instance including its path, e.g. https://ev.example.com/evj"
	raw := strings.TrimSpace(s)
	u, perr := url.Parse(raw)
	if raw == "" || perr != nil || u.Host == "" || u.Opaque != "" {
		return "", "", fmt.Errorf("%s: %q is not an absolute URL; %s", field, short(raw), form)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", "", fmt.Errorf("%s: %q must use https (Entra ID accepts only https redirect URIs for a web app outside localhost); %s", field, short(raw), form)
	}
	if u.User != nil {
		return "", "", fmt.Errorf("%s: %q must not contain a user name or password; %s", field, short(raw), form)
	}
	path := u.EscapedPath()
	if i := strings.Index(strings.ToLower(path), "/oauth2"); i >= 0 && strings.Contains(u.RawQuery, "p_action=getTokenReturn") {
		path = path[:i]
		note = fmt.Sprintf("you pasted the full redirect URI; kept the instance path %s and mailoauth adds %s itself", "https://"+u.Host+path, extraViewTokenPath)
	} else if u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%s: %q has a query or #fragment; %s", field, short(raw), form)
	}
	path = strings.TrimRight(path, "/")
	if path == "" {
		return "", "", fmt.Errorf("%s: %q has no instance path (ExtraView runs under a path such as /evj); %s", field, short(raw), form)
	}
	value = "https://" + strings.ToLower(u.Host) + path
	if len(value)+len(extraViewTokenPath) > maxRedirectURILen {
		return "", "", fmt.Errorf("%s: the redirect URI built from %q would be longer than Entra ID's %d characters; %s", field, short(raw), maxRedirectURILen, form)
	}
	return value, note, nil
}

// RedirectURL checks a redirect (callback) URI: absolute, https (http only
// for localhost), no fragment, at most 256 characters.
func RedirectURL(field, s string) (string, error) {
	form := "accepted form: an absolute https URL such as https://jira.example.com/plugins/servlet/oauth2/callback (http only for localhost)"
	raw := strings.TrimSpace(s)
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%s: %q is not an absolute URL; %s", field, short(raw), form)
	}
	if u.Scheme == "http" && !cloud.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("%s: %q uses http; Entra ID accepts http only for localhost; %s", field, short(raw), form)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("%s: %q has a #fragment, which a redirect URI may not have; %s", field, short(raw), form)
	}
	if u.User != nil {
		return "", fmt.Errorf("%s: %q must not contain a user name or password; %s", field, short(raw), form)
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return "", fmt.Errorf("%s: %q contains spaces; %s", field, short(raw), form)
	}
	if len(raw) > maxRedirectURILen {
		return "", fmt.Errorf("%s: longer than Entra ID's %d characters; %s", field, maxRedirectURILen, form)
	}
	return raw, nil
}

// short keeps error messages readable when someone pastes a page of text.
func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
