package state

import (
	"strings"
	"time"
)

// Exchange is the Exchange Online part of a setup: every object or setting
// mailoauth added or changed there, and every one it found already as
// wanted (Created false), so `delete` removes exactly what mailoauth made
// and nothing else. Exchange objects carry no marker mailoauth could check
// later, so ownership is this record: a write is written down as Pending
// before it is sent, and a resumed run that finds the object there adopts
// it as its own only through that record.
type Exchange struct {
	// Status says whether mailoauth applied the Exchange side in its last
	// run, or left it to exchange-setup.ps1 and why.
	Status *ExchangeStatus `json:"status,omitempty"`
	Items  []ExchangeItem  `json:"items,omitempty"`
	// Pending are writes sent (or about to be) whose outcome was not yet
	// recorded: a run killed between the request and the save.
	Pending []ExchangeItem `json:"pending,omitempty"`
}

// ExchangeKind is what an item is.
type ExchangeKind string

const (
	// ExchangeServicePrincipal is a New-ServicePrincipal registration;
	// Identity is its ObjectId (the enterprise application's object ID).
	ExchangeServicePrincipal ExchangeKind = "service-principal"
	// ExchangeFullAccess is Add-MailboxPermission FullAccess on Mailbox
	// for Trustee.
	ExchangeFullAccess ExchangeKind = "full-access"
	// ExchangeSendAs is Add-RecipientPermission SendAs on Mailbox for Trustee.
	ExchangeSendAs ExchangeKind = "send-as"
	// ExchangeMailboxSetting is one Set-CASMailbox switch (Setting) on
	// Mailbox, from Before to After.
	ExchangeMailboxSetting ExchangeKind = "mailbox-setting"
	// ExchangeAllowListEntry is an app ID (Identity) on the organisation's
	// EWS allow-list (EwsAllowedAppIDs).
	ExchangeAllowListEntry ExchangeKind = "ews-allow-list-entry"
	// ExchangeOrgSetting is an organisation setting (Setting, e.g.
	// EwsEnabled) from Before to After.
	ExchangeOrgSetting ExchangeKind = "organization-setting"
	// ExchangeManagementScope is a custom management scope (Identity = name).
	ExchangeManagementScope ExchangeKind = "management-scope"
	// ExchangeRoleAssignment is an RBAC for Applications role assignment
	// (Identity = name) of Role to the registration, limited to Scope.
	ExchangeRoleAssignment ExchangeKind = "role-assignment"
)

// ExchangeItem is one object or setting.
type ExchangeItem struct {
	// Key names the item within the setup ("full-access:helpdesk@contoso.com").
	Key      string       `json:"key"`
	Kind     ExchangeKind `json:"kind"`
	Identity string       `json:"identity,omitempty"`
	AppID    string       `json:"app_id,omitempty"`
	Mailbox  string       `json:"mailbox,omitempty"`
	Trustee  string       `json:"trustee,omitempty"`
	Setting  string       `json:"setting,omitempty"`
	Before   string       `json:"before,omitempty"`
	After    string       `json:"after,omitempty"`
	Role     string       `json:"role,omitempty"`
	Scope    string       `json:"scope,omitempty"`
	// Created is true when mailoauth made (or changed) it; false when it
	// was found already as wanted. Only created items are ever removed.
	Created bool      `json:"created"`
	At      time.Time `json:"at"`
}

func findItem(items []ExchangeItem, key string) int {
	for i, it := range items {
		if strings.EqualFold(it.Key, key) {
			return i
		}
	}
	return -1
}

// Item is the recorded item with that key, or nil.
func (x *Exchange) Item(key string) *ExchangeItem {
	if x == nil {
		return nil
	}
	if i := findItem(x.Items, key); i >= 0 {
		return &x.Items[i]
	}
	return nil
}

// PendingItem is the pending write with that key, or nil.
func (x *Exchange) PendingItem(key string) *ExchangeItem {
	if x == nil {
		return nil
	}
	if i := findItem(x.Pending, key); i >= 0 {
		return &x.Pending[i]
	}
	return nil
}

// Intend records a write about to be sent (replacing an older intent).
func (x *Exchange) Intend(it ExchangeItem) {
	if it.At.IsZero() {
		it.At = time.Now().UTC()
	}
	if i := findItem(x.Pending, it.Key); i >= 0 {
		x.Pending[i] = it
		return
	}
	x.Pending = append(x.Pending, it)
}

// Record stores an item and clears its pending write. An item once
// recorded as created stays created: finding it again later is finding
// mailoauth's own object.
func (x *Exchange) Record(it ExchangeItem) {
	if it.At.IsZero() {
		it.At = time.Now().UTC()
	}
	x.Drop(it.Key)
	if i := findItem(x.Items, it.Key); i >= 0 {
		old := x.Items[i]
		if old.Created && !it.Created {
			it.Created, it.Before = true, old.Before
		}
		x.Items[i] = it
		return
	}
	x.Items = append(x.Items, it)
}

// Drop forgets a pending write (it failed, so nothing was made).
func (x *Exchange) Drop(key string) {
	if i := findItem(x.Pending, key); i >= 0 {
		x.Pending = append(x.Pending[:i], x.Pending[i+1:]...)
	}
}

// Forget removes an item (delete removed it from Exchange).
func (x *Exchange) Forget(key string) {
	if i := findItem(x.Items, key); i >= 0 {
		x.Items = append(x.Items[:i], x.Items[i+1:]...)
	}
	x.Drop(key)
}

// Created lists the items mailoauth made, in the order it made them.
func (x *Exchange) Created() []ExchangeItem {
	if x == nil {
		return nil
	}
	var out []ExchangeItem
	for _, it := range x.Items {
		if it.Created {
			out = append(out, it)
		}
	}
	return out
}

// ExchangeStatus is the outcome of a run's Exchange part.
type ExchangeStatus struct {
	// Mode is apply (mailoauth makes the changes) or script.
	Mode string `json:"mode"`
	// AppliedAt is when mailoauth last applied Exchange changes (zero: it
	// did not, or there was nothing to change).
	AppliedAt time.Time `json:"applied_at,omitempty"`
	// Left is why the Exchange part is left to the script ("" when done):
	// no-sign-in, missing-role, script, failed (export.ExchangeLeft).
	Left       string `json:"left,omitempty"`
	LeftDetail string `json:"left_detail,omitempty"`
	// LeftChanges are the changes still to make, one line each.
	LeftChanges []string `json:"left_changes,omitempty"`
}
