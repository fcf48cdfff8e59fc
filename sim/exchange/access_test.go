package exchange

import (
	"net/http"
	"testing"
)

// Delegated access to another mailbox (a shared one) needs the user's own
// FullAccess there, on every protocol; Graph also needs the .Shared scopes.
func TestDelegatedSharedMailbox(t *testing.T) {
	e := newEnv(t)
	helpdesk, support := "helpdesk@contoso.com", "support@contoso.com"
	imapAddr, popAddr := startIMAP(t, e), startPOP(t, e)
	ewsURL, ewsClient := startHTTPS(t, e, NewEWSHandler(e.cfg))
	graphURL, graphClient := startHTTPS(t, e, NewGraphMailHandler(e.cfg))
	imapTok := e.delegated(t, helpdesk, "IMAP.AccessAsUser.All")
	popTok := e.delegated(t, helpdesk, "POP.AccessAsUser.All")
	ewsTok := e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", upn: helpdesk, scp: "EWS.AccessAsUser.All"})
	sharedTok := e.graphToken(t, helpdesk, "Mail.Read.Shared")
	ownOnly := e.graphToken(t, helpdesk, "Mail.Read")

	try := func() (imapOK, popOK, ewsOK bool, graph, graphOwnScope int) {
		c := dialIMAP(t, e, imapAddr)
		imapOK = c.Authenticate(&xoauth2{support, imapTok}) == nil
		c.Close()
		p := dialRaw(t, popAddr, e.ca.client)
		p.expect("+OK The Microsoft Exchange POP3 service is ready.")
		p.send("AUTH XOAUTH2")
		p.expect("+ ")
		p.send(xoauth2B64(support, popTok))
		popOK = p.line() == "+OK User successfully authenticated."
		res := ewsCall(t, ewsClient, ewsURL, ewsTok, "", ewsBody("GetFolder", "", support))
		ewsOK = res.status == 200 && res.parsed.Body.GetFolder.Msg.Class == "Success"
		graph = graphCall(t, graphClient, "GET", graphURL+"/v1.0/users/"+support+"/mailFolders/inbox", sharedTok, "").status
		graphOwnScope = graphCall(t, graphClient, "GET", graphURL+"/v1.0/users/"+support+"/mailFolders/inbox", ownOnly, "").status
		return
	}
	if i, p, w, g, o := try(); i || p || w || g != http.StatusForbidden || o != http.StatusForbidden {
		t.Errorf("without FullAccess: imap %v pop %v ews %v graph %d/%d", i, p, w, g, o)
	}
	e.tenant.setUserAccess(helpdesk, support, true, false)
	if i, p, w, g, o := try(); !i || !p || !w || g != http.StatusOK || o != http.StatusForbidden {
		t.Errorf("with FullAccess: imap %v pop %v ews %v graph %d, Mail.Read only %d", i, p, w, g, o)
	}
	// Sending as the shared mailbox over Graph: Mail.Send.Shared and SendAs.
	send := `{"message":{"subject":"x","body":{"contentType":"Text","content":"x"},"toRecipients":[{"emailAddress":{"address":"helpdesk@contoso.com"}}]}}`
	if res := graphCall(t, graphClient, "POST", graphURL+"/v1.0/users/"+support+"/sendMail", e.graphToken(t, helpdesk, "Mail.Send.Shared"), send); res.status != http.StatusForbidden {
		t.Errorf("send without SendAs: %d", res.status)
	}
	e.tenant.setUserAccess(helpdesk, support, true, true)
	if res := graphCall(t, graphClient, "POST", graphURL+"/v1.0/users/"+support+"/sendMail", e.graphToken(t, helpdesk, "Mail.Send.Shared"), send); res.status != http.StatusAccepted {
		t.Errorf("send with SendAs and Mail.Send.Shared: %d %s", res.status, res.raw)
	}
	if res := graphCall(t, graphClient, "POST", graphURL+"/v1.0/users/"+support+"/sendMail", e.graphToken(t, helpdesk, "Mail.Send"), send); res.status != http.StatusForbidden {
		t.Errorf("send as another mailbox with Mail.Send only: %d", res.status)
	}
}

// RBAC for Applications: an app-only token without the Entra permission
// reaches exactly the mailboxes its role assignment's scope holds, over
// Graph mail and EWS; with the Entra permission it reaches every mailbox.
func TestAppOnlyRBACScopes(t *testing.T) {
	e := newEnv(t)
	helpdesk, support := "helpdesk@contoso.com", "support@contoso.com"
	ewsURL, ewsClient := startHTTPS(t, e, NewEWSHandler(e.cfg))
	graphURL, graphClient := startHTTPS(t, e, NewGraphMailHandler(e.cfg))
	bareGraph := e.graphToken(t, "", "")
	bareEXO := e.appOnly(t)
	e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true, RBAC: []string{"Mail.Read", "EWS.AccessAsApp"}})
	e.tenant.setAccess(testAppID, support, AppAccess{Registered: true})

	for mbx, want := range map[string]int{helpdesk: http.StatusOK, support: http.StatusForbidden} {
		if res := graphCall(t, graphClient, "GET", graphURL+"/v1.0/users/"+mbx+"/messages", bareGraph, ""); res.status != want {
			t.Errorf("Graph %s: %d, want %d: %s", mbx, res.status, want, res.raw)
		}
		wantEWS := map[int]int{http.StatusOK: http.StatusOK, http.StatusForbidden: http.StatusUnauthorized}[want]
		if res := ewsCall(t, ewsClient, ewsURL, bareEXO, mbx, ewsBody("GetFolder", mbx, "")); res.status != wantEWS {
			t.Errorf("EWS %s: %d, want %d", mbx, res.status, wantEWS)
		}
	}
	// Mail.Read does not send.
	send := `{"message":{"subject":"x","body":{"contentType":"Text","content":"x"},"toRecipients":[{"emailAddress":{"address":"support@contoso.com"}}]}}`
	if res := graphCall(t, graphClient, "POST", graphURL+"/v1.0/users/"+helpdesk+"/sendMail", bareGraph, send); res.status != http.StatusForbidden {
		t.Errorf("sendMail with Application Mail.Read: %d", res.status)
	}
	// An unregistered app's RBAC does not count.
	e.tenant.setAccess(testAppID, helpdesk, AppAccess{RBAC: []string{"Mail.Read"}})
	if res := graphCall(t, graphClient, "GET", graphURL+"/v1.0/users/"+helpdesk+"/messages", bareGraph, ""); res.status != http.StatusForbidden {
		t.Errorf("RBAC without registration: %d", res.status)
	}
	// The Entra permission is tenant-wide, whatever RBAC says.
	if res := graphCall(t, graphClient, "GET", graphURL+"/v1.0/users/"+support+"/messages", e.graphToken(t, "", "", "Mail.Read"), ""); res.status != http.StatusOK {
		t.Errorf("Mail.Read role: %d", res.status)
	}
	if res := ewsCall(t, ewsClient, ewsURL, e.appOnly(t, "full_access_as_app"), support, ewsBody("GetFolder", support, "")); res.status != http.StatusOK {
		t.Errorf("full_access_as_app: %d", res.status)
	}
}
