// Package catalog knows which Entra ID permissions a mail protocol needs for
// an OAuth2 flow, on which resource API, and which token scopes a client then
// requests. Names are Microsoft's exact spellings (microsoft.md §2–§3, §9).
//
// Permission IDs differ in nothing between tenants for Microsoft's own APIs,
// but mailoauth still resolves them at run time from the tenant's resource
// service principals (matched by value); the IDs here are the fallback for
// --dry-run and manifests only.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Protocol is a way a product reaches a mailbox.
type Protocol string

const (
	IMAP      Protocol = "imap"
	POP       Protocol = "pop"
	SMTP      Protocol = "smtp"
	EWS       Protocol = "ews"
	GraphRead Protocol = "graph-read"
	GraphSend Protocol = "graph-send"
)

// Protocols lists every protocol in display order.
var Protocols = []Protocol{IMAP, POP, SMTP, EWS, GraphRead, GraphSend}

// Label is the protocol's human name.
func (p Protocol) Label() string {
	switch p {
	case IMAP:
		return "IMAP"
	case POP:
		return "POP3"
	case SMTP:
		return "SMTP"
	case EWS:
		return "EWS"
	case GraphRead:
		return "Graph mail (read)"
	case GraphSend:
		return "Graph mail (send)"
	}
	return string(p)
}

// IsExchange reports whether the protocol's token is for Office 365 Exchange Online.
func (p Protocol) IsExchange() bool { return p == IMAP || p == POP || p == SMTP || p == EWS }

// ParseProtocol accepts the answers-file and flag spellings.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "imap":
		return IMAP, nil
	case "pop", "pop3":
		return POP, nil
	case "smtp":
		return SMTP, nil
	case "ews":
		return EWS, nil
	case "graph-read", "graph_read", "graphread":
		return GraphRead, nil
	case "graph-send", "graph_send", "graphsend":
		return GraphSend, nil
	}
	return "", fmt.Errorf("unknown protocol %q; accepted: imap, pop, smtp, ews, graph-read, graph-send", s)
}

// ParseProtocols parses a comma- or space-separated list, dropping repeats.
func ParseProtocols(s string) ([]Protocol, error) {
	var out []Protocol
	seen := map[Protocol]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		p, err := ParseProtocol(f)
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// Flow is the OAuth2 grant the product uses to get its tokens.
type Flow string

const (
	AuthCode          Flow = "auth-code"
	ROPC              Flow = "ropc"
	ClientCredentials Flow = "client-credentials"
	DeviceCode        Flow = "device-code"
)

// Flows lists every flow.
var Flows = []Flow{AuthCode, ROPC, ClientCredentials, DeviceCode}

// ParseFlow accepts the answers-file and flag spellings.
func ParseFlow(s string) (Flow, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auth-code", "authorization-code", "authcode":
		return AuthCode, nil
	case "ropc", "password", "user-password":
		return ROPC, nil
	case "client-credentials", "client_credentials", "app-only", "client-secret":
		return ClientCredentials, nil
	case "device-code", "device_code", "devicecode":
		return DeviceCode, nil
	}
	return "", fmt.Errorf("unknown flow %q; accepted: auth-code, ropc, client-credentials, device-code", s)
}

// Label is the flow's human name.
func (f Flow) Label() string {
	switch f {
	case AuthCode:
		return "Authorization code (delegated, browser sign-in)"
	case ROPC:
		return "Resource owner password credentials (delegated, user name + password)"
	case ClientCredentials:
		return "Client credentials (app-only, client secret)"
	case DeviceCode:
		return "Device code (delegated)"
	}
	return string(f)
}

// AppOnly reports whether tokens carry application permissions (roles).
func (f Flow) AppOnly() bool { return f == ClientCredentials }

// Resource is an API that publishes permissions.
type Resource struct {
	Name  string // portal display name
	AppID string // the resource application's appId, the same in every tenant
}

var (
	MicrosoftGraph = Resource{Name: "Microsoft Graph", AppID: "00000003-0000-0000-c000-000000000000"}
	ExchangeOnline = Resource{Name: "Office 365 Exchange Online", AppID: "00000002-0000-0ff1-ce00-000000000000"}
)

// Kind is delegated ("Scope") or application ("Role"), with Graph's
// requiredResourceAccess spelling as the value.
type Kind string

const (
	Delegated   Kind = "Scope"
	Application Kind = "Role"
)

// Label is the portal's word for the kind.
func (k Kind) Label() string {
	if k == Application {
		return "Application"
	}
	return "Delegated"
}

// Permission is one permission on one resource.
type Permission struct {
	Resource Resource
	Value    string // exact name, e.g. POP.AccessAsUser.All
	Kind     Kind
	// FallbackID is the well-known ID; the tenant's own service principal is
	// the authority (see Resolve in azure/provision).
	FallbackID string
	// Why is one line for the wizard's permission list.
	Why string
	// Unverified marks an ID that no Microsoft source confirms (microsoft.md §2b).
	Unverified bool
	// BestEffort: registered and consented when the tenant's resource
	// publishes it, never a reason to stop when it does not. The Graph twins
	// of the Exchange Online IMAP/POP/SMTP scopes are: the token request
	// names Exchange Online, so the setup works without them.
	BestEffort bool
}

// Key identifies a permission independent of its ID.
func (p Permission) Key() string { return p.Resource.AppID + "/" + string(p.Kind) + "/" + p.Value }

func (p Permission) String() string {
	return fmt.Sprintf("%s %s (%s)", p.Resource.Name, p.Value, p.Kind.Label())
}

// Known permissions (microsoft.md §2a, §2b).
var (
	GraphOfflineAccess = Permission{MicrosoftGraph, "offline_access", Delegated, "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "lets the product keep a refresh token, so it need not sign in again every hour", false, false}
	GraphOpenID        = Permission{MicrosoftGraph, "openid", Delegated, "37f7f235-527c-4136-accd-4a02d197296e", "lets the product sign the user in", false, false}
	GraphProfile       = Permission{MicrosoftGraph, "profile", Delegated, "14dad69e-099b-42c9-810b-d002981feec1", "lets the product see the user's basic profile", false, false}
	GraphEmail         = Permission{MicrosoftGraph, "email", Delegated, "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "lets the product see the user's email address", false, false}
	GraphUserRead      = Permission{MicrosoftGraph, "User.Read", Delegated, "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "lets the product read the signed-in user's name and user principal name", false, false}
	GraphMailRead      = Permission{MicrosoftGraph, "Mail.Read", Delegated, "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "reads the user's mail through Microsoft Graph", false, false}
	GraphMailReadWrite = Permission{MicrosoftGraph, "Mail.ReadWrite", Delegated, "024d486e-b451-40bb-833d-3e66d98c5c73", "reads and changes the user's mail through Microsoft Graph", false, false}
	GraphMailSend      = Permission{MicrosoftGraph, "Mail.Send", Delegated, "e383f46e-2787-4529-855e-0e479a3ffac0", "sends mail as the user through Microsoft Graph", false, false}
	// The .Shared permissions: delegated Graph access to a mailbox other than
	// the signed-in user's own (a shared mailbox, or one the user has
	// FullAccess or SendAs on). IDs: GDC concepts/includes/permissions-ids.md
	// @0fcd5cbe (the PIDS table of microsoft.md).
	GraphMailReadShared = Permission{MicrosoftGraph, "Mail.Read.Shared", Delegated, "7b9103a5-4610-446b-9670-80643382c1fa", "reads the mail the user can open, including shared mailboxes, through Microsoft Graph", false, false}
	GraphMailSendShared = Permission{MicrosoftGraph, "Mail.Send.Shared", Delegated, "a367ab51-6b49-43bf-a716-a1fb06d2a174", "sends mail as or on behalf of a mailbox the user may send from, through Microsoft Graph", false, false}
	// Graph also publishes the delegated IMAP, POP and SMTP scopes (microsoft.md
	// §2a, §2c): vendor documents and the portal list them there. They are
	// registered beside the Exchange Online ones so a product's token request
	// has consent whichever resource it names (or none).
	GraphIMAPUser    = Permission{MicrosoftGraph, "IMAP.AccessAsUser.All", Delegated, "652390e4-393a-48de-9484-05f9b1212954", "the IMAP permission as Microsoft Graph lists it (where the vendor document puts it), so the product has consent whichever way it asks", false, true}
	GraphPOPUser     = Permission{MicrosoftGraph, "POP.AccessAsUser.All", Delegated, "d7b7f2d9-0f45-4ea1-9d42-e50810c06991", "the POP3 permission as Microsoft Graph lists it (where the vendor document puts it), so the product has consent whichever way it asks", false, true}
	GraphSMTPSend    = Permission{MicrosoftGraph, "SMTP.Send", Delegated, "258f6531-6087-4cc4-bb90-092c5fb3ed3f", "the SMTP permission as Microsoft Graph lists it (where the vendor document puts it), so the product has consent whichever way it asks", false, true}
	GraphMailReadApp = Permission{MicrosoftGraph, "Mail.Read", Application, "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "reads mail in every mailbox through Microsoft Graph (scope it with RBAC for Applications)", false, false}
	GraphMailRWApp   = Permission{MicrosoftGraph, "Mail.ReadWrite", Application, "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "reads and changes mail in every mailbox through Microsoft Graph", false, false}
	GraphMailSendApp = Permission{MicrosoftGraph, "Mail.Send", Application, "b633e1c5-b582-4048-a93e-9f11b44c7e96", "sends mail as any user through Microsoft Graph (scope it with RBAC for Applications)", false, false}

	ExoIMAPUser       = Permission{ExchangeOnline, "IMAP.AccessAsUser.All", Delegated, "195adc35-e27b-454b-a7ed-1ecdffa1c09f", "reads the user's mailbox over IMAP", false, false}
	ExoPOPUser        = Permission{ExchangeOnline, "POP.AccessAsUser.All", Delegated, "fb698133-92fa-453e-a9ed-688e10f2e5ac", "reads the user's mailbox over POP3", false, false}
	ExoSMTPSend       = Permission{ExchangeOnline, "SMTP.Send", Delegated, "76faac2a-0f20-42f1-928a-50de5b9dbe52", "sends mail as the user over SMTP AUTH", false, false}
	ExoEWSUser        = Permission{ExchangeOnline, "EWS.AccessAsUser.All", Delegated, "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5", "reaches the user's mailbox through Exchange Web Services", false, false}
	ExoIMAPApp        = Permission{ExchangeOnline, "IMAP.AccessAsApp", Application, "5e5addcd-3e8d-4e90-baf5-964efab2b20a", "reads mailboxes over IMAP as the application (each mailbox also needs FullAccess in Exchange)", false, false}
	ExoPOPApp         = Permission{ExchangeOnline, "POP.AccessAsApp", Application, "cb842b43-da6e-4506-86fe-bb12199c656d", "reads mailboxes over POP3 as the application (each mailbox also needs FullAccess in Exchange)", false, false}
	ExoSMTPApp        = Permission{ExchangeOnline, "SMTP.SendAsApp", Application, "7146a1f0-8703-45b3-9eae-527a64c00995", "sends mail over SMTP AUTH as the application (each mailbox also needs FullAccess in Exchange)", true, false}
	ExoFullAccessApp  = Permission{ExchangeOnline, "full_access_as_app", Application, "dc890d15-9560-4a4c-9b7f-a736ec74ec40", "reaches every mailbox through EWS as the application (scope it with RBAC for Applications)", false, false}
	ExoManageAsApp    = Permission{ExchangeOnline, "Exchange.ManageAsApp", Application, "dc50a0fb-09a3-484d-be87-e023b12c6440", "runs Exchange Online PowerShell as the application", false, false}
	knownPermissions  = []Permission{GraphOfflineAccess, GraphOpenID, GraphProfile, GraphEmail, GraphUserRead, GraphMailRead, GraphMailReadWrite, GraphMailSend, GraphMailReadShared, GraphMailSendShared, GraphIMAPUser, GraphPOPUser, GraphSMTPSend, GraphMailReadApp, GraphMailRWApp, GraphMailSendApp, ExoIMAPUser, ExoPOPUser, ExoSMTPSend, ExoEWSUser, ExoIMAPApp, ExoPOPApp, ExoSMTPApp, ExoFullAccessApp, ExoManageAsApp}
	misspellings      = map[string]string{"pop3.accessasuser.all": "POP.AccessAsUser.All", "pop.accessuser.all": "POP.AccessAsUser.All", "smtp.accessasuser.all": "SMTP.Send", "smtp.accessasapp": "SMTP.SendAsApp", "full_access_as_user": "EWS.AccessAsUser.All"}
	resourcesByAppID  = map[string]Resource{MicrosoftGraph.AppID: MicrosoftGraph, ExchangeOnline.AppID: ExchangeOnline}
	errUnknownResouce = fmt.Errorf("unknown resource")
)

// Known returns every permission this catalog knows.
func Known() []Permission { return append([]Permission(nil), knownPermissions...) }

// Lookup finds a known permission by resource, kind and exact value.
func Lookup(resourceAppID string, kind Kind, value string) (Permission, bool) {
	for _, p := range knownPermissions {
		if p.Resource.AppID == resourceAppID && p.Kind == kind && p.Value == value {
			return p, true
		}
	}
	return Permission{}, false
}

// ResourceByAppID returns the resource with that appId.
func ResourceByAppID(appID string) (Resource, error) {
	if r, ok := resourcesByAppID[strings.ToLower(appID)]; ok {
		return r, nil
	}
	return Resource{}, fmt.Errorf("%w %s", errUnknownResouce, appID)
}

// Correct returns Microsoft's spelling for a name vendor documents misspell
// (POP3.AccessAsUser.All, POP.AccessUser.All, ...), and whether it changed.
func Correct(name string) (string, bool) {
	if fixed, ok := misspellings[strings.ToLower(strings.TrimSpace(name))]; ok {
		return fixed, true
	}
	return name, false
}

// Options refine what a flow and its protocols need beyond the defaults.
type Options struct {
	// OtherMailboxes: a delegated product opens mailboxes other than the
	// signed-in user's own (a shared mailbox, or another user's mailbox the
	// user has FullAccess or SendAs on). Over Microsoft Graph that needs
	// Mail.Read.Shared / Mail.Send.Shared (microsoft.md §15.3); IMAP, POP,
	// SMTP and EWS need no other permission (Exchange checks the mailbox
	// rights).
	OtherMailboxes bool
}

// ForProtocol is the permission a protocol's token is requested for under a
// flow: its resource is the token's audience.
func ForProtocol(p Protocol, f Flow) (Permission, error) { return forProtocol(p, f, Options{}) }

func forProtocol(p Protocol, f Flow, o Options) (Permission, error) {
	if f.AppOnly() {
		switch p {
		case IMAP:
			return ExoIMAPApp, nil
		case POP:
			return ExoPOPApp, nil
		case SMTP:
			return ExoSMTPApp, nil
		case EWS:
			return ExoFullAccessApp, nil
		case GraphRead:
			return GraphMailReadApp, nil
		case GraphSend:
			return GraphMailSendApp, nil
		}
	} else {
		switch p {
		case IMAP:
			return ExoIMAPUser, nil
		case POP:
			return ExoPOPUser, nil
		case SMTP:
			return ExoSMTPSend, nil
		case EWS:
			return ExoEWSUser, nil
		case GraphRead:
			if o.OtherMailboxes {
				return GraphMailReadShared, nil
			}
			return GraphMailRead, nil
		case GraphSend:
			if o.OtherMailboxes {
				return GraphMailSendShared, nil
			}
			return GraphMailSend, nil
		}
	}
	return Permission{}, fmt.Errorf("protocol %q is not known", p)
}

// ForProtocolAll is every permission the app registration carries for a
// protocol under a flow: the one ForProtocol names, plus
//   - for delegated IMAP, POP and SMTP, the same scope on Microsoft Graph
//     (registered and consented on both APIs; whether consent on one covers a
//     request naming the other is not documented either way, microsoft.md §2c);
//   - with o.OtherMailboxes, the own-mailbox Graph permission beside the
//     .Shared one (products that ask for Mail.Read keep working).
func ForProtocolAll(p Protocol, f Flow, o Options) ([]Permission, error) {
	main, err := forProtocol(p, f, o)
	if err != nil {
		return nil, err
	}
	out := []Permission{main}
	if f.AppOnly() {
		return out, nil
	}
	switch p {
	case IMAP:
		out = append(out, GraphIMAPUser)
	case POP:
		out = append(out, GraphPOPUser)
	case SMTP:
		out = append(out, GraphSMTPSend)
	case GraphRead, GraphSend:
		if o.OtherMailboxes {
			own, _ := forProtocol(p, f, Options{})
			out = append(out, own)
		}
	}
	return out, nil
}

// Permissions is the full set for a flow and protocols, plus extras a product
// asks for (User.Read, openid, ...); see PermissionsWith.
func Permissions(f Flow, protocols []Protocol, extras ...Permission) ([]Permission, error) {
	return PermissionsWith(f, protocols, Options{}, extras...)
}

// PermissionsWith is the full set for a flow, protocols and options, plus
// extras. Delegated flows that keep a session get offline_access; ROPC
// products re-send the password and do not need it, but it does no harm and
// keeps refresh tokens possible. The result is sorted by resource, kind and
// name and has no repeats.
func PermissionsWith(f Flow, protocols []Protocol, o Options, extras ...Permission) ([]Permission, error) {
	set := map[string]Permission{}
	for _, p := range protocols {
		perms, err := ForProtocolAll(p, f, o)
		if err != nil {
			return nil, err
		}
		for _, perm := range perms {
			set[perm.Key()] = perm
		}
	}
	if !f.AppOnly() {
		set[GraphOfflineAccess.Key()] = GraphOfflineAccess
	}
	for _, e := range extras {
		if f.AppOnly() && e.Kind == Delegated {
			continue // app-only tokens never carry delegated scopes
		}
		set[e.Key()] = e
	}
	out := make([]Permission, 0, len(set))
	for _, p := range set {
		out = append(out, p)
	}
	Sort(out)
	return out, nil
}

// Sort orders permissions: Microsoft Graph first, then Exchange; delegated
// before application; then by name.
func Sort(ps []Permission) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Resource.AppID != b.Resource.AppID {
			return a.Resource.AppID == MicrosoftGraph.AppID
		}
		if a.Kind != b.Kind {
			return a.Kind == Delegated
		}
		return strings.ToLower(a.Value) < strings.ToLower(b.Value)
	})
}

// ByResource groups permissions by resource appId, keeping order.
func ByResource(ps []Permission) map[string][]Permission {
	out := map[string][]Permission{}
	for _, p := range ps {
		out[p.Resource.AppID] = append(out[p.Resource.AppID], p)
	}
	return out
}

// Values returns the permission names of the given resource and kind, in order.
func Values(ps []Permission, resourceAppID string, kind Kind) []string {
	var out []string
	for _, p := range ps {
		if p.Resource.AppID == resourceAppID && p.Kind == kind {
			out = append(out, p.Value)
		}
	}
	return out
}
