package product

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mailoauth/mailoauth/internal/validate"
)

// Entra ID limits a redirect URI to 256 characters (the fuzz test reads it).
const maxRedirectURILen = validate.MaxRedirectURI

// extraViewTokenPath is what ExtraView appends to its instance path to receive
// the authorization code (extraview.md, step 3).
const extraViewTokenPath = "/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"

// Email checks one mailbox address (user@domain, no display name) by
// internal/validate's rule.
func Email(field, s string) (string, error) {
	v := strings.TrimSpace(s)
	if err := validate.Email(v); err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// EmailList splits a list of addresses separated by semicolons, commas or
// spaces and checks each; repeats are dropped (compared case-insensitively).
func EmailList(field, s string) ([]string, error) {
	list, err := validate.EmailList(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return list, nil
}

// ExtraViewURL checks the ExtraView instance path and returns it without a
// trailing slash. A pasted full redirect URI is cut back to the instance
// path; note then says so. The address is checked by internal/validate's
// https rule, and the redirect URI built from it by its redirect rule.
func ExtraViewURL(field, s string) (value, note string, err error) {
	form := "accepted form: the https address of your ExtraView instance including its path, e.g. https://ev.example.com/evj"
	raw := strings.TrimSpace(s)
	if verr := validate.HTTPSURL(raw); verr != nil {
		var ve *validate.Error
		if errors.As(verr, &ve) && ve.Problem == "must use https" {
			return "", "", fmt.Errorf("%s: %s must use https (Entra ID accepts only https redirect URIs for a web app outside localhost); %s", field, validate.Quote(raw), form)
		}
		if errors.As(verr, &ve) {
			return "", "", fmt.Errorf("%s: %s %s; %s", field, validate.Quote(raw), ve.Problem, form)
		}
		return "", "", fmt.Errorf("%s: %v", field, verr)
	}
	u, _ := url.Parse(raw) // HTTPSURL parsed it
	path := u.EscapedPath()
	if i := strings.Index(strings.ToLower(path), "/oauth2"); i >= 0 && strings.Contains(u.RawQuery, "p_action=getTokenReturn") {
		path = path[:i]
		note = fmt.Sprintf("you pasted the full redirect URI; kept the instance path %s and mailoauth adds %s itself", "https://"+u.Host+path, extraViewTokenPath)
	} else if u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", "", fmt.Errorf("%s: %s has a query or #fragment; %s", field, validate.Quote(raw), form)
	}
	path = strings.TrimRight(path, "/")
	if path == "" {
		return "", "", fmt.Errorf("%s: %s has no instance path (ExtraView runs under a path such as /evj); %s", field, validate.Quote(raw), form)
	}
	value = "https://" + strings.ToLower(u.Host) + path
	if len(value)+len(extraViewTokenPath) > validate.MaxRedirectURI {
		return "", "", fmt.Errorf("%s: the redirect URI built from %s would be longer than Entra ID's %d characters; %s", field, validate.Quote(raw), validate.MaxRedirectURI, form)
	}
	if verr := validate.RedirectURI(value + extraViewTokenPath); verr != nil {
		return "", "", fmt.Errorf("%s: the redirect URI built from it is refused: %v", field, verr)
	}
	return value, note, nil
}

// RedirectURL checks a redirect (callback) URI by internal/validate's
// rule: absolute, https (http only for localhost), no fragment, at most
// 256 characters.
func RedirectURL(field, s string) (string, error) {
	raw := strings.TrimSpace(s)
	if err := validate.RedirectURI(raw); err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return raw, nil
}
