package signin

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

const admin = "admin@contoso.onmicrosoft.com"

func startSim(t *testing.T, opts sim.Options) (*sim.Server, cloud.Cloud) {
	t.Helper()
	s, err := sim.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, simCloud(t, s)
}

func simCloud(t *testing.T, s *sim.Server) cloud.Cloud { return simcloud.Must(t, s) }

func TestScopesLeastPrivilege(t *testing.T) {
	c := cloud.Global()
	got := strings.Join(Scopes(c, Needs{}), " ")
	if got != "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/RoleManagement.Read.Directory" {
		t.Errorf("minimal scopes = %s", got)
	}
	all := strings.Join(Scopes(c, Needs{AppRoles: true, DelegatedConsent: true, ReadUsers: true}), " ")
	for _, want := range []string{"AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "User.Read.All"} {
		if !strings.Contains(all, "https://graph.microsoft.com/"+want) {
			t.Errorf("scopes %s lack %s", all, want)
		}
	}
	if strings.Contains(strings.Join(Scopes(c, Needs{AppRoles: true}), " "), "DelegatedPermissionGrant") {
		t.Error("DelegatedPermissionGrant requested without delegated consent")
	}
}

// TestDeviceCodeSignIn signs in against the simulator with the real MSAL
// client: the code is shown, approved, and the token refreshes silently.
func TestDeviceCodeSignIn(t *testing.T) {
	s, c := startSim(t, sim.Options{AutoApprove: admin})
	var prompt DeviceCodePrompt
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := SignIn(ctx, Options{Cloud: c, Scopes: Scopes(c, Needs{DelegatedConsent: true}), OnDeviceCode: func(p DeviceCodePrompt) { prompt = p }})
	if err != nil {
		t.Fatal(err)
	}
	if prompt.UserCode == "" || !strings.HasPrefix(prompt.VerificationURL, "https://127.0.0.1") {
		t.Errorf("prompt = %+v", prompt)
	}
	if sess.Username() != admin || sess.Method() != MethodDeviceCode {
		t.Errorf("signed in as %q by %s", sess.Username(), sess.Method())
	}
	if sess.TenantID() != s.Info().TenantID {
		t.Errorf("tenant %q, want %q", sess.TenantID(), s.Info().TenantID)
	}
	tok, err := sess.Token(ctx)
	if err != nil || tok == "" {
		t.Fatalf("silent token: %v", err)
	}
	// The token works against Graph.
	req, _ := http.NewRequest("GET", c.GraphV1()+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /me with the token = %d", resp.StatusCode)
	}
}

// TestDeviceCodeDeclined surfaces the identity platform's error with its code.
func TestDeviceCodeDeclined(t *testing.T) {
	s, c := startSim(t, sim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var once sync.Once
	_, err := SignIn(ctx, Options{Cloud: c, Scopes: Scopes(c, Needs{}), NoBrowserFallback: true, OnDeviceCode: func(p DeviceCodePrompt) {
		once.Do(func() {
			go func() {
				if err := s.DeclineDeviceCode(p.UserCode); err != nil {
					t.Error(err)
				}
			}()
		})
	}})
	if err == nil {
		t.Fatal("a declined sign-in succeeded")
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not a *signin.Error", err, err)
	}
	t.Logf("declined: %v", err)
}

// TestDeviceCodeCancelled stops polling when the context ends.
func TestDeviceCodeCancelled(t *testing.T) {
	_, c := startSim(t, sim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	_, err := SignIn(ctx, Options{Cloud: c, Scopes: Scopes(c, Needs{}), OnDeviceCode: func(DeviceCodePrompt) { time.AfterFunc(300*time.Millisecond, cancel) }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancel took %s", time.Since(start))
	}
}

// TestBrowserSignIn runs the loopback + PKCE sign-in: the "browser" is an
// HTTP client that follows the simulator's redirect back to MSAL's loopback
// listener.
func TestBrowserSignIn(t *testing.T) {
	s, c := startSim(t, sim.Options{AutoApprove: admin})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hc := s.HTTPClient()
	sess, err := SignIn(ctx, Options{Cloud: c, Scopes: Scopes(c, Needs{}), Browser: true, OpenURL: func(u string) error {
		if !strings.Contains(u, "code_challenge=") || !strings.Contains(u, "code_challenge_method=S256") {
			t.Errorf("authorize URL lacks PKCE: %s", u)
		}
		go func() {
			if err := browse(hc, u); err != nil {
				t.Errorf("browser: %v", err)
			}
		}()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Method() != MethodBrowser || sess.Username() != admin {
		t.Errorf("method %s user %s", sess.Method(), sess.Username())
	}
}

// browse plays the browser: it opens the authorize URL and delivers the
// answer to MSAL's loopback listener the way MSAL asks for it
// (response_mode=form_post). An identity platform that answers with a
// redirect carrying the code in the query (the simulator at the time of
// writing) is converted into the form post a browser would make for a
// form_post answer; an HTML form_post page is submitted as is.
func browse(hc *http.Client, authorizeURL string) error {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(authorizeURL)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var target string
	form := url.Values{}
	switch {
	case resp.StatusCode/100 == 3:
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return err
		}
		form = loc.Query()
		loc.RawQuery = ""
		target = loc.String()
	default:
		m := regexp.MustCompile(`action="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			return fmt.Errorf("authorize answered %d without a redirect or form: %.200s", resp.StatusCode, body)
		}
		target = html.UnescapeString(string(m[1]))
		for _, in := range regexp.MustCompile(`name="([^"]+)"\s+value="([^"]*)"`).FindAllSubmatch(body, -1) {
			form.Set(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
		}
	}
	r, err := http.PostForm(target, form) // the loopback listener is plain http on localhost
	if err != nil {
		return err
	}
	r.Body.Close()
	return nil
}

// TestDeviceCodeBlockedClassification: the Conditional Access block that
// triggers the browser fallback is recognised in MSAL's text error (the raw
// token-endpoint body inside), and other failures are not.
func TestDeviceCodeBlockedClassification(t *testing.T) {
	blocked := errors.New(`http call(https://login.microsoftonline.com/organizations/oauth2/v2.0/token)(POST) error: reply status code was 400:
{"error":"access_denied","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.","error_codes":[53003],"trace_id":"t","correlation_id":"c"}`)
	if !DeviceCodeBlocked(wrap("device code", "https://login.microsoftonline.com/organizations", blocked)) {
		t.Error("53003 not recognised")
	}
	declined := errors.New(`reply status code was 400:
{"error":"authorization_declined","error_description":"AADSTS70000: The user declined.","error_codes":[70000]}`)
	if DeviceCodeBlocked(wrap("device code", "https://login.microsoftonline.com/organizations", declined)) {
		t.Error("a declined sign-in must not fall back to the browser")
	}
	if DeviceCodeBlocked(wrap("device code", "https://login.microsoftonline.com/organizations", errors.New("dial tcp: connection refused"))) {
		t.Error("a network error must not fall back")
	}
	var se *Error
	if !errors.As(wrap("device code", "https://login.microsoftonline.com/organizations", blocked), &se) || se.Explanation.Fix == "" || !strings.Contains(se.Error(), "AADSTS53003") {
		t.Errorf("error = %v", se)
	}
}

// TestBadTenantRefusedBeforeAnyRequest: no request for a malformed tenant.
func TestBadTenantRefusedBeforeAnyRequest(t *testing.T) {
	s, c := startSim(t, sim.Options{AutoApprove: admin})
	for _, bad := range []string{"contoso onmicrosoft", "../x", "a/b", "contoso"} {
		_, err := SignIn(context.Background(), Options{Cloud: c, Tenant: bad, Scopes: Scopes(c, Needs{}), OnDeviceCode: func(DeviceCodePrompt) {}})
		if err == nil || !strings.Contains(err.Error(), "tenant:") {
			t.Errorf("tenant %q: err = %v", bad, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests reached the simulator", n)
	}
}

// TestDeviceCodeExpires: nobody enters the code; the sign-in ends with ErrExpired.
func TestDeviceCodeExpires(t *testing.T) {
	s, c := startSim(t, sim.Options{})
	s.SetDeviceCodeLifetime(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := SignIn(ctx, Options{Cloud: c, Scopes: Scopes(c, Needs{}), OnDeviceCode: func(DeviceCodePrompt) {}})
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s", d)
	}
}

// A Conditional Access policy that blocks the device code flow (AADSTS53003)
// makes the sign-in fall back to the browser with a loopback redirect and
// PKCE, and says why; with the fallback turned off, the error names 53003.
func TestDeviceCodeBlockedFallsBackToBrowser(t *testing.T) {
	s, c := startSim(t, sim.Options{AutoApprove: admin})
	s.SetDeviceCodeBlocked(true)
	hc := s.HTTPClient()
	var reason error
	var opened bool
	opts := Options{Cloud: c, Scopes: Scopes(c, Needs{}), OnDeviceCode: func(DeviceCodePrompt) {},
		OnFallback: func(err error) { reason = err },
		OpenURL: func(u string) error {
			opened = true
			go func() { _ = browse(hc, u) }()
			return nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := SignIn(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Method() != MethodBrowser || sess.Username() != admin || !opened {
		t.Fatalf("method %s user %s opened %v", sess.Method(), sess.Username(), opened)
	}
	if reason == nil || !strings.Contains(reason.Error(), "53003") {
		t.Errorf("fallback reason: %v", reason)
	}

	opts.NoBrowserFallback, opened = true, false
	_, err = SignIn(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "53003") || opened {
		t.Fatalf("without fallback: err %v, browser opened %v", err, opened)
	}
}
