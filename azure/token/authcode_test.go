package token

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// redirectTo plays the identity platform's redirect back to the loopback
// listener (127.0.0.1) with the given query, keeping the request's state
// unless state is set.
func redirectTo(t *testing.T, extra url.Values, state string) func(string) error {
	return func(raw string) error {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("login_hint") != "helpdesk@contoso.com" ||
			!strings.Contains(q.Get("scope"), "https://outlook.office.com/IMAP.AccessAsUser.All") {
			t.Errorf("authorize URL: %s", raw)
		}
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.Host = "127.0.0.1:" + back.Port()
		v := url.Values{"state": {q.Get("state")}}
		if state != "" {
			v.Set("state", state)
		}
		for k, vs := range extra {
			v[k] = vs
		}
		back.RawQuery = v.Encode()
		go func() {
			if r, err := http.Get(back.String()); err == nil {
				r.Body.Close()
			}
		}()
		return nil
	}
}

func TestAuthCodeRedirectErrors(t *testing.T) {
	c := cloud.Global()
	req, _ := catalog.TokenRequestFor(c, catalog.AuthCode, catalog.IMAP)
	a := Acquirer{Cloud: c, TenantID: tid, ClientID: app, Retry: Retry{Budget: -1}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The user declines: the AADSTS code comes back as an AADError.
	_, err := a.AuthCode(ctx, req, AuthCodeOptions{RedirectURI: "http://localhost", LoginHint: "helpdesk@contoso.com", Timeout: 5 * time.Second,
		OpenURL: redirectTo(t, url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}}, "")})
	ae, ok := explain.ParseAAD(err)
	if !ok || ae.Code() != 65004 || ae.Explain().FixAction != explain.ActionGrantConsent {
		t.Fatalf("declined: %v", err)
	}

	// A redirect with someone else's state is refused, not redeemed.
	_, err = a.AuthCode(ctx, req, AuthCodeOptions{RedirectURI: "http://localhost", LoginHint: "helpdesk@contoso.com", Timeout: 5 * time.Second,
		OpenURL: redirectTo(t, url.Values{"code": {"stolen"}}, "forged")})
	if err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Fatalf("forged state: %v", err)
	}

	// Nobody signs in: the wait ends at the timeout.
	start := time.Now()
	_, err = a.AuthCode(ctx, req, AuthCodeOptions{RedirectURI: "http://localhost", Timeout: 300 * time.Millisecond, OpenURL: func(string) error { return nil }})
	if err == nil || !strings.Contains(err.Error(), "no sign-in within") || time.Since(start) > 2*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}

	// A Web redirect the tool cannot receive needs a test-only one, added
	// and removed through the tweak even when the sign-in fails.
	var log []string
	tweak := func(uri string) AppTweak {
		if !strings.HasPrefix(uri, "http://localhost:") || !strings.HasSuffix(uri, "/mailoauth") {
			t.Errorf("test redirect %q", uri)
		}
		return fakeTweak{uri, &log}
	}
	tok, err := a.AuthCode(ctx, req, AuthCodeOptions{RedirectURI: "https://product.example/cb", Tweak: tweak, Timeout: 300 * time.Millisecond, OpenURL: func(string) error { return nil }})
	if err == nil || strings.Join(log, ",") != "add,remove" || len(tok.Changes) != 2 || !strings.HasPrefix(tok.Changes[1], "removed") {
		t.Fatalf("tweak: %v %q %q", err, log, tok.Changes)
	}
}

type fakeTweak struct {
	uri string
	log *[]string
}

func (f fakeTweak) Describe() string             { return "Web redirect URI " + f.uri }
func (f fakeTweak) Add(context.Context) error    { *f.log = append(*f.log, "add"); return nil }
func (f fakeTweak) Remove(context.Context) error { *f.log = append(*f.log, "remove"); return nil }
