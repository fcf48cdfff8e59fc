package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

const (
	adminUPN = "admin@contoso.onmicrosoft.com"
	adminPW  = "Demo-Admin-2026!"
	cloudUPN = "cloudadmin@contoso.com"
	cloudPW  = "Demo-Cloud-2026!"
	mailUPN  = "helpdesk@contoso.com"
	mailPW   = "Demo-Mail-2026!"
)

// adminScopes are the Graph scopes the wizard asks for (microsoft.md §5).
var adminScopes = []string{"https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/Application.ReadWrite.All", "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
	"https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All", "https://graph.microsoft.com/User.Read.All"}

func startSim(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func publicClient(t testing.TB, s *Server, clientID, tenant string) public.Client {
	t.Helper()
	if tenant == "" {
		tenant = TenantID
	}
	c, err := public.New(clientID, public.WithAuthority(s.Info().AuthorityHost+"/"+tenant),
		public.WithHTTPClient(s.HTTPClient()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatalf("public.New: %v", err)
	}
	return c
}

func confidentialClient(t testing.TB, s *Server, clientID, secret, tenant string) confidential.Client {
	t.Helper()
	if tenant == "" {
		tenant = TenantID
	}
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := confidential.New(s.Info().AuthorityHost+"/"+tenant, clientID, cred,
		confidential.WithHTTPClient(s.HTTPClient()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatalf("confidential.New: %v", err)
	}
	return c
}

var aadstsRe = regexp.MustCompile(`AADSTS(\d+)`)

// aadCode is the first AADSTS number in an error's text (MSAL errors carry
// the raw body), or 0.
func aadCode(err error) int {
	if err == nil {
		return 0
	}
	m := aadstsRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func wantAAD(t testing.TB, err error, code int) {
	t.Helper()
	if got := aadCode(err); got != code {
		t.Fatalf("want AADSTS%d, got %v", code, err)
	}
}

// claimsOf decodes a JWT's header and payload (the signature is checked
// separately through Backend.VerifyToken).
func claimsOf(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	dec := func(p string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			t.Fatalf("JWT part: %v", err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("JWT part: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// ropcToken gets a Graph token for a user through MSAL's ROPC with the Graph
// Command Line Tools client.
func ropcToken(t testing.TB, s *Server, upn, pw string, scopes []string) string {
	t.Helper()
	res, err := publicClient(t, s, GraphCLIClientID, "").AcquireTokenByUsernamePassword(ctx(t), scopes, upn, pw)
	if err != nil {
		t.Fatalf("ROPC for %s: %v", upn, err)
	}
	return res.AccessToken
}

// rawGraph is a minimal JSON client for test set-up over the real socket.
type rawGraph struct {
	t      testing.TB
	s      *Server
	token  string
	header map[string]string
}

func (g rawGraph) withHeader(k, v string) rawGraph {
	h := map[string]string{k: v}
	for hk, hv := range g.header {
		h[hk] = hv
	}
	g.header = h
	return g
}

func (g rawGraph) do(method, path string, body any) (int, map[string]any, http.Header) {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.s.Info().GraphURL+"/v1.0"+path, rd)
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range g.header {
		req.Header.Set(k, v)
	}
	resp, err := g.s.HTTPClient().Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			g.t.Fatalf("%s %s: body is not JSON: %q", method, path, b)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func (g rawGraph) must(status int, method, path string, body any) map[string]any {
	g.t.Helper()
	st, out, _ := g.do(method, path, body)
	if st != status {
		g.t.Fatalf("%s %s: status %d, want %d: %v", method, path, st, status, out)
	}
	return out
}

func graphCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// testApp is an app made through Graph for identity tests.
type testApp struct {
	id, appID, spID, secret string
}

// newApp creates an application (+ SP, + secret) as the admin over Graph.
func newApp(t testing.TB, g rawGraph, body map[string]any) testApp {
	t.Helper()
	if body["displayName"] == nil {
		body["displayName"] = "Test app " + t.Name()
	}
	a := g.must(201, "POST", "/applications", body)
	app := testApp{id: a["id"].(string), appID: a["appId"].(string)}
	sp := g.must(201, "POST", "/servicePrincipals", map[string]any{"appId": app.appID})
	app.spID = sp["id"].(string)
	pw := g.must(200, "POST", "/applications/"+app.id+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "test"}})
	app.secret = pw["secretText"].(string)
	return app
}

func resourceSPID(t testing.TB, g rawGraph, appID string) string {
	t.Helper()
	sp := g.must(200, "GET", "/servicePrincipals(appId='"+appID+"')", nil)
	return sp["id"].(string)
}

// grantRole assigns an app role of a resource to the app's SP.
func grantRole(t testing.TB, g rawGraph, app testApp, resourceAppID, roleID string) {
	t.Helper()
	res := resourceSPID(t, g, resourceAppID)
	g.must(201, "POST", "/servicePrincipals/"+res+"/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": res, "appRoleId": roleID})
}

func grantDelegated(t testing.TB, g rawGraph, app testApp, resourceAppID, scope string) {
	t.Helper()
	res := resourceSPID(t, g, resourceAppID)
	g.must(201, "POST", "/oauth2PermissionGrants", map[string]any{"clientId": app.spID, "consentType": "AllPrincipals", "resourceId": res, "scope": scope})
}

func adminGraph(t testing.TB, s *Server) rawGraph {
	return rawGraph{t: t, s: s, token: ropcToken(t, s, adminUPN, adminPW, adminScopes)}
}

// postForm posts a form to the identity platform and returns status and JSON.
func postForm(t testing.TB, s *Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := s.HTTPClient().PostForm(s.Info().AuthorityHost+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: body is not JSON: %v", path, err)
	}
	return resp.StatusCode, out
}

const (
	roleIMAPApp   = "5e5addcd-3e8d-4e90-baf5-964efab2b20a"
	roleMailRead  = "810c84a8-4a9e-49e6-bf7d-12d183f40d01"
	roleFullEWS   = "dc890d15-9560-4a4c-9b7f-a736ec74ec40"
	roleSMTPApp   = "7146a1f0-8703-45b3-9eae-527a64c00995"
	rolePOPApp    = "cb842b43-da6e-4506-86fe-bb12199c656d"
	scopeIMAPUser = "195adc35-e27b-454b-a7ed-1ecdffa1c09f"
)

func publicSilentAccount(a public.Account) public.AcquireSilentOption {
	return public.WithSilentAccount(a)
}

func publicChallenge(v string) public.AcquireByAuthCodeOption { return public.WithChallenge(v) }

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
