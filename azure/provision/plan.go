// Package provision turns a product-agnostic Plan into an Entra ID app
// registration through Microsoft Graph: pre-flight checks that change
// nothing, permission IDs resolved from the tenant's own resource service
// principals, an idempotent apply in at most three sequential Graph round
// trips (app → service principal + secret → consent + assignments), a dry
// run listing every request, a requiredResourceAccess manifest, and a delete
// that removes exactly what the state file says mailoauth made.
package provision

import (
	"github.com/mailoauth/mailoauth/internal/model"

	"errors"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/validate"
)

// MaxDisplayName is the longest app display name accepted. Graph documents
// no limit for application.displayName; 120 is the portal's and a commonly
// reported Graph limit (UNVERIFIED), so longer names are refused up front.
const MaxDisplayName = 120

// Secret lifetimes offered (months); microsoft.md §14.
const (
	DefaultSecretMonths = model.DefaultSecretMonths
	MaxSecretMonths     = 24
)

// SecretSpec asks for a client secret.
type SecretSpec struct {
	Needed bool
	// Months is the lifetime, 1..24; 0 means DefaultSecretMonths.
	Months int
	// DisplayName is the secret's description; "" means "mailoauth".
	DisplayName string
	// Rotate adds a new secret even when the state says one was added.
	Rotate bool
}

// Plan is what to register, independent of any product.
type Plan struct {
	// Tenant is the tenant GUID or a verified domain (contoso.onmicrosoft.com).
	Tenant      string
	DisplayName string
	Audience    catalog.Audience
	Flow        catalog.Flow
	Protocols   []catalog.Protocol
	// Permissions is catalog.Permissions(Flow, Protocols, extras...).
	Permissions []catalog.Permission
	Platform    catalog.Platform
	// RedirectURIs go to web.redirectUris or publicClient.redirectUris by Platform.
	RedirectURIs []string
	// PublicClient is isFallbackPublicClient ("Allow public client flows").
	PublicClient bool
	Secret       SecretSpec
	// Mailboxes are the users' UPNs or addresses the product will use.
	Mailboxes []string
	// AssignUsers assigns the mailbox users to the enterprise application.
	AssignUsers bool
	// RequireAssignment sets appRoleAssignmentRequired on the service principal.
	RequireAssignment bool
	// AppID finds an existing app by client ID (appId) or object ID instead of by name.
	AppID string
	// Product is recorded in the state file ("extraview", ...).
	Product string
}

// FieldError is bad input, named by field with the accepted form.
type FieldError struct {
	Field    string
	Value    string
	Problem  string
	Accepted string
}

func (e *FieldError) Error() string {
	v := e.Value
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	return fmt.Sprintf("%s: %q %s; accepted: %s", e.Field, v, e.Problem, e.Accepted)
}

// ValidationError lists every bad field at once.
type ValidationError struct{ Fields []*FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid plan: " + strings.Join(parts, "; ")
}

// Validate refuses bad input before any request is sent, naming each bad
// field and the accepted form.
func (p *Plan) Validate() error {
	var errs []*FieldError
	add := func(field, value, problem, accepted string) {
		errs = append(errs, &FieldError{field, value, problem, accepted})
	}
	if strings.TrimSpace(p.Tenant) == "" {
		add("tenant", p.Tenant, "is empty", "the tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com")
	} else if !ValidTenant(p.Tenant) {
		add("tenant", p.Tenant, "is neither a GUID nor a domain name", "the tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com")
	}
	var nameErr *validate.Error // the one rule for a name, at every layer
	if errors.As(validate.AppName(p.DisplayName), &nameErr) {
		add("display name", p.DisplayName, nameErr.Problem, nameErr.Accepted)
	}
	switch p.Audience {
	case "", catalog.SingleTenant, catalog.MultiTenant:
	default:
		add("audience", string(p.Audience), "is unknown", "single or multi")
	}
	flowOK := false
	for _, f := range catalog.Flows {
		if p.Flow == f {
			flowOK = true
		}
	}
	if !flowOK {
		add("flow", string(p.Flow), "is unknown", "auth-code, ropc, client-credentials, device-code")
	}
	for _, pr := range p.Protocols {
		if _, err := catalog.ForProtocol(pr, p.Flow); err != nil || !flowOK {
			add("protocols", string(pr), "is not a protocol for this flow", "imap, pop, smtp, ews, graph-read, graph-send")
		}
	}
	// No permissions is valid: a read-only pre-flight needs none, and SMTP
	// through Exchange RBAC for Applications adds no API permission at all
	// (microsoft.md §11).
	for _, perm := range p.Permissions {
		if p.Flow.AppOnly() && perm.Kind == catalog.Delegated {
			add("permissions", perm.Value, "is delegated but the flow is client credentials (app-only)", "application permissions only")
		}
		if perm.Value == "" || (perm.Kind != catalog.Delegated && perm.Kind != catalog.Application) || perm.Resource.AppID == "" {
			add("permissions", perm.Value, "is incomplete", "a resource, a value and a kind (Scope or Role)")
		}
	}
	switch p.Platform {
	case "", catalog.NoPlatform:
		if len(p.RedirectURIs) > 0 {
			add("redirect URI", p.RedirectURIs[0], "is given but the platform is none", "platform web or public for redirect URIs")
		}
	case catalog.Web, catalog.PublicClient:
		if len(p.RedirectURIs) == 0 {
			add("redirect URI", "", "is missing for platform "+string(p.Platform), "an absolute https URI (http only for localhost or 127.0.0.1)")
		}
	default:
		add("platform", string(p.Platform), "is unknown", "none, web or public")
	}
	for _, r := range p.RedirectURIs {
		if !ValidRedirectURI(r) {
			add("redirect URI", r, "is not an absolute https URI", "https://host/path (http only for localhost or 127.0.0.1), without a #fragment")
		}
	}
	if p.Secret.Needed && (p.Secret.Months < 0 || p.Secret.Months > MaxSecretMonths) {
		add("secret lifetime", fmt.Sprint(p.Secret.Months), "months is out of range", fmt.Sprintf("1 to %d months (default %d)", MaxSecretMonths, DefaultSecretMonths))
	}
	if p.Secret.Needed && len(p.Secret.DisplayName) > 100 {
		add("secret description", p.Secret.DisplayName, "is too long", "up to 100 characters")
	}
	for _, m := range p.Mailboxes {
		if !ValidEmail(m) {
			add("mailbox", m, "is not an email address", "name@domain, e.g. helpdesk@contoso.com")
		}
	}
	if p.AssignUsers && len(p.Mailboxes) == 0 {
		add("mailbox", "", "is missing: users are to be assigned but none is named", "one or more addresses, e.g. helpdesk@contoso.com")
	}
	if p.AppID != "" && !IsGUID(p.AppID) {
		add("app id", p.AppID, "is not a GUID", "the application (client) ID or object ID, e.g. 0f6b...-...")
	}
	if len(errs) > 0 {
		return &ValidationError{errs}
	}
	return nil
}

// normalise fills defaults; called after Validate.
func (p *Plan) normalise() {
	p.Tenant = strings.TrimSpace(p.Tenant)
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	if p.Audience == "" {
		p.Audience = catalog.SingleTenant
	}
	if p.Platform == "" {
		p.Platform = catalog.NoPlatform
	}
	if p.Secret.Needed && p.Secret.Months == 0 {
		p.Secret.Months = DefaultSecretMonths
	}
	if p.Secret.DisplayName == "" {
		p.Secret.DisplayName = "mailoauth"
	}
}

// hasKind reports whether the plan has a permission of that resource and kind.
func (p *Plan) hasKind(resourceAppID string, kind catalog.Kind) bool {
	for _, perm := range p.Permissions {
		if perm.Resource.AppID == resourceAppID && perm.Kind == kind {
			return true
		}
	}
	return false
}

func (p *Plan) hasAnyKind(kind catalog.Kind) bool {
	for _, perm := range p.Permissions {
		if perm.Kind == kind {
			return true
		}
	}
	return false
}

// SignInNeeds says which admin scopes the plan needs (signin.Scopes).
func (p *Plan) SignInNeeds() signin.Needs {
	return signin.Needs{
		AppRoles:         p.hasAnyKind(catalog.Application),
		AssignUsers:      p.AssignUsers,
		DelegatedConsent: p.hasAnyKind(catalog.Delegated),
		ReadUsers:        len(p.Mailboxes) > 0,
	}
}

// SignInScopes is signin.Scopes for the plan.
func (p *Plan) SignInScopes(c cloud.Cloud) []string { return signin.Scopes(c, p.SignInNeeds()) }

// Summary is the plan as the state file records it.
func (p *Plan) Summary() state.Plan {
	s := state.Plan{DisplayName: p.DisplayName, Audience: string(p.Audience), Flow: string(p.Flow), Platform: string(p.Platform), RedirectURIs: p.RedirectURIs, PublicClient: p.PublicClient}
	for _, pr := range p.Protocols {
		s.Protocols = append(s.Protocols, string(pr))
	}
	for _, perm := range p.Permissions {
		s.Permissions = append(s.Permissions, perm.String())
	}
	return s
}
