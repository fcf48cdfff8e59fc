package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func FuzzPowerShell(f *testing.F) {
	for _, seed := range []string{
		"New-ServicePrincipal -AppId a -ObjectId b",
		`Set-CASMailbox "helpdesk@contoso.com" -ImapEnabled:$true -Confirm:$false`,
		"Set-OrganizationConfig -EwsAllowedAppIDs 'a,b' -EwsEnabled $null # trailing",
		"Add-RecipientPermission -AccessRights SendAs -Trustee",
		"'unterminated", "-", "Set-TransportConfig -SmtpClientAuthenticationDisabled maybe",
	} {
		f.Add(seed)
	}
	s := startSim(f, Options{})
	f.Fuzz(func(t *testing.T, script string) {
		_, _ = s.RunPowerShell(script) // must not panic
	})
}

func FuzzGraphFilter(f *testing.F) {
	for _, seed := range []string{"appId eq 'x'", "a eq 'it''s' and b eq 'y'", "a eq", "a eq 'x' or b eq 'y'", "eq eq eq", "'"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		terms, e := parseFilter(filter)
		if e == nil {
			for _, term := range terms {
				if term.prop == "" {
					t.Fatalf("empty property from %q", filter)
				}
			}
		}
	})
}

// FuzzIdentityAndGraph sends arbitrary paths and form bodies to the running
// services: every answer must be an HTTP response (no crash, no hang).
func FuzzIdentityAndGraph(f *testing.F) {
	for _, seed := range []struct{ path, body string }{
		{"/" + TenantID + "/oauth2/v2.0/token", "grant_type=password&scope=%00"},
		{"/common/oauth2/v2.0/token", "grant_type=client_credentials&client_id=x&client_secret=y&scope=a/.default"},
		{"/" + TenantID + "/oauth2/v2.0/devicecode", "client_id=" + GraphCLIClientID + "&scope=https://x/y"},
		{"/v1.0/applications(appId='')/addPassword", "{}"},
		{"/v1.0/$batch", `{"requests":[{"id":"1","method":"GET","url":"/me","dependsOn":["1"]}]}`},
		{"/v1.0/users/%ZZ", ""},
	} {
		f.Add(seed.path, seed.body)
	}
	s := startSim(f, Options{})
	tok := ropcToken(f, s, adminUPN, adminPW, adminScopes)
	hc := s.HTTPClient()
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#?") {
			return
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return
		}
		for _, base := range []string{s.Info().AuthorityHost, s.Info().GraphURL} {
			req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 && resp.StatusCode != 503 {
				t.Fatalf("%s %q: status %d", path, body, resp.StatusCode)
			}
		}
	})
}
