package exchangesetup

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/mailcheck"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/sim"
)

func appOnlyWant(a app, protocols []catalog.Protocol, mailboxes ...string) Want {
	w := Want{TenantID: sim.TenantID, AppID: a.AppID, ServicePrincipalID: a.SPID, AppObjectID: a.ObjectID, DisplayName: "Agiloft",
		Flow: catalog.ClientCredentials, Protocols: protocols}
	for _, m := range mailboxes {
		w.Mailboxes = append(w.Mailboxes, Mailbox{Address: m})
	}
	return w
}

func hasBlocker(bs []Blocker, text string) bool {
	return slices.ContainsFunc(bs, func(b Blocker) bool { return strings.Contains(b.Text, text) })
}

func stepByKey(p *Plan, key string) *Step {
	for i := range p.Steps {
		if p.Steps[i].Key == key {
			return &p.Steps[i]
		}
	}
	return nil
}

// TestAppOnlySetupLoginSecondRunDelete is the Agiloft case end to end: an
// app-only IMAP + SMTP + EWS setup on two mailboxes (one named by its
// secondary address, one with IMAP off and SMTP AUTH inherited from an
// organisation that has it off), then real logins, a second run that
// sends no write, and a delete that removes only what was added.
func TestAppOnlySetupLoginSecondRunDelete(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Agiloft", "IMAP.AccessAsApp", "SMTP.SendAsApp", "full_access_as_app")
	if err := e.s.SetIMAPEnabled(mfaUser, false); err != nil {
		t.Fatal(err)
	}
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.EWS}, "support-desk@contoso.com", mfaUser)
	store, _ := newStore(t, a)
	ctx := ctxT(t)

	snap, err := Inspect(ctx, e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.rec.writes()) != 0 {
		t.Fatalf("Inspect wrote: %v", e.rec.writes())
	}
	if m := snap.Mailbox("support-desk@contoso.com"); m == nil || !m.Found || m.Primary() != helpdesk || m.Type() != "UserMailbox" {
		t.Fatalf("secondary address: %+v", m)
	}
	if snap.Registration != RegistrationNone {
		t.Errorf("registration %q", snap.Registration)
	}
	if bs := snap.Blockers(catalog.IMAP, mfaUser); !hasBlocker(bs, "IMAP is off for this mailbox (ImapEnabled False)") || !hasBlocker(bs, "no service principal registration") {
		t.Errorf("IMAP blockers %+v", bs)
	}
	if bs := snap.Blockers(catalog.SMTP, mfaUser); !hasBlocker(bs, "SMTP AUTH is off for the organisation and this mailbox inherits it") {
		t.Errorf("SMTP blockers %+v", bs)
	}
	if bs := snap.Blockers(catalog.SMTP, helpdesk); hasBlocker(bs, "SMTP AUTH") {
		t.Errorf("helpdesk has SMTP AUTH on its own: %+v", bs)
	}

	p := PlanChanges(w, snap, store.State().Exchange)
	if len(p.Questions) != 0 {
		t.Errorf("questions %+v", p.Questions)
	}
	cmds := p.Commands()
	var names []string
	for _, c := range cmds {
		names = append(names, c.Command.Cmdlet)
	}
	if strings.Join(names, ",") != "New-ServicePrincipal,Add-MailboxPermission,Add-MailboxPermission,Set-CASMailbox,Set-OrganizationConfig" {
		t.Fatalf("planned %v\n%s", names, dump(p))
	}
	if v, _ := cmds[0].Command.Get("ObjectId"); v != a.SPID {
		t.Errorf("New-ServicePrincipal -ObjectId %v, want the enterprise application's %s", v, a.SPID)
	}
	set := cmds[3].Command
	if v, _ := set.Get("Identity"); v != mfaUser {
		t.Errorf("Set-CASMailbox on %v", v)
	}
	if v, ok := set.Get("ImapEnabled"); !ok || v != true {
		t.Errorf("ImapEnabled %v", v)
	}
	if v, ok := set.Get("SmtpClientAuthenticationDisabled"); !ok || v != false {
		t.Errorf("SmtpClientAuthenticationDisabled %v", v)
	}
	if s := stepByKey(p, "protocols:"+helpdesk); s == nil || s.Change.Action != model.Keep {
		t.Errorf("helpdesk protocols: %+v", s)
	}
	allow, _ := cmds[4].Command.Get("EwsAllowedAppIDs")
	if !strings.Contains(allow.(string), sim.SeedEWSAppID) || !strings.Contains(allow.(string), a.AppID) {
		t.Errorf("allow-list write %v", allow)
	}

	var events []model.Event
	res, err := Apply(ctx, e.rec, p, store, ApplyOptions{OnEvent: func(ev model.Event) { events = append(events, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Writes != 5 || res.ChangedAt.IsZero() || len(e.rec.writes()) != 5 {
		t.Errorf("writes %d %v", res.Writes, e.rec.writes())
	}
	if len(events) < 10 {
		t.Errorf("progress events %d", len(events))
	}
	if bs := res.Snapshot.Blockers(catalog.IMAP, mfaUser); len(bs) != 0 {
		t.Errorf("blockers after apply %+v", bs)
	}

	// Exchange now has it all, and the organisation's SMTP AUTH is as it was.
	ad := e.admin()
	sps, err := ad.ServicePrincipals(ctx, a.AppID)
	if err != nil || len(sps) != 1 || !strings.EqualFold(sps[0].ObjectID, a.SPID) {
		t.Fatalf("registrations %+v %v", sps, err)
	}
	tc, _ := ad.TransportConfig(ctx)
	if !tc.SmtpClientAuthenticationDisabled.Is(true) {
		t.Error("the organisation's SMTP AUTH was changed")
	}
	oc, _ := ad.OrganizationConfig(ctx)
	if !oc.EwsAllowedAppIDs.Has(sim.SeedEWSAppID) || !oc.EwsAllowedAppIDs.Has(a.AppID) || len(oc.EwsAllowedAppIDs) != 2 {
		t.Errorf("allow-list %v", oc.EwsAllowedAppIDs)
	}

	// Real logins with the app's secret now pass.
	rep := mailcheck.Run(ctx, mailcheck.Config{Cloud: e.c, Flow: catalog.ClientCredentials, Protocols: []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.EWS},
		Mailboxes: []string{helpdesk, mfaUser}, TenantID: sim.TenantID, ClientID: a.AppID, Secret: a.Secret, ChangedAt: res.ChangedAt, HTTPClient: e.s.HTTPClient()})
	if !rep.OK() {
		var b strings.Builder
		_ = rep.WriteText(&b)
		t.Fatalf("logins after the Exchange setup:\n%s", b.String())
	}

	// A second run reads and writes nothing.
	e.rec.reset()
	p2, res2 := e.run(t, w, store)
	if p2.Writes() != 0 || res2.Writes != 0 || len(e.rec.writes()) != 0 {
		t.Fatalf("second run writes %v\n%s", e.rec.writes(), dump(p2))
	}

	// Delete removes what mailoauth added, keeps the seeded allow-list ID
	// and leaves the settings (saying how to set them back).
	e.rec.reset()
	dres, err := Delete(ctx, e.rec, store, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dres.Removed) != 4 || len(dres.Refused) != 0 {
		t.Errorf("removed %+v refused %+v", dres.Removed, dres.Refused)
	}
	if len(dres.Kept) != 2 || !strings.Contains(dres.Kept[0].Detail+dres.Kept[1].Detail, "Set-CASMailbox -Identity "+mfaUser+" -SmtpClientAuthenticationDisabled $null") {
		t.Errorf("kept %+v", dres.Kept)
	}
	if sps, _ := ad.ServicePrincipals(ctx, a.AppID); len(sps) != 0 {
		t.Errorf("registration left: %+v", sps)
	}
	oc, _ = ad.OrganizationConfig(ctx)
	if len(oc.EwsAllowedAppIDs) != 1 || !oc.EwsAllowedAppIDs.Has(sim.SeedEWSAppID) {
		t.Errorf("allow-list after delete %v", oc.EwsAllowedAppIDs)
	}
	perms, _ := ad.MailboxPermissions(ctx, helpdesk)
	for _, pm := range perms {
		if strings.EqualFold(pm.User, a.SPID) {
			t.Errorf("FullAccess left on helpdesk: %+v", pm)
		}
	}
	if c := store.State().Exchange.Created(); len(c) != 2 {
		t.Errorf("state after delete keeps %+v (only the two settings)", c)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

var errKilled = errors.New("killed")

// TestResumeAfterKillAfterRequest: the run dies after Exchange made the
// FullAccess entry but before the state file said so. The next run finds
// the entry, adopts it as mailoauth's through the pending record, sends
// only what is left, and delete later removes the adopted entry too.
func TestResumeAfterKillAfterRequest(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Monitor ERP", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.EWS}, helpdesk)
	store, path := newStore(t, a)
	killed := path + ".at-kill"
	e.rec.after = func(cmdlet string, n int, err error) error {
		if n == 2 { // Add-MailboxPermission landed; the disk is as it is now
			copyFile(t, path, killed)
			return errKilled
		}
		return nil
	}
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctxT(t), e.rec, PlanChanges(w, snap, nil), store, ApplyOptions{}); !errors.Is(err, errKilled) {
		t.Fatalf("apply: %v", err)
	}
	e.rec.after = nil
	e.rec.reset()

	resumed := reopen(t, killed)
	if x := resumed.State().Exchange; x.PendingItem("full-access:"+helpdesk) == nil || x.Item(keyRegistration) == nil || !x.Item(keyRegistration).Created {
		t.Fatalf("state at the kill: %+v", x)
	}
	p, res := e.run(t, w, resumed)
	if s := stepByKey(p, "full-access:"+helpdesk); s == nil || s.Change.Action != model.Keep || !strings.Contains(s.Change.Detail, "interrupted run") {
		t.Errorf("adopted FullAccess: %+v\n%s", s, dump(p))
	}
	if got := e.rec.writes(); len(got) != 1 || got[0] != "Set-OrganizationConfig" || res.Writes != 1 {
		t.Errorf("resumed run wrote %v", got)
	}
	x := resumed.State().Exchange
	if it := x.Item("full-access:" + helpdesk); it == nil || !it.Created || len(x.Pending) != 0 {
		t.Errorf("after resume: %+v pending %+v", it, x.Pending)
	}
	e.rec.reset()
	dres, err := Delete(ctxT(t), e.rec, resumed, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dres.Removed) != 3 {
		t.Errorf("delete removed %+v", dres.Removed)
	}
}

// TestResumeAfterKillBetweenSteps: killed before the allow-list write was
// sent (its intent saved, nothing sent): the next run sends it once.
func TestResumeAfterKillBetweenSteps(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Monitor ERP", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.EWS}, helpdesk)
	store, path := newStore(t, a)
	killed := path + ".at-kill"
	e.rec.before = func(cmdlet string, n int) error {
		if n == 3 {
			copyFile(t, path, killed)
			return errKilled
		}
		return nil
	}
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctxT(t), e.rec, PlanChanges(w, snap, nil), store, ApplyOptions{}); !errors.Is(err, errKilled) {
		t.Fatalf("apply: %v", err)
	}
	e.rec.before = nil
	e.rec.reset()
	resumed := reopen(t, killed)
	p, _ := e.run(t, w, resumed)
	if got := e.rec.writes(); len(got) != 1 || got[0] != "Set-OrganizationConfig" {
		t.Errorf("resumed run wrote %v\n%s", got, dump(p))
	}
	for _, k := range []string{keyRegistration, "full-access:" + helpdesk, "ews-allow-list:" + strings.ToLower(a.AppID)} {
		if it := resumed.State().Exchange.Item(k); it == nil || !it.Created {
			t.Errorf("%s: %+v", k, it)
		}
	}
	e.rec.reset()
	if _, res := e.run(t, w, resumed); res.Writes != 0 || len(e.rec.writes()) != 0 {
		t.Errorf("third run wrote %v", e.rec.writes())
	}
}

// TestWrongObjectIDRegistration: a registration made by hand with the app
// registration's object ID is detected, replaced only with the admin's
// agreement, and the replacement is mailoauth's (delete removes it).
func TestWrongObjectIDRegistration(t *testing.T) {
	e := newEnv(t, exAdmin)
	a := e.newApp(t, "Agiloft", "IMAP.AccessAsApp")
	ctx := ctxT(t)
	if _, _, err := exchange.NewServicePrincipal(a.AppID, a.ObjectID, "by hand").Run(ctx, e.cl); err != nil {
		t.Fatal(err)
	}
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP}, helpdesk)
	store, _ := newStore(t, a)
	snap, err := Inspect(ctx, e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Registration != RegistrationWrong {
		t.Fatalf("registration %q", snap.Registration)
	}
	if bs := snap.Blockers(catalog.IMAP, helpdesk); !hasBlocker(bs, "points at object ID "+strings.ToLower(a.ObjectID)) {
		t.Errorf("blockers %+v", bs)
	}
	p := PlanChanges(w, snap, nil)
	if len(p.Questions) != 1 || p.Questions[0].Key != QuestionReplaceRegistration || p.Writes() != 0 {
		t.Fatalf("unasked plan writes %d, questions %+v\n%s", p.Writes(), p.Questions, dump(p))
	}
	if !slices.ContainsFunc(p.Findings, func(f model.Finding) bool {
		return f.Code == "exchange-wrong-registration" && strings.Contains(f.Text, "the app registration's object ID")
	}) {
		t.Errorf("findings %+v", p.Findings)
	}
	w.ReplaceWrongRegistration = true
	p = PlanChanges(w, snap, nil)
	var names []string
	for _, c := range p.Commands() {
		names = append(names, c.Command.Cmdlet)
	}
	if strings.Join(names, ",") != "Remove-ServicePrincipal,New-ServicePrincipal,Add-MailboxPermission" {
		t.Fatalf("replacement plan %v\n%s", names, dump(p))
	}
	if _, err := Apply(ctx, e.rec, p, store, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	sps, _ := e.admin().ServicePrincipals(ctx, a.AppID)
	if len(sps) != 1 || !strings.EqualFold(sps[0].ObjectID, a.SPID) {
		t.Fatalf("after replacing: %+v", sps)
	}
	rep := mailcheck.Run(ctx, mailcheck.Config{Cloud: e.c, Flow: catalog.ClientCredentials, Protocols: []catalog.Protocol{catalog.IMAP},
		Mailboxes: []string{helpdesk}, TenantID: sim.TenantID, ClientID: a.AppID, Secret: a.Secret, HTTPClient: e.s.HTTPClient()})
	if !rep.OK() {
		t.Errorf("IMAP after the fix: %+v", rep.Failed())
	}
}

// TestDelegatedSMTPOrgOffAndSendAs: a delegated SMTP product on a tenant
// with SMTP AUTH off: enabled on its mailbox only; it sends as a shared
// mailbox, so the user gets SendAs there; no registration is made.
func TestDelegatedSMTPOrgOffAndSendAs(t *testing.T) {
	e := newEnv(t, admin)
	w := Want{TenantID: sim.TenantID, AppID: "3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d", DisplayName: "Email This Issue", Flow: catalog.AuthCode,
		Protocols: []catalog.Protocol{catalog.SMTP}, Mailboxes: []Mailbox{{Address: mfaUser, SendAs: []string{support}}}}
	store, _ := newStore(t, app{AppID: w.AppID})
	p, res := e.run(t, w, store)
	var names []string
	for _, c := range p.Commands() {
		names = append(names, c.Command.Cmdlet)
	}
	if strings.Join(names, ",") != "Add-RecipientPermission,Set-CASMailbox" || res.Writes != 2 {
		t.Fatalf("planned %v\n%s", names, dump(p))
	}
	if slices.Contains(e.rec.calls, "Get-ServicePrincipal") {
		t.Error("a delegated setup read service principals")
	}
	ctx := ctxT(t)
	rps, _ := e.admin().RecipientPermissions(ctx, support)
	if !slices.ContainsFunc(rps, func(r exchange.RecipientPermission) bool { return strings.EqualFold(r.Trustee, mfaUser) }) {
		t.Errorf("SendAs on support@: %+v", rps)
	}
	tc, _ := e.admin().TransportConfig(ctx)
	cas, _ := e.admin().CASMailbox(ctx, mfaUser)
	if !tc.SmtpClientAuthenticationDisabled.Is(true) || !cas.SmtpClientAuthenticationDisabled.Is(false) {
		t.Errorf("org %s, mailbox %s", tc.SmtpClientAuthenticationDisabled, cas.SmtpClientAuthenticationDisabled)
	}
	dres, err := Delete(ctx, e.rec, store, ApplyOptions{})
	if err != nil || len(dres.Removed) != 1 || len(dres.Kept) != 1 {
		t.Fatalf("delete %+v %v", dres, err)
	}
	rps, _ = e.admin().RecipientPermissions(ctx, support)
	if slices.ContainsFunc(rps, func(r exchange.RecipientPermission) bool { return strings.EqualFold(r.Trustee, mfaUser) }) {
		t.Error("SendAs left after delete")
	}
}

// TestEWSAllowListReadModifyWrite: with EwsEnabled $null the admin is told
// what True does before it is set; an ID listed by someone else between
// the review and the write is kept, and so is the seeded one; delete takes
// out only this app's ID.
func TestEWSAllowListReadModifyWrite(t *testing.T) {
	e := newEnv(t, admin)
	ctx := ctxT(t)
	if _, _, err := exchange.SetEWSEnabled(nil).Run(ctx, e.cl); err != nil {
		t.Fatal(err)
	}
	a := e.newApp(t, "EWS app", "full_access_as_app")
	w := appOnlyWant(a, []catalog.Protocol{catalog.EWS}, helpdesk)
	store, _ := newStore(t, a)
	snap, err := Inspect(ctx, e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	p := PlanChanges(w, snap, nil)
	if len(p.Questions) != 1 || p.Questions[0].Key != QuestionEnableEWS || !strings.Contains(p.Questions[0].Detail, "exclusive") || !strings.Contains(p.Questions[0].Detail, sim.SeedEWSAppID) {
		t.Fatalf("questions %+v\n%s", p.Questions, dump(p))
	}
	if slices.Contains(e.rec.calls, "Get-ServicePrincipal") {
		t.Error("app-only EWS without scoping needs no registration, but it was read")
	}
	w.EnableEWSAllowList = true
	p = PlanChanges(w, snap, nil)
	foreign := "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	if _, _, err := exchange.SetEWSAllowList([]string{sim.SeedEWSAppID, foreign}).Run(ctx, e.cl); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, e.rec, p, store, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	oc, _ := e.admin().OrganizationConfig(ctx)
	if !oc.EwsEnabled.Is(true) || len(oc.EwsAllowedAppIDs) != 3 || !oc.EwsAllowedAppIDs.Has(foreign) || !oc.EwsAllowedAppIDs.Has(sim.SeedEWSAppID) || !oc.EwsAllowedAppIDs.Has(a.AppID) {
		t.Fatalf("organization %+v", oc)
	}
	dres, err := Delete(ctx, e.rec, store, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oc, _ = e.admin().OrganizationConfig(ctx)
	if len(oc.EwsAllowedAppIDs) != 2 || oc.EwsAllowedAppIDs.Has(a.AppID) {
		t.Errorf("after delete %v", oc.EwsAllowedAppIDs)
	}
	if len(dres.Kept) != 1 || !strings.Contains(dres.Kept[0].Detail, "Set-OrganizationConfig -EwsEnabled $null") {
		t.Errorf("kept %+v", dres.Kept)
	}
}

// TestRBACForApplications: an app-only Graph-read + EWS app limited to its
// mailbox: a scope and two role assignments; the Entra permissions to
// remove come back; a second run writes nothing; delete removes them.
func TestRBACForApplications(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Scoped")
	w := appOnlyWant(a, []catalog.Protocol{catalog.GraphRead, catalog.EWS}, helpdesk)
	w.LimitToMailboxes = true
	store, _ := newStore(t, a)
	p, res := e.run(t, w, store)
	var names []string
	for _, c := range p.Commands() {
		names = append(names, c.Command.Cmdlet)
	}
	if strings.Join(names, ",") != "New-ServicePrincipal,Set-OrganizationConfig,New-ManagementScope,New-ManagementRoleAssignment,New-ManagementRoleAssignment" {
		t.Fatalf("planned %v\n%s", names, dump(p))
	}
	if len(res.RemoveEntraPermissions) != 2 || res.RemoveEntraPermissions[0].Key() != catalog.GraphMailReadApp.Key() || res.RemoveEntraPermissions[1].Key() != catalog.ExoFullAccessApp.Key() {
		t.Errorf("requirements %+v", res.RemoveEntraPermissions)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %v", res.Warnings)
	}
	ctx := ctxT(t)
	rows, err := e.admin().TestAuthorization(ctx, a.SPID, helpdesk)
	if err != nil || len(rows) != 2 || rows[0].InScope != "True" {
		t.Errorf("authorization in scope %+v %v", rows, err)
	}
	rows, _ = e.admin().TestAuthorization(ctx, a.SPID, mfaUser)
	if len(rows) != 2 || rows[0].InScope != "False" {
		t.Errorf("authorization out of scope %+v", rows)
	}
	e.rec.reset()
	_, res2 := e.run(t, w, store)
	if res2.Writes != 0 || len(e.rec.writes()) != 0 || len(res2.RemoveEntraPermissions) != 2 {
		t.Errorf("second run: writes %v, requirements %v", e.rec.writes(), res2.RemoveEntraPermissions)
	}
	dres, err := Delete(ctx, e.rec, store, ApplyOptions{})
	if err != nil || len(dres.Removed) != 5 {
		t.Fatalf("delete %+v %v", dres, err)
	}
	if _, err := e.admin().ManagementScope(ctx, scopeName(a.AppID)); !exchange.Is(err, exchange.NotFound) {
		t.Errorf("scope after delete: %v", err)
	}
}

// TestRefusedRoleNameKeepsEntraPermission: when Exchange does not know a
// role name (the non-Microsoft-documented ones may not exist), scoping is
// reported unavailable, the permission stays, and the scope no role uses
// is removed again.
func TestRefusedRoleNameKeepsEntraPermission(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Scoped")
	w := appOnlyWant(a, []catalog.Protocol{catalog.GraphRead}, helpdesk)
	w.LimitToMailboxes = true
	store, _ := newStore(t, a)
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	p := PlanChanges(w, snap, nil)
	s := stepByKey(p, "role-assignment:application mail.read")
	if s == nil {
		t.Fatalf("no role step\n%s", dump(p))
	}
	bogus := scopedRole{Protocol: catalog.GraphRead, Role: "Application Mail.Bogus", Permission: catalog.GraphMailReadApp}
	cmd := s.Command.With("Role", bogus.Role)
	s.Command, s.role = &cmd, &bogus
	p.Requirements[0].Role = bogus.Role
	res, err := Apply(ctxT(t), e.rec, p, store, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ScopingUnavailable) != 1 || !strings.Contains(res.ScopingUnavailable[0], "Application Mail.Bogus") || len(res.RemoveEntraPermissions) != 0 {
		t.Fatalf("unavailable %v, remove %v", res.ScopingUnavailable, res.RemoveEntraPermissions)
	}
	if _, err := e.admin().ManagementScope(ctxT(t), scopeName(a.AppID)); !exchange.Is(err, exchange.NotFound) {
		t.Errorf("unused scope left: %v", err)
	}
	if store.State().Exchange.Item("scope:"+scopeName(a.AppID)) != nil {
		t.Error("unused scope still in the state file")
	}
}

// clientCredentialsToken gets an app-only token for the Exchange resource.
func clientCredentialsToken(t *testing.T, e *env, a app) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.AppID}, "client_secret": {a.Secret}, "scope": {exchange.Scope(e.c)}}
	resp, err := e.s.HTTPClient().PostForm(e.c.TokenEndpoint(sim.TenantID), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("client credentials: %d %s", resp.StatusCode, b)
	}
	return tok.AccessToken
}

// TestRefusals: no Exchange role, a Graph token, another app's app-only
// token and a refused sign-in all become an UnavailableError saying what
// is left; a refusal in the middle of Apply says what was done and what not.
func TestRefusals(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Agiloft", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.EWS}, helpdesk)
	ctx := ctxT(t)
	check := func(name string, err error, kind exchange.Kind, text string) {
		t.Helper()
		u, ok := AsUnavailable(err)
		if !ok {
			t.Fatalf("%s: %v is no UnavailableError", name, err)
		}
		if kind != "" && exchange.KindOf(u.Err) != kind {
			t.Errorf("%s: kind %q: %v", name, exchange.KindOf(u.Err), u.Err)
		}
		if len(u.Left) == 0 || !strings.Contains(err.Error(), "exchange-setup.ps1") || !strings.Contains(err.Error(), text) {
			t.Errorf("%s: %v", name, err)
		}
	}

	cloud, err := exchange.SignIn(ctx, signin.Options{Cloud: e.c, Tenant: sim.TenantID, OnDeviceCode: approveAs(t, e.s, cloudAdmin)})
	if err != nil {
		t.Fatal(err)
	}
	noRole, _ := exchange.NewClient(exchange.Options{Cloud: e.c}, cloud)
	_, err = Inspect(ctx, noRole, w)
	check("no role", err, exchange.AccessDenied, "Organization Management")

	graphTok := func(ctx context.Context, _ bool) (string, error) { return e.graph.Token(ctx) }
	gc, _ := exchange.New(exchange.Options{Cloud: e.c, Token: graphTok, Anchor: admin})
	_, err = Inspect(ctx, gc, w)
	check("graph token", err, exchange.Unauthorized, "graph.microsoft.com")

	appTok := clientCredentialsToken(t, e, a)
	ac, _ := exchange.New(exchange.Options{Cloud: e.c, Token: func(context.Context, bool) (string, error) { return appTok, nil }, Tenant: sim.TenantID})
	_, err = Inspect(ctx, ac, w)
	check("app-only token of another client", err, exchange.Unauthorized, a.AppID)

	_, err = exchange.SignIn(ctx, signin.Options{Cloud: e.c, Tenant: sim.TenantID, OnDeviceCode: func(p signin.DeviceCodePrompt) { _ = e.s.DeclineDeviceCode(p.UserCode) }})
	if err == nil {
		t.Fatal("declined sign-in succeeded")
	}
	fb := Fallback(err, w)
	check("declined sign-in", fb, "", "New-ServicePrincipal")
	if !strings.Contains(fb.Error(), "FullAccess for the app on "+helpdesk) {
		t.Errorf("fallback lists %v", fb.Left)
	}

	// Planned by the admin, applied by an account without the role: the
	// first write is refused, nothing was done, everything is left.
	snap, err := Inspect(ctx, e.cl, w)
	if err != nil {
		t.Fatal(err)
	}
	p := PlanChanges(w, snap, nil)
	store, _ := newStore(t, a)
	_, err = Apply(ctx, noRole, p, store, ApplyOptions{})
	check("apply without role", err, exchange.AccessDenied, "New-ServicePrincipal")
	if u, _ := AsUnavailable(err); len(u.Done) != 0 || len(u.Left) != p.Writes() {
		t.Errorf("done %v left %v", u.Done, u.Left)
	}
	if x := store.State().Exchange; x != nil && (len(x.Pending) != 0 || len(x.Created()) != 0) {
		t.Errorf("a refused write left state %+v", x)
	}
}

// TestDryRunListsCmdletsAndChangesNothing: the plan's commands are what an
// apply sends, with parameters; planning wrote nothing; an offline plan
// lists the same kinds of change without any read and cannot be applied.
func TestDryRunListsCmdletsAndChangesNothing(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Agiloft", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS}, helpdesk)
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	p := PlanChanges(w, snap, nil)
	j, err := json.Marshal(p.Commands())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"cmdlet":"New-ServicePrincipal"`, `"ObjectId":"` + a.SPID + `"`, `"cmdlet":"Add-MailboxPermission"`, `"AccessRights":["FullAccess"]`, `"action":"grant"`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("dry run lacks %s: %s", want, j)
		}
	}
	if len(e.rec.writes()) != 0 {
		t.Errorf("planning wrote %v", e.rec.writes())
	}
	if snap.Reads != len(e.rec.calls) {
		t.Errorf("snapshot counts %d reads, %d sent", snap.Reads, len(e.rec.calls))
	}
	off := OfflinePlan(w)
	if !off.Offline || len(off.Changes()) < 3 {
		t.Errorf("offline plan %s", dump(off))
	}
	store, _ := newStore(t, a)
	if _, err := Apply(ctxT(t), e.rec, off, store, ApplyOptions{}); err == nil {
		t.Error("offline plan applied")
	}
}

// TestApplyThroughThrottling: a throttled write is retried after
// Retry-After and the setup completes.
func TestApplyThroughThrottling(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Agiloft", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP}, helpdesk)
	store, _ := newStore(t, a)
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	e.s.ThrottleExchangeAdmin(1, time.Second)
	res, err := Apply(ctxT(t), e.rec, PlanChanges(w, snap, nil), store, ApplyOptions{})
	if err != nil || res.Writes != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestValidate(t *testing.T) {
	good := Want{TenantID: sim.TenantID, AppID: "3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d", ServicePrincipalID: "4d3c2b1a-0f9e-4d8c-b7a6-9584736251a0",
		Flow: catalog.ClientCredentials, Protocols: []catalog.Protocol{catalog.IMAP}, Mailboxes: []Mailbox{{Address: "o'brien@contoso.com"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.ServicePrincipalID = ""
	bad.Mailboxes = []Mailbox{{Address: "not an address"}}
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "service principal id") || !strings.Contains(err.Error(), "mailbox") {
		t.Errorf("bad want: %v", err)
	}
	same := good
	same.AppObjectID = good.ServicePrincipalID
	if err := same.Validate(); err == nil {
		t.Error("the app registration's object ID accepted as the service principal's")
	}
	if (Want{Flow: catalog.AuthCode, Protocols: []catalog.Protocol{catalog.GraphRead}}).NeedsExchange() {
		t.Error("delegated Graph read needs no Exchange sign-in")
	}
	if !(Want{Flow: catalog.ClientCredentials, Protocols: []catalog.Protocol{catalog.GraphRead}, LimitToMailboxes: true}).NeedsExchange() {
		t.Error("scoping needs Exchange")
	}
	_ = http.StatusOK
	_ = state.ExchangeFullAccess
}

// TestDeleteLeavesWhatItFound: a right registration and a FullAccess made
// by hand before mailoauth ran are recorded as found, kept by the run, and
// refused by delete, which removes only the FullAccess it added.
func TestDeleteLeavesWhatItFound(t *testing.T) {
	e := newEnv(t, admin)
	a := e.newApp(t, "Agiloft", "IMAP.AccessAsApp")
	ctx := ctxT(t)
	if _, _, err := exchange.NewServicePrincipal(a.AppID, a.SPID, "by hand").Run(ctx, e.cl); err != nil {
		t.Fatal(err)
	}
	if _, _, err := exchange.AddMailboxPermission(helpdesk, a.SPID).Run(ctx, e.cl); err != nil {
		t.Fatal(err)
	}
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP}, helpdesk, mfaUser)
	store, _ := newStore(t, a)
	p, res := e.run(t, w, store)
	if res.Writes != 1 || stepByKey(p, keyRegistration).Change.Action != model.Keep || stepByKey(p, "full-access:"+helpdesk).Change.Action != model.Keep {
		t.Fatalf("writes %d\n%s", res.Writes, dump(p))
	}
	if !strings.Contains(stepByKey(p, keyRegistration).Change.Detail, "found already there") {
		t.Errorf("registration line: %s", stepByKey(p, keyRegistration).Change.Detail)
	}
	dres, err := Delete(ctx, e.rec, store, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dres.Removed) != 1 || !strings.Contains(dres.Removed[0].Object, mfaUser) || len(dres.Refused) != 2 {
		t.Fatalf("removed %+v refused %+v", dres.Removed, dres.Refused)
	}
	if sps, _ := e.admin().ServicePrincipals(ctx, a.AppID); len(sps) != 1 {
		t.Error("delete removed a registration mailoauth did not make")
	}
	perms, _ := e.admin().MailboxPermissions(ctx, helpdesk)
	if !slices.ContainsFunc(perms, func(p exchange.MailboxPermission) bool { return strings.EqualFold(p.User, a.SPID) }) {
		t.Error("delete removed a FullAccess mailoauth did not add")
	}
}

// TestSharedMailboxDelegated: Get-Mailbox tells a shared mailbox from a
// user's, and a delegated setup on one is warned.
func TestSharedMailboxDelegated(t *testing.T) {
	e := newEnv(t, admin)
	w := Want{TenantID: sim.TenantID, AppID: "3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d", DisplayName: "ExtraView", Flow: catalog.AuthCode,
		Protocols: []catalog.Protocol{catalog.IMAP}, Mailboxes: []Mailbox{{Address: support}, {Address: "support-desk@contoso.com"}, {Address: "nobody@contoso.com"}}}
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Mailbox(support).Type() != "SharedMailbox" || snap.Mailbox("nobody@contoso.com").Found {
		t.Fatalf("mailboxes %+v", snap.Mailboxes)
	}
	p := PlanChanges(w, snap, nil)
	codes := map[string]bool{}
	for _, f := range p.Findings {
		codes[f.Code] = true
	}
	for _, c := range []string{"exchange-shared-mailbox-delegated", "exchange-secondary-address", "exchange-no-mailbox"} {
		if !codes[c] {
			t.Errorf("finding %s missing\n%s", c, dump(p))
		}
	}
	if bs := snap.Blockers(catalog.IMAP, "nobody@contoso.com"); !hasBlocker(bs, "no mailbox with the address") {
		t.Errorf("blockers %+v", bs)
	}
}

// TestLoginWaitsForMailboxPermission: Apply leaves the wait for Exchange's
// mailbox-permission replication to the login test, which counts its
// budget from Result.ChangedAt and shows the countdown.
func TestLoginWaitsForMailboxPermission(t *testing.T) {
	e := newEnv(t, admin)
	e.s.SetDelays(sim.Delays{MailboxPermission: 3 * time.Second})
	a := e.newApp(t, "Monitor ERP", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP}, helpdesk)
	store, _ := newStore(t, a)
	start := time.Now()
	_, res := e.run(t, w, store)
	if time.Since(start) > 2*time.Second {
		t.Errorf("Apply waited %s for replication; the login test does", time.Since(start))
	}
	var waits []model.Event
	rep := mailcheck.Run(ctxT(t), mailcheck.Config{Cloud: e.c, Flow: catalog.ClientCredentials, Protocols: []catalog.Protocol{catalog.IMAP},
		Mailboxes: []string{helpdesk}, TenantID: sim.TenantID, ClientID: a.AppID, Secret: a.Secret, ChangedAt: res.ChangedAt, HTTPClient: e.s.HTTPClient(),
		Retry: token.Retry{OnEvent: func(ev model.Event) { waits = append(waits, ev) }}})
	if !rep.OK() {
		t.Fatalf("IMAP after replication: %+v", rep.Failed())
	}
	if len(waits) == 0 {
		t.Error("no countdown while FullAccess replicated")
	}
}
