package exchange

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

type graphResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func graphCall(t *testing.T, client *http.Client, method, url, token, body string) graphResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("client-request-id", "c0ffee00-0000-0000-0000-000000000001")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := graphResult{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &res.body); err != nil {
			t.Fatalf("not JSON: %v: %s", err, b)
		}
	}
	return res
}

// wantGraphError checks status, code, message and the innerError fields.
func wantGraphError(t *testing.T, res graphResult, status int, code, message string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status %d, want %d: %s", res.status, status, res.raw)
		return
	}
	e, _ := res.body["error"].(map[string]any)
	inner, _ := e["innerError"].(map[string]any)
	if e["code"] != code || (message != "" && e["message"] != message) {
		t.Errorf("error = %v, want %s %q", e, code, message)
	}
	if inner["request-id"] == "" || inner["request-id"] != res.header.Get("request-id") ||
		inner["client-request-id"] != "c0ffee00-0000-0000-0000-000000000001" || inner["date"] == nil {
		t.Errorf("innerError = %v", inner)
	}
}

func (e *env) graphToken(t *testing.T, upn, scp string, roles ...string) string {
	oid := "a1000000-0000-0000-0000-000000000003"
	if upn == "" {
		oid = "b2000000-0000-0000-0000-000000000001"
	}
	return e.tenant.token(t, tokenSpec{aud: "https://graph.microsoft.com", upn: upn, oid: oid, scp: scp, roles: roles})
}

func TestGraphMailRead(t *testing.T) {
	e := newEnv(t)
	base, client := startHTTPS(t, e, NewGraphMailHandler(e.cfg))
	helpdesk := "helpdesk@contoso.com"
	deleg := e.graphToken(t, helpdesk, "Mail.Read User.Read")
	app := e.graphToken(t, "", "", "Mail.ReadWrite")
	for _, tc := range []struct{ name, path, token string }{
		{"me, delegated", "/v1.0/me", deleg},
		{"users/upn, delegated", "/v1.0/users/" + helpdesk, deleg},
		{"users/own oid, delegated", "/v1.0/users/a1000000-0000-0000-0000-000000000003", deleg},
		{"users/upn, app-only", "/v1.0/users/" + helpdesk, app},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := graphCall(t, client, "GET", base+tc.path+"/mailFolders/inbox", tc.token, "")
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.raw)
			}
			b := res.body
			if b["displayName"] != "Inbox" || b["totalItemCount"] != 3.0 || b["unreadItemCount"] != 2.0 || b["childFolderCount"] != 0.0 ||
				b["id"] == "" || b["parentFolderId"] == "" {
				t.Errorf("inbox = %v", b)
			}
			res = graphCall(t, client, "GET", base+tc.path+"/messages?$top=1", tc.token, "")
			value, _ := res.body["value"].([]any)
			if res.status != 200 || len(value) != 1 {
				t.Fatalf("messages: %d %s", res.status, res.raw)
			}
			m := value[0].(map[string]any)
			from := m["from"].(map[string]any)["emailAddress"].(map[string]any)
			to := m["toRecipients"].([]any)
			if m["subject"] != "Password reset" || m["isRead"] != false || from["address"] != "user@fabrikam.com" || from["name"] != "Pat User" ||
				len(to) != 1 || m["bodyPreview"] != "Hello helpdesk, message 2. .dotted line" || m["id"] == "" {
				t.Errorf("message = %v", m)
			}
			if _, err := time.Parse(time.RFC3339, m["receivedDateTime"].(string)); err != nil {
				t.Errorf("receivedDateTime: %v", err)
			}
			if next, _ := res.body["@odata.nextLink"].(string); !strings.Contains(next, "%24skip=1") {
				t.Errorf("nextLink = %q", next)
			}
		})
	}
}

func TestGraphMailErrors(t *testing.T) {
	e := newEnv(t)
	base, client := startHTTPS(t, e, NewGraphMailHandler(e.cfg))
	helpdesk := "helpdesk@contoso.com"
	deleg := e.graphToken(t, helpdesk, "Mail.Read")
	denied := "Access is denied. Check credentials and try again."
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code, message                   string
	}{
		{"no token", "GET", "/v1.0/me/messages", "", "", 401, "InvalidAuthenticationToken", "Access token is empty."},
		{"expired", "GET", "/v1.0/me/messages", e.tenant.token(t, tokenSpec{aud: "https://graph.microsoft.com", upn: helpdesk, scp: "Mail.Read", exp: -time.Minute}), "", 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."},
		{"bad signature", "GET", "/v1.0/me/messages", e.tenant.token(t, tokenSpec{aud: "https://graph.microsoft.com", upn: helpdesk, scp: "Mail.Read", badKey: true}), "", 401, "InvalidAuthenticationToken", "Access token validation failure."},
		{"Exchange audience", "GET", "/v1.0/me/messages", e.delegated(t, helpdesk, "Mail.Read"), "", 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."},
		{"no Mail.Read", "GET", "/v1.0/me/mailFolders/inbox", e.graphToken(t, helpdesk, "User.Read Mail.Send"), "", 403, "ErrorAccessDenied", denied},
		{"no Mail.Send", "POST", "/v1.0/me/sendMail", deleg, `{"message":{"toRecipients":[{"emailAddress":{"address":"support@contoso.com"}}]}}`, 403, "ErrorAccessDenied", denied},
		{"app-only without roles", "GET", "/v1.0/users/" + helpdesk + "/messages", e.graphToken(t, "", "", "User.Read.All"), "", 403, "ErrorAccessDenied", denied},
		{"delegated, another mailbox", "GET", "/v1.0/users/support@contoso.com/messages", deleg, "", 403, "ErrorAccessDenied", denied},
		{"unknown user", "GET", "/v1.0/users/nobody@contoso.com/messages", e.graphToken(t, "", "", "Mail.Read"), "", 404, "ErrorInvalidUser", "The requested user 'nobody@contoso.com' is invalid."},
		{"no mailbox", "GET", "/v1.0/me/mailFolders/inbox", e.graphToken(t, "unlicensed@contoso.com", "Mail.Read"), "", 404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise."},
		{"app-only /me", "GET", "/v1.0/me/messages", e.graphToken(t, "", "", "Mail.Read"), "", 400, "BadRequest", "/me request is only valid with delegated authentication flow."},
		{"bad $top", "GET", "/v1.0/me/messages?$top=lots", deleg, "", 400, "BadRequest", ""},
		{"unknown segment", "GET", "/v1.0/me/calendars", deleg, "", 400, "BadRequest", "Resource not found for the segment 'calendars'."},
		{"sendMail without recipients", "POST", "/v1.0/me/sendMail", e.graphToken(t, helpdesk, "Mail.Send"), `{"message":{"subject":"x","body":{"contentType":"Text","content":"y"}}}`, 400, "ErrorInvalidRecipients", "At least one recipient is not valid."},
		{"sendMail bad JSON", "POST", "/v1.0/me/sendMail", e.graphToken(t, helpdesk, "Mail.Send"), `{"message":`, 400, "RequestBodyRead", ""},
		{"GET sendMail", "GET", "/v1.0/me/sendMail", deleg, "", 405, "Request_BadRequest", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := graphCall(t, client, tc.method, base+tc.path, tc.token, tc.body)
			wantGraphError(t, res, tc.status, tc.code, tc.message)
			if tc.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	e.checkNoToken(t, deleg)
}

// sendMail delivers through the Backend; the message is then visible over
// IMAP and in Graph's own message list.
func TestGraphSendMailVisibleOverIMAP(t *testing.T) {
	e := newEnv(t)
	base, client := startHTTPS(t, e, NewGraphMailHandler(e.cfg))
	imapAddr := startIMAP(t, e)
	body := `{"message":{"subject":"Grüße from Graph","body":{"contentType":"Text","content":"Line one\nLine two"},` +
		`"toRecipients":[{"emailAddress":{"address":"helpdesk@contoso.com"}}],` +
		`"bccRecipients":[{"emailAddress":{"address":"support@contoso.com","name":"Support"}}]},"saveToSentItems":"false"}`
	res := graphCall(t, client, "POST", base+"/v1.0/users/helpdesk@contoso.com/sendMail", e.graphToken(t, "", "", "Mail.Send"), body)
	// saveToSentItems must be a boolean: the string form is a JSON error.
	wantGraphError(t, res, 400, "RequestBodyRead", "")
	body = strings.Replace(body, `"false"`, `false`, 1)
	res = graphCall(t, client, "POST", base+"/v1.0/users/helpdesk@contoso.com/sendMail", e.graphToken(t, "", "", "Mail.Send"), body)
	if res.status != http.StatusAccepted || res.raw != "" {
		t.Fatalf("sendMail: %d %s", res.status, res.raw)
	}
	msgs := e.tenant.Messages("support@contoso.com")
	if last := msgs[len(msgs)-1]; last.From != "helpdesk@contoso.com" || strings.Contains(string(last.Raw), "Bcc") {
		t.Errorf("support@ got %+v", last)
	}

	c := dialIMAP(t, e, imapAddr)
	if err := c.Authenticate(&xoauth2{"helpdesk@contoso.com", e.delegated(t, "helpdesk@contoso.com", "IMAP.AccessAsUser.All")}); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 4 {
		t.Fatalf("Select: %+v %v", sel, err)
	}
	got, err := c.Fetch(imap.SeqSetNum(4), &imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText, Peek: true}}}).Collect()
	if err != nil || len(got) != 1 {
		t.Fatalf("Fetch: %v", err)
	}
	if got[0].Envelope.Subject != "Grüße from Graph" || got[0].Envelope.From[0].Addr() != "helpdesk@contoso.com" {
		t.Errorf("envelope = %+v", got[0].Envelope)
	}
	if text := string(got[0].FindBodySection(&imap.FetchItemBodySection{Specifier: imap.PartSpecifierText})); text != "Line one\r\nLine two\r\n" {
		t.Errorf("text = %q", text)
	}

	res = graphCall(t, client, "GET", base+"/v1.0/me/messages?$top=1", e.graphToken(t, "helpdesk@contoso.com", "Mail.Read"), "")
	m := res.body["value"].([]any)[0].(map[string]any)
	if m["subject"] != "Grüße from Graph" || m["bodyPreview"] != "Line one Line two" {
		t.Errorf("Graph sees %v", m)
	}
}

func TestBodyPreview(t *testing.T) {
	cases := map[string]string{
		"Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: image/png\r\n\r\nPNG\r\n--x\r\n" +
			"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Caf=C3=A9   <b>open</b></p>\r\n--x--\r\n": "Café open",
		"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n": "hello world",
		"Subject: none\r\n\r\n" + strings.Repeat("é", 300):              strings.Repeat("é", 255),
	}
	for raw, want := range cases {
		if got := bodyPreview([]byte(raw)); got != want {
			t.Errorf("bodyPreview = %q, want %q", got, want)
		}
	}
}
