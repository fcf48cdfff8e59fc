package sim

import (
	"crypto/tls"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestInfoAndClose(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	s, err := Start(Options{CACertFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	b, _ := json.Marshal(info)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"tenant_id", "tenant_name", "domains", "authority_host", "authority", "graph_url", "imap", "pop", "smtp", "ews_url", "exchange_url", "device_login_url", "ca_cert_file", "users"} {
		if m[k] == nil {
			t.Errorf("Info JSON lacks %q", k)
		}
	}
	u := m["users"].([]any)[0].(map[string]any)
	for _, k := range []string{"upn", "display_name", "password", "roles", "licence", "mfa", "shared_mailbox", "mailbox"} {
		if _, ok := u[k]; !ok {
			t.Errorf("Info user lacks %q", k)
		}
	}
	if len(info.Users) != 8 || info.Users[0].Roles[0] != "Global Administrator" || info.Authority != info.AuthorityHost+"/"+TenantID {
		t.Errorf("info %+v", info)
	}
	// Every service is on 127.0.0.1 only.
	for _, addr := range []string{info.IMAP, info.POP, info.SMTP, strings.TrimPrefix(info.GraphURL, "https://"), strings.TrimPrefix(info.AuthorityHost, "https://")} {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("listening on %s", addr)
		}
	}
	if pem, _ := os.ReadFile(caFile); string(pem) != string(s.CACertPEM()) {
		t.Error("CA file content")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", info.IMAP); err == nil {
		t.Error("IMAP still listening after Close")
	}

	// Without CACertFile the PEM goes to a temp folder that Close removes.
	s2, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := s2.Info().CACertFile
	if _, err := os.Stat(tmp); err != nil {
		t.Fatal(err)
	}
	_ = s2.Close()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp CA file left behind: %v", err)
	}
	if _, err := Start(Options{AutoApprove: "ghost@contoso.com"}); err == nil {
		t.Error("AutoApprove with an unknown user started")
	}
}

// TestDeviceLoginPage signs in through the HTML page as a person would.
func TestDeviceLoginPage(t *testing.T) {
	s := startSim(t, Options{})
	pc := publicClient(t, s, GraphCLIClientID, "")
	dc, err := pc.AcquireTokenByDeviceCode(ctx(t), []string{"User.Read"})
	if err != nil {
		t.Fatal(err)
	}
	hc := s.HTTPClient()
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := page(hc.Get(s.Info().DeviceLoginURL)); !strings.Contains(p, `name="user_code"`) {
		t.Fatalf("code page: %s", p)
	}
	if p := page(hc.PostForm(s.Info().DeviceLoginURL, url.Values{"user_code": {"WRONGCODE"}, "action": {"code"}})); !strings.Contains(p, "AADSTS70018") {
		t.Errorf("wrong code page: %s", p)
	}
	p := page(hc.PostForm(s.Info().DeviceLoginURL, url.Values{"user_code": {strings.ToLower(dc.Result.UserCode)}, "action": {"code"}}))
	if !strings.Contains(p, "Microsoft Graph Command Line Tools") || !strings.Contains(p, "User.Read") || !strings.Contains(p, mailUPN) || strings.Contains(p, "support@contoso.com") {
		t.Errorf("approve page: %s", p)
	}
	form := url.Values{"user_code": {dc.Result.UserCode}, "upn": {mailUPN}, "password": {"wrong"}, "action": {"approve"}}
	if p := page(hc.PostForm(s.Info().DeviceLoginURL, form)); !strings.Contains(p, "AADSTS50126") {
		t.Errorf("wrong password page: %s", p)
	}
	form.Set("password", mailPW)
	if p := page(hc.PostForm(s.Info().DeviceLoginURL, form)); !strings.Contains(p, "You have signed in") {
		t.Errorf("approved page: %s", p)
	}
	res, err := dc.AuthenticationResult(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claimsOf(t, res.AccessToken); c["upn"] != mailUPN {
		t.Errorf("signed in as %v", c["upn"])
	}
	// Admin scopes: a user who may not consent to them sees "Need admin approval".
	dc2, err := pc.AcquireTokenByDeviceCode(ctx(t), adminScopes)
	if err != nil {
		t.Fatal(err)
	}
	form = url.Values{"user_code": {dc2.Result.UserCode}, "upn": {mailUPN}, "password": {mailPW}, "action": {"approve"}}
	if p := page(hc.PostForm(s.Info().DeviceLoginURL, form)); !strings.Contains(p, "AADSTS90094") {
		t.Errorf("admin approval page: %s", p)
	}
	form.Set("upn", cloudUPN)
	form.Set("password", cloudPW)
	if p := page(hc.PostForm(s.Info().DeviceLoginURL, form)); !strings.Contains(p, "You have signed in") {
		t.Errorf("cloud admin approval: %s", p)
	}
	if _, err := dc2.AuthenticationResult(ctx(t)); err != nil {
		t.Errorf("cloud admin token: %v", err)
	}
}

// TestNoSecretsInLogs runs sign-ins and a secret creation with logging on.
func TestNoSecretsInLogs(t *testing.T) {
	var logs strings.Builder
	s := startSim(t, Options{Logf: func(f string, a ...any) { logs.WriteString(strings.TrimSpace(sprintf(f, a...)) + "\n") }})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	_, _ = confidentialClient(t, s, app.appID, "wrong", "").AcquireTokenByCredential(ctx(t), []string{"https://outlook.office365.com/.default"})
	for _, secret := range []string{app.secret, g.token, adminPW} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret reached the log")
		}
	}
	if logs.Len() == 0 {
		t.Error("nothing was logged")
	}
}

// TestAuthorizeAutoApproveHonoursLoginHint: unattended browser sign-in
// redirects at once, as the hinted user.
func TestAuthorizeAutoApproveHonoursLoginHint(t *testing.T) {
	s := startSim(t, Options{AutoApprove: adminUPN, Latency: 20 * time.Millisecond})
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{"client_id": {GraphCLIClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:8400/"},
		"scope": {"User.Read openid"}, "login_hint": {mailUPN}, "state": {"st"}}
	start := time.Now()
	resp, err := hc.Get(s.Info().Authority + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if time.Since(start) < 20*time.Millisecond {
		t.Error("Options.Latency was not added")
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	st, tok := postForm(t, s, "/"+TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {GraphCLIClientID},
		"code": {loc.Query().Get("code")}, "redirect_uri": {"http://localhost:8400/"}, "scope": {"User.Read openid"}})
	if st != 200 {
		t.Fatalf("redeem: %d %v", st, tok)
	}
	if _, c := claimsOf(t, tok["access_token"].(string)); c["upn"] != mailUPN {
		t.Errorf("signed in as %v", c["upn"])
	}
	if tok["id_token"] == nil || tok["refresh_token"] != nil {
		t.Errorf("id_token only with openid, refresh_token only with offline_access: %v", tok)
	}
}

// TestPanicBecomesServiceError: a handler panic is answered in the
// service's own error shape and the server keeps serving.
func TestPanicBecomesServiceError(t *testing.T) {
	s := startSim(t, Options{})
	for _, svc := range []string{"graph", "login"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: s.middleware(svc, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))}
		go func() { _ = hs.Serve(ln) }()
		resp, err := http.Get("http://" + ln.Addr().String() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		_ = hs.Close()
		if resp.StatusCode != 500 || body["error"] == nil {
			t.Errorf("%s panic: %d %v", svc, resp.StatusCode, body)
		}
	}
	reqs := s.Requests()
	if len(reqs) < 2 || reqs[len(reqs)-1].Status != 500 {
		t.Errorf("request log %+v", reqs)
	}
}

// MSAL's browser sign-in asks for response_mode=form_post and its loopback
// listener takes only POST: the answer is a page that posts the code.
func TestAuthorizeFormPost(t *testing.T) {
	s := startSim(t, Options{AutoApprove: adminUPN})
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{"client_id": {GraphCLIClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:8400/"},
		"scope": {"User.Read"}, "state": {"st<&>"}, "response_mode": {"form_post"}}
	resp, err := hc.Get(s.Info().Authority + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	m := regexp.MustCompile(`name="code" value="([^"]+)"`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(page, `action="http://localhost:8400/"`) ||
		!strings.Contains(page, `value="st&lt;&amp;&gt;"`) || !strings.Contains(page, "document.forms[0].submit()") {
		t.Fatalf("form_post page: %d\n%s", resp.StatusCode, page)
	}
	st, _ := postForm(t, s, "/"+TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {GraphCLIClientID},
		"code": {html.UnescapeString(m[1])}, "redirect_uri": {"http://localhost:8400/"}, "scope": {"User.Read"}})
	if st != 200 {
		t.Fatalf("redeem: %d", st)
	}
}

// Options.Latency paces every listener: HTTP requests and each reply of
// the mail protocols.
func TestLatencyOnMailListeners(t *testing.T) {
	s := startSim(t, Options{Latency: 60 * time.Millisecond})
	for _, addr := range []string{s.Info().IMAP, s.Info().POP} {
		start := time.Now()
		c, err := tls.Dial("tcp", addr, s.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if time.Since(start) < 60*time.Millisecond {
			t.Errorf("%s greeted without the latency", addr)
		}
	}
	start := time.Now()
	c, err := net.Dial("tcp", s.Info().SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err != nil || time.Since(start) < 60*time.Millisecond {
		t.Errorf("SMTP greeting: %v after %v", err, time.Since(start))
	}
}
