package exchangesetup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/internal/retry"
)

// ApplyOptions configure Apply and Delete.
type ApplyOptions struct {
	// OnEvent receives each change starting and done, and the countdown
	// while Exchange replicates a new registration.
	OnEvent func(model.Event)
	// ReplicationFirst replaces retry.Replication's first wait (tests).
	ReplicationFirst time.Duration
}

// Result is what Apply did.
type Result struct {
	// Done are the changes made, and the objects found already as wanted,
	// in order.
	Done []model.Change `json:"done"`
	// Writes is the number of cmdlets that changed something.
	Writes int `json:"writes"`
	// ChangedAt is the time of the last write (zero: nothing was written).
	// Pass it to the login test as the start of its replication budget:
	// Apply does not wait for mailbox permissions to take effect; the
	// login test's countdown does.
	ChangedAt time.Time `json:"changed_at"`
	// RemoveEntraPermissions are the app's tenant-wide permissions to
	// remove now that RBAC for Applications limits them (provisioning does
	// it; until then the limit does not hold).
	RemoveEntraPermissions []catalog.Permission `json:"remove_entra_permissions,omitempty"`
	// ScopingUnavailable are the roles Exchange refused, with its words:
	// those protocols stay unlimited and keep their Entra permission.
	ScopingUnavailable []string `json:"scoping_unavailable,omitempty"`
	// Warnings are Exchange's warnings and mailoauth's checks afterwards.
	Warnings []string `json:"warnings,omitempty"`
	// Snapshot is the plan's snapshot updated with what was done.
	Snapshot *Snapshot `json:"-"`
}

// Apply makes the plan's changes, after the review's yes. Each write is
// recorded as pending in the state file before it is sent and as done
// after, each saved at once: a run killed between steps resumes where it
// stopped, and a second run plans nothing to write. A refused session
// (missing role, wrong token) is an *UnavailableError with what is left.
func Apply(ctx context.Context, inv exchange.Invoker, p *Plan, store *state.Store, o ApplyOptions) (*Result, error) {
	if p == nil || p.Offline {
		return nil, errors.New("exchange setup: an offline plan cannot be applied; sign in to Exchange Online and inspect first")
	}
	if store == nil || store.State() == nil {
		return nil, errors.New("exchange setup: no state file to record the Exchange changes in (the Entra part records it first)")
	}
	ap := &applier{ctx: ctx, inv: inv, a: exchange.Admin{Invoker: inv}, p: p, store: store, o: o, res: &Result{Snapshot: p.Snapshot}}
	if p.Snapshot != nil && p.Snapshot.Registration == RegistrationRight {
		ap.spRef = p.Snapshot.Ref
	}
	if err := store.Update(func(s *state.State) {
		x := exo(s)
		for _, st := range p.Steps {
			if !st.Change.Action.Changes() {
				for _, r := range st.records {
					x.Record(r)
				}
			}
		}
	}); err != nil {
		return nil, err
	}
	for i, st := range p.Steps {
		if !st.Change.Action.Changes() {
			if st.Change.Action == model.Keep {
				ap.res.Done = append(ap.res.Done, st.Change)
			}
			continue
		}
		if st.Command == nil {
			continue
		}
		if err := ap.step(st); err != nil {
			if refused(err) {
				return ap.res, &UnavailableError{Err: err, Done: ap.res.Done, Left: leftFrom(p.Steps[i:])}
			}
			return ap.res, err
		}
	}
	ap.finishRBAC()
	return ap.res, nil
}

func exo(s *state.State) *state.Exchange {
	if s.Exchange == nil {
		s.Exchange = &state.Exchange{}
	}
	return s.Exchange
}

func leftFrom(steps []Step) []model.Change {
	var out []model.Change
	for _, s := range steps {
		if s.Change.Action.Changes() {
			out = append(out, s.Change)
		}
	}
	return out
}

type applier struct {
	ctx   context.Context
	inv   exchange.Invoker
	a     exchange.Admin
	p     *Plan
	store *state.Store
	o     ApplyOptions
	res   *Result
	// spRef names the registration; spNew: made in this run, so Exchange
	// may not know it everywhere yet.
	spRef string
	spNew bool
	// RBAC bookkeeping.
	scopeMadeNow  string
	rolesHeld     []string
	rolesRefused  []string
	rolesAssigned bool
}

func (ap *applier) emit(e model.Event) {
	if ap.o.OnEvent != nil {
		ap.o.OnEvent(e)
	}
}

func (ap *applier) step(st Step) error {
	cmd := *st.Command
	records := append([]state.ExchangeItem(nil), st.records...)
	if st.trustee != "" && ap.spRef != "" {
		cmd = cmd.With(st.trustee, ap.spRef)
		for i := range records {
			records[i].Trustee = ap.spRef
		}
	}
	ap.emit(model.Event{Action: st.Change.Progress(), Detail: cmd.String()})
	if st.kind == stepAllowList {
		// Read-modify-write, read again now: the list may have changed
		// since the review, and the parameter replaces it whole.
		oc, err := ap.a.OrganizationConfig(ap.ctx)
		if err != nil {
			return ap.failed(st, err)
		}
		if oc.EwsAllowedAppIDs.Has(ap.p.Want.AppID) {
			return ap.found(st, records, "listed since the review")
		}
		cmd = exchange.SetEWSAllowList(append(append([]string(nil), oc.EwsAllowedAppIDs...), strings.ToLower(ap.p.Want.AppID)))
	}
	if err := ap.store.Update(func(s *state.State) {
		x := exo(s)
		for _, r := range records {
			x.Intend(r)
		}
	}); err != nil {
		return err
	}
	raws, warns, err := ap.run(cmd, st.Change.Progress())
	ap.res.Warnings = append(ap.res.Warnings, warns...)
	switch {
	case err == nil:
	case exchange.Is(err, exchange.AlreadyExists) && (st.kind == stepNewRegistration || st.kind == stepScope || st.kind == stepRoleAssignment):
		// There before this run's request took effect (or a retry of our
		// own): recorded as found, so delete never removes what may not
		// be mailoauth's.
		if st.kind == stepNewRegistration {
			if err := ap.reReadRegistration(); err != nil {
				return ap.failed(st, err)
			}
		}
		if st.kind == stepRoleAssignment {
			ap.rolesHeld = append(ap.rolesHeld, st.role.Role)
		}
		return ap.found(st, records, "Exchange says it already exists")
	case st.kind == stepRoleAssignment && roleRefused(err, st.role.Role):
		ap.rolesRefused = append(ap.rolesRefused, st.role.Role)
		ap.res.ScopingUnavailable = append(ap.res.ScopingUnavailable, fmt.Sprintf("%s: %s", st.role.Role, errText(err)))
		ap.dropPending(records)
		ap.res.Done = append(ap.res.Done, model.Change{Action: model.Skip, Object: st.Change.Object,
			Detail: "Exchange refused the role name, so RBAC scoping is unavailable for it and " + st.role.Permission.String() + " stays on the app"})
		ap.emit(model.Event{Action: st.Change.Progress(), Done: true, Err: err})
		return nil
	default:
		return ap.failed(st, err)
	}
	if alreadyThere(warns) {
		if st.kind == stepRoleAssignment {
			ap.rolesHeld = append(ap.rolesHeld, st.role.Role)
		}
		return ap.found(st, records, warns[0])
	}
	switch st.kind {
	case stepNewRegistration:
		sps, _ := exchange.Decode[exchange.ServicePrincipal](raws)
		ref := ap.p.Want.ServicePrincipalID
		if len(sps) > 0 && sps[0].Ref() != "" {
			ref = sps[0].Ref()
			if ap.p.Snapshot != nil {
				ap.p.Snapshot.setRegistrations(append(rightless(ap.p.Snapshot.Registrations, ap.p.Want.ServicePrincipalID), sps[0]))
			}
		}
		ap.spRef, ap.spNew = ref, true
	case stepScope:
		ap.scopeMadeNow = stName(st)
	case stepRoleAssignment:
		ap.rolesHeld = append(ap.rolesHeld, st.role.Role)
		ap.rolesAssigned = true
	}
	if err := ap.store.Update(func(s *state.State) {
		x := exo(s)
		for _, r := range records {
			r.At = time.Now().UTC()
			x.Record(r)
		}
	}); err != nil {
		return err
	}
	ap.res.Writes++
	ap.res.ChangedAt = time.Now()
	ap.res.Done = append(ap.res.Done, st.Change)
	if st.after != nil && ap.p.Snapshot != nil {
		st.after(ap.p.Snapshot)
	}
	ap.emit(model.Event{Action: st.Change.Progress(), Done: true})
	return nil
}

func stName(st Step) string {
	if v, ok := st.Command.Get("Name"); ok {
		s, _ := v.(string)
		return s
	}
	return ""
}

// rightless drops registrations pointing at objectID (replaced by the new one).
func rightless(sps []exchange.ServicePrincipal, objectID string) []exchange.ServicePrincipal {
	return slices.DeleteFunc(append([]exchange.ServicePrincipal(nil), sps...), func(sp exchange.ServicePrincipal) bool {
		return strings.EqualFold(sp.ObjectID, objectID)
	})
}

// run sends a command; right after a new registration, Exchange may not
// know it yet on the server that takes the next cmdlet (404 naming it):
// that is waited out with the replication schedule and its countdown.
func (ap *applier) run(cmd exchange.Command, what string) ([]json.RawMessage, []string, error) {
	if !ap.spNew {
		return cmd.Run(ap.ctx, ap.inv)
	}
	var raws []json.RawMessage
	var warns []string
	loop := retry.Loop{Schedule: retry.Replication, What: what, First: ap.o.ReplicationFirst, OnWait: ap.o.OnEvent}
	_, err := loop.Run(ap.ctx, func(ctx context.Context, _ int) error {
		var err error
		raws, warns, err = cmd.Run(ctx, ap.inv)
		return err
	}, func(err error) retry.Verdict {
		if exchange.Is(err, exchange.NotFound) && mentions(err, ap.spRef, ap.p.Want.ServicePrincipalID, ap.p.Want.AppID) {
			return retry.Verdict{Retry: true, Why: "Exchange to replicate the new registration", Code: "ManagementObjectNotFoundException"}
		}
		return retry.Verdict{}
	})
	return raws, warns, err
}

func mentions(err error, ids ...string) bool {
	text := strings.ToLower(errText(err))
	for _, id := range ids {
		if id != "" && strings.Contains(text, strings.ToLower(id)) {
			return true
		}
	}
	return false
}

func errText(err error) string {
	var e *exchange.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// roleRefused: Exchange does not know the role name (NotFound naming it,
// or any refusal quoting it).
func roleRefused(err error, role string) bool {
	k := exchange.KindOf(err)
	return (k == exchange.NotFound || k == exchange.Unknown) && mentions(err, role)
}

// alreadyThere reads the warnings Exchange gives an Add-* whose entry
// exists (docs/exchange-admin-api.md §4).
func alreadyThere(warns []string) bool {
	for _, w := range warns {
		l := strings.ToLower(w)
		if strings.Contains(l, "already present") || strings.Contains(l, "already exists") || strings.Contains(l, "existing permission entry") {
			return true
		}
	}
	return false
}

// found records the step's objects as found already there.
func (ap *applier) found(st Step, records []state.ExchangeItem, why string) error {
	if err := ap.store.Update(func(s *state.State) {
		x := exo(s)
		for _, r := range records {
			r.Created = false
			x.Record(r)
		}
	}); err != nil {
		return err
	}
	c := model.Change{Action: model.Keep, Object: st.Change.Object, Detail: "found already there (" + why + "); mailoauth will not remove it"}
	ap.res.Done = append(ap.res.Done, c)
	if st.after != nil && ap.p.Snapshot != nil {
		st.after(ap.p.Snapshot)
	}
	ap.emit(model.Event{Action: st.Change.Progress(), Detail: c.Detail, Done: true})
	return nil
}

func (ap *applier) dropPending(records []state.ExchangeItem) {
	_ = ap.store.Update(func(s *state.State) {
		for _, r := range records {
			exo(s).Drop(r.Key)
		}
	})
}

// failed: a refusal means nothing was made (pending dropped); a write
// without an answer may have landed, so its pending record stays and the
// next run adopts the object if it is there.
func (ap *applier) failed(st Step, err error) error {
	if exchange.KindOf(err) != exchange.Unavailable {
		ap.dropPending(st.records)
	}
	ap.emit(model.Event{Action: st.Change.Progress(), Done: true, Err: err})
	return fmt.Errorf("%s: %w", st.Change.Progress(), err)
}

func (ap *applier) reReadRegistration() error {
	sps, err := ap.a.ServicePrincipals(ap.ctx, ap.p.Want.AppID)
	if err != nil {
		return err
	}
	s := ap.p.Snapshot
	if s == nil {
		s = &Snapshot{AppID: ap.p.Want.AppID, ExpectedObjectID: strings.ToLower(ap.p.Want.ServicePrincipalID)}
	}
	s.setRegistrations(sps)
	if s.Registration != RegistrationRight {
		return fmt.Errorf("Exchange says the registration exists, but none for app %s points at %s", ap.p.Want.AppID, ap.p.Want.ServicePrincipalID)
	}
	ap.spRef = s.Ref
	return nil
}

// finishRBAC: the Entra permissions to remove are those whose role holds;
// a scope made in this run that no role uses is removed again (it is
// mailoauth's own); a made assignment is checked with
// Test-ServicePrincipalAuthorization.
func (ap *applier) finishRBAC() {
	for _, st := range ap.p.Steps {
		if st.role == nil && st.Change.Action == model.Keep && strings.HasPrefix(st.Key, "role-assignment:") {
			for _, r := range st.records {
				ap.rolesHeld = append(ap.rolesHeld, r.Role)
			}
		}
	}
	for _, req := range ap.p.Requirements {
		if slices.Contains(ap.rolesHeld, req.Role) && !slices.Contains(ap.rolesRefused, req.Role) {
			ap.res.RemoveEntraPermissions = append(ap.res.RemoveEntraPermissions, req.Permission)
		}
	}
	if ap.scopeMadeNow != "" && len(ap.rolesHeld) == 0 && len(ap.rolesRefused) > 0 {
		cmd := exchange.RemoveManagementScope(ap.scopeMadeNow)
		if _, _, err := cmd.Run(ap.ctx, ap.inv); err == nil {
			_ = ap.store.Update(func(s *state.State) { exo(s).Forget("scope:" + ap.scopeMadeNow) })
			ap.res.Done = append(ap.res.Done, model.Change{Action: model.Remove, Object: "management scope " + ap.scopeMadeNow, Detail: "no role could use it"})
		} else {
			ap.res.Warnings = append(ap.res.Warnings, "the management scope "+ap.scopeMadeNow+" that no role uses could not be removed: "+err.Error())
		}
	}
	if !ap.rolesAssigned || ap.spRef == "" {
		return
	}
	var first string
	if s := ap.p.Snapshot; s != nil {
		for _, m := range s.Mailboxes {
			if m.Found {
				first = m.Primary()
				break
			}
		}
	}
	if first == "" {
		return
	}
	rows, err := ap.a.TestAuthorization(ap.ctx, ap.spRef, first)
	if err != nil {
		ap.res.Warnings = append(ap.res.Warnings, "Test-ServicePrincipalAuthorization could not check the new role assignments: "+err.Error())
		return
	}
	for _, r := range rows {
		if slices.Contains(ap.rolesHeld, r.RoleName) && !strings.EqualFold(r.InScope, "True") {
			ap.res.Warnings = append(ap.res.Warnings, fmt.Sprintf("Test-ServicePrincipalAuthorization: role %q is not in scope for %s (InScope %s)", r.RoleName, first, r.InScope))
		}
	}
}
