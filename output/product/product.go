// Package product describes, as data, what each supported product needs from
// Entra ID and Exchange Online: the OAuth2 flows it offers, the platform and
// redirect URI rule, the public-client flag, permissions per protocol,
// whether it needs a client secret and user assignment, the questions the
// wizard asks (with defaults and validation) and the corrections to its
// vendor document. Source: products.md and the vendor documents in seeds/.
//
// The package has no behaviour beyond reading this data; the engine and the
// exporter decide what to do with it.
package product

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
)

// Answers are the admin's answers, keyed by Question.Key (the answers-file key).
type Answers map[string]string

// List splits a list answer (mailboxes, additional_users, protocols) on
// semicolons, commas and blanks.
func (a Answers) List(key string) []string {
	return strings.FieldsFunc(a[key], func(r rune) bool {
		return r == ';' || r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// Answer keys shared by the wizard, the answers file and the exporter.
const (
	KeyMethod          = "method"
	KeyProtocols       = "protocols"
	KeyAudience        = "audience"
	KeyMailboxes       = "mailboxes"
	KeyExtraViewURL    = "extraview_url"
	KeyCallbackURL     = "callback_url"
	KeyRedirectURI     = "redirect_uri"
	KeyAdditionalUsers = "additional_users"
)

// Profile is one product.
type Profile struct {
	ID   string // extraview, email-this-issue, genesys, agiloft, monitor-erp, generic
	Name string // ExtraView
	// AppStem starts the default app registration name ("ExtraView mail").
	AppStem  string
	Methods  []Method
	DocTitle string // the vendor document mailoauth follows
	DocURL   string // empty when the document names no address
	// EWSAlternative names the protocols the product offers instead of EWS,
	// or says none is documented; used in the EWS retirement warning.
	EWSAlternative string
	// Notes are product facts worth a line on the settings sheet.
	Notes []string
	// Fixes are corrections to the vendor document.
	Fixes []Fix
}

// Fix is one correction to a vendor document.
type Fix struct {
	Document string // what the vendor document says
	Correct  string // what is right
	Why      string
}

func (f Fix) String() string {
	return fmt.Sprintf("The vendor document says %q; correct: %q. %s", f.Document, f.Correct, f.Why)
}

// RedirectKind is how a method's redirect URI is made.
type RedirectKind int

const (
	// NoRedirect registers no redirect URI.
	NoRedirect RedirectKind = iota
	// FromAnswer builds it from an answer (plus a fixed suffix).
	FromAnswer
	// NativeClient is the cloud's authority host + /common/oauth2/nativeclient.
	NativeClient
)

// RedirectRule says how the redirect URI is built from the answers.
type RedirectRule struct {
	Kind      RedirectKind
	AnswerKey string // FromAnswer: the answer holding the base
	Suffix    string // FromAnswer: appended to the (normalised) answer
}

// Method is one way a product signs in (Monitor ERP has two).
type Method struct {
	ID               string // user-password, client-secret, auth-code, ropc, ...
	Label            string
	Flow             catalog.Flow
	Protocols        []catalog.Protocol // supported
	DefaultProtocols []catalog.Protocol
	// Extras are permissions beyond the per-protocol ones, always added.
	Extras []catalog.Permission
	// ExtrasFor are added when the protocol is chosen (Genesys: User.Read for EWS/IMAP/POP3).
	ExtrasFor map[catalog.Protocol][]catalog.Permission
	Platform  catalog.Platform
	Redirect  RedirectRule
	// PublicClient is "Allow public client flows" (isFallbackPublicClient).
	PublicClient bool
	NeedsSecret  bool
	// AssignUsers: assign the mailbox users to the enterprise application.
	AssignUsers     bool
	DefaultAudience catalog.Audience
	// OrganizationsEndpoints: for a multitenant app the product is given the
	// /organizations authorize and token endpoints instead of the tenant's.
	OrganizationsEndpoints bool
	// Questions are asked in this order after the method is known.
	Questions []Question
}

// All returns every product profile, the generic one last.
func All() []Profile {
	return []Profile{extraView(), emailThisIssue(), genesys(), agiloft(), monitorERP(), generic()}
}

// IDs lists the product IDs in display order.
func IDs() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.ID)
	}
	return out
}

// Lookup finds a product by ID (case-insensitive).
func Lookup(id string) (Profile, error) {
	for _, p := range All() {
		if strings.EqualFold(p.ID, strings.TrimSpace(id)) {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("product: unknown product %q; accepted: %s", id, strings.Join(IDs(), ", "))
}

// Method finds one of the product's methods; "" picks the first (the default).
func (p Profile) Method(id string) (Method, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return p.Methods[0], nil
	}
	for _, m := range p.Methods {
		if strings.EqualFold(m.ID, id) {
			return m, nil
		}
	}
	var ids []string
	for _, m := range p.Methods {
		ids = append(ids, m.ID)
	}
	return Method{}, fmt.Errorf("%s: %s method %q is not offered; accepted: %s", KeyMethod, p.Name, id, strings.Join(ids, ", "))
}

// MethodQuestion is the question that picks the method; ok is false when
// the product has only one.
func (p Profile) MethodQuestion() (q Question, ok bool) {
	if len(p.Methods) < 2 {
		return Question{}, false
	}
	var ids, labels []string
	for _, m := range p.Methods {
		ids = append(ids, m.ID)
		labels = append(labels, m.ID+" = "+m.Label)
	}
	return Question{
		Key:     KeyMethod,
		Prompt:  "How will " + p.Name + " sign in?",
		Help:    strings.Join(labels, "; "),
		Default: p.Methods[0].ID,
		Choices: ids,
		check: func(s string) (string, string, error) {
			m, err := p.Method(s)
			return m.ID, "", err
		},
	}, true
}

// Supports reports whether the method offers protocol pr.
func (m Method) Supports(pr catalog.Protocol) bool {
	for _, x := range m.Protocols {
		if x == pr {
			return true
		}
	}
	return false
}

// ParseProtocols reads a protocol list answer and refuses any the method
// does not support, naming the ones it does. Empty means the default set.
func (m Method) ParseProtocols(s string) ([]catalog.Protocol, error) {
	if strings.TrimSpace(s) == "" {
		return append([]catalog.Protocol(nil), m.DefaultProtocols...), nil
	}
	ps, err := catalog.ParseProtocols(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", KeyProtocols, err)
	}
	if err := m.checkProtocols(ps); err != nil {
		return nil, err
	}
	return ps, nil
}

func (m Method) checkProtocols(ps []catalog.Protocol) error {
	if len(ps) == 0 {
		return fmt.Errorf("%s: none chosen; accepted: one or more of %s", KeyProtocols, protocolList(m.Protocols))
	}
	for _, p := range ps {
		if !m.Supports(p) {
			return fmt.Errorf("%s: %s is not supported by this product and method; accepted: %s", KeyProtocols, p.Label(), protocolList(m.Protocols))
		}
	}
	return nil
}

// Permissions is what the app registration needs for the chosen protocols.
func (m Method) Permissions(protocols []catalog.Protocol) ([]catalog.Permission, error) {
	if err := m.checkProtocols(protocols); err != nil {
		return nil, err
	}
	extras := append([]catalog.Permission(nil), m.Extras...)
	for _, p := range protocols {
		extras = append(extras, m.ExtrasFor[p]...)
	}
	return catalog.Permissions(m.Flow, protocols, extras...)
}

// RedirectURIs builds the redirect URIs for the method from the answers.
func (m Method) RedirectURIs(a Answers, c cloud.Cloud) ([]string, error) {
	switch m.Redirect.Kind {
	case NoRedirect:
		return nil, nil
	case NativeClient:
		return []string{strings.TrimRight(c.AuthorityHost, "/") + "/common/oauth2/nativeclient"}, nil
	case FromAnswer:
		q, ok := m.Question(m.Redirect.AnswerKey)
		if !ok {
			return nil, fmt.Errorf("method %s: redirect answer %q has no question", m.ID, m.Redirect.AnswerKey)
		}
		v, _, err := q.Normalize(a[q.Key])
		if err != nil {
			return nil, err
		}
		return []string{v + m.Redirect.Suffix}, nil
	}
	return nil, fmt.Errorf("method %s: unknown redirect rule", m.ID)
}

// Question returns the method's question with that key.
func (m Method) Question(key string) (Question, bool) {
	for _, q := range m.Questions {
		if q.Key == key {
			return q, true
		}
	}
	return Question{}, false
}

// Check validates every answer the method asks for, fills in defaults and
// returns the normalised answers, plus notes on what was changed (e.g. a
// pasted full redirect URI cut back). All problems are reported together,
// each naming its field and the accepted form.
func (m Method) Check(a Answers) (Answers, []string, error) {
	out := Answers{}
	for k, v := range a {
		out[k] = v
	}
	var notes []string
	var errs []error
	for _, q := range m.Questions {
		v, note, err := q.Normalize(a[q.Key])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[q.Key] = v
		if note != "" {
			notes = append(notes, q.Key+": "+note)
		}
	}
	return out, notes, errors.Join(errs...)
}

// Audience returns the answered audience, or the method's default.
func (m Method) Audience(a Answers) (catalog.Audience, error) {
	if strings.TrimSpace(a[KeyAudience]) == "" {
		return m.DefaultAudience, nil
	}
	return catalog.ParseAudience(a[KeyAudience])
}

// DefaultAppName is the app registration's default display name.
func DefaultAppName(p Profile, m Method) string {
	if len(p.Methods) > 1 {
		return fmt.Sprintf("%s (OAuth2, %s)", p.AppStem, m.ID)
	}
	return p.AppStem + " (OAuth2)"
}

// Warnings are the cautions for this product, method and protocol choice:
// EWS retirement with the product's alternative, ROPC and MFA, and the reach
// of app-only permissions.
func (p Profile) Warnings(m Method, protocols []catalog.Protocol) []string {
	var out []string
	has := func(x catalog.Protocol) bool {
		for _, y := range protocols {
			if y == x {
				return true
			}
		}
		return false
	}
	if has(catalog.EWS) {
		out = append(out, "EWS in Exchange Online is being retired: Microsoft disables it tenant by tenant from 2026-10-01 "+
			"(unless EWS is enabled with an allow-list of app IDs) and shuts it off for good on 2027-04-01. "+
			"These dates come from reports of Microsoft's Exchange Team blog and are UNVERIFIED against the blog itself. "+
			"Alternative for "+p.Name+": "+p.EWSAlternative)
	}
	if m.Flow == catalog.ROPC {
		out = append(out, "User name and password sign-in (ROPC) cannot do multi-factor authentication: the mailbox account must not "+
			"be required to use MFA by security defaults or Conditional Access, or sign-in fails with AADSTS50076.")
	}
	if m.Flow.AppOnly() && has(catalog.EWS) {
		out = append(out, "full_access_as_app reaches EVERY mailbox in the tenant. Limit it with RBAC for Applications "+
			"(optional block in exchange-setup.ps1) and the EWS app allow-list.")
	}
	if m.Flow.AppOnly() && (has(catalog.GraphRead) || has(catalog.GraphSend)) {
		out = append(out, "Graph application mail permissions reach EVERY mailbox in the tenant. Limit them with RBAC for "+
			"Applications (optional block in exchange-setup.ps1).")
	}
	return out
}

func protocolList(ps []catalog.Protocol) string {
	var s []string
	for _, p := range ps {
		s = append(s, string(p)+" ("+p.Label()+")")
	}
	return strings.Join(s, ", ")
}
