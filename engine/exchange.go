package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/exchangesetup"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/steps"
)

// The Exchange Online side of a run (issue 9): after its own sign-in (the
// module's client ID: Graph's client cannot get Exchange tokens), the
// pre-flight reads Exchange too, the review shows its changes beside
// Entra's, the apply makes them once the Entra part has given the app its
// IDs, the login test's diagnosis states Exchange's facts, and the state
// file records what was done or why it was left to exchange-setup.ps1.
//
// The transport is Exchange's admin endpoint that the
// ExchangeOnlineManagement module uses — not a documented Microsoft API
// (azure/exchange, docs/exchange.md).

// ExchangeAPINote is said on screen where the Exchange sign-in is asked.
const ExchangeAPINote = "mailoauth uses the admin endpoint the ExchangeOnlineManagement PowerShell module itself uses; it is not a documented Microsoft API, so exchange-setup.ps1 is always written too."

// placeholderID stands for an ID Graph assigns during the apply: the
// review plans a new app's Exchange changes before the app exists.
const placeholderID = "00000000-0000-0000-0000-000000000000"

// exchangeRun is what the run knows of Exchange Online.
type exchangeRun struct {
	mode    string
	account string
	client  *exchange.Client
	// left is the Exchange part left to the script, and why (Left: one of
	// export's ExchangeLeft values).
	left       *exchangesetup.UnavailableError
	leftReason export.ExchangeLeft
	plan       *exchangesetup.Plan
	result     *exchangesetup.Result
}

// exchangeWant is what the draft needs from Exchange, for the app's IDs
// (placeholders before the app exists).
func exchangeWant(d steps.Draft, tenantID, appID, spID, appObjectID string) exchangesetup.Want {
	w := exchangesetup.Want{
		TenantID: tenantID, AppID: orID(appID), ServicePrincipalID: orID(spID), AppObjectID: appObjectID,
		DisplayName: d.AppName, Flow: d.Flow, Protocols: d.Protocols, LimitToMailboxes: d.LimitMailboxAccess,
		ReplaceWrongRegistration: d.Consents[exchangesetup.QuestionReplaceRegistration],
		EnableEWSAllowList:       d.Consents[exchangesetup.QuestionEnableEWS],
	}
	for _, m := range d.AllMailboxes() {
		w.Mailboxes = append(w.Mailboxes, exchangesetup.Mailbox{Address: m})
	}
	return w
}

func orID(id string) string {
	if id == "" {
		return placeholderID
	}
	return id
}

// ExchangeSignIn signs in to Exchange Online when the draft needs it.
func (e *Live) ExchangeSignIn(ctx context.Context, d steps.Draft, show func(steps.DeviceCode)) (steps.ExchangeSession, error) {
	want := exchangeWant(d, e.tenantID(), d.AppID, "", "")
	if !want.NeedsExchange() {
		e.setExchange(nil)
		return steps.ExchangeSession{}, nil
	}
	mode := d.Exchange
	if mode == "" {
		mode = "apply"
	}
	run := &exchangeRun{mode: mode}
	out := steps.ExchangeSession{Needed: true, Mode: mode}
	if mode == "script" {
		run.left, run.leftReason = exchangesetup.Fallback(errors.New("the Exchange part was left to exchange-setup.ps1 (exchange: script)"), want), export.ExchangeScriptChosen
		out.Left = "you chose to run exchange-setup.ps1 yourself"
		e.setExchange(run)
		return out, nil
	}
	opts := e.signinOptions(show)
	opts.Tenant = e.tenantID()
	sess, err := exchange.SignIn(ctx, opts)
	if err == nil {
		var cl *exchange.Client
		cl, err = exchange.NewClient(exchange.Options{Cloud: e.cloud, HTTPClient: e.hc, OnWait: e.onExchangeWait}, sess)
		run.client, run.account = cl, sess.UPN()
	}
	if err != nil {
		if ctx.Err() != nil {
			return out, err
		}
		// Never a failure of the setup: the Entra part goes on and the
		// script is written for the rest.
		run.left, run.leftReason = exchangesetup.Fallback(err, want), export.ExchangeNotSignedIn
		out.Left = "the Exchange Online sign-in did not succeed: " + firstLine(err.Error())
		e.setExchange(run)
		return out, nil
	}
	out.Account = run.account
	e.setExchange(run)
	return out, nil
}

func (e *Live) setExchange(r *exchangeRun) {
	e.mu.Lock()
	e.exo = r
	e.mu.Unlock()
}

func (e *Live) exchangeRun() *exchangeRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exo
}

func (e *Live) onExchangeWait(ev model.Event) {
	e.mu.Lock()
	progress := e.progress
	e.mu.Unlock()
	if progress != nil {
		progress(ev)
	}
}

// leaveExchange records that the rest of the Exchange part is the script's.
func (r *exchangeRun) leave(err error, want exchangesetup.Want) {
	u, ok := exchangesetup.AsUnavailable(err)
	if !ok {
		u = exchangesetup.Fallback(err, want)
	}
	r.left = u
	r.leftReason = export.ExchangeFailed
	if k := exchange.KindOf(err); k == exchange.AccessDenied {
		r.leftReason = export.ExchangeMissingRole
	}
}

// exchangePreflight reads Exchange for the review and plans its changes;
// its findings join the Entra ones (questions among them, as Ask).
func (e *Live) exchangePreflight(ctx context.Context, d steps.Draft, appID, spID, appObjectID string) []steps.Finding {
	run := e.exchangeRun()
	if run == nil {
		return nil
	}
	want := exchangeWant(d, e.tenantID(), appID, spID, appObjectID)
	if run.left != nil || run.client == nil {
		return []steps.Finding{{Severity: model.Warning, Code: "exchange-left", Text: "The Exchange Online part is left to exchange-setup.ps1: " + firstLine(run.left.Err.Error()) + ".",
			Fix: "Run exchange-setup.ps1 in Exchange Online PowerShell as an Exchange Administrator after the setup, then `mailoauth test --wait 10m`; or sign in as an Exchange Administrator (or Global Administrator) and run mailoauth again."}}
	}
	st, _ := e.stateOf(d)
	var x *state.Exchange
	if st != nil {
		x = st.Exchange
	}
	snap, err := exchangesetup.Inspect(ctx, run.client, want)
	if err != nil {
		run.leave(err, want)
		return []steps.Finding{{Severity: model.Warning, Code: "exchange-left", Text: "Exchange Online could not be read (" + firstLine(err.Error()) + "); the Exchange part is left to exchange-setup.ps1.",
			Fix: explainExchangeRefusal(err)}}
	}
	run.plan = exchangesetup.PlanChanges(want, snap, x)
	out := append([]steps.Finding(nil), run.plan.Findings...)
	for _, q := range run.plan.Questions {
		out = append(out, steps.Finding{Severity: model.Warning, Code: "exchange-question", Text: q.Text, Fix: q.Detail, Ask: q.Key})
	}
	return out
}

// explainExchangeRefusal names the role the Exchange part needs.
func explainExchangeRefusal(err error) string {
	switch exchange.KindOf(err) {
	case exchange.AccessDenied:
		return "The account has no Exchange admin role: sign in as an Exchange Administrator or Global Administrator (Entra roles), or a member of Organization Management (Exchange); a Global or Privileged Role Administrator can assign the role. Or run exchange-setup.ps1 as such an admin."
	case exchange.Unauthorized:
		return "Exchange Online did not accept the sign-in's token: sign in again; if it persists, run exchange-setup.ps1 in Exchange Online PowerShell."
	}
	return "Run exchange-setup.ps1 in Exchange Online PowerShell as an Exchange Administrator."
}

// exchangeReview is the Exchange changes the review lists.
func (e *Live) exchangeReview() []steps.Change {
	run := e.exchangeRun()
	switch {
	case run == nil:
		return nil
	case run.left != nil:
		return []steps.Change{{Action: model.Skip, Object: "Exchange Online changes", Detail: "left to exchange-setup.ps1"}}
	case run.plan == nil:
		return nil
	}
	var out []steps.Change
	for _, c := range run.plan.Changes() {
		c.Object = "in Exchange Online: " + strings.ReplaceAll(c.Object, placeholderID, "(the new app)")
		c.Detail = strings.ReplaceAll(c.Detail, placeholderID, "(the new app)")
		out = append(out, c)
	}
	return out
}

// exchangeDryRun is the cmdlets a --dry-run lists.
func (e *Live) exchangeDryRun() []exchangesetup.PlannedCommand {
	if run := e.exchangeRun(); run != nil && run.plan != nil && run.left == nil {
		return run.plan.Commands()
	}
	return nil
}

// exchangeApply makes the Exchange changes once Entra has given the app its
// IDs: Exchange is read again with them, the plan made again (it may only
// narrow what the review showed), applied and recorded.
func (e *Live) exchangeApply(ctx context.Context, d steps.Draft, appID, spID, appObjectID string, store *state.Store, progress func(steps.Event)) error {
	run := e.exchangeRun()
	if run == nil {
		return nil
	}
	want := exchangeWant(d, e.tenantID(), appID, spID, appObjectID)
	defer e.recordExchangeStatus(store, run)
	if run.left != nil || run.client == nil {
		return nil
	}
	snap, err := exchangesetup.Inspect(ctx, run.client, want)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		run.leave(err, want)
		progress(steps.Event{Action: "Exchange Online", Detail: "left to exchange-setup.ps1: " + firstLine(err.Error()), Done: true})
		return nil
	}
	var x *state.Exchange
	if st := store.State(); st != nil {
		x = st.Exchange
	}
	plan := exchangesetup.PlanChanges(want, snap, x)
	run.plan = plan
	res, err := exchangesetup.Apply(ctx, run.client, plan, store, exchangesetup.ApplyOptions{OnEvent: func(ev model.Event) { progress(ev) }})
	run.result = res
	if res != nil && !res.ChangedAt.IsZero() {
		e.mu.Lock()
		if res.ChangedAt.After(e.changedAt) {
			e.changedAt = res.ChangedAt
		}
		e.mu.Unlock()
	}
	if err != nil {
		if _, ok := exchangesetup.AsUnavailable(err); ok {
			run.leave(err, want)
			progress(steps.Event{Action: "Exchange Online", Detail: "the rest is left to exchange-setup.ps1: " + firstLine(err.Error()), Done: true})
			return nil
		}
		return fmt.Errorf("Exchange Online: %w", err)
	}
	if len(res.RemoveEntraPermissions) > 0 {
		if err := e.removeScopedPermissions(ctx, d, store, res.RemoveEntraPermissions, progress); err != nil {
			return err
		}
	}
	return nil
}

// recordExchangeStatus keeps the run's Exchange outcome in the state file,
// for the settings sheet and the script's header.
func (e *Live) recordExchangeStatus(store *state.Store, run *exchangeRun) {
	if store.State() == nil {
		return
	}
	status := &state.ExchangeStatus{Mode: run.mode}
	if run.result != nil && run.left == nil {
		// Read and made as the setup needs (even when nothing had to
		// change): the script is the record, not a task.
		status.AppliedAt = time.Now().UTC()
	}
	if run.left != nil {
		status.Left, status.LeftDetail = string(run.leftReason), firstLine(run.left.Err.Error())
		for _, c := range run.left.Left {
			status.LeftChanges = append(status.LeftChanges, c.Summary())
		}
	}
	_ = store.Update(func(st *state.State) {
		if st.Exchange == nil {
			st.Exchange = &state.Exchange{}
		}
		if status.AppliedAt.IsZero() && st.Exchange.Status != nil {
			status.AppliedAt = st.Exchange.Status.AppliedAt // an earlier run's
		}
		st.Exchange.Status = status
	})
}

// exchangeFacts is Exchange's state for the login test's diagnosis.
func (e *Live) exchangeFacts() *explain.ExchangeFacts {
	run := e.exchangeRun()
	if run == nil {
		return nil
	}
	var snap *exchangesetup.Snapshot
	switch {
	case run.result != nil && run.result.Snapshot != nil:
		snap = run.result.Snapshot
	case run.plan != nil:
		snap = run.plan.Snapshot
	}
	return factsFrom(snap)
}

// factsFrom maps a Snapshot to explain's plain facts (explain.ExchangeFacts
// documents the mapping).
func factsFrom(snap *exchangesetup.Snapshot) *explain.ExchangeFacts {
	if snap == nil || snap.ReadAt.IsZero() {
		return nil
	}
	f := &explain.ExchangeFacts{ReadAt: snap.ReadAt, Registration: explain.Registration(snap.Registration), RegistrationRef: snap.Ref, ExpectedObjectID: snap.ExpectedObjectID}
	for _, r := range snap.Registrations {
		f.RegisteredObjectIDs = append(f.RegisteredObjectIDs, r.ObjectID)
	}
	if snap.OrgSMTPAuthRead {
		f.OrgSMTPAuthDisabled = snap.OrgSMTPAuthDisabled.V
	}
	if snap.EWS != nil && snap.EWS.Read {
		f.EWS = &explain.EWSFacts{Enabled: snap.EWS.Enabled.V, AllowedAppIDs: snap.EWS.AllowedAppIDs}
	}
	for _, m := range snap.Mailboxes {
		mf := explain.MailboxFacts{Address: m.Address, Read: true, Found: m.Found, PrimarySMTPAddress: m.Primary(), Type: m.Type()}
		if m.CAS != nil {
			mf.CASRead = true
			mf.ImapEnabled, mf.PopEnabled, mf.EwsEnabled = m.CAS.ImapEnabled.V, m.CAS.PopEnabled.V, m.CAS.EwsEnabled.V
			mf.SMTPClientAuthDisabled = m.CAS.SmtpClientAuthenticationDisabled.V
		}
		if m.FullAccessRead {
			fa := m.FullAccess
			mf.FullAccess = &fa
		}
		for _, s := range snap.SendAs {
			if strings.EqualFold(s.From, m.Address) && s.Read {
				g := s.Granted
				mf.SendAs, mf.SendAsTrustee = &g, s.Trustee
			}
		}
		f.Mailboxes = append(f.Mailboxes, mf)
	}
	return f
}

// exchangePending: the Exchange part was left to the script (or never
// signed in), so the login test reports the refusals only it cures at once
// instead of waiting them out as replication.
func (e *Live) exchangePending(catalog.Flow) bool {
	run := e.exchangeRun()
	return run == nil || run.left != nil
}

// exchangeStatusFor is the state's Exchange outcome in export's terms.
func exchangeStatusFor(st *state.State) export.ExchangeStatus {
	var out export.ExchangeStatus
	if st.Exchange == nil {
		return out
	}
	for _, it := range st.Exchange.Items {
		if it.Created {
			out.Changes = append(out.Changes, exchangeItemLine(it))
		}
	}
	if s := st.Exchange.Status; s != nil {
		out.AppliedAt = s.AppliedAt
		out.Left, out.LeftDetail = export.ExchangeLeft(s.Left), s.LeftDetail
		if s.Left != "" && !s.AppliedAt.IsZero() {
			out.Pending = s.LeftChanges
		}
	}
	return out
}

func exchangeItemLine(it state.ExchangeItem) string {
	switch it.Kind {
	case state.ExchangeServicePrincipal:
		return "Exchange Online: registered the app's service principal (New-ServicePrincipal)"
	case state.ExchangeFullAccess:
		return "Exchange Online: FullAccess on " + it.Mailbox
	case state.ExchangeSendAs:
		return "Exchange Online: SendAs on " + it.Mailbox
	case state.ExchangeMailboxSetting:
		return fmt.Sprintf("Exchange Online: %s on %s set to %s", it.Setting, it.Mailbox, it.After)
	case state.ExchangeAllowListEntry:
		return "Exchange Online: the app added to the EWS allow-list (EwsAllowedAppIDs)"
	case state.ExchangeOrgSetting:
		return fmt.Sprintf("Exchange Online: %s set to %s", it.Setting, it.After)
	case state.ExchangeManagementScope:
		return "Exchange Online: management scope " + it.Identity
	case state.ExchangeRoleAssignment:
		return "Exchange Online: role " + it.Role + " for the app, scoped to " + it.Scope
	}
	return "Exchange Online: " + it.Key
}

// signinOptions are the Graph sign-in's options (cloud, tenant, browser),
// shared by the Exchange sign-in, which replaces the client and scope.
func (e *Live) signinOptions(show func(steps.DeviceCode)) signin.Options {
	return signin.Options{
		Cloud: e.cloud, Tenant: e.tenant, ClientID: e.clientID, HTTPClient: e.hc,
		OnDeviceCode: func(p signin.DeviceCodePrompt) {
			show(steps.DeviceCode{UserCode: p.UserCode, VerificationURL: p.VerificationURL, Message: p.Message, ExpiresAt: p.ExpiresOn})
		},
		OpenBrowser: e.openBrowser, Browser: e.browserOnly, OpenURL: e.openURL,
	}
}

// removeScopedPermissions takes off the tenant-wide permissions that RBAC
// for Applications now limits (asked for: limit_mailbox_access).
func (e *Live) removeScopedPermissions(ctx context.Context, d steps.Draft, store *state.Store, perms []catalog.Permission, progress func(steps.Event)) error {
	g, err := e.client()
	if err != nil {
		return err
	}
	done, err := provision.RemoveScopedPermissions(ctx, g, store, perms)
	for _, c := range done {
		progress(steps.Event{Action: c.Headline(), Detail: c.Detail, Done: true})
	}
	return err
}
