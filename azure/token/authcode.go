package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/pkg/browser"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// AuthCodeOptions configures a delegated authorization-code sign-in.
type AuthCodeOptions struct {
	// RedirectURI is the product's registered redirect. When it is a
	// loopback http URI (http://localhost[:port][/path]) the tool receives
	// the code there; otherwise a loopback redirect is needed for the test
	// and Tweak must add it.
	RedirectURI string
	// Tweak returns the test-only change that registers redirectURI on the
	// app; called only when the product's own redirect cannot be received.
	Tweak func(redirectURI string) AppTweak
	// OpenURL shows the sign-in page; nil = the system browser.
	OpenURL func(url string) error
	// LoginHint pre-fills the mailbox user's name.
	LoginHint string
	// Timeout bounds the wait for the browser (default 5 minutes).
	Timeout time.Duration
}

// AuthCode signs the mailbox user in through the browser with PKCE and a
// loopback redirect, then redeems the code with MSAL (confidential when the
// Acquirer has a secret: a Web app; public otherwise).
func (a *Acquirer) AuthCode(ctx context.Context, req catalog.TokenRequest, opts AuthCodeOptions) (Token, error) {
	if err := a.validate(false); err != nil {
		return Token{}, err
	}
	if err := checkScopes(req); err != nil {
		return Token{}, err
	}
	host, port, path, own := loopback(opts.RedirectURI)
	if !own && opts.Tweak == nil {
		return Token{}, fmt.Errorf("redirect URI: %q cannot be received by mailoauth; accepted form: http://localhost[:port][/path], or provide a test-only redirect through the app tweak", opts.RedirectURI)
	}
	if port == 0 {
		// Pick a free port once; every attempt listens on it again so the
		// redirect registered for the test stays the same.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return Token{}, fmt.Errorf("redirect URI: cannot listen on 127.0.0.1: %w", err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	var redirect string
	if own && strings.Contains(opts.RedirectURI, ":"+strconv.Itoa(port)) {
		redirect = opts.RedirectURI
	} else {
		// A public client's http://localhost redirect matches any port; a
		// test-only redirect names the port we got.
		redirect = "http://" + host + ":" + strconv.Itoa(port) + path
	}
	var tweak AppTweak
	if !own {
		tweak = opts.Tweak(redirect)
	}
	return withTweak(ctx, tweak, func() (Token, error) {
		return a.retried(ctx, catalog.AuthCode, req, func(ctx context.Context) (string, time.Time, error) {
			return a.authCodeOnce(ctx, port, redirect, path, req, opts)
		})
	})
}

// loopback parses a redirect URI the tool can receive: http on localhost or
// 127.0.0.1. It returns the host, the port (0 = any) and the path; own is
// false when the URI is something else, and then a test redirect is used.
func loopback(raw string) (host string, port int, path string, own bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1") {
		return "localhost", 0, "/mailoauth", false
	}
	p, _ := strconv.Atoi(u.Port())
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return u.Hostname(), p, path, true
}

func (a *Acquirer) authCodeOnce(ctx context.Context, port int, redirect, path string, req catalog.TokenRequest, opts AuthCodeOptions) (string, time.Time, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("redirect URI: cannot listen on 127.0.0.1:%d: %w", port, err)
	}
	defer ln.Close()
	verifier, challenge, state := pkce()
	scopes := append([]string{"openid", "profile"}, req.Scopes...)
	q := url.Values{
		"client_id":             {strings.TrimSpace(a.ClientID)},
		"response_type":         {"code"},
		"redirect_uri":          {redirect},
		"response_mode":         {"query"},
		"scope":                 {strings.Join(scopes, " ")},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	if opts.LoginHint != "" {
		q.Set("login_hint", opts.LoginHint)
	}
	authURL := a.Cloud.AuthorizeEndpoint(strings.TrimSpace(a.TenantID)) + "?" + q.Encode()

	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		v := r.URL.Query()
		var res result
		switch {
		case v.Get("state") != state:
			res.err = errors.New("auth code: the redirect's state does not match this sign-in (ignored a stale or forged redirect)")
		case v.Get("error") != "":
			ae := &explain.AADError{Err: v.Get("error"), Description: v.Get("error_description")}
			if c := ae.Code(); c != 0 {
				ae.Codes = []int{c}
			}
			res.err = ae
		case v.Get("code") == "":
			res.err = errors.New("auth code: the redirect carried neither a code nor an error")
		default:
			res.code = v.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "Signed in. You can close this window and return to mailoauth."
		if res.err != nil {
			msg = "Sign-in failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>mailoauth</title><p>%s</p>", html.EscapeString(msg))
		select {
		case got <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	open := opts.OpenURL
	if open == nil {
		open = browser.OpenURL
	}
	if err := open(authURL); err != nil {
		return "", time.Time{}, fmt.Errorf("auth code: opening the sign-in page: %w", err)
	}
	timeout := orDefault(opts.Timeout, 5*time.Minute)
	var res result
	select {
	case res = <-got:
	case <-ctx.Done():
		return "", time.Time{}, ctx.Err()
	case <-time.After(timeout):
		return "", time.Time{}, fmt.Errorf("auth code: no sign-in within %s", timeout)
	}
	if res.err != nil {
		return "", time.Time{}, res.err
	}
	if a.Secret != "" {
		cc, err := a.confidentialClient()
		if err != nil {
			return "", time.Time{}, err
		}
		r, err := cc.AcquireTokenByAuthCode(ctx, res.code, redirect, req.Scopes, confidential.WithChallenge(verifier))
		return r.AccessToken, r.ExpiresOn, err
	}
	pc, err := a.publicClient()
	if err != nil {
		return "", time.Time{}, err
	}
	r, err := pc.AcquireTokenByAuthCode(ctx, res.code, redirect, req.Scopes, public.WithChallenge(verifier))
	return r.AccessToken, r.ExpiresOn, err
}

// pkce makes an RFC 7636 verifier, its S256 challenge and a state value.
func pkce() (verifier, challenge, state string) {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	s := make([]byte, 16)
	_, _ = rand.Read(s)
	return verifier, challenge, base64.RawURLEncoding.EncodeToString(s)
}
