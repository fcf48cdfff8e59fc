package cloud

import (
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// twoServers is a cloud on one 127.0.0.1 server and an outside server on
// another port, both trusted, each counting the requests it got.
func twoServers(t *testing.T) (Cloud, *httptest.Server, *httptest.Server, *atomic.Int32) {
	t.Helper()
	var outsideHits atomic.Int32
	outside := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outsideHits.Add(1)
		io.WriteString(w, "outside")
	}))
	t.Cleanup(outside.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok auth="+r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/inside", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, outside.URL+"/token", http.StatusTemporaryRedirect)
	})
	inside := httptest.NewTLSServer(mux)
	t.Cleanup(inside.Close)
	pool := x509.NewCertPool()
	pool.AddCert(inside.Certificate())
	pool.AddCert(outside.Certificate())
	c := Global()
	c.Name = "custom"
	c.AuthorityHost, c.GraphURL, c.EWSURL = inside.URL, inside.URL, inside.URL+"/EWS/Exchange.asmx"
	c.RootCAs = pool
	return c, inside, outside, &outsideHits
}

func do(t *testing.T, c Cloud, method, u, body, auth string) (string, error) {
	t.Helper()
	hc, err := c.HTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

func TestCheckRedirect(t *testing.T) {
	c, inside, outside, hits := twoServers(t)
	outsideHost := strings.TrimPrefix(outside.URL, "https://")

	// Within the cloud, without a credential or with a bearer token: followed.
	if got, err := do(t, c, "GET", inside.URL+"/inside", "", ""); err != nil || got != "ok auth=" {
		t.Fatalf("redirect within the cloud: %q %v", got, err)
	}
	if got, err := do(t, c, "GET", inside.URL+"/inside", "", "Bearer tok"); err != nil || got != "ok auth=Bearer tok" {
		t.Fatalf("bearer redirect within the cloud: %q %v", got, err)
	}
	// Any redirect out of the cloud: refused, with or without a credential.
	for _, auth := range []string{"", "Bearer tok"} {
		_, err := do(t, c, "GET", inside.URL+"/away", "", auth)
		var re *RedirectError
		if !errors.As(err, &re) || !re.Outside || !strings.Contains(err.Error(), "redirect to "+outsideHost) {
			t.Fatalf("redirect out of the cloud (auth %q): %v", auth, err)
		}
		if auth == "" && !strings.Contains(err.Error(), "follows redirects only within the cloud") {
			t.Errorf("message: %v", err)
		}
		if auth != "" && !strings.Contains(err.Error(), "never sends credentials to another host (a bearer token") {
			t.Errorf("message: %v", err)
		}
	}
	// A form with a refresh token: not even re-posted to the same host.
	_, err := do(t, c, "POST", inside.URL+"/inside", "grant_type=refresh_token&refresh_token=rt&client_id=x", "")
	var re *RedirectError
	if !errors.As(err, &re) || re.Outside || !strings.Contains(err.Error(), "never sends credentials again after a redirect (a refresh token") {
		t.Fatalf("credential POST redirected within the cloud: %v", err)
	}
	// A form without a credential follows a redirect within the cloud.
	if got, err := do(t, c, "POST", inside.URL+"/inside", "grant_type=x&client_id=y", ""); err != nil || !strings.HasPrefix(got, "ok") {
		t.Fatalf("plain POST: %q %v", got, err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the outside server got %d requests", n)
	}
}

func TestGuardKeepsCredentialsInTheCloud(t *testing.T) {
	c, _, outside, hits := twoServers(t)
	for _, tc := range []struct{ body, auth, want string }{
		{"grant_type=client_credentials&client_secret=s3cret&client_id=x", "", "the client secret"},
		{"grant_type=password&username=u&password=p", "", "the password"},
		{"grant_type=authorization_code&code=c&code_verifier=v", "", "an authorization code"},
		{"", "Bearer tok", "a bearer token"},
		{"", "Basic eDpz", "the client secret (basic authentication)"},
	} {
		_, err := do(t, c, "POST", outside.URL+"/token", tc.body, tc.auth)
		var ce *CredentialHostError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "refusing to send "+tc.want+" to 127.0.0.1:") {
			t.Errorf("%q %q: %v", tc.body, tc.auth, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the outside server got %d requests", n)
	}
	// Without a credential the outside host may be reached (discovery
	// metadata, a federation server's public document).
	if got, err := do(t, c, "GET", outside.URL+"/mex", "", ""); err != nil || got != "outside" {
		t.Fatalf("plain GET outside: %q %v", got, err)
	}
}

// TestGuardReadsBodiesThatCannotBeReread: a body without GetBody is read
// once, inspected and still sent whole.
func TestGuardReadsBodiesThatCannotBeReread(t *testing.T) {
	c, _, outside, hits := twoServers(t)
	hc, _ := c.HTTPClient(nil)
	req, _ := http.NewRequest("POST", outside.URL+"/token", io.MultiReader(strings.NewReader("password=p")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := hc.Do(req); err == nil || !strings.Contains(err.Error(), "refusing to send the password") {
		t.Fatalf("%v", err)
	}
	req, _ = http.NewRequest("POST", outside.URL+"/x", io.MultiReader(strings.NewReader("a=b")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := hc.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if hits.Load() != 1 {
		t.Fatalf("hits %d", hits.Load())
	}
}

func TestOriginsAndServiceName(t *testing.T) {
	g := Global()
	want := []string{"https://graph.microsoft.com:443", "https://login.microsoftonline.com:443", "https://outlook.office365.com:443"}
	if got := g.Origins(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("origins %v", got)
	}
	for raw, name := range map[string]string{
		"https://login.microsoftonline.com/common/oauth2/v2.0/token":      "the token endpoint",
		"https://LOGIN.microsoftonline.com:443/x/oauth2/v2.0/devicecode":  "the device code endpoint",
		"https://login.microsoftonline.com/x/v2.0/.well-known/openid":     "the identity platform",
		"https://graph.microsoft.com/v1.0/me":                             "Microsoft Graph",
		"https://outlook.office365.com/EWS/Exchange.asmx":                 "Exchange Web Services",
		"https://login.microsoftonline.com:8443/common/oauth2/v2.0/token": "login.microsoftonline.com:8443",
		"http://login.microsoftonline.com/common/oauth2/v2.0/token":       "login.microsoftonline.com",
	} {
		u, _ := url.Parse(raw)
		if got := g.ServiceName(u); got != name {
			t.Errorf("%s: %q, want %q", raw, got, name)
		}
	}
}
