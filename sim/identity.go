package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The identity platform (login.microsoftonline.com): discovery, device code,
// token, authorize, admin consent, user realm, keys and the device-login page.

type deviceCode struct {
	device, user string
	clientAppID  string
	clientName   string
	scope        string
	tenantSeg    string
	expires      time.Time
	lastPoll     time.Time
	approvedBy   string // user id
	declined     bool
}

type authCode struct {
	clientAppID, redirectURI, scope, tenantSeg string
	userID                                     string
	challenge, method                          string
	expires                                    time.Time
	used                                       bool
}

type refreshGrant struct {
	clientAppID, userID string
}

func (s *Server) loginHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /devicelogin", s.deviceLoginPage)
	mux.HandleFunc("POST /devicelogin", s.deviceLoginPost)
	mux.HandleFunc("GET /common/UserRealm/{user}", s.userRealm)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.withTenant((*view).openIDConfig))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.withTenant((*view).keys))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", s.withTenant((*view).deviceCodeEndpoint))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.withTenant((*view).tokenEndpoint))
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.withTenant((*view).authorize))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", s.withTenant((*view).authorizePost))
	mux.HandleFunc("GET /{tenant}/adminconsent", s.withTenant((*view).adminConsent))
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.withTenant((*view).adminConsent))
	mux.HandleFunc("POST /{tenant}/adminconsent", s.withTenant((*view).adminConsentPost))
	mux.HandleFunc("POST /{tenant}/v2.0/adminconsent", s.withTenant((*view).adminConsentPost))
	postOnly := func(w http.ResponseWriter, r *http.Request) {
		writeAAD(w, r, aad(405, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
	}
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/token", postOnly)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/devicecode", postOnly)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAAD(w, r, aad(404, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid. %s is not an endpoint of the identity platform.", r.URL.Path))
	})
	return mux
}

// withTenant resolves the {tenant} segment: a tenant id or verified
// domain of one of the simulator's tenants, organizations or common (then
// the seed tenant's view until the user is known: forUser). Anything else
// is AADSTS90002.
func (s *Server) withTenant(h func(*view, http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seg := r.PathValue("tenant")
		if isMultiTenantSegment(seg) {
			h(s.home(), w, r, strings.ToLower(seg))
			return
		}
		s.mu.Lock()
		t := s.tenantBySegment(seg)
		s.mu.Unlock()
		if t == nil {
			writeAAD(w, r, errUnknownTenant(seg))
			return
		}
		h(s.viewOf(t), w, r, strings.ToLower(seg))
	}
}

// forUser is the view a request on organizations/common continues in once
// the user is known: the user's own tenant (caller holds s.mu).
func (s *view) forUser(seg, name string) *view {
	if !isMultiTenantSegment(seg) {
		return s
	}
	if u, t := s.userAnywhere(name); u != nil {
		return s.viewOf(t)
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *view) openIDConfig(w http.ResponseWriter, r *http.Request, tenant string) {
	seg := tenant
	issuer := s.v2Issuer()
	if isMultiTenantSegment(tenant) {
		issuer = s.loginURL + "/{tenantid}/v2.0"
	}
	base := s.loginURL + "/" + seg
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, 200, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                issuer,
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.graphURL + "/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          strings.TrimPrefix(s.graphURL, "https://"),
		"rbac_url":                              "https://pas.windows.net",
	})
}

func (s *view) keys(w http.ResponseWriter, r *http.Request, _ string) {
	pub := s.signKey.PublicKey
	writeJSON(w, 200, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": s.kid, "alg": "RS256",
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"issuer": s.v2Issuer(),
	}}})
}

func (s *Server) userRealm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	domain := name
	if i := strings.LastIndex(name, "@"); i >= 0 {
		domain = name[i+1:]
	}
	kind := "Unknown"
	s.mu.Lock()
	managed := s.tenantBySegment(domain) != nil
	s.mu.Unlock()
	if managed {
		kind = "Managed"
	}
	writeJSON(w, 200, map[string]any{
		"ver": "1.0", "account_type": kind, "domain_name": strings.ToLower(domain),
		"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline",
	})
}

const maxFormBytes = 1 << 20

func parseForm(w http.ResponseWriter, r *http.Request) *aadError {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errMalformed("The request body is not a valid application/x-www-form-urlencoded form.")
	}
	return nil
}

func (s *view) deviceCodeEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	if e := parseForm(w, r); e != nil {
		writeAAD(w, r, e)
		return
	}
	now := time.Now()
	s.mu.Lock()
	c, e := s.lookupClient(r.PostForm.Get("client_id"), tenant, now)
	if e == nil {
		_, e = s.parseScopes(r.PostForm.Get("scope"), false)
	}
	if e != nil {
		s.mu.Unlock()
		writeAAD(w, r, e)
		return
	}
	dc := &deviceCode{
		device: opaqueID() + opaqueID()[:20], user: userCode(), clientAppID: c.appID, clientName: c.name,
		scope: r.PostForm.Get("scope"), tenantSeg: tenant, expires: now.Add(s.deviceCodeLifetime),
	}
	if u := s.autoApprover(); u != nil && !u.Blocked {
		dc.approvedBy = u.ID
	}
	s.purgeExpired(now)
	s.devices[dc.device] = dc
	lifetime := s.deviceCodeLifetime
	s.mu.Unlock()
	s.logf("sim: device code %s issued for %s", dc.user, c.name)
	verify := s.loginURL + "/devicelogin"
	writeJSON(w, 200, map[string]any{
		"user_code": dc.user, "device_code": dc.device, "verification_uri": verify,
		"expires_in": int(lifetime.Seconds()), "interval": deviceCodeInterval,
		"message": "To sign in, use a web browser to open the page " + verify + " and enter the code " + dc.user + " to authenticate.",
	})
}

// userCode is a 9-character code like Entra's (no look-alike characters).
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := []byte(opaqueID())
	out := make([]byte, 9)
	for i := range out {
		out[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(out)
}

// tokenEndpoint is /{tenant}/oauth2/v2.0/token for every grant.
func (s *view) tokenEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	if e := parseForm(w, r); e != nil {
		writeAAD(w, r, e)
		return
	}
	f := r.PostForm
	secret := f.Get("client_secret")
	clientID := f.Get("client_id")
	if id, sec, ok := r.BasicAuth(); ok {
		if clientID == "" {
			clientID, _ = url.QueryUnescape(id)
		}
		if secret == "" {
			secret, _ = url.QueryUnescape(sec)
		}
	}
	now := time.Now()
	s.mu.Lock()
	resp, e := s.token(f, tenant, clientID, secret, now)
	s.mu.Unlock()
	if e != nil {
		s.logf("sim: token request (%s) refused: AADSTS%d", f.Get("grant_type"), e.code)
		writeAAD(w, r, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, 200, resp)
}

// token runs one token request (caller holds s.mu).
func (s *view) token(f url.Values, tenant, clientID, secret string, now time.Time) (map[string]any, *aadError) {
	grant := f.Get("grant_type")
	switch grant {
	case "":
		return nil, errMissingParam("grant_type")
	case "password", "client_credentials":
		if tenant == "common" || (grant == "client_credentials" && tenant == "organizations") {
			return nil, errCommonNotSupported()
		}
	case "device_code", "urn:ietf:params:oauth:grant-type:device_code", "authorization_code", "refresh_token":
	default:
		return nil, aad(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
	}
	if isMultiTenantSegment(tenant) {
		// organizations: the tenant is the signing-in user's.
		name := ""
		switch grant {
		case "password":
			name = f.Get("username")
		case "authorization_code":
			if c := s.codes[f.Get("code")]; c != nil {
				name = c.userID
			}
		case "refresh_token":
			if rt := s.refresh[f.Get("refresh_token")]; rt != nil {
				name = rt.userID
			}
		default:
			if dc := s.devices[f.Get("device_code")]; dc != nil {
				name = dc.approvedBy
			}
		}
		if name != "" {
			s = s.forUser(tenant, name)
		}
	}
	c, e := s.lookupClient(clientID, tenant, now)
	if e != nil {
		return nil, e
	}
	if secret != "" {
		if e := s.checkSecret(c, secret, now); e != nil {
			return nil, e
		}
		c.secret = true
	}
	switch grant {
	case "client_credentials":
		if secret == "" {
			return nil, errSecretRequired()
		}
		return s.clientCredentials(c, f, now)
	case "password":
		if secret == "" && !c.firstParty && !c.app.publicFlows() {
			return nil, errSecretRequired()
		}
		req, e := s.parseScopes(f.Get("scope"), false)
		if e != nil {
			return nil, e
		}
		u, e := s.checkUserPassword(f.Get("username"), f.Get("password"), true, req.res.sp.AppID)
		if e != nil {
			return nil, e
		}
		return s.userTokens(c, u, req, now)
	case "authorization_code":
		return s.redeemCode(c, secret, f, now)
	case "refresh_token":
		return s.redeemRefresh(c, f, now)
	default: // device code
		if secret == "" && !c.firstParty && !c.app.publicFlows() {
			return nil, errSecretRequired()
		}
		return s.pollDeviceCode(c, f, now)
	}
}

func (s *view) clientCredentials(c *client, f url.Values, now time.Time) (map[string]any, *aadError) {
	req, e := s.parseScopes(f.Get("scope"), true)
	if e != nil {
		return nil, e
	}
	if c.sp == nil {
		return nil, errMissingClientSP(c.appID, s.ID)
	}
	roles, e := s.appRoles(c, req, now)
	if e != nil {
		return nil, e
	}
	at, err := s.signedAccessToken(tokenGrant{clientAppID: c.appID, clientSPID: c.sp.ID, res: req.res, roles: roles, secret: c.secret}, now)
	if err != nil {
		return nil, aad(500, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
	}
	return map[string]any{"token_type": "Bearer", "expires_in": int(accessTokenLifetime.Seconds()) - 1,
		"ext_expires_in": int(accessTokenLifetime.Seconds()) - 1, "access_token": at}, nil
}

// userTokens issues access (+ refresh, id) tokens for a signed-in user.
func (s *view) userTokens(c *client, u *user, req scopeRequest, now time.Time) (map[string]any, *aadError) {
	scopes, e := s.delegatedScopes(c, u, req, now)
	if e != nil {
		return nil, e
	}
	g := tokenGrant{clientAppID: c.appID, user: u, res: req.res, scopes: scopes, oidc: req.oidc, secret: c.secret}
	at, err := s.signedAccessToken(g, now)
	if err != nil {
		return nil, aad(500, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
	}
	shown := make([]string, 0, len(scopes)+1)
	// The response's scope echoes each permission as it was asked for
	// (MSAL compares it with the request to find declined scopes).
	for _, sc := range scopes {
		switch {
		case req.asked[sc] != "":
			shown = append(shown, req.asked[sc])
		case oidcScopes[sc] || req.res.sp.AppID == GraphAppID && !req.dflt:
			shown = append(shown, sc)
		default:
			shown = append(shown, req.res.audience+"/"+sc)
		}
	}
	if req.dflt {
		// A .default request is echoed too, beside the permissions it
		// stood for (MSAL treats a requested scope missing from the reply
		// as declined).
		shown = append(shown, req.res.audience+"/.default")
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(accessTokenLifetime.Seconds()) - 1,
		"ext_expires_in": int(accessTokenLifetime.Seconds()) - 1, "access_token": at,
		"client_info": clientInfo(u.ID, s.ID)}
	if req.has("offline_access") {
		rt := opaqueID() + opaqueID() + opaqueID()
		s.refresh[rt] = &refreshGrant{clientAppID: c.appID, userID: u.ID}
		resp["refresh_token"] = rt
		shown = append(shown, "offline_access")
	}
	if req.has("openid") {
		if idt, err := s.idToken(c.appID, u, now); err == nil {
			resp["id_token"] = idt
		}
	}
	resp["scope"] = strings.Join(shown, " ")
	return resp, nil
}

func (s *view) pollDeviceCode(c *client, f url.Values, now time.Time) (map[string]any, *aadError) {
	code := f.Get("device_code")
	if code == "" {
		code = f.Get("code") // MSAL Go before 1.0 sent "code"
	}
	dc := s.devices[code]
	if dc == nil || !strings.EqualFold(dc.clientAppID, c.appID) {
		return nil, aad(400, "bad_verification_code", 70018, "The provided value for the input parameter 'device_code' is not valid.")
	}
	if now.After(dc.expires) {
		delete(s.devices, code)
		return nil, aad(400, "expired_token", 70019, "Verification code expired.")
	}
	if dc.declined {
		delete(s.devices, code)
		return nil, aad(400, "authorization_declined", 65004, "User declined to consent to access the app.")
	}
	if dc.approvedBy == "" {
		// Microsoft's polling errors have no slow_down (ED
		// v2-oauth2-device-code.md; microsoft.md §7): polling too fast is
		// still authorization_pending.
		dc.lastPoll = now
		return nil, aad(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	if s.deviceCodeBlocked {
		// A Conditional Access policy blocking the device code flow: the
		// user signed in, the token is refused.
		delete(s.devices, code)
		return nil, errBlockedByConditionalAccess()
	}
	u := s.userByID(dc.approvedBy)
	req, e := s.parseScopes(dc.scope, false)
	if e != nil {
		return nil, e
	}
	resp, e := s.userTokens(c, u, req, now)
	if e == nil || e.code != 65001 || s.delays.Consent == 0 {
		// Redeemed (or finally refused): the code cannot be used again.
		// A 65001 during a consent delay leaves it for the next poll.
		delete(s.devices, code)
	}
	return resp, e
}

func (s *view) redeemCode(c *client, secret string, f url.Values, now time.Time) (map[string]any, *aadError) {
	code := s.codes[f.Get("code")]
	if f.Get("code") == "" {
		return nil, errMissingParam("code")
	}
	if code == nil || !strings.EqualFold(code.clientAppID, c.appID) {
		return nil, errInvalidGrant(9002313, "Invalid request. Request is malformed or invalid. The provided value for the 'code' parameter is not valid.")
	}
	if code.used {
		return nil, errInvalidGrant(54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	}
	if now.After(code.expires) {
		return nil, errInvalidGrant(70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	if f.Get("redirect_uri") != code.redirectURI {
		return nil, errInvalidGrant(50148, "The redirect_uri '%s' does not match the redirect URI of the authorization request.", f.Get("redirect_uri"))
	}
	if code.challenge != "" {
		v := f.Get("code_verifier")
		if v == "" {
			return nil, errInvalidGrant(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
		got := v
		if code.method == "S256" {
			sum := sha256.Sum256([]byte(v))
			got = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if got != code.challenge {
			return nil, errInvalidGrant(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	if secret == "" && !c.firstParty && !s.publicRedirect(c.app, code.redirectURI) {
		return nil, errSecretRequired()
	}
	code.used = true
	req, e := s.parseScopes(code.scope, false)
	if e != nil {
		return nil, e
	}
	u := s.userByID(code.userID)
	if u == nil {
		return nil, errInvalidGrant(9002313, "Invalid request. Request is malformed or invalid. The provided value for the 'code' parameter is not valid.")
	}
	return s.userTokens(c, u, req, now)
}

func (s *view) redeemRefresh(c *client, f url.Values, now time.Time) (map[string]any, *aadError) {
	rt := s.refresh[f.Get("refresh_token")]
	if f.Get("refresh_token") == "" {
		return nil, errMissingParam("refresh_token")
	}
	if rt == nil || !strings.EqualFold(rt.clientAppID, c.appID) {
		return nil, errInvalidGrant(9002313, "Invalid request. Request is malformed or invalid. The refresh token is not valid.")
	}
	u := s.userByID(rt.userID)
	if u == nil || u.Blocked {
		return nil, errUserBlocked()
	}
	req, e := s.parseScopes(f.Get("scope"), false)
	if e != nil {
		return nil, e
	}
	return s.userTokens(c, u, req, now)
}

// ApproveDeviceCode signs a pending device code in as upn (the user's
// approval on the device-login page, for tests and the demo's in-terminal
// approval).
func (s *Server) ApproveDeviceCode(userCode, upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dc := s.deviceByUserCode(userCode)
	if dc == nil {
		return &codeError{userCode}
	}
	u, t := s.userAnywhere(upn)
	// A code asked for on one tenant's endpoint signs in that tenant's
	// users only (organizations: any tenant's).
	if u == nil || !isMultiTenantSegment(dc.tenantSeg) && s.tenantBySegment(dc.tenantSeg) != t {
		domain := DefaultDomain
		if i := strings.LastIndex(upn, "@"); i >= 0 {
			domain = upn[i+1:]
		}
		return errUnknownUser(domain)
	}
	if u.Blocked {
		return errUserBlocked()
	}
	dc.approvedBy = u.ID
	return nil
}

// DeclineDeviceCode declines a pending device code.
func (s *Server) DeclineDeviceCode(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dc := s.deviceByUserCode(userCode)
	if dc == nil {
		return &codeError{userCode}
	}
	dc.declined = true
	return nil
}

type codeError struct{ code string }

func (e *codeError) Error() string {
	return "sim: no pending device code " + e.code + " (expired, already used, or mistyped)"
}

// PendingDeviceCodes lists device codes that wait for a user.
func (s *Server) PendingDeviceCodes() []PendingDeviceCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var out []PendingDeviceCode
	for _, k := range sortedKeys(s.devices) {
		dc := s.devices[k]
		if dc.approvedBy == "" && !dc.declined && now.Before(dc.expires) {
			out = append(out, PendingDeviceCode{UserCode: dc.user, ClientID: dc.clientAppID, Scopes: splitScopes(dc.scope), ExpiresAt: dc.expires})
		}
	}
	return out
}

func (s *Server) deviceByUserCode(code string) *deviceCode {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	now := time.Now()
	for _, dc := range s.devices {
		if dc.user == code && now.Before(dc.expires) && dc.approvedBy == "" && !dc.declined {
			return dc
		}
	}
	return nil
}

// publicRedirect reports whether a redirect URI belongs to the app's public
// client (mobile and desktop) platform, where no secret is needed.
func (s *view) publicRedirect(a *application, uri string) bool {
	if a == nil {
		return true
	}
	return redirectMatches(a.PublicClient.RedirectURIs, uri) || redirectMatches(a.Spa.RedirectURIs, uri)
}

// redirectMatches compares a redirect URI with the registered ones; a
// loopback registration matches any port, as Entra does.
func redirectMatches(registered []string, uri string) bool {
	got, err := url.Parse(uri)
	if err != nil {
		return false
	}
	for _, reg := range registered {
		if reg == uri {
			return true
		}
		want, err := url.Parse(reg)
		if err != nil || want.Scheme != "http" || got.Scheme != "http" {
			continue
		}
		if isLoopbackHost(want.Hostname()) && isLoopbackHost(got.Hostname()) && strings.TrimRight(want.Path, "/") == strings.TrimRight(got.Path, "/") {
			return true
		}
	}
	return false
}

// isLoopbackHost: "The IPv6 loopback address ([::1]) is not currently
// supported" as a redirect URI (ED reply-url.md), so only localhost and
// 127.0.0.1 count.
func isLoopbackHost(h string) bool { return h == "localhost" || h == "127.0.0.1" }

// purgeExpired drops expired device codes and auth codes
// (caller holds s.mu), so a long-running simulator does not grow.
func (s *Server) purgeExpired(now time.Time) {
	for k, dc := range s.devices {
		if now.After(dc.expires.Add(time.Minute)) {
			delete(s.devices, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.expires) { // used codes stay until then: reuse is AADSTS54005
			delete(s.codes, k)
		}
	}
}
