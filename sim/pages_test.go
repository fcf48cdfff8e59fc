package sim

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var demoScopes = []string{"https://outlook.office365.com/IMAP.AccessAsUser.All", "https://outlook.office365.com/POP.AccessAsUser.All",
	"https://outlook.office365.com/SMTP.Send", "https://outlook.office365.com/EWS.AccessAsUser.All", "offline_access"}

// devicePages returns the device-login code page and the approve page for
// a pending device code with the mail scopes.
func devicePages(t *testing.T, s *Server) (codePage, approvePage string) {
	t.Helper()
	app, _ := mailApp(t, s)
	dc, err := publicClient(t, s, app.appID, "").AcquireTokenByDeviceCode(ctx(t), demoScopes)
	if err != nil {
		t.Fatal(err)
	}
	read := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	hc := s.HTTPClient()
	codePage = read(hc.Get(s.Info().DeviceLoginURL))
	approvePage = read(hc.PostForm(s.Info().DeviceLoginURL, url.Values{"user_code": {dc.Result.UserCode}, "action": {"code"}}))
	return codePage, approvePage
}

func TestDemoPagesListAccounts(t *testing.T) {
	demo := startSim(t, Options{Demo: true})
	code, approve := devicePages(t, demo)
	for name, p := range map[string]string{"code page": code, "approve page": approve} {
		for _, want := range []string{adminUPN, adminPW, mailUPN, mailPW, cloudPW, "Global Administrator", "MFA required"} {
			if !strings.Contains(p, want) {
				t.Errorf("demo %s lacks %q", name, want)
			}
		}
		if strings.Contains(p, "--info") {
			t.Errorf("demo %s names mailoauth sim --info", name)
		}
		if strings.Contains(p, "support@contoso.com") || strings.Contains(p, "Tailspin") {
			t.Errorf("demo %s lists a blocked account or another tenant", name)
		}
	}
	plain := startSim(t, Options{})
	code, approve = devicePages(t, plain)
	for _, p := range []string{code, approve} {
		if strings.Contains(p, adminPW) || strings.Contains(p, mailPW) {
			t.Error("a password on a page of a sim not started for a demo")
		}
	}
	if !strings.Contains(approve, "mailoauth sim --info") {
		t.Error("the non-demo hint is gone")
	}
	// Scopes are shown with a break opportunity after the resource.
	if !strings.Contains(approve, "https://outlook.office365.com/<wbr>IMAP.AccessAsUser.All") {
		t.Errorf("scope list: %s", approve)
	}
}

// TestPagesFitAPhone renders the demo's approve page (the longest page,
// with the scope list and the account table) in headless Chromium in a
// 360 px wide frame and asserts nothing runs off it (it fails without
// Chromium, except with -short).
func TestPagesFitAPhone(t *testing.T) {
	var browser string
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if testing.Short() {
			t.Skip("-short: no Chromium on PATH")
		}
		t.Fatal("this test renders the page in headless Chromium: install chromium (or run with -short)")
	}
	s := startSim(t, Options{Demo: true})
	_, approve := devicePages(t, s)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.html"), []byte(approve), 0o600); err != nil {
		t.Fatal(err)
	}
	outer := `<!doctype html><html><body style="margin:0"><iframe id="f" src="page.html" width="360" height="3000" style="border:0"></iframe><script>
window.onload=function(){var d=document.getElementById('f').contentDocument.documentElement;document.body.setAttribute('data-m',d.scrollWidth+' '+d.clientWidth)}</script></body></html>`
	if err := os.WriteFile(filepath.Join(dir, "outer.html"), []byte(outer), 0o600); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(c, browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+filepath.Join(dir, "outer.html")).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`data-m="(\d+) (\d+)"`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no measurement in %s", out)
	}
	scroll, _ := strconv.Atoi(m[1])
	client, _ := strconv.Atoi(m[2])
	if client != 360 || scroll > client {
		t.Errorf("at 360 px the page is %d px wide (frame %d px)", scroll, client)
	}
}
