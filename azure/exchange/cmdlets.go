package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Param is one cmdlet parameter with its JSON value, as the module sends it
// (docs/exchange-admin-api.md §2): strings, JSON booleans for switches and
// [bool] parameters, null for $null, arrays for multi-valued parameters.
type Param struct {
	Name  string
	Value any
}

// Command is one cmdlet with its parameters, in the order a person would
// write them. A plan holds Commands, so --dry-run shows exactly what an
// apply sends.
type Command struct {
	Cmdlet string
	Params []Param
}

// Map is the parameters as InvokeCommand's "Parameters" object.
func (c Command) Map() map[string]any {
	m := make(map[string]any, len(c.Params))
	for _, p := range c.Params {
		m[p.Name] = p.Value
	}
	return m
}

// Get returns a parameter's value.
func (c Command) Get(name string) (any, bool) {
	for _, p := range c.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// With returns a copy with a parameter set (replaced or appended).
func (c Command) With(name string, value any) Command {
	out := Command{Cmdlet: c.Cmdlet, Params: append([]Param(nil), c.Params...)}
	for i, p := range out.Params {
		if strings.EqualFold(p.Name, name) {
			out.Params[i].Value = value
			return out
		}
	}
	out.Params = append(out.Params, Param{name, value})
	return out
}

// MarshalJSON is {"cmdlet":"…","parameters":{…}} with the parameters in
// their order.
func (c Command) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"cmdlet":`)
	n, _ := json.Marshal(c.Cmdlet)
	b.Write(n)
	b.WriteString(`,"parameters":{`)
	for i, p := range c.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Name)
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

// String is the cmdlet and its JSON parameters on one line, for logs.
func (c Command) String() string {
	j, err := c.MarshalJSON()
	if err != nil {
		return c.Cmdlet
	}
	var v struct {
		Parameters json.RawMessage `json:"parameters"`
	}
	_ = json.Unmarshal(j, &v)
	return c.Cmdlet + " " + string(v.Parameters)
}

// Run sends the command through an Invoker.
func (c Command) Run(ctx context.Context, inv Invoker) ([]json.RawMessage, []string, error) {
	return inv.Invoke(ctx, c.Cmdlet, c.Map())
}

// ---- command builders (parameters from OPS <Cmdlet>.md; §5) ----

// GetServicePrincipal lists Exchange's service principal registrations;
// with an identity it still may return all of them (OPS: a non-existent
// identity returns every object), so filter the result yourself.
func GetServicePrincipal(identity string) Command {
	c := Command{Cmdlet: "Get-ServicePrincipal"}
	if identity != "" {
		c.Params = []Param{{"Identity", identity}}
	}
	return c
}

// NewServicePrincipal registers an Entra service principal with Exchange:
// objectID is the enterprise application's (service principal's) object
// ID from Graph, never the app registration's (microsoft.md §11 step 3).
func NewServicePrincipal(appID, objectID, displayName string) Command {
	c := Command{Cmdlet: "New-ServicePrincipal", Params: []Param{{"AppId", appID}, {"ObjectId", objectID}}}
	if displayName != "" {
		c.Params = append(c.Params, Param{"DisplayName", displayName})
	}
	return c
}

// RemoveServicePrincipal removes a registration (ConfirmImpact High:
// Confirm false, §2).
func RemoveServicePrincipal(identity string) Command {
	return Command{Cmdlet: "Remove-ServicePrincipal", Params: []Param{{"Identity", identity}, {"Confirm", false}}}
}

// GetCASMailbox reads a mailbox's protocol switches.
func GetCASMailbox(identity string) Command {
	return Command{Cmdlet: "Get-CASMailbox", Params: []Param{{"Identity", identity}}}
}

// SetCASMailbox sets protocol switches on one mailbox: ImapEnabled,
// PopEnabled, EwsEnabled (bool) and SmtpClientAuthenticationDisabled
// (bool, or nil for $null: inherit the organisation's).
func SetCASMailbox(identity string, set ...Param) Command {
	return Command{Cmdlet: "Set-CASMailbox", Params: append([]Param{{"Identity", identity}}, set...)}
}

// GetTransportConfig reads the organisation's SMTP AUTH switch.
func GetTransportConfig() Command { return Command{Cmdlet: "Get-TransportConfig"} }

// GetOrganizationConfig reads EwsEnabled and EwsAllowedAppIDs; without
// -RetrieveEwsOperationAccessPolicy the list reads empty (microsoft.md §15.1).
func GetOrganizationConfig() Command {
	return Command{Cmdlet: "Get-OrganizationConfig", Params: []Param{{"RetrieveEwsOperationAccessPolicy", true}}}
}

// SetEWSAllowList replaces the whole EWS allow-list (the parameter is not
// additive: read, add, write the union). An empty list is $null.
func SetEWSAllowList(appIDs []string) Command {
	var v any
	if len(appIDs) > 0 {
		v = strings.Join(appIDs, ",")
	}
	return Command{Cmdlet: "Set-OrganizationConfig", Params: []Param{{"EwsAllowedAppIDs", v}}}
}

// SetEWSEnabled sets the organisation's EwsEnabled (nil = $null).
func SetEWSEnabled(v *bool) Command {
	var val any
	if v != nil {
		val = *v
	}
	return Command{Cmdlet: "Set-OrganizationConfig", Params: []Param{{"EwsEnabled", val}}}
}

// GetMailbox resolves any of a mailbox's addresses (primary or secondary),
// its UPN or alias to the mailbox.
func GetMailbox(identity string) Command {
	return Command{Cmdlet: "Get-Mailbox", Params: []Param{{"Identity", identity}}}
}

// GetMailboxes lists user and shared mailboxes (paged).
func GetMailboxes() Command {
	return Command{Cmdlet: "Get-Mailbox", Params: []Param{{"RecipientTypeDetails", []string{"UserMailbox", "SharedMailbox"}}, {"ResultSize", "Unlimited"}}}
}

// GetMailboxPermission lists a mailbox's permission entries.
func GetMailboxPermission(identity string) Command {
	return Command{Cmdlet: "Get-MailboxPermission", Params: []Param{{"Identity", identity}}}
}

// AddMailboxPermission grants FullAccess on one mailbox (Microsoft's
// client-credentials procedure for IMAP, POP and SMTP, microsoft.md §15.2);
// no AutoMapping, which only adds the mailbox to a person's Outlook.
func AddMailboxPermission(identity, user string) Command {
	return Command{Cmdlet: "Add-MailboxPermission", Params: []Param{{"Identity", identity}, {"User", user}, {"AccessRights", []string{"FullAccess"}},
		{"InheritanceType", "All"}, {"AutoMapping", false}}}
}

// RemoveMailboxPermission removes that FullAccess entry.
func RemoveMailboxPermission(identity, user string) Command {
	return Command{Cmdlet: "Remove-MailboxPermission", Params: []Param{{"Identity", identity}, {"User", user}, {"AccessRights", []string{"FullAccess"}},
		{"InheritanceType", "All"}, {"Confirm", false}}}
}

// GetRecipientPermission lists a mailbox's SendAs entries.
func GetRecipientPermission(identity string) Command {
	return Command{Cmdlet: "Get-RecipientPermission", Params: []Param{{"Identity", identity}, {"AccessRights", []string{"SendAs"}}}}
}

// AddRecipientPermission grants SendAs (ConfirmImpact High: Confirm false).
func AddRecipientPermission(identity, trustee string) Command {
	return Command{Cmdlet: "Add-RecipientPermission", Params: []Param{{"Identity", identity}, {"Trustee", trustee}, {"AccessRights", []string{"SendAs"}}, {"Confirm", false}}}
}

// RemoveRecipientPermission removes that SendAs entry.
func RemoveRecipientPermission(identity, trustee string) Command {
	return Command{Cmdlet: "Remove-RecipientPermission", Params: []Param{{"Identity", identity}, {"Trustee", trustee}, {"AccessRights", []string{"SendAs"}}, {"Confirm", false}}}
}

// NewManagementScope makes a custom recipient scope (RBAC for Applications).
func NewManagementScope(name, filter string) Command {
	return Command{Cmdlet: "New-ManagementScope", Params: []Param{{"Name", name}, {"RecipientRestrictionFilter", filter}}}
}

// GetManagementScope reads one scope.
func GetManagementScope(identity string) Command {
	return Command{Cmdlet: "Get-ManagementScope", Params: []Param{{"Identity", identity}}}
}

// RemoveManagementScope removes a scope (its assignments first).
func RemoveManagementScope(identity string) Command {
	return Command{Cmdlet: "Remove-ManagementScope", Params: []Param{{"Identity", identity}, {"Confirm", false}}}
}

// NewManagementRoleAssignment assigns an application role to a registered
// service principal, limited to a custom resource scope.
func NewManagementRoleAssignment(name, role, app, scope string) Command {
	c := Command{Cmdlet: "New-ManagementRoleAssignment", Params: []Param{{"Name", name}, {"Role", role}, {"App", app}}}
	if scope != "" {
		c.Params = append(c.Params, Param{"CustomResourceScope", scope})
	}
	return c
}

// GetManagementRoleAssignment lists the role assignments of an assignee.
func GetManagementRoleAssignment(roleAssignee string) Command {
	return Command{Cmdlet: "Get-ManagementRoleAssignment", Params: []Param{{"RoleAssignee", roleAssignee}}}
}

// RemoveManagementRoleAssignment removes one assignment.
func RemoveManagementRoleAssignment(identity string) Command {
	return Command{Cmdlet: "Remove-ManagementRoleAssignment", Params: []Param{{"Identity", identity}, {"Confirm", false}}}
}

// TestServicePrincipalAuthorization reports which application roles a
// registration holds and whether resource (a mailbox) is in their scope.
func TestServicePrincipalAuthorization(identity, resource string) Command {
	c := Command{Cmdlet: "Test-ServicePrincipalAuthorization", Params: []Param{{"Identity", identity}}}
	if resource != "" {
		c.Params = append(c.Params, Param{"Resource", resource})
	}
	return c
}

// ---- output objects (PascalCase properties; @-annotations ignored) ----

// Bool is an Exchange boolean that may be null (unset, inherit) or, from
// some serializers, the strings "True"/"False". Nil means null or absent.
type Bool struct{ V *bool }

func (b *Bool) UnmarshalJSON(data []byte) error {
	t := strings.TrimSpace(string(data))
	switch strings.ToLower(strings.Trim(t, `"`)) {
	case "null", "":
		b.V = nil
	case "true":
		v := true
		b.V = &v
	case "false":
		v := false
		b.V = &v
	default:
		return fmt.Errorf("not a boolean: %s", t)
	}
	return nil
}

func (b Bool) MarshalJSON() ([]byte, error) { return json.Marshal(b.V) }

// Set reports whether the value is not null.
func (b Bool) Set() bool { return b.V != nil }

// Is reports whether the value is set and equals v.
func (b Bool) Is(v bool) bool { return b.V != nil && *b.V == v }

// String is PowerShell's spelling: True, False or $null.
func (b Bool) String() string {
	switch {
	case b.V == nil:
		return "$null"
	case *b.V:
		return "True"
	}
	return "False"
}

// Strings is a multi-valued property: a JSON array, or one string of
// comma-separated values (EwsAllowedAppIDs as one public script reads it,
// §5), or null.
type Strings []string

func (s *Strings) UnmarshalJSON(data []byte) error {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		*s = nil
		return nil
	}
	var arr []string
	if t[0] == '[' {
		if err := json.Unmarshal(t, &arr); err != nil {
			return err
		}
	} else {
		var one string
		if err := json.Unmarshal(t, &one); err != nil {
			return err
		}
		arr = []string{one}
	}
	var out []string
	for _, v := range arr {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	*s = out
	return nil
}

// Has reports whether the list holds v (case-insensitive).
func (s Strings) Has(v string) bool {
	for _, x := range s {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// ServicePrincipal is Exchange's registration of an Entra service principal.
type ServicePrincipal struct {
	AppID       string `json:"AppId"`
	ObjectID    string `json:"ObjectId"`
	ServiceID   string `json:"ServiceId"`
	DisplayName string `json:"DisplayName"`
	Identity    string `json:"Identity"`
	Name        string `json:"Name"`
}

// Ref is how cmdlets name the registration (-User, -Trustee, -App): its
// Identity, as Microsoft's procedure passes $SP.Identity; else ObjectId.
func (s ServicePrincipal) Ref() string {
	if s.Identity != "" {
		return s.Identity
	}
	if s.ObjectID != "" {
		return s.ObjectID
	}
	return s.ServiceID
}

// Matches reports whether a permission's User/Trustee names this
// registration. How Exchange shows a service principal there is
// UNVERIFIED (§5), so every identifier it has counts.
func (s ServicePrincipal) Matches(name string) bool {
	name = strings.TrimSpace(name)
	if name == "" {
		return false
	}
	for _, id := range []string{s.Identity, s.ObjectID, s.ServiceID, s.AppID, s.Name, s.DisplayName} {
		if id != "" && strings.EqualFold(id, name) {
			return true
		}
	}
	return false
}

// Mailbox is Get-Mailbox's object (the fields mailoauth uses).
type Mailbox struct {
	Identity                  string  `json:"Identity"`
	Name                      string  `json:"Name"`
	Alias                     string  `json:"Alias"`
	DisplayName               string  `json:"DisplayName"`
	UserPrincipalName         string  `json:"UserPrincipalName"`
	PrimarySmtpAddress        string  `json:"PrimarySmtpAddress"`
	EmailAddresses            Strings `json:"EmailAddresses"`
	RecipientTypeDetails      string  `json:"RecipientTypeDetails"`
	ExternalDirectoryObjectID string  `json:"ExternalDirectoryObjectId"`
}

// Shared reports whether it is a shared mailbox.
func (m Mailbox) Shared() bool { return strings.EqualFold(m.RecipientTypeDetails, "SharedMailbox") }

// CASMailbox is Get-CASMailbox's object: the protocol switches.
type CASMailbox struct {
	Identity                  string `json:"Identity"`
	PrimarySmtpAddress        string `json:"PrimarySmtpAddress"`
	ExternalDirectoryObjectID string `json:"ExternalDirectoryObjectId"`
	ImapEnabled               Bool   `json:"ImapEnabled"`
	PopEnabled                Bool   `json:"PopEnabled"`
	EwsEnabled                Bool   `json:"EwsEnabled"`
	// SmtpClientAuthenticationDisabled: null inherits the organisation's
	// (Get-TransportConfig); false enables SMTP AUTH for this mailbox.
	SmtpClientAuthenticationDisabled Bool `json:"SmtpClientAuthenticationDisabled"`
}

// TransportConfig is Get-TransportConfig's object.
type TransportConfig struct {
	SmtpClientAuthenticationDisabled Bool `json:"SmtpClientAuthenticationDisabled"`
}

// OrganizationConfig is the part of Get-OrganizationConfig
// -RetrieveEwsOperationAccessPolicy mailoauth reads.
type OrganizationConfig struct {
	EwsEnabled       Bool    `json:"EwsEnabled"`
	EwsAllowedAppIDs Strings `json:"EwsAllowedAppIDs"`
}

// MailboxPermission is one Get-MailboxPermission row.
type MailboxPermission struct {
	Identity        string  `json:"Identity"`
	User            string  `json:"User"`
	AccessRights    Strings `json:"AccessRights"`
	IsInherited     Bool    `json:"IsInherited"`
	Deny            Bool    `json:"Deny"`
	InheritanceType string  `json:"InheritanceType"`
}

// RecipientPermission is one Get-RecipientPermission row.
type RecipientPermission struct {
	Identity          string  `json:"Identity"`
	Trustee           string  `json:"Trustee"`
	AccessControlType string  `json:"AccessControlType"`
	AccessRights      Strings `json:"AccessRights"`
	IsInherited       Bool    `json:"IsInherited"`
}

// ManagementScope is a custom management scope.
type ManagementScope struct {
	Name            string `json:"Name"`
	Identity        string `json:"Identity"`
	RecipientFilter string `json:"RecipientFilter"`
}

// RoleAssignment is a management role assignment.
type RoleAssignment struct {
	Name                string `json:"Name"`
	Identity            string `json:"Identity"`
	Role                string `json:"Role"`
	RoleAssigneeName    string `json:"RoleAssigneeName"`
	RoleAssigneeType    string `json:"RoleAssigneeType"`
	CustomResourceScope string `json:"CustomResourceScope"`
}

// Authorization is one Test-ServicePrincipalAuthorization row; InScope is
// "True", "False" or "Not Run" (without -Resource).
type Authorization struct {
	RoleName             string `json:"RoleName"`
	GrantedPermissions   string `json:"GrantedPermissions"`
	AllowedResourceScope string `json:"AllowedResourceScope"`
	ScopeType            string `json:"ScopeType"`
	InScope              string `json:"-"`
}

func (a *Authorization) UnmarshalJSON(data []byte) error {
	type plain Authorization
	var p struct {
		plain
		InScope json.RawMessage `json:"InScope"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*a = Authorization(p.plain)
	var b Bool
	if err := b.UnmarshalJSON(p.InScope); err == nil && b.Set() {
		a.InScope = b.String()
	} else {
		var s string
		_ = json.Unmarshal(p.InScope, &s)
		a.InScope = s
	}
	return nil
}

// Decode unmarshals output objects into T.
func Decode[T any](raws []json.RawMessage) ([]T, error) {
	out := make([]T, 0, len(raws))
	for _, r := range raws {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, fmt.Errorf("exchange: unexpected output object: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// ---- typed calls ----

// Admin runs the typed reads on top of an Invoker.
type Admin struct{ Invoker Invoker }

func one[T any](ctx context.Context, inv Invoker, c Command) (*T, []string, error) {
	raws, warns, err := c.Run(ctx, inv)
	if err != nil {
		return nil, warns, err
	}
	vs, err := Decode[T](raws)
	if err != nil {
		return nil, warns, &Error{Kind: Unknown, Cmdlet: c.Cmdlet, Message: err.Error()}
	}
	if len(vs) == 0 {
		return nil, warns, &Error{Kind: NotFound, Cmdlet: c.Cmdlet, Message: "no object was returned"}
	}
	return &vs[0], warns, nil
}

func all[T any](ctx context.Context, inv Invoker, c Command) ([]T, error) {
	raws, _, err := c.Run(ctx, inv)
	if err != nil {
		return nil, err
	}
	vs, err := Decode[T](raws)
	if err != nil {
		return nil, &Error{Kind: Unknown, Cmdlet: c.Cmdlet, Message: err.Error()}
	}
	return vs, nil
}

// ServicePrincipals are the registrations for appID (filtered here: the
// cmdlet may return every registration).
func (a Admin) ServicePrincipals(ctx context.Context, appID string) ([]ServicePrincipal, error) {
	sps, err := all[ServicePrincipal](ctx, a.Invoker, GetServicePrincipal(appID))
	if err != nil {
		return nil, err
	}
	var out []ServicePrincipal
	for _, sp := range sps {
		if strings.EqualFold(sp.AppID, appID) {
			out = append(out, sp)
		}
	}
	return out, nil
}

// Mailbox resolves an address; NotFound when no mailbox has it.
func (a Admin) Mailbox(ctx context.Context, identity string) (*Mailbox, error) {
	m, _, err := one[Mailbox](ctx, a.Invoker, GetMailbox(identity))
	return m, err
}

// Mailboxes lists the user and shared mailboxes.
func (a Admin) Mailboxes(ctx context.Context) ([]Mailbox, error) {
	return all[Mailbox](ctx, a.Invoker, GetMailboxes())
}

// CASMailbox reads one mailbox's protocol switches.
func (a Admin) CASMailbox(ctx context.Context, identity string) (*CASMailbox, error) {
	m, _, err := one[CASMailbox](ctx, a.Invoker, GetCASMailbox(identity))
	return m, err
}

// TransportConfig reads the organisation's SMTP AUTH switch.
func (a Admin) TransportConfig(ctx context.Context) (*TransportConfig, error) {
	t, _, err := one[TransportConfig](ctx, a.Invoker, GetTransportConfig())
	return t, err
}

// OrganizationConfig reads EwsEnabled and the EWS allow-list.
func (a Admin) OrganizationConfig(ctx context.Context) (*OrganizationConfig, error) {
	o, _, err := one[OrganizationConfig](ctx, a.Invoker, GetOrganizationConfig())
	return o, err
}

// MailboxPermissions lists a mailbox's permission entries.
func (a Admin) MailboxPermissions(ctx context.Context, identity string) ([]MailboxPermission, error) {
	return all[MailboxPermission](ctx, a.Invoker, GetMailboxPermission(identity))
}

// RecipientPermissions lists a mailbox's SendAs entries.
func (a Admin) RecipientPermissions(ctx context.Context, identity string) ([]RecipientPermission, error) {
	return all[RecipientPermission](ctx, a.Invoker, GetRecipientPermission(identity))
}

// ManagementScope reads one scope; NotFound when it does not exist.
func (a Admin) ManagementScope(ctx context.Context, identity string) (*ManagementScope, error) {
	s, _, err := one[ManagementScope](ctx, a.Invoker, GetManagementScope(identity))
	return s, err
}

// RoleAssignments lists the role assignments of an assignee.
func (a Admin) RoleAssignments(ctx context.Context, assignee string) ([]RoleAssignment, error) {
	return all[RoleAssignment](ctx, a.Invoker, GetManagementRoleAssignment(assignee))
}

// TestAuthorization runs Test-ServicePrincipalAuthorization.
func (a Admin) TestAuthorization(ctx context.Context, identity, resource string) ([]Authorization, error) {
	return all[Authorization](ctx, a.Invoker, TestServicePrincipalAuthorization(identity, resource))
}
