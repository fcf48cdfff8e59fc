package exchange

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// startHTTPS serves h over TLS on 127.0.0.1 with the test CA.
func startHTTPS(t *testing.T, e *env, h http.Handler) (string, *http.Client) {
	return startHTTPSB(t, e, h)
}

func startHTTPSB(t testing.TB, e *env, h http.Handler) (string, *http.Client) {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = e.ca.server.Clone()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: e.ca.client}}
}

func ewsBody(op, impersonate, folderMailbox string) string {
	header := `<t:RequestServerVersion Version="Exchange2013"/>`
	if impersonate != "" {
		header += `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>` + impersonate + `</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
	}
	folder := `<t:DistinguishedFolderId Id="inbox"/>`
	if folderMailbox != "" {
		folder = `<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>` + folderMailbox + `</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>`
	}
	body := `<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds>` + folder + `</m:FolderIds></m:GetFolder>`
	if op == "FindItem" {
		body = `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>` +
			`<m:IndexedPageItemView MaxEntriesReturned="2" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds>` + folder + `</m:ParentFolderIds></m:FindItem>`
	}
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">` +
		`<soap:Header>` + header + `</soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
}

type ewsResult struct {
	status int
	header http.Header
	body   string
	parsed ewsParsed
}

// ewsParsed is what a client reads from an EWS response.
type ewsParsed struct {
	Body struct {
		Fault struct {
			FaultCode   string `xml:"faultcode"`
			FaultString string `xml:"faultstring"`
			Code        string `xml:"detail>ResponseCode"`
		} `xml:"Fault"`
		GetFolder struct {
			Msg struct {
				Class  string `xml:"ResponseClass,attr"`
				Code   string `xml:"ResponseCode"`
				Text   string `xml:"MessageText"`
				Folder struct {
					ID struct {
						ID string `xml:"Id,attr"`
					} `xml:"FolderId"`
					Name   string `xml:"DisplayName"`
					Total  int    `xml:"TotalCount"`
					Child  int    `xml:"ChildFolderCount"`
					Unread int    `xml:"UnreadCount"`
				} `xml:"Folders>Folder"`
			} `xml:"ResponseMessages>GetFolderResponseMessage"`
		} `xml:"GetFolderResponse"`
		FindItem struct {
			Msg struct {
				Class string `xml:"ResponseClass,attr"`
				Code  string `xml:"ResponseCode"`
				Root  struct {
					Total int `xml:"TotalItemsInView,attr"`
					Items []struct {
						Subject string `xml:"Subject"`
						IsRead  bool   `xml:"IsRead"`
						From    string `xml:"From>Mailbox>EmailAddress"`
					} `xml:"Items>Message"`
				} `xml:"RootFolder"`
			} `xml:"ResponseMessages>FindItemResponseMessage"`
		} `xml:"FindItemResponse"`
	} `xml:"Body"`
}

func ewsCall(t *testing.T, client *http.Client, url, token, anchor, body string) ewsResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/EWS/Exchange.asmx", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if anchor != "" {
		req.Header.Set("X-AnchorMailbox", anchor)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := ewsResult{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if len(b) > 0 {
		if err := xml.Unmarshal(b, &res.parsed); err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, b)
		}
	}
	return res
}

func TestEWSSuccess(t *testing.T) {
	e := newEnv(t)
	url, client := startHTTPS(t, e, NewEWSHandler(e.cfg))
	helpdesk := "helpdesk@contoso.com"
	cases := []struct {
		name, token, impersonate string
	}{
		{"delegated", e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "EWS.AccessAsUser.All"}), ""},
		{"app-only with impersonation", e.appOnly(t, "full_access_as_app"), helpdesk},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := ewsCall(t, client, url, tc.token, helpdesk, ewsBody("GetFolder", tc.impersonate, ""))
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			m := res.parsed.Body.GetFolder.Msg
			if m.Class != "Success" || m.Code != "NoError" || m.Folder.Name != "Inbox" || m.Folder.Total != 3 ||
				m.Folder.Unread != 2 || m.Folder.Child != 0 || m.Folder.ID.ID == "" {
				t.Errorf("GetFolder = %+v", m)
			}
			if ct := res.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			res = ewsCall(t, client, url, tc.token, helpdesk, ewsBody("FindItem", tc.impersonate, ""))
			f := res.parsed.Body.FindItem.Msg
			if res.status != 200 || f.Class != "Success" || f.Root.Total != 3 || len(f.Root.Items) != 2 ||
				f.Root.Items[0].Subject != "Password reset" || f.Root.Items[0].From != "user@fabrikam.com" {
				t.Errorf("FindItem = %d %+v", res.status, f)
			}
		})
	}
	// Audience given as the Exchange appId, with a trailing-slash URL form too.
	for _, aud := range []string{"00000002-0000-0ff1-ce00-000000000000", "https://outlook.office.com/"} {
		tok := e.tenant.token(t, tokenSpec{aud: aud, upn: helpdesk, scp: "EWS.AccessAsUser.All"})
		if res := ewsCall(t, client, url, tok, "", ewsBody("GetFolder", "", "")); res.status != 200 {
			t.Errorf("aud %s: status %d", aud, res.status)
		}
	}
}

// Row "Token bad ...": 401 with Exchange's WWW-Authenticate and x-ms-diagnostics.
func TestEWSTokenFailures(t *testing.T) {
	e := newEnv(t)
	url, client := startHTTPS(t, e, NewEWSHandler(e.cfg))
	helpdesk := "helpdesk@contoso.com"
	const wantAuth = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"`
	cases := []struct {
		name, token, reason string
	}{
		{"expired", e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "EWS.AccessAsUser.All", exp: -time.Minute}), `reason="The token has expired."`},
		{"graph audience", e.tenant.token(t, tokenSpec{aud: "https://graph.microsoft.com", upn: helpdesk, scp: "EWS.AccessAsUser.All"}), `reason="The audience claim value is invalid for current resource. Audience claim is 'https://graph.microsoft.com'`},
		{"no EWS scope", e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "IMAP.AccessAsUser.All"}), `reason="The token contains no permissions, or permissions can not be understood."`},
		{"app-only without full_access_as_app", e.appOnly(t, "IMAP.AccessAsApp"), `reason="The token contains no permissions`},
		{"other tenant", e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "EWS.AccessAsUser.All", tid: "72f988bf-86f1-41af-91ab-2d7cd011db47"}), `reason="The tenant for tenant guid '72f988bf-86f1-41af-91ab-2d7cd011db47' does not exist."`},
		{"bad signature", e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "EWS.AccessAsUser.All", badKey: true}), `reason="The token is invalid."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := ewsCall(t, client, url, tc.token, helpdesk, ewsBody("GetFolder", "", ""))
			if res.status != http.StatusUnauthorized {
				t.Fatalf("status %d", res.status)
			}
			if got := res.header.Get("WWW-Authenticate"); got != wantAuth {
				t.Errorf("WWW-Authenticate = %s", got)
			}
			if d := res.header.Get("x-ms-diagnostics"); !strings.HasPrefix(d, "2000001;") || !strings.Contains(d, tc.reason) {
				t.Errorf("x-ms-diagnostics = %s, want %s", d, tc.reason)
			}
			e.checkNoToken(t, tc.token)
		})
	}
	res := ewsCall(t, client, url, "", "", ewsBody("GetFolder", "", ""))
	if res.status != http.StatusUnauthorized || strings.Contains(res.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("no token: %d %q", res.status, res.header.Get("WWW-Authenticate"))
	}
}

func TestEWSRefusals(t *testing.T) {
	e := newEnv(t)
	url, client := startHTTPS(t, e, NewEWSHandler(e.cfg))
	helpdesk := "helpdesk@contoso.com"
	app := e.appOnly(t, "full_access_as_app")
	deleg := e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "EWS.AccessAsUser.All"})

	t.Run("app-only without ExchangeImpersonation", func(t *testing.T) {
		res := ewsCall(t, client, url, app, helpdesk, ewsBody("GetFolder", "", ""))
		f := res.parsed.Body.Fault
		if res.status != 500 || f.FaultCode != "a:ErrorInvalidExchangeImpersonationHeaderData" || f.Code != "ErrorInvalidExchangeImpersonationHeaderData" ||
			f.FaultString != "ExchangeImpersonation SOAP header must be present for this type of OAuth token." {
			t.Errorf("%d %+v", res.status, f)
		}
	})
	t.Run("app-only impersonating a non-existent mailbox", func(t *testing.T) {
		res := ewsCall(t, client, url, app, "nobody@contoso.com", ewsBody("GetFolder", "nobody@contoso.com", ""))
		if res.status != 500 || res.parsed.Body.Fault.Code != "ErrorNonExistentMailbox" {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("delegated user without a mailbox", func(t *testing.T) {
		tok := e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: "unlicensed@contoso.com", scp: "EWS.AccessAsUser.All"})
		res := ewsCall(t, client, url, tok, "", ewsBody("GetFolder", "", ""))
		m := res.parsed.Body.GetFolder.Msg
		if res.status != 200 || m.Class != "Error" || m.Code != "ErrorNonExistentMailbox" {
			t.Errorf("%d %+v", res.status, m)
		}
	})
	t.Run("delegated user opening another mailbox", func(t *testing.T) {
		res := ewsCall(t, client, url, deleg, "", ewsBody("GetFolder", "", "support@contoso.com"))
		m := res.parsed.Body.GetFolder.Msg
		if res.status != 200 || m.Class != "Error" || m.Code != "ErrorAccessDenied" || m.Text != "Access is denied. Check credentials and try again." {
			t.Errorf("%d %+v", res.status, m)
		}
	})
	t.Run("delegated user impersonating", func(t *testing.T) {
		res := ewsCall(t, client, url, deleg, "", ewsBody("GetFolder", "support@contoso.com", ""))
		if res.status != 500 || res.parsed.Body.Fault.Code != "ErrorImpersonateUserDenied" {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("malformed SOAP", func(t *testing.T) {
		res := ewsCall(t, client, url, deleg, "", "<soap:Envelope><oops")
		if res.status != 500 || res.parsed.Body.Fault.Code != "ErrorSchemaValidation" {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("EWS off on the mailbox", func(t *testing.T) {
		e.tenant.update(helpdesk, func(m *Mailbox) { m.EWSEnabled = false })
		defer e.tenant.update(helpdesk, func(m *Mailbox) { m.EWSEnabled = true })
		for _, tc := range []struct{ tok, imp string }{{deleg, ""}, {app, helpdesk}} {
			if res := ewsCall(t, client, url, tc.tok, helpdesk, ewsBody("GetFolder", tc.imp, "")); res.status != http.StatusForbidden {
				t.Errorf("status %d", res.status)
			}
		}
	})
	t.Run("app not in EwsAllowedAppIDs", func(t *testing.T) {
		e.tenant.mu.Lock()
		e.tenant.ewsBlocked[testAppID] = true
		e.tenant.mu.Unlock()
		if res := ewsCall(t, client, url, app, helpdesk, ewsBody("GetFolder", helpdesk, "")); res.status != http.StatusForbidden {
			t.Errorf("status %d", res.status)
		}
	})
	t.Run("GET", func(t *testing.T) {
		resp, err := client.Get(url + "/EWS/Exchange.asmx")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}
