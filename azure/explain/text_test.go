package explain

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// fakeJWT is an unsigned token with the claims given (Text decodes claims
// for diagnosis only; it never checks a signature).
func fakeJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
}

func xoauth2Line(user, tok string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + tok + "\x01\x01"))
}

func one(t *testing.T, rep TextReport, kind, code string) Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Kind == kind && it.Explanation.Code == code {
			return it
		}
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	t.Fatalf("no %s item %s in\n%s", kind, code, b)
	return Item{}
}

func TestTextAADSTS(t *testing.T) {
	rep := Text(secretBody)
	it := one(t, rep, KindAADSTS, "AADSTS7000215")
	if !it.Recognised || it.TraceID != "tr-1" || it.CorrelationID != "co-2" || it.Timestamp != "2026-11-21 10:00:00Z" || len(rep.Items) != 1 {
		t.Fatalf("%+v (%d items)", it, len(rep.Items))
	}
	// The Entra text without the JSON, with its ids on the following lines.
	rep = Text("AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/Mail.Read openid profile offline_access is not valid.\r\nTrace ID: de2aa854-ac14-48f8-a9f0-5a910e931b00\r\nCorrelation ID: ae8814a9-8532-4174-9f4e-d29b318cda8f\r\nTimestamp: 2024-07-17 14:42:13Z")
	it = one(t, rep, KindAADSTS, "AADSTS28000")
	if !it.Recognised || it.TraceID != "de2aa854-ac14-48f8-a9f0-5a910e931b00" || it.CorrelationID != "ae8814a9-8532-4174-9f4e-d29b318cda8f" || it.Timestamp != "2024-07-17 14:42:13Z" || !strings.Contains(it.Explanation.Fix, "one resource per token") {
		t.Fatalf("%+v", it)
	}
	// MSAL's error text around the JSON.
	rep = Text(msalText(400, `{"error":"invalid_client","error_description":"AADSTS7000229: The client application 5f0e0a54-3b7e-4b7e-9a2a-1f1b2c3d4e5f is missing service principal in the tenant 4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119","error_codes":[7000229],"trace_id":"t-9","correlation_id":"c-9"}`).Error())
	if it := one(t, rep, KindAADSTS, "AADSTS7000229"); it.TraceID != "t-9" || it.Explanation.FixAction != ActionCreateSP || len(rep.Items) != 1 {
		t.Fatalf("%+v", rep)
	}
	rep = Text(`invalid_scope (AADSTS1002012: The provided value for scope IMAP.AccessAsApp is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).)`)
	one(t, rep, KindAADSTS, "AADSTS1002012")
	// A code not in the table is named, with Microsoft's lookup, and marked unrecognised.
	rep = Text("AADSTS9999999: something")
	if it := one(t, rep, KindAADSTS, "AADSTS9999999"); it.Recognised || !strings.Contains(it.Explanation.Fix, "error?code=9999999") {
		t.Fatalf("%+v", it)
	}
}

func TestTextGraph(t *testing.T) {
	rep := Text(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-11-21T10:00:00","request-id":"req-1","client-request-id":"c"}}}`)
	if it := one(t, rep, KindGraph, "Authorization_RequestDenied"); !it.Recognised || it.RequestID != "req-1" || it.Timestamp != "2026-11-21T10:00:00" {
		t.Fatalf("%+v", it)
	}
	rep = Text(`{"error":{"code":"Request_SomethingNew","message":"A new thing."}}`)
	if it := one(t, rep, KindGraph, "Request_SomethingNew"); it.Recognised || !strings.Contains(it.Explanation.Cause, "A new thing.") {
		t.Fatalf("%+v", it)
	}
	rep = Text("Graph said MailboxNotEnabledForRESTAPI for unlicensed@contoso.com")
	one(t, rep, KindGraph, "MailboxNotEnabledForRESTAPI")
}

func TestTextTranscripts(t *testing.T) {
	appTok := fakeJWT(`{"aud":"https://outlook.office365.com","tid":"` + tid + `","appid":"` + appID + `","roles":["IMAP.AccessAsApp"]}`)
	mailkit := strings.Join([]string{
		"S: " + exIMAP,
		"C: A00000000 CAPABILITY",
		"S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
		"S: A00000000 OK CAPABILITY completed.",
		"C: A00000001 AUTHENTICATE XOAUTH2 " + xoauth2Line(mbx, appTok),
		"S: A00000001 OK AUTHENTICATE completed.",
		"C: A00000002 SELECT INBOX",
		"S: A00000002 BAD User is authenticated but not connected.",
	}, "\n")
	rep := Text(mailkit)
	it := one(t, rep, KindIMAP, CodeIMAPNotConnected)
	if it.Line != 8 || !it.Recognised || !strings.HasPrefix(it.Server, "Exchange Online") || len(rep.Items) != 1 {
		t.Fatalf("%+v", rep)
	}
	// The token's flow and ids fill the fix: app-only, this app.
	if !strings.Contains(it.Explanation.FixCommand, "New-ServicePrincipal -AppId '"+appID+"'") || !strings.Contains(it.Explanation.FixCommand, "-Identity 'helpdesk@contoso.com'") {
		t.Fatalf("fix: %s", it.Explanation.FixCommand)
	}
	b, _ := json.Marshal(rep)
	var out strings.Builder
	_ = rep.WriteText(&out)
	for _, s := range []string{string(b), out.String()} {
		if strings.Contains(s, "eyJ") || strings.Contains(s, xoauth2Line(mbx, appTok)[:40]) {
			t.Fatalf("the token is echoed:\n%s", s)
		}
	}

	// Dovecot, Python imaplib-style lines: a standard reply, the server named.
	rep = Text("  12:00.01 < b'" + dovecotIMAP + "\\r\\n'\n  12:00.02 > b'A1 AUTHENTICATE XOAUTH2'\n  12:00.03 < b'A1 NO [AUTHENTICATIONFAILED] Authentication failed.\\r\\n'")
	it = one(t, rep, KindIMAP, CodeStdAuthFailed)
	if it.Line != 3 || !strings.Contains(it.Server, "Dovecot") || strings.Contains(it.Explanation.String(), "Set-CASMailbox") {
		t.Fatalf("%+v", it)
	}

	// POP3 from Dovecot: the brief's example.
	rep = Text("+OK Dovecot ready.\nAUTH XOAUTH2\n+\n-ERR [SYS/TEMP] Temporary authentication failure.")
	if it := one(t, rep, KindPOP, CodeStdTemporary); !strings.Contains(it.Explanation.Cause, "Dovecot") {
		t.Fatalf("%+v", it)
	}

	// Gmail SMTP: a multi-line reply found from its first line.
	rep = Text("<< " + gmailSMTP + "\n>> EHLO x\n<< 250-smtp.gmail.com at your service\n<< 250 AUTH LOGIN PLAIN XOAUTH2\n>> AUTH XOAUTH2 abc\n<< 535-5.7.8 Username and Password not accepted. For more information, go to\n<< 535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123456wrb.1 - gsmtp")
	if it := one(t, rep, KindSMTP, CodeStdAuthFailed); it.Line != 6 || !strings.Contains(it.Server, "Gmail") || !strings.Contains(it.Text, "BadCredentials") {
		t.Fatalf("%+v", it)
	}

	// Exchange SMTP app-only: FullAccess, not SendAs.
	rep = Text(exSMTP + "\n535 5.7.3 Authentication unsuccessful [AM0PR02CA0012.eurprd02.prod.outlook.com]")
	it = one(t, rep, KindSMTP, CodeSMTPAuthFailed)
	all := it.Explanation.String()
	for _, a := range it.Explanation.Alternatives {
		all += "\n" + a.String()
	}
	if !strings.Contains(all, "(if the product signs in as the app, client credentials)") || !strings.Contains(all, "-AccessRights FullAccess") || strings.Contains(all, "SendAs -Trustee") {
		t.Fatalf("%s", all)
	}
}

// A pasted line without a transcript: the flow is unknown, so both flows'
// causes are given, each labelled.
func TestTextPastedLine(t *testing.T) {
	rep := Text("A2 BAD User is authenticated but not connected.")
	it := one(t, rep, KindIMAP, CodeIMAPNotConnected)
	if !strings.Contains(it.Explanation.Title, "signs in as a user") {
		t.Fatalf("%+v", it.Explanation)
	}
	found := false
	for _, a := range it.Explanation.Alternatives {
		found = found || strings.Contains(a.Title, "client credentials")
	}
	if !found || it.Server != "" {
		t.Fatalf("no app-only alternative: %+v", it)
	}
	rep = Text("-ERR [SYS/TEMP] Temporary authentication failure.")
	if it := one(t, rep, KindPOP, CodeStdTemporary); strings.Contains(it.Explanation.String(), "POP3 disabled") {
		t.Fatalf("%+v", it)
	}
}

func TestTextEWSAndExchangeAdmin(t *testing.T) {
	rep := Text(`<s:Envelope><s:Body><m:GetFolderResponse><m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>The SMTP address has no mailbox associated with it.</m:MessageText><m:ResponseCode>ErrorNonExistentMailbox</m:ResponseCode></m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>`)
	one(t, rep, KindEWS, CodeEWSNoMailbox)
	rep = Text("> POST /EWS/Exchange.asmx HTTP/1.1\n< HTTP/1.1 401 Unauthorized\n< request-id: 1\n< x-ms-diagnostics: 2000001;reason=\"The token has an invalid audience\";error_category=\"invalid_resource\"")
	if it := one(t, rep, KindEWS, CodeEWSUnauthorized); !strings.Contains(it.Text, "2000001") {
		t.Fatalf("%+v", it)
	}
	rep = Text("Write-ErrorMessage : |Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x@contoso.com' couldn't be found on 'AM0PR02A01DC001.EURPRD02.PROD.OUTLOOK.COM'.")
	if it := one(t, rep, KindExchangeAdmin, "ManagementObjectNotFoundException"); !strings.Contains(it.Explanation.Cause, "object 'x@contoso.com' couldn't be found") {
		t.Fatalf("%+v", it)
	}
	rep = Text(`{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Context","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found."}]}}`)
	one(t, rep, KindExchangeAdmin, "ManagementObjectNotFoundException")
}

func TestTextUnrecognised(t *testing.T) {
	for _, s := range []string{"hello world", "Something went wrong while connecting", "A1 NO [XYZ] brand new words"} {
		rep := Text(s)
		if rep.Recognised() || len(rep.Items) != 1 || !strings.Contains(rep.Items[0].Explanation.Cause, s) {
			t.Errorf("%q: %+v", s, rep)
		}
	}
	// Secrets are never echoed back, recognised or not.
	rep := Text("client_secret=abc~DEF.ghi123 password: hunter22 Authorization: Bearer " + fakeJWT(`{"aud":"x"}`))
	b, _ := json.Marshal(rep)
	for _, s := range []string{"abc~DEF.ghi123", "hunter22", "eyJ"} {
		if strings.Contains(string(b), s) {
			t.Errorf("%q echoed: %s", s, b)
		}
	}
	if rep := Text(strings.Repeat("x", MaxTextInput+10)); !rep.Truncated {
		t.Error("not truncated")
	}
}

func FuzzText(f *testing.F) {
	f.Add(secretBody)
	f.Add("S: " + exIMAP + "\nS: A1 BAD User is authenticated but not connected.")
	f.Add("535-5.7.8 a\n535 5.7.8 b")
	f.Add(`{"error":{"code":"x"}}{"error":"y","error_codes":[1]}`)
	f.Add("AADSTS70011 Trace ID: 00000000-0000-0000-0000-000000000000")
	f.Add("-ERR [SYS/TEMP] x\n+OK Dovecot\n* OK Gimap ready")
	f.Add("b'A1 NO x\\r\\n'")
	f.Fuzz(func(t *testing.T, s string) {
		rep := Text(s)
		if len(rep.Items) == 0 {
			t.Fatal("no items")
		}
		for _, it := range rep.Items {
			if it.Kind == "" || it.Explanation.Code == "" || !utf8.ValidString(it.Text) {
				t.Fatalf("bad item %+v", it)
			}
			if it.Kind == KindUnrecognised && it.Recognised {
				t.Fatal("unrecognised item marked recognised")
			}
		}
		var sb strings.Builder
		_ = rep.WriteText(&sb)
	})
}

// BenchmarkText measures a 1 MiB transcript and 1 MiB of unclosed JSON
// objects (the worst case for the JSON search).
func BenchmarkText(b *testing.B) {
	session := "S: " + exIMAP + "\nC: A1 CAPABILITY\nS: * CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\nS: A1 OK CAPABILITY completed.\nS: A2 NO AUTHENTICATE failed.\n"
	inputs := map[string]string{
		"transcript-1MiB": strings.Repeat(session, MaxTextInput/len(session)),
		"braces-1MiB":     strings.Repeat(`{"a":`, MaxTextInput/5),
		"aadsts-1MiB":     strings.Repeat("AADSTS50076 Trace ID: 00000000-0000-0000-0000-000000000000\n", MaxTextInput/60),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				Text(in)
			}
		})
	}
}
