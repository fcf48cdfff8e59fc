package exchangesetup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
)

// DeleteResult is what Delete did and did not do.
type DeleteResult struct {
	Removed []model.Change `json:"removed"`
	// Gone were already removed by someone else.
	Gone []model.Change `json:"gone,omitempty"`
	// Refused are objects delete leaves alone, with why.
	Refused []Refusal `json:"refused,omitempty"`
	// Kept are settings mailoauth changed and leaves as they are (a
	// setting is not an object: others may rely on it now), each with the
	// cmdlet that sets it back.
	Kept []model.Change `json:"kept,omitempty"`
}

// Refusal is one object delete will not remove.
type Refusal struct {
	Object string `json:"object"`
	Why    string `json:"why"`
}

// deleteOrder removes dependants first: assignments before their scope,
// permissions before the registration they name.
var deleteOrder = []state.ExchangeKind{
	state.ExchangeRoleAssignment, state.ExchangeManagementScope, state.ExchangeSendAs, state.ExchangeFullAccess,
	state.ExchangeAllowListEntry, state.ExchangeOrgSetting, state.ExchangeMailboxSetting, state.ExchangeServicePrincipal,
}

// Delete removes from Exchange what the state file says mailoauth made
// (and writes it sent but never recorded, if they landed), each checked
// against Exchange first, and nothing it found already there. The allow-
// list is read-modify-write again: only this app's ID leaves it.
func Delete(ctx context.Context, inv exchange.Invoker, store *state.Store, o ApplyOptions) (*DeleteResult, error) {
	res := &DeleteResult{}
	st := store.State()
	if st == nil || st.Exchange == nil {
		return res, nil
	}
	x := st.Exchange
	var items []state.ExchangeItem
	for _, it := range x.Items {
		items = append(items, it)
	}
	for _, it := range x.Pending {
		if x.Item(it.Key) == nil {
			it.Created = true // sent by mailoauth; removed only if it is there
			items = append(items, it)
		}
	}
	var todo []state.ExchangeItem
	for _, kind := range deleteOrder {
		for _, it := range items {
			if it.Kind == kind {
				todo = append(todo, it)
			}
		}
	}
	d := &deleter{ctx: ctx, inv: inv, a: exchange.Admin{Invoker: inv}, store: store, o: o, res: res}
	for i, it := range todo {
		if !it.Created {
			res.Refused = append(res.Refused, Refusal{Object: describe(it), Why: "found already there when mailoauth set up the app: not made by mailoauth"})
			continue
		}
		if err := d.remove(it); err != nil {
			if refused(err) {
				var left []model.Change
				for _, l := range todo[i:] {
					if l.Created && l.Kind != state.ExchangeMailboxSetting && l.Kind != state.ExchangeOrgSetting {
						left = append(left, model.Change{Action: model.Remove, Object: describe(l)})
					}
				}
				return res, &UnavailableError{Err: err, Done: res.Removed, Left: left}
			}
			return res, fmt.Errorf("removing %s: %w", describe(it), err)
		}
	}
	return res, nil
}

func describe(it state.ExchangeItem) string {
	switch it.Kind {
	case state.ExchangeServicePrincipal:
		return "Exchange service principal registration (ObjectId " + it.Identity + ")"
	case state.ExchangeFullAccess:
		return "FullAccess for the app on " + it.Mailbox
	case state.ExchangeSendAs:
		return "SendAs for " + it.Trustee + " on " + it.Mailbox
	case state.ExchangeAllowListEntry:
		return "app " + it.Identity + " on the organisation's EWS allow-list"
	case state.ExchangeOrgSetting:
		return "organisation setting " + it.Setting
	case state.ExchangeMailboxSetting:
		return it.Setting + " on mailbox " + it.Mailbox
	case state.ExchangeManagementScope:
		return "management scope " + it.Identity
	case state.ExchangeRoleAssignment:
		return "role assignment " + it.Identity + " (" + it.Role + ")"
	}
	return it.Key
}

type deleter struct {
	ctx   context.Context
	inv   exchange.Invoker
	a     exchange.Admin
	store *state.Store
	o     ApplyOptions
	res   *DeleteResult
}

func (d *deleter) remove(it state.ExchangeItem) error {
	obj := describe(it)
	change := model.Change{Action: model.Remove, Object: obj}
	if d.o.OnEvent != nil {
		d.o.OnEvent(model.Event{Action: change.Progress()})
	}
	var cmd *exchange.Command
	gone := false
	switch it.Kind {
	case state.ExchangeMailboxSetting:
		revert := fmt.Sprintf("Set-CASMailbox -Identity %s -%s %s", it.Mailbox, it.Setting, psValue(it.Before))
		d.res.Kept = append(d.res.Kept, model.Change{Action: model.Keep, Object: obj,
			Detail: fmt.Sprintf("left %s (it was %s before mailoauth); a setting others may rely on now; to set it back: %s", it.After, it.Before, revert)})
		return nil
	case state.ExchangeOrgSetting:
		revert := fmt.Sprintf("Set-OrganizationConfig -%s %s", it.Setting, psValue(it.Before))
		d.res.Kept = append(d.res.Kept, model.Change{Action: model.Keep, Object: obj,
			Detail: fmt.Sprintf("left %s (it was %s before mailoauth): other apps may rely on it now; to set it back: %s", it.After, it.Before, revert)})
		return nil
	case state.ExchangeRoleAssignment:
		as, err := d.a.RoleAssignments(d.ctx, it.Trustee)
		switch {
		case exchange.Is(err, exchange.NotFound):
			gone = true
		case err != nil:
			return err
		default:
			i := slices.IndexFunc(as, func(a exchange.RoleAssignment) bool { return strings.EqualFold(a.Name, it.Identity) })
			switch {
			case i < 0:
				gone = true
			case !strings.EqualFold(as[i].Role, it.Role):
				d.res.Refused = append(d.res.Refused, Refusal{Object: obj, Why: fmt.Sprintf("it now grants %q, not the %q mailoauth assigned", as[i].Role, it.Role)})
				return nil
			default:
				c := exchange.RemoveManagementRoleAssignment(as[i].Identity)
				cmd = &c
			}
		}
	case state.ExchangeManagementScope:
		_, err := d.a.ManagementScope(d.ctx, it.Identity)
		switch {
		case exchange.Is(err, exchange.NotFound):
			gone = true
		case err != nil:
			return err
		default:
			c := exchange.RemoveManagementScope(it.Identity)
			cmd = &c
		}
	case state.ExchangeSendAs:
		c := exchange.RemoveRecipientPermission(it.Mailbox, it.Trustee)
		cmd = &c
	case state.ExchangeFullAccess:
		c := exchange.RemoveMailboxPermission(it.Mailbox, it.Trustee)
		cmd = &c
	case state.ExchangeAllowListEntry:
		oc, err := d.a.OrganizationConfig(d.ctx)
		if err != nil {
			return err
		}
		if !oc.EwsAllowedAppIDs.Has(it.Identity) {
			gone = true
			break
		}
		rest := slices.DeleteFunc(append([]string(nil), oc.EwsAllowedAppIDs...), func(id string) bool { return strings.EqualFold(id, it.Identity) })
		c := exchange.SetEWSAllowList(rest)
		cmd = &c
		kept := "no other ID was listed"
		if len(rest) > 0 {
			kept = fmt.Sprintf("kept the %d other ID(s): %s", len(rest), strings.Join(rest, ", "))
		}
		change.Detail = kept
		if oc.EwsEnabled.Is(true) && len(rest) == 0 {
			// "When EWSEnabled is True and the list contains one or more
			// IDs, only those applications can access EWS" (D. Barrett,
			// Microsoft, Test-EWSAppAccess wiki; not in Microsoft's docs).
			change.Detail += "; the list is now empty, and with EwsEnabled True an empty list no longer limits EWS by app"
		}
	case state.ExchangeServicePrincipal:
		sps, err := d.a.ServicePrincipals(d.ctx, it.AppID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(sps, func(sp exchange.ServicePrincipal) bool { return strings.EqualFold(sp.ObjectID, it.Identity) })
		if i < 0 {
			gone = true
			break
		}
		c := exchange.RemoveServicePrincipal(sps[i].Ref())
		cmd = &c
	default:
		d.res.Refused = append(d.res.Refused, Refusal{Object: obj, Why: "unknown kind " + string(it.Kind) + " in the state file"})
		return nil
	}
	if cmd != nil {
		_, warns, err := cmd.Run(d.ctx, d.inv)
		switch {
		case exchange.Is(err, exchange.NotFound):
			gone = true
		case err != nil:
			return err
		case absent(warns):
			gone = true
		}
	}
	if err := d.store.Update(func(s *state.State) { exo(s).Forget(it.Key) }); err != nil {
		return err
	}
	if gone {
		change.Detail = joinDetail(change.Detail, "already gone")
		d.res.Gone = append(d.res.Gone, change)
	} else {
		d.res.Removed = append(d.res.Removed, change)
	}
	if d.o.OnEvent != nil {
		d.o.OnEvent(model.Event{Action: change.Progress(), Detail: change.Detail, Done: true})
	}
	return nil
}

// absent reads Remove-*'s warnings for an entry that is not there (§4).
func absent(warns []string) bool {
	for _, w := range warns {
		l := strings.ToLower(w)
		if strings.Contains(l, "doesn't exist") || strings.Contains(l, "isn't present") || strings.Contains(l, "does not exist") {
			return true
		}
	}
	return false
}

// psValue is a recorded Before value as PowerShell: True → $true.
func psValue(v string) string {
	switch v {
	case "True":
		return "$true"
	case "False":
		return "$false"
	case "$null", "":
		return "$null"
	}
	return v
}
