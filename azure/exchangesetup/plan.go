package exchangesetup

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
)

// Plan is the Exchange part of a setup: what Inspect found, and each change
// with the cmdlet it sends.
type Plan struct {
	Want     Want      `json:"-"`
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Steps are in the order Apply runs them; Keep and Skip steps send
	// nothing.
	Steps    []Step          `json:"steps"`
	Findings []model.Finding `json:"findings,omitempty"`
	// Questions need the admin's answer (Want.ReplaceWrongRegistration,
	// Want.EnableEWSAllowList); plan again with the answer.
	Questions []Question `json:"questions,omitempty"`
	// Requirements are Entra changes the Exchange part asks of
	// provisioning: RBAC for Applications limits an app only once its
	// tenant-wide permission is gone. Apply's Result says which hold.
	Requirements []Requirement `json:"requirements,omitempty"`
	// Offline: nothing was read (no Exchange sign-in); every change the
	// setup may need is listed, and the plan cannot be applied.
	Offline bool `json:"offline,omitempty"`
}

// Step is one planned change.
type Step struct {
	Key    string       `json:"key"`
	Change model.Change `json:"change"`
	// Command is what Apply sends (nil for Keep and Skip). A parameter
	// naming the app's registration holds its ObjectId until Apply knows
	// the registration's Identity.
	Command *exchange.Command `json:"command,omitempty"`

	records []state.ExchangeItem
	// trustee names the parameter that holds the registration ("User",
	// "Trustee", "App"), replaced at Apply by the registration's Ref.
	trustee string
	kind    stepKind
	role    *scopedRole
	after   func(*Snapshot)
}

type stepKind int

const (
	stepPlain stepKind = iota
	stepNewRegistration
	stepAllowList
	stepRoleAssignment
	stepScope
)

// Question is a choice only the admin can make.
type Question struct {
	// Key is QuestionReplaceRegistration or QuestionEnableEWS.
	Key    string `json:"key"`
	Text   string `json:"text"`
	Detail string `json:"detail"`
}

// Question keys (answers: Want.ReplaceWrongRegistration, Want.EnableEWSAllowList).
const (
	QuestionReplaceRegistration = "replace-registration"
	QuestionEnableEWS           = "ews-enabled"
)

// Requirement is an Entra change the Exchange part needs.
type Requirement struct {
	Action     model.Verb         `json:"action"`
	Permission catalog.Permission `json:"permission"`
	Role       string             `json:"role"`
	Why        string             `json:"why"`
}

// Changes are the plan's lines for the review and --json.
func (p *Plan) Changes() []model.Change {
	out := make([]model.Change, 0, len(p.Steps))
	for _, s := range p.Steps {
		out = append(out, s.Change)
	}
	return out
}

// PlannedCommand is one cmdlet --dry-run lists.
type PlannedCommand struct {
	Change  model.Change     `json:"change"`
	Command exchange.Command `json:"command"`
}

// Commands are the cmdlets Apply would send, in order, with their
// parameters (the EWS allow-list as read now; Apply reads it again).
func (p *Plan) Commands() []PlannedCommand {
	var out []PlannedCommand
	for _, s := range p.Steps {
		if s.Command != nil && s.Change.Action.Changes() {
			out = append(out, PlannedCommand{s.Change, *s.Command})
		}
	}
	return out
}

// Writes is the number of changes Apply would make.
func (p *Plan) Writes() int { return len(p.Commands()) }

// PlanChanges plans the Exchange part from what Inspect read and what the
// state file says mailoauth made (nil: nothing yet). It reads nothing, so
// the review can re-plan when the admin answers a Question.
func PlanChanges(w Want, snap *Snapshot, st *state.Exchange) *Plan {
	p := &Plan{Want: w, Snapshot: snap}
	b := &builder{p: p, w: w, s: snap, st: st}
	b.mailboxKinds()
	b.registration()
	b.fullAccess()
	b.sendAs()
	b.protocols()
	b.ewsAllowList()
	b.rbac()
	return p
}

// OfflinePlan is every change the setup may need in Exchange, read from
// nothing: for a refused Exchange sign-in (what is left) and an offline
// --dry-run. It cannot be applied.
func OfflinePlan(w Want) *Plan {
	s := &Snapshot{AppID: w.AppID, Flow: w.Flow, ExpectedObjectID: strings.ToLower(w.ServicePrincipalID), ScopeName: scopeName(w.AppID)}
	if w.needsRegistration() {
		s.Registration = RegistrationNone
	}
	for _, m := range w.Mailboxes {
		s.Mailboxes = append(s.Mailboxes, MailboxState{Address: m.Address, Found: true, Mailbox: &exchange.Mailbox{PrimarySmtpAddress: m.Address}})
	}
	for _, m := range w.Mailboxes {
		for _, t := range m.SendAs {
			s.SendAs = append(s.SendAs, SendAsState{From: m.Address, Target: t, Found: true, Owner: &exchange.Mailbox{PrimarySmtpAddress: t}, Trustee: m.Address})
		}
	}
	if w.has(catalog.EWS) {
		s.EWS = &EWSPolicy{}
	}
	p := PlanChanges(w, s, nil)
	p.Offline = true
	return p
}

type builder struct {
	p  *Plan
	w  Want
	s  *Snapshot
	st *state.Exchange
	// spReady: the registration is right or planned; spRef names it (the
	// ObjectId stands in until Apply has the new registration's Identity).
	spReady   bool
	spPlanned bool
	spRef     string
}

func (b *builder) offline() bool { return b.p.Offline || b.s.ReadAt.IsZero() }

func (b *builder) step(s Step) { b.p.Steps = append(b.p.Steps, s) }

func (b *builder) finding(sev model.Severity, code, text, fix string) {
	b.p.Findings = append(b.p.Findings, model.Finding{Severity: sev, Code: code, Text: text, Fix: fix})
}

// keep is an object already as wanted. It is mailoauth's own when the
// state file says so, or when a write of an interrupted run was pending
// for it (sent, not yet recorded); otherwise it is recorded as found.
func (b *builder) keep(key, object, detail string, it state.ExchangeItem) {
	it.Key = key
	switch {
	case b.st.Item(key) != nil && b.st.Item(key).Created:
		it.Created = true
		it.Before = b.st.Item(key).Before
		detail = joinDetail(detail, "made by mailoauth")
	case b.st.PendingItem(key) != nil:
		it.Created = true
		it.Before = b.st.PendingItem(key).Before
		detail = joinDetail(detail, "made by mailoauth in an interrupted run")
	default:
		detail = joinDetail(detail, "found already there; mailoauth will not remove it")
	}
	b.step(Step{Key: key, Change: model.Change{Action: model.Keep, Object: object, Detail: detail}, records: []state.ExchangeItem{it}})
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// mailboxKinds: a delegated product signs in as each mailbox's user, and
// nobody signs in as a shared mailbox (Get-Mailbox RecipientTypeDetails,
// which replaces Graph's licence and sign-in-blocked guess).
func (b *builder) mailboxKinds() {
	if b.offline() {
		return
	}
	for _, m := range b.s.Mailboxes {
		if !m.Found {
			b.mailboxNotFound(m.Address)
			continue
		}
		if m.Mailbox.Shared() && !b.w.appOnly() {
			b.finding(model.Warning, "exchange-shared-mailbox-delegated",
				fmt.Sprintf("%s is a shared mailbox (Get-Mailbox RecipientTypeDetails SharedMailbox): nobody signs in as it, so a delegated product must sign in as a user who has FullAccess on it.", m.Primary()),
				"Name the user who signs in, and give that user FullAccess on the shared mailbox (Add-MailboxPermission -Identity "+m.Primary()+" -User <user> -AccessRights FullAccess).")
		}
		if !strings.EqualFold(m.Address, m.Primary()) {
			b.finding(model.Info, "exchange-secondary-address",
				fmt.Sprintf("%s is a secondary address of the mailbox %s; Exchange changes are made on %s.", m.Address, m.Primary(), m.Primary()), "")
		}
	}
}

// ---- the app's registration ----

const keyRegistration = "service-principal"

func (b *builder) registration() {
	w, s := b.w, b.s
	if !w.needsRegistration() {
		return
	}
	object := fmt.Sprintf("Exchange service principal registration for %q", w.DisplayName)
	item := state.ExchangeItem{Kind: state.ExchangeServicePrincipal, Identity: strings.ToLower(w.ServicePrincipalID), AppID: strings.ToLower(w.AppID)}
	create := func() {
		cmd := exchange.NewServicePrincipal(w.AppID, w.ServicePrincipalID, w.DisplayName)
		it := item
		it.Key, it.Created = keyRegistration, true
		b.step(Step{Key: keyRegistration, kind: stepNewRegistration, Command: &cmd, records: []state.ExchangeItem{it},
			Change: model.Change{Action: model.Create, Object: object,
				Detail: fmt.Sprintf("New-ServicePrincipal -AppId %s -ObjectId %s: the enterprise application's object ID, as Graph reports it", w.AppID, w.ServicePrincipalID)}})
		b.spReady, b.spPlanned, b.spRef = true, true, w.ServicePrincipalID
	}
	switch s.Registration {
	case RegistrationRight:
		it := item
		it.Identity = strings.ToLower(s.right().ObjectID)
		b.keep(keyRegistration, object, "points at the enterprise application's object ID "+w.ServicePrincipalID, it)
		b.spReady, b.spRef = true, s.Ref
	case RegistrationWrong:
		wrong := s.wrong()
		var ids []string
		for _, sp := range wrong {
			why := sp.ObjectID
			if w.AppObjectID != "" && strings.EqualFold(sp.ObjectID, w.AppObjectID) {
				why += " (the app registration's object ID)"
			}
			ids = append(ids, why)
		}
		text := fmt.Sprintf("Exchange Online has a service principal registration for this app with ObjectId %s, not the enterprise application's object ID %s: Exchange never matches the app's tokens to it, so app-only IMAP, POP and SMTP logins fail. It was not made by mailoauth.",
			strings.Join(ids, ", "), w.ServicePrincipalID)
		fix := "Let mailoauth replace it (answer yes to the question), or run Remove-ServicePrincipal -Identity <its Identity> and New-ServicePrincipal -AppId " + w.AppID + " -ObjectId " + w.ServicePrincipalID
		b.finding(model.Warning, "exchange-wrong-registration", text, fix)
		if !w.ReplaceWrongRegistration {
			b.p.Questions = append(b.p.Questions, Question{Key: QuestionReplaceRegistration,
				Text:   "Replace the app's wrong Exchange registration?",
				Detail: text + " Replacing removes that registration (and the mailbox permissions granted to it) and registers the app with the right object ID."})
			b.step(Step{Key: keyRegistration, Change: model.Change{Action: model.Skip, Object: object,
				Detail: "a registration with ObjectId " + strings.Join(ids, ", ") + " is there (not made by mailoauth); replaced only with your agreement"}})
			return
		}
		for _, sp := range wrong {
			cmd := exchange.RemoveServicePrincipal(sp.Ref())
			b.step(Step{Key: "replace-registration:" + strings.ToLower(sp.ObjectID), Command: &cmd,
				Change: model.Change{Action: model.Remove, Object: "wrong Exchange service principal registration (ObjectId " + sp.ObjectID + ")",
					Detail: "not made by mailoauth; removed with your agreement because it points at the wrong object ID; mailbox permissions granted to it go with it"}})
		}
		create()
	default:
		create()
	}
}

// ---- FullAccess ----

func (b *builder) fullAccess() {
	if !b.w.needsFullAccess() {
		return
	}
	for _, m := range b.s.Mailboxes {
		if !m.Found {
			b.mailboxNotFound(m.Address)
			continue
		}
		key := "full-access:" + strings.ToLower(m.Primary())
		object := "FullAccess for the app on " + m.Primary()
		switch {
		case !b.spReady:
			b.step(Step{Key: key, Change: model.Change{Action: model.Skip, Object: object, Detail: "needs the app's Exchange registration first"}})
		case m.FullAccess:
			b.keep(key, object, "Get-MailboxPermission lists it", state.ExchangeItem{Kind: state.ExchangeFullAccess, Identity: m.Primary(), Mailbox: m.Primary(), Trustee: b.spRef})
		default:
			cmd := exchange.AddMailboxPermission(m.Primary(), b.spRef)
			primary := m.Primary()
			b.step(Step{Key: key, Command: &cmd, trustee: b.trusteeParam("User"),
				records: []state.ExchangeItem{{Key: key, Kind: state.ExchangeFullAccess, Identity: primary, Mailbox: primary, Trustee: b.spRef, Created: true}},
				Change: model.Change{Action: model.Grant, Object: object,
					Detail: "app-only IMAP, POP and SMTP need FullAccess on each mailbox (Microsoft's client-credentials procedure); only this mailbox"},
				after: func(s *Snapshot) {
					if ms := s.Mailbox(primary); ms != nil {
						ms.FullAccess, ms.FullAccessRead = true, true
					}
				}})
		}
	}
}

// trusteeParam is the parameter Apply fills with the new registration's
// Identity; "" when the registration exists (its Ref is already known).
func (b *builder) trusteeParam(name string) string {
	if b.spPlanned {
		return name
	}
	return ""
}

func (b *builder) mailboxNotFound(address string) {
	for _, f := range b.p.Findings {
		if f.Code == "exchange-no-mailbox" && strings.Contains(f.Text, address) {
			return
		}
	}
	b.finding(model.Blocker, "exchange-no-mailbox",
		fmt.Sprintf("Exchange Online has no mailbox with the address %s: Get-Mailbox found no user or shared mailbox with it as its primary or a secondary address.", address),
		"Check the address, or create the mailbox (a licensed user or a shared mailbox) first.")
}

// ---- SendAs ----

func (b *builder) sendAs() {
	if !b.w.needsSendAs() {
		return
	}
	for _, sa := range b.s.SendAs {
		if !sa.Found {
			b.mailboxNotFound(sa.Target)
			continue
		}
		target := sa.Owner.PrimarySmtpAddress
		trustee, who := sa.Trustee, sa.From
		if b.w.appOnly() {
			trustee, who = b.spRef, "the app"
		}
		key := "send-as:" + strings.ToLower(target) + ":" + strings.ToLower(sa.From)
		object := fmt.Sprintf("SendAs for %s on %s", who, target)
		switch {
		case b.w.appOnly() && !b.spReady:
			b.step(Step{Key: key, Change: model.Change{Action: model.Skip, Object: object, Detail: "needs the app's Exchange registration first"}})
		case trustee == "":
			b.step(Step{Key: key, Change: model.Change{Action: model.Skip, Object: object, Detail: "the sending mailbox " + sa.From + " was not found"}})
		case sa.Granted:
			b.keep(key, object, "Get-RecipientPermission lists it", state.ExchangeItem{Kind: state.ExchangeSendAs, Identity: target, Mailbox: target, Trustee: trustee})
		default:
			cmd := exchange.AddRecipientPermission(target, trustee)
			st := Step{Key: key, Command: &cmd,
				records: []state.ExchangeItem{{Key: key, Kind: state.ExchangeSendAs, Identity: target, Mailbox: target, Trustee: trustee, Created: true}},
				Change:  model.Change{Action: model.Grant, Object: object, Detail: "the product sends as " + target + " from " + sa.From}}
			if b.w.appOnly() {
				st.trustee = b.trusteeParam("Trustee")
			}
			b.step(st)
		}
	}
}

// ---- protocol switches (Set-CASMailbox, on the product's mailboxes only) ----

func (b *builder) protocols() {
	if !b.w.exchangeProtocols() {
		return
	}
	for _, m := range b.s.Mailboxes {
		if !m.Found {
			b.mailboxNotFound(m.Address)
			continue
		}
		primary := m.Primary()
		var params []exchange.Param
		var changed, kept []string
		var records []state.ExchangeItem
		var adopted []state.ExchangeItem
		want := func(on bool, setting string, current exchange.Bool, value any, after string, why string) {
			if !on {
				return
			}
			key := "cas:" + strings.ToLower(primary) + ":" + strings.ToLower(setting)
			before := current.String()
			if m.CAS == nil {
				before = "(not read)"
			}
			if m.CAS != nil && current.String() == after {
				kept = append(kept, setting+" "+after)
				if p := b.st.PendingItem(key); p != nil {
					it := *p
					it.Created = true
					adopted = append(adopted, it)
				}
				return
			}
			params = append(params, exchange.Param{Name: setting, Value: value})
			changed = append(changed, joinDetail(setting+" "+before+" → "+after, why))
			records = append(records, state.ExchangeItem{Key: key, Kind: state.ExchangeMailboxSetting, Identity: primary, Mailbox: primary, Setting: setting, Before: before, After: after, Created: true})
		}
		var cas exchange.CASMailbox
		if m.CAS != nil {
			cas = *m.CAS
		}
		want(b.w.has(catalog.IMAP), "ImapEnabled", cas.ImapEnabled, true, "True", "")
		want(b.w.has(catalog.POP), "PopEnabled", cas.PopEnabled, true, "True", "")
		if b.w.has(catalog.EWS) {
			// $null on a mailbox follows the organisation: only an
			// explicit False is changed.
			ews := cas.EwsEnabled
			if !ews.Set() && m.CAS != nil {
				kept = append(kept, "EwsEnabled $null (follows the organisation)")
			} else {
				want(true, "EwsEnabled", ews, true, "True", "")
			}
		}
		if b.w.has(catalog.SMTP) {
			b.smtpAuth(m, cas, want, &kept)
		}
		object := "protocols on mailbox " + primary
		switch {
		case len(params) > 0:
			cmd := exchange.SetCASMailbox(primary, params...)
			set := params
			b.step(Step{Key: "protocols:" + strings.ToLower(primary), Command: &cmd, records: append(records, adopted...),
				Change: model.Change{Action: model.Update, Object: object, Detail: strings.Join(append(changed, kept...), "; ")},
				after: func(s *Snapshot) {
					ms := s.Mailbox(primary)
					if ms == nil || ms.CAS == nil {
						return
					}
					for _, p := range set {
						v, _ := p.Value.(bool)
						nb := exchange.Bool{V: &v}
						switch p.Name {
						case "ImapEnabled":
							ms.CAS.ImapEnabled = nb
						case "PopEnabled":
							ms.CAS.PopEnabled = nb
						case "EwsEnabled":
							ms.CAS.EwsEnabled = nb
						case "SmtpClientAuthenticationDisabled":
							ms.CAS.SmtpClientAuthenticationDisabled = nb
						}
					}
				}})
		case len(kept) > 0:
			detail := strings.Join(kept, "; ")
			if len(adopted) > 0 {
				detail = joinDetail(detail, "set by mailoauth in an interrupted run")
			}
			b.step(Step{Key: "protocols:" + strings.ToLower(primary), records: adopted, Change: model.Change{Action: model.Keep, Object: object, Detail: detail}})
		}
	}
}

// smtpAuth plans the mailbox's SMTP AUTH switch from its effective state:
// the mailbox's own value, or the organisation's when the mailbox has
// $null. The organisation's switch is never touched: with SMTP AUTH off
// for the organisation it is enabled on the product's mailboxes only.
func (b *builder) smtpAuth(m MailboxState, cas exchange.CASMailbox, want func(bool, string, exchange.Bool, any, string, string), kept *[]string) {
	own := cas.SmtpClientAuthenticationDisabled
	switch {
	case m.CAS == nil:
		want(true, "SmtpClientAuthenticationDisabled", own, false, "False", "")
	case own.Is(false):
		*kept = append(*kept, "SmtpClientAuthenticationDisabled False")
	case own.Is(true):
		want(true, "SmtpClientAuthenticationDisabled", own, false, "False", "SMTP AUTH for this mailbox only")
	case b.s.OrgSMTPAuthRead && b.s.OrgSMTPAuthDisabled.Is(false):
		*kept = append(*kept, "SmtpClientAuthenticationDisabled $null (inherits the organisation's: SMTP AUTH on)")
	default:
		org := "the organisation's SMTP AUTH is off (Get-TransportConfig SmtpClientAuthenticationDisabled " + b.s.OrgSMTPAuthDisabled.String() + ")"
		if !b.s.OrgSMTPAuthRead {
			org = "the organisation's SMTP AUTH was not read"
		}
		want(true, "SmtpClientAuthenticationDisabled", own, false, "False", org+"; enabled for this mailbox only, never for the organisation")
	}
}

// ---- EWS allow-list (read-modify-write; never drops an ID) ----

func (b *builder) ewsAllowList() {
	w, s := b.w, b.s
	if !w.has(catalog.EWS) {
		return
	}
	key := "ews-allow-list:" + strings.ToLower(w.AppID)
	object := "app " + w.AppID + " on the organisation's EWS allow-list"
	pol := s.EWS
	if b.offline() {
		b.step(Step{Key: key, Change: model.Change{Action: model.Add, Object: object,
			Detail: "added to the list as it is then (Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy), keeping every ID already listed"}})
		return
	}
	if pol == nil || !pol.Read {
		why := "not read"
		if pol != nil && pol.Error != "" {
			why = pol.Error
		}
		b.finding(model.Warning, "exchange-ews-policy-unread", "The organisation's EWS allow-list could not be read ("+why+"); mailoauth never writes a list it could not read, since the list is replaced as a whole.",
			"Add the app by hand: read the list with Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy, then Set-OrganizationConfig -EwsAllowedAppIDs with every ID listed plus "+w.AppID+".")
		b.step(Step{Key: key, Change: model.Change{Action: model.Skip, Object: object, Detail: "the current list could not be read"}})
		return
	}
	others := 0
	for _, id := range pol.AllowedAppIDs {
		if !strings.EqualFold(id, w.AppID) {
			others++
		}
	}
	if pol.Listed(w.AppID) {
		b.keep(key, object, "EwsAllowedAppIDs lists it", state.ExchangeItem{Kind: state.ExchangeAllowListEntry, Identity: strings.ToLower(w.AppID), AppID: strings.ToLower(w.AppID)})
	} else {
		ids := append(append([]string(nil), pol.AllowedAppIDs...), strings.ToLower(w.AppID))
		cmd := exchange.SetEWSAllowList(ids)
		detail := "EwsAllowedAppIDs replaces the whole list, so it is read again just before the write; every ID already listed stays; Exchange may take up to 24 hours to honour a change of the list"
		if others > 0 {
			detail = fmt.Sprintf("keeps the %d ID(s) already listed (%s) and adds this app's; %s", others, strings.Join(pol.AllowedAppIDs, ", "), detail)
		}
		b.step(Step{Key: key, kind: stepAllowList, Command: &cmd,
			records: []state.ExchangeItem{{Key: key, Kind: state.ExchangeAllowListEntry, Identity: strings.ToLower(w.AppID), AppID: strings.ToLower(w.AppID), Created: true}},
			Change:  model.Change{Action: model.Add, Object: object, Detail: detail},
			after: func(s *Snapshot) {
				if s.EWS != nil && !s.EWS.Listed(w.AppID) {
					s.EWS.AllowedAppIDs = append(s.EWS.AllowedAppIDs, strings.ToLower(w.AppID))
				}
			}})
	}
	orgKey := "org:ewsenabled"
	if pol.Enabled.Is(true) {
		if p := b.st.PendingItem(orgKey); p != nil {
			it := *p
			it.Created = true
			b.step(Step{Key: orgKey, records: []state.ExchangeItem{it}, Change: model.Change{Action: model.Keep, Object: "EWS for the organisation (EwsEnabled)",
				Detail: "True; set by mailoauth in an interrupted run"}})
		}
		return
	}
	exclusive := fmt.Sprintf("Setting EwsEnabled True makes the allow-list exclusive: from then on only the apps on it may use EWS, and every other EWS app in the organisation stops working at once (listed besides this app: %d%s).",
		others, listSuffix(pol.AllowedAppIDs, w.AppID))
	var text string
	sev := model.Warning
	if pol.Enabled.Is(false) {
		text = "EWS is off for the whole organisation (Get-OrganizationConfig EwsEnabled False): no app may use EWS, so the product's EWS logins fail. " + exclusive
	} else {
		sev = model.Info
		text = "EwsEnabled is not set for the organisation ($null): today every app may use EWS and the allow-list has no effect, but Microsoft switches EWS off tenant by tenant since 2026-10-01 unless EwsEnabled is True with an allow-list (and for good on 2027-04-01). " + exclusive
	}
	b.finding(sev, "exchange-ews-enabled", text, "Answer yes to let mailoauth set EwsEnabled True, or set it yourself once every EWS app your organisation uses is on the list.")
	if !w.EnableEWSAllowList {
		b.p.Questions = append(b.p.Questions, Question{Key: QuestionEnableEWS, Text: "Set the organisation's EwsEnabled to True (only listed apps may use EWS)?", Detail: text})
		b.step(Step{Key: orgKey, Change: model.Change{Action: model.Skip, Object: "EWS for the organisation (EwsEnabled)", Detail: "stays " + pol.Enabled.String() + " unless you agree"}})
		return
	}
	on := true
	cmd := exchange.SetEWSEnabled(&on)
	b.step(Step{Key: orgKey, Command: &cmd,
		records: []state.ExchangeItem{{Key: orgKey, Kind: state.ExchangeOrgSetting, Identity: "EwsEnabled", Setting: "EwsEnabled", Before: pol.Enabled.String(), After: "True", Created: true}},
		Change: model.Change{Action: model.Update, Object: "EWS for the organisation (EwsEnabled)",
			Detail: pol.Enabled.String() + " → True, with your agreement: only apps on the allow-list may use EWS from now on"},
		after: func(s *Snapshot) {
			if s.EWS != nil {
				s.EWS.Enabled = exchange.Bool{V: &on}
			}
		}})
}

func listSuffix(ids []string, self string) string {
	var others []string
	for _, id := range ids {
		if !strings.EqualFold(id, self) {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return ": " + strings.Join(others, ", ")
}

// ---- RBAC for Applications ----

func (b *builder) rbac() {
	roles := b.w.scoped()
	if len(roles) == 0 {
		return
	}
	s := b.s
	name := scopeName(b.w.AppID)
	var primaries []string
	for _, m := range s.Mailboxes {
		if m.Found {
			primaries = append(primaries, m.Primary())
		}
	}
	if b.w.needsFullAccess() {
		b.finding(model.Info, "exchange-rbac-mail-protocols", "IMAP, POP and SMTP are limited to the named mailboxes by FullAccess already; RBAC for Applications limits Graph mail and EWS.", "")
	}
	scopeObj := "management scope " + name + " (the named mailboxes)"
	if len(primaries) == 0 || !b.spReady {
		why := "no named mailbox was found"
		if !b.spReady {
			why = "needs the app's Exchange registration first"
		}
		b.step(Step{Key: "scope:" + name, Change: model.Change{Action: model.Skip, Object: scopeObj, Detail: why}})
		return
	}
	filter := recipientFilter(primaries)
	scopeKey := "scope:" + name
	switch {
	case s.Scope == nil:
		cmd := exchange.NewManagementScope(name, filter)
		b.step(Step{Key: scopeKey, kind: stepScope, Command: &cmd,
			records: []state.ExchangeItem{{Key: scopeKey, Kind: state.ExchangeManagementScope, Identity: name, Created: true}},
			Change:  model.Change{Action: model.Create, Object: scopeObj, Detail: "RecipientRestrictionFilter " + filter}})
	case sameFilter(s.Scope.RecipientFilter, filter):
		b.keep(scopeKey, scopeObj, "its filter names exactly these mailboxes", state.ExchangeItem{Kind: state.ExchangeManagementScope, Identity: name})
	default:
		ours := b.st.Item(scopeKey) != nil && b.st.Item(scopeKey).Created
		text := fmt.Sprintf("The management scope %s exists with the filter %q, not %q.", name, s.Scope.RecipientFilter, filter)
		fix := fmt.Sprintf("Set-ManagementScope -Identity %s -RecipientRestrictionFilter \"%s\"", name, filter)
		if !ours {
			text += " It was not made by mailoauth, so it is left as it is and the app is not limited with it."
		} else {
			text += " The named mailboxes changed; mailoauth does not change a scope's filter yet."
		}
		b.finding(model.Warning, "exchange-scope-differs", text, fix)
		b.step(Step{Key: scopeKey, Change: model.Change{Action: model.Skip, Object: scopeObj, Detail: "its filter differs from the named mailboxes"}})
		return
	}
	for i := range roles {
		r := roles[i]
		key := "role-assignment:" + strings.ToLower(r.Role)
		aname := assignmentName(b.w.AppID, r.Role)
		object := fmt.Sprintf("RBAC for Applications role %q for the app, limited to %s", r.Role, name)
		req := Requirement{Action: model.Remove, Permission: r.Permission, Role: r.Role,
			Why: fmt.Sprintf("the tenant-wide %s must be removed from the app for %q to limit it to the named mailboxes (Microsoft: the Entra permission and the role assignment add up)", r.Permission, r.Role)}
		if a := findAssignment(s.Assignments, r.Role, name); a != nil {
			b.keep(key, object, "Get-ManagementRoleAssignment lists it", state.ExchangeItem{Kind: state.ExchangeRoleAssignment, Identity: a.Name, Role: r.Role, Scope: name, Trustee: b.spRef})
			b.p.Requirements = append(b.p.Requirements, req)
			continue
		}
		cmd := exchange.NewManagementRoleAssignment(aname, r.Role, b.spRef, name)
		detail := "with " + r.Permission.String() + " removed from the app afterwards"
		if !r.Verified {
			detail = joinDetail(detail, "the role name is UNVERIFIED; if Exchange refuses it, scoping is reported unavailable and the Entra permission stays")
		}
		b.step(Step{Key: key, kind: stepRoleAssignment, Command: &cmd, trustee: b.trusteeParam("App"), role: &r,
			records: []state.ExchangeItem{{Key: key, Kind: state.ExchangeRoleAssignment, Identity: aname, Role: r.Role, Scope: name, Trustee: b.spRef, Created: true}},
			Change:  model.Change{Action: model.Assign, Object: object, Detail: detail}})
		b.p.Requirements = append(b.p.Requirements, req)
	}
}

// assignmentName is the role assignment's name: mailoauth's marker, the
// app and the role, within Exchange's 64 characters.
func assignmentName(appID, role string) string {
	n := "mailoauth-" + strings.ToLower(appID) + "-" + strings.ReplaceAll(strings.TrimPrefix(role, "Application "), " ", "")
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

func findAssignment(as []exchange.RoleAssignment, role, scope string) *exchange.RoleAssignment {
	for i, a := range as {
		if strings.EqualFold(a.Role, role) && strings.EqualFold(a.CustomResourceScope, scope) {
			return &as[i]
		}
	}
	return nil
}

// recipientFilter names the mailboxes by primary address (OPATH, values in
// single quotes with quotes doubled).
func recipientFilter(primaries []string) string {
	ps := append([]string(nil), primaries...)
	for i := range ps {
		ps[i] = strings.ToLower(ps[i])
	}
	sort.Strings(ps)
	ps = slices.Compact(ps)
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = "PrimarySmtpAddress -eq '" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return strings.Join(parts, " -or ")
}

// sameFilter compares filters as Exchange may reformat them (added
// parentheses, spacing, case).
func sameFilter(a, b string) bool {
	norm := func(s string) string {
		s = strings.NewReplacer("(", "", ")", "", " ", "", "\t", "").Replace(strings.ToLower(s))
		return s
	}
	return norm(a) == norm(b)
}
