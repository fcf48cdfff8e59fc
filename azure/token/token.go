// Package token gets access tokens the way the product will get them:
// client credentials with the new secret, ROPC with the mailbox user's
// password, device code or authorization code as the mailbox user. Each
// request names one resource only (catalog.TokenRequests). Refusals that
// replication delay explains are waited out with a visible countdown.
//
// Tokens, secrets and passwords never leave this package except as the
// Token value handed to the caller; Token's String hides the raw token.
package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// Token is an access token and what it says about itself.
type Token struct {
	raw       string
	Flow      catalog.Flow `json:"flow"`
	Scopes    []string     `json:"scopes"`
	ExpiresOn time.Time    `json:"expires_on"`
	Claims    Claims       `json:"claims"`
	// Changes lists test-only settings added to the app for this token and
	// removed again, in plain words, so the tool can say so.
	Changes []string `json:"changes,omitempty"`
	// Outcome is how many attempts the token took and how long was waited.
	Outcome Outcome `json:"outcome"`
}

// Value is the raw access token, for the Authorization header or XOAUTH2.
// Never print or log it.
func (t Token) Value() string { return t.raw }

// String never shows the token.
func (t Token) String() string {
	return fmt.Sprintf("token(%s, %s)", t.Flow, t.Claims.Summary())
}

// GoString never shows the token either.
func (t Token) GoString() string { return t.String() }

// NewToken wraps a raw token obtained elsewhere (e.g. --token for a lab).
func NewToken(raw string, flow catalog.Flow) (Token, error) {
	c, err := Decode(raw)
	if err != nil {
		return Token{}, err
	}
	return Token{raw: raw, Flow: flow, ExpiresOn: c.Expiry, Claims: c}, nil
}

// Acquirer gets tokens for one app in one tenant.
type Acquirer struct {
	Cloud    cloud.Cloud
	TenantID string // GUID or verified domain; never common/consumers
	ClientID string // the app's application (client) id
	// Secret makes the app a confidential client (client credentials, and
	// web apps in ROPC/auth code). Never logged.
	Secret string
	// HTTPClient is used for every call; nil = Cloud.HTTPClient(nil).
	HTTPClient *http.Client
	// Retry waits out replication delay (see Retry).
	Retry Retry
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validate checks the fields before anything is sent.
func (a *Acquirer) validate(needSecret bool) error {
	t := strings.ToLower(strings.TrimSpace(a.TenantID))
	switch {
	case t == "":
		return errors.New("tenant id: empty; accepted form: the tenant's GUID or a verified domain such as contoso.onmicrosoft.com")
	case t == "common" || t == "consumers" || t == "organizations":
		return fmt.Errorf("tenant id: %q is not a tenant; accepted form: the tenant's GUID or a verified domain (mail flows need the tenant-specific authority)", a.TenantID)
	case !guidRE.MatchString(t) && !strings.Contains(t, "."):
		return fmt.Errorf("tenant id: %q; accepted form: a GUID like 4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50 or a domain like contoso.onmicrosoft.com", a.TenantID)
	}
	if !guidRE.MatchString(strings.TrimSpace(a.ClientID)) {
		return fmt.Errorf("client id: %q; accepted form: the app's application (client) id, a GUID like 5f0e0a54-3b7e-4b7e-9a2a-1f1b2c3d4e5f", a.ClientID)
	}
	if needSecret && a.Secret == "" {
		return errors.New("client secret: empty; accepted form: the secret's value (not its id), shown once when it was created")
	}
	u, err := url.Parse(a.Cloud.AuthorityHost)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("authority: %q; accepted form: https://host (MSAL needs https)", a.Cloud.AuthorityHost)
	}
	return nil
}

func checkScopes(req catalog.TokenRequest) error {
	if len(req.Scopes) == 0 {
		return errors.New("token request: no scopes")
	}
	aud := ""
	for _, s := range req.Scopes {
		switch s {
		case "offline_access", "openid", "profile", "email":
			continue
		}
		i := strings.LastIndex(s, "/")
		if i <= len("https://") {
			return fmt.Errorf("token request: scope %q; accepted form: a full scope URI like https://outlook.office.com/IMAP.AccessAsUser.All", s)
		}
		if aud != "" && !strings.EqualFold(aud, s[:i]) {
			return fmt.Errorf("token request: scopes %q name two resources (%s and %s); request one resource per token", req.Scopes, aud, s[:i])
		}
		aud = s[:i]
	}
	return nil
}

func (a *Acquirer) httpClient() (*http.Client, error) {
	if a.HTTPClient != nil {
		return a.HTTPClient, nil
	}
	return a.Cloud.HTTPClient(nil)
}

// knownAuthorityHosts are Microsoft's own; MSAL's instance discovery works
// for them. Any other host (a lab, the simulator) disables it.
var knownAuthorityHosts = map[string]bool{
	"login.microsoftonline.com": true, "login.microsoft.com": true, "login.windows.net": true, "sts.windows.net": true,
	"login.microsoftonline.us": true, "login.partner.microsoftonline.cn": true, "login.chinacloudapi.cn": true,
}

func (a *Acquirer) instanceDiscovery() bool {
	u, err := url.Parse(a.Cloud.AuthorityHost)
	return err == nil && knownAuthorityHosts[strings.ToLower(u.Hostname())]
}

func (a *Acquirer) authority() string { return a.Cloud.Authority(strings.TrimSpace(a.TenantID)) }

func (a *Acquirer) confidentialClient() (confidential.Client, error) {
	hc, err := a.httpClient()
	if err != nil {
		return confidential.Client{}, err
	}
	cred, err := confidential.NewCredFromSecret(a.Secret)
	if err != nil {
		return confidential.Client{}, fmt.Errorf("client secret: %w", err)
	}
	return confidential.New(a.authority(), strings.TrimSpace(a.ClientID), cred,
		confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(a.instanceDiscovery()))
}

func (a *Acquirer) publicClient() (public.Client, error) {
	hc, err := a.httpClient()
	if err != nil {
		return public.Client{}, err
	}
	return public.New(strings.TrimSpace(a.ClientID), public.WithAuthority(a.authority()),
		public.WithHTTPClient(hc), public.WithInstanceDiscovery(a.instanceDiscovery()))
}

// what names a token request in countdown events.
func what(req catalog.TokenRequest) string {
	if req.Audience != "" {
		return "token for " + req.Audience
	}
	return "token for " + strings.Join(req.Scopes, " ")
}

// retried runs get under the replication-delay retry and fills the Token.
func (a *Acquirer) retried(ctx context.Context, flow catalog.Flow, req catalog.TokenRequest, get func(context.Context) (string, time.Time, error)) (Token, error) {
	return a.retriedWith(ctx, flow, req, ReplicationDelay, get)
}

// alsoRetry extends ReplicationDelay with codes that a test-only app change
// made just now explains until it replicates.
func alsoRetry(codes ...int) Classifier {
	return func(err error) (explain.Explanation, bool) {
		x, ok := ReplicationDelay(err)
		if ae, isAAD := explain.ParseAAD(err); !ok && isAAD {
			for _, c := range codes {
				if ae.Code() == c {
					x.Retryable = true
					return x, true
				}
			}
		}
		return x, ok
	}
}

func (a *Acquirer) retriedWith(ctx context.Context, flow catalog.Flow, req catalog.TokenRequest, classify Classifier, get func(context.Context) (string, time.Time, error)) (Token, error) {
	var raw string
	var exp time.Time
	out, err := a.Retry.Do(ctx, what(req), classify, func(ctx context.Context) error {
		var err error
		raw, exp, err = get(ctx)
		return err
	})
	if err != nil {
		return Token{Flow: flow, Scopes: req.Scopes, Outcome: out}, err
	}
	t := Token{raw: raw, Flow: flow, Scopes: req.Scopes, ExpiresOn: exp, Outcome: out}
	// A token that is not a JWT is still usable; only the display suffers.
	t.Claims, _ = Decode(raw)
	return t, nil
}

// ClientCredentials gets an app-only token with the client secret. Exchange
// (IMAP/POP/SMTP/EWS) needs https://outlook.office365.com/.default; Graph
// its own /.default, in a separate request.
func (a *Acquirer) ClientCredentials(ctx context.Context, req catalog.TokenRequest) (Token, error) {
	if err := a.validate(true); err != nil {
		return Token{}, err
	}
	if err := checkScopes(req); err != nil {
		return Token{}, err
	}
	for _, s := range req.Scopes {
		if !strings.HasSuffix(s, "/.default") {
			return Token{}, fmt.Errorf("token request: client credentials take only a /.default scope, got %q", s)
		}
	}
	cc, err := a.confidentialClient()
	if err != nil {
		return Token{}, err
	}
	return a.retried(ctx, catalog.ClientCredentials, req, func(ctx context.Context) (string, time.Time, error) {
		r, err := cc.AcquireTokenByCredential(ctx, req.Scopes)
		return r.AccessToken, r.ExpiresOn, err
	})
}

// Password gets a delegated token with the mailbox user's name and password
// (ROPC). The password is used for this request only: never stored, never
// logged. A confidential app (Secret set) also sends its secret.
func (a *Acquirer) Password(ctx context.Context, req catalog.TokenRequest, username, password string) (Token, error) {
	if err := a.validate(false); err != nil {
		return Token{}, err
	}
	if err := checkScopes(req); err != nil {
		return Token{}, err
	}
	if !strings.Contains(username, "@") {
		return Token{}, fmt.Errorf("user name: %q; accepted form: the mailbox user's user principal name, like helpdesk@contoso.com", username)
	}
	if password == "" {
		return Token{}, errors.New("password: empty; accepted form: the mailbox user's password")
	}
	var get func(context.Context) (string, time.Time, error)
	if a.Secret != "" {
		// MSAL Go's confidential ROPC does not send the client secret
		// (v1.10.1 accesstokens.FromUsernamePassword), so a Web app that
		// is not a public client would get AADSTS7000218. Post the
		// documented form ourselves (microsoft.md §7, ROPC).
		hc, err := a.httpClient()
		if err != nil {
			return Token{}, err
		}
		get = func(ctx context.Context) (string, time.Time, error) {
			return a.passwordWithSecret(ctx, hc, req, username, password)
		}
	} else {
		pc, err := a.publicClient()
		if err != nil {
			return Token{}, err
		}
		get = func(ctx context.Context) (string, time.Time, error) {
			r, err := pc.AcquireTokenByUsernamePassword(ctx, req.Scopes, username, password)
			return r.AccessToken, r.ExpiresOn, err
		}
	}
	return a.retried(ctx, catalog.ROPC, req, get)
}

// AppTweak is a test-only change to the app that a flow needs (a loopback
// redirect URI, "Allow public client flows"). The caller makes it through
// Graph; this package only calls Add before and Remove after, and reports
// both in Token.Changes.
type AppTweak interface {
	// Describe says what the change is, e.g. "redirect URI http://localhost:5123/ (Web)".
	Describe() string
	Add(ctx context.Context) error
	Remove(ctx context.Context) error
}

// withTweak applies t around fn and records what was done.
func withTweak(ctx context.Context, t AppTweak, fn func() (Token, error)) (Token, error) {
	if t == nil {
		return fn()
	}
	if err := t.Add(ctx); err != nil {
		return Token{}, fmt.Errorf("adding the test-only setting %s to the app: %w", t.Describe(), err)
	}
	tok, err := fn()
	changes := []string{"added " + t.Describe() + " to the app for this test"}
	// Remove even when ctx is done: the setting must not stay behind.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	if rerr := t.Remove(rctx); rerr != nil {
		changes = append(changes, "could NOT remove "+t.Describe()+": "+rerr.Error()+"; remove it by hand")
		err = errors.Join(err, fmt.Errorf("removing the test-only setting %s: %w", t.Describe(), rerr))
	} else {
		changes = append(changes, "removed "+t.Describe()+" again")
	}
	tok.Changes = append(tok.Changes, changes...)
	return tok, err
}

// DeviceCodePrompt is what the user must do to finish a device-code sign-in.
type DeviceCodePrompt struct {
	UserCode        string    `json:"user_code"`
	VerificationURL string    `json:"verification_url"`
	Message         string    `json:"message"`
	ExpiresOn       time.Time `json:"expires_on"`
}

// DeviceCodeOptions configures a delegated device-code sign-in.
type DeviceCodeOptions struct {
	// OnCode shows the code to the user (required).
	OnCode func(DeviceCodePrompt)
	// Tweak, when the app does not allow public client flows, turns them on
	// for the test and off again afterwards.
	Tweak AppTweak
}

// DeviceCode signs the mailbox user in with a device code, as a public
// client (the app must allow public client flows; otherwise AADSTS7000218).
func (a *Acquirer) DeviceCode(ctx context.Context, req catalog.TokenRequest, opts DeviceCodeOptions) (Token, error) {
	if err := a.validate(false); err != nil {
		return Token{}, err
	}
	if err := checkScopes(req); err != nil {
		return Token{}, err
	}
	if opts.OnCode == nil {
		return Token{}, errors.New("device code: no way to show the code to the user (OnCode is nil)")
	}
	pc, err := a.publicClient()
	if err != nil {
		return Token{}, err
	}
	// One sign-in serves every retry: while consent replicates (65001) the
	// same device code is polled again, so the user enters one code. Only
	// when that code is gone (redeemed or expired) is a new one shown.
	var dc *public.DeviceCode
	classify := ReplicationDelay
	if opts.Tweak != nil {
		// "Allow public client flows" was just turned on: AADSTS7000218
		// lasts until that change replicates.
		classify = alsoRetry(7000218)
	}
	return withTweak(ctx, opts.Tweak, func() (Token, error) {
		return a.retriedWith(ctx, catalog.DeviceCode, req, classify, func(ctx context.Context) (string, time.Time, error) {
			for fresh := false; ; {
				if dc == nil {
					d, err := pc.AcquireTokenByDeviceCode(ctx, req.Scopes)
					if err != nil {
						return "", time.Time{}, err
					}
					dc, fresh = &d, true
					opts.OnCode(DeviceCodePrompt{UserCode: d.Result.UserCode, VerificationURL: d.Result.VerificationURL, Message: d.Result.Message, ExpiresOn: d.Result.ExpiresOn})
				}
				r, err := dc.AuthenticationResult(ctx)
				if err == nil {
					return r.AccessToken, r.ExpiresOn, nil
				}
				if ae, ok := explain.ParseAAD(err); ok && !fresh && (ae.Err == "bad_verification_code" || ae.Err == "expired_token") {
					dc = nil // the re-polled code is gone: show a new one
					continue
				}
				if _, retry := classify(err); !retry {
					dc = nil
				}
				return "", time.Time{}, err
			}
		})
	})
}

// passwordWithSecret is ROPC for a confidential client. Errors carry the
// token endpoint's JSON body in MSAL's text shape, so explain.ParseAAD
// reads both alike.
func (a *Acquirer) passwordWithSecret(ctx context.Context, hc *http.Client, req catalog.TokenRequest, username, password string) (string, time.Time, error) {
	endpoint := a.Cloud.TokenEndpoint(strings.TrimSpace(a.TenantID))
	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {strings.TrimSpace(a.ClientID)},
		"client_secret": {a.Secret},
		"username":      {username},
		"password":      {password},
		"scope":         {strings.Join(append([]string{"openid", "profile"}, req.Scopes...), " ")},
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(hr)
	if err != nil {
		return "", time.Time{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("http call(%s)(POST) error: reply status code was %d:\n%s", endpoint, resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("token endpoint %s: reply has no access_token", endpoint)
	}
	return tr.AccessToken, time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second), nil
}
