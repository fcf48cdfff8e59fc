// Package export writes what the admin takes away from a mailoauth run: a
// settings sheet in the product's own field names and order (Markdown and a
// printable HTML page), settings.json, .env, the product's own formats
// (Genesys JavaMail properties and options), the Exchange Online PowerShell
// script and the app manifest fragment.
//
// Render is pure (Input in, file contents out); Write puts the files into a
// 0700 folder through safefile. The client secret appears only in
// settings.md, settings.html, settings.json and .env, each 0600; never in the
// script, the manifest or the product files that do not need it.
package export

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/pwsh"
	"github.com/mailoauth/mailoauth/output/product"
	"github.com/mailoauth/mailoauth/output/safefile"
)

// SecretPlaceholder stands where the secret goes when it is not written.
const SecretPlaceholder = "<paste the client secret value here>"

// Input is everything the exporter needs; the integrator fills it from the
// engine's Registration or the state file (which holds no secret).
type Input struct {
	Product string // product ID, e.g. extraview
	Method  string // method ID; "" = the product's first
	AppName string

	Cloud        cloud.Cloud
	TenantID     string
	TenantDomain string // e.g. contoso.onmicrosoft.com, shown on the sheet
	// TenantInitialDomain is the tenant's initial domain as Graph reports it
	// (verifiedDomains[].isInitial), e.g. contoso.onmicrosoft.com: the
	// -Organization of Connect-ExchangeOnline. Empty falls back to
	// TenantDomain.
	TenantInitialDomain string
	Audience            catalog.Audience // "" = the method's default

	ClientID           string // application (client) ID
	AppObjectID        string // app registration's object ID
	ServicePrincipalID string // enterprise application's (service principal's) object ID

	// Secret is the client secret value; empty writes SecretPlaceholder.
	Secret        string
	SecretHint    string // the first characters Entra shows
	SecretKeyID   string
	SecretExpires time.Time

	Protocols []catalog.Protocol
	// Permissions as granted, with FallbackID holding the ID resolved from
	// the tenant; empty = derived from the product profile.
	Permissions  []catalog.Permission
	RedirectURIs []string // as registered; empty = derived from the answers
	PublicClient bool     // "Allow public client flows" as set on the app (not derived)

	Mailboxes       []string
	AdditionalUsers []string
	// OtherMailboxes: the product opens mailboxes other than the signed-in
	// user's own (a shared mailbox): delegated Graph then needs and requests
	// Mail.Read.Shared / Mail.Send.Shared (see catalog.Options).
	OtherMailboxes bool
	Answers        map[string]string

	// Exchange says whether mailoauth applied the Exchange Online side itself
	// or left it to the admin, and why.
	Exchange ExchangeStatus
	// SendAs are addresses an app-only SMTP product sends as besides its own
	// mailboxes (which need only FullAccess): they get SendAs in the script.
	SendAs []string

	Created     []string   // what was created or changed in the tenant, one line each
	ManualSteps []string   // what the admin still has to do, beyond what export derives
	TestResults []TestLine // login tests, optional: the final result
	// TestAttempts is the whole history of the login test, oldest first:
	// each attempt's results and the fix applied before the next (e.g. the
	// demo's app-only failure, the Exchange fix, the test again). When set
	// the sheet shows it instead of TestResults; the last attempt is the
	// result.
	TestAttempts []TestAttempt
	// StateFile is the setup's state file, for the commands the sheet and the
	// reminder name; empty = <DefaultOutDir(AppName)>/state.json.
	StateFile   string
	GeneratedAt time.Time
}

// TestAttempt is one run of the login test.
type TestAttempt struct {
	At      time.Time // when it ran; zero = not shown
	Results []TestLine
	// Fix is what was changed after this attempt, before the next, in one
	// line (e.g. "Exchange Online: registered the app and granted FullAccess").
	Fix string
}

// TestLine is one login test result.
type TestLine struct {
	Protocol catalog.Protocol
	Mailbox  string
	OK       bool
	Detail   string
}

// Artifact is one rendered file.
type Artifact struct {
	Name        string
	Content     []byte
	Mode        os.FileMode
	HoldsSecret bool // carries the client secret value itself
}

// Options control Write.
type Options struct {
	OutDir   string // the caller's choice; see DefaultOutDir
	NoSecret bool   // write SecretPlaceholder instead of the secret
	Force    bool   // overwrite files the admin changed
	// Confirm is asked before overwriting a changed file; nil = skip it.
	Confirm func(path string) bool
}

// File is what Write did with one file.
type File struct {
	Path        string
	Mode        os.FileMode
	HoldsSecret bool
	Status      string // written, unchanged, skipped-modified
}

// File names.
const (
	SettingsMD   = "settings.md"
	SettingsHTML = "settings.html"
	SettingsJSON = "settings.json"
	DotEnv       = ".env"
	PowerShell   = "exchange-setup.ps1"
	Manifest     = "manifest.json"
	GenesysProps = "genesys-javamail.properties"
	GenesysOpts  = "genesys-options.ini"
	Reminder     = "secret-reminder.ics"
)

// Write renders the files and writes them into o.OutDir (0700), each
// atomically; a file the admin changed since the last run is kept unless
// Confirm says yes or Force is set.
func Write(in Input, o Options) ([]File, error) {
	if strings.TrimSpace(o.OutDir) == "" {
		return nil, errors.New("--out: no output folder given; accepted form: a folder path, default " + DefaultOutDir(in.AppName))
	}
	if o.NoSecret {
		in.Secret = ""
	}
	arts, err := Render(in)
	if err != nil {
		return nil, err
	}
	folder, err := safefile.Open(o.OutDir, safefile.Options{Force: o.Force, Confirm: o.Confirm})
	if err != nil {
		return nil, err
	}
	var files []File
	for _, a := range arts {
		st, err := folder.Put(a.Name, a.Content, in.Secret, a.Mode)
		if err != nil {
			return files, err
		}
		files = append(files, File{Path: filepath.Join(o.OutDir, a.Name), Mode: a.Mode, HoldsSecret: a.HoldsSecret, Status: string(st)})
	}
	return files, nil
}

// Render produces every file for the input, in the order they are listed
// to the admin. It checks the input first; each problem names its field.
func Render(in Input) ([]Artifact, error) {
	v, err := newView(in)
	if err != nil {
		return nil, err
	}
	var arts []Artifact
	add := func(name string, content []byte, mode os.FileMode, mayHoldSecret bool) error {
		holds := v.secretSet && bytes.Contains(content, []byte(in.Secret))
		if holds && !mayHoldSecret {
			return fmt.Errorf("export: the client secret would appear in %s; refusing to write it (check that no other field holds the secret)", name)
		}
		arts = append(arts, Artifact{Name: name, Content: content, Mode: mode, HoldsSecret: holds})
		return nil
	}
	md := renderMarkdown(v.sheet())
	page, err := renderHTML(v.sheet())
	if err != nil {
		return nil, err
	}
	js, err := v.settingsJSON()
	if err != nil {
		return nil, err
	}
	man, err := v.manifest()
	if err != nil {
		return nil, err
	}
	// Files in the order they are listed to the admin; mayHoldSecret marks
	// the four 0600 files the secret is meant for.
	type file struct {
		name          string
		content       []byte
		mode          os.FileMode
		mayHoldSecret bool
	}
	files := []file{
		{SettingsMD, md, 0o600, true},
		{SettingsHTML, page, 0o600, true},
		{SettingsJSON, js, 0o600, true},
		{DotEnv, v.dotEnv(), 0o600, true},
	}
	if v.needsScript() {
		ps, err := v.powerShell()
		if err != nil {
			return nil, err
		}
		files = append(files, file{PowerShell, ps, 0o644, false})
	}
	files = append(files, file{Manifest, man, 0o644, false})
	if v.hasReminder() {
		files = append(files, file{Reminder, v.reminder(), 0o644, false})
	}
	if v.px.files != nil {
		for _, f := range v.px.files(v) {
			files = append(files, file{f.name, f.content, 0o644, false})
		}
	}
	for _, f := range files {
		if err := add(f.name, f.content, f.mode, f.mayHoldSecret); err != nil {
			return nil, err
		}
	}
	return arts, nil
}

// view is the input checked and completed with what the profile derives.
type view struct {
	in         Input
	p          product.Profile
	m          product.Method
	px         productExport // the product's own part of the export
	opts       catalog.Options
	audience   catalog.Audience
	perms      []catalog.Permission
	redirects  []string
	tokens     []catalog.TokenRequest
	secretSet  bool
	epTenant   string // tenant segment of the endpoints the product is given
	mailboxes  []string
	additional []string
}

// domainRE is a DNS name: labels of letters, digits and hyphens.
var domainRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newView(in Input) (*view, error) {
	p, err := product.Lookup(in.Product)
	if err != nil {
		return nil, err
	}
	m, err := p.Method(in.Method)
	if err != nil {
		return nil, err
	}
	px, err := lookupProductExport(p.ID)
	if err != nil {
		return nil, err
	}
	v := &view{in: in, p: p, m: m, px: px}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	guid := func(field, val string, required bool) {
		if val == "" && !required {
			return
		}
		if !guidRE.MatchString(val) {
			bad("%s: %q is not a GUID; accepted form: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", field, val)
		}
	}
	guid("TenantID", in.TenantID, true)
	guid("ClientID", in.ClientID, true)
	guid("AppObjectID", in.AppObjectID, false)
	guid("ServicePrincipalID", in.ServicePrincipalID, false)
	if in.Cloud.AuthorityHost == "" || in.Cloud.GraphURL == "" {
		bad("Cloud: no endpoints; accepted form: a cloud from cloud.Lookup (global, usgov-high, usgov-dod, china, custom)")
	}
	// The app name goes into the Exchange script and onto one line of each
	// sheet: PowerShell's rules for text (pwsh.Check), no control or format
	// characters, valid UTF-8. Mailboxes likewise, below; domains are plain
	// DNS names.
	if err := pwsh.Check(in.AppName); err != nil {
		bad("AppName: %v", err)
	}
	for _, f := range []struct{ name, value string }{{"Secret", in.Secret}, {"SecretHint", in.SecretHint}, {"SecretKeyID", in.SecretKeyID}} {
		if strings.IndexFunc(f.value, unicode.IsControl) >= 0 {
			bad("%s: contains a line break or control character; accepted form: one line of text", f.name)
		}
	}
	if strings.TrimSpace(in.AppName) == "" {
		bad("AppName: empty; accepted form: the app registration's display name")
	}
	for _, f := range []struct{ name, value string }{{"TenantDomain", in.TenantDomain}, {"TenantInitialDomain", in.TenantInitialDomain}} {
		if f.value != "" && !domainRE.MatchString(f.value) {
			bad("%s: %q; accepted form: a domain such as contoso.onmicrosoft.com", f.name, f.value)
		}
	}
	if len(in.Protocols) == 0 {
		bad("Protocols: none; accepted: one or more of the product's protocols")
	}
	for _, f := range []struct {
		field string
		list  []string
	}{{"Mailboxes", in.Mailboxes}, {"AdditionalUsers", in.AdditionalUsers}, {"SendAs", in.SendAs}} {
		field := f.field
		for _, mb := range f.list {
			if _, err := product.Email(field, mb); err != nil {
				errs = append(errs, err)
			} else if err := pwsh.Check(mb); err != nil {
				bad("%s: %q %v", field, mb, err)
			}
		}
	}
	if len(in.Mailboxes) == 0 {
		bad("Mailboxes: none; accepted form: at least one email address such as helpdesk@contoso.com")
	}
	v.audience = in.Audience
	if v.audience == "" {
		v.audience = m.DefaultAudience
	}
	if v.audience != catalog.SingleTenant && v.audience != catalog.MultiTenant {
		bad("Audience: %q; accepted: single, multi", in.Audience)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	v.opts = catalog.Options{OtherMailboxes: in.OtherMailboxes}
	derived, err := m.PermissionsWith(in.Protocols, v.opts)
	if err != nil {
		return nil, err
	}
	v.perms = in.Permissions
	if len(v.perms) == 0 {
		v.perms = derived
	}
	v.redirects = in.RedirectURIs
	if len(v.redirects) == 0 {
		if v.redirects, err = m.RedirectURIs(in.Answers, in.Cloud); err != nil {
			return nil, err
		}
	}
	if v.tokens, err = catalog.TokenRequestsWith(in.Cloud, m.Flow, in.Protocols, v.opts); err != nil {
		return nil, err
	}
	v.secretSet = in.Secret != "" && m.NeedsSecret
	v.epTenant = in.TenantID
	if m.OrganizationsEndpoints && v.audience == catalog.MultiTenant {
		v.epTenant = "organizations"
	}
	v.mailboxes = in.Mailboxes
	v.additional = in.AdditionalUsers
	if v.needsServicePrincipal() && in.ServicePrincipalID == "" {
		return nil, errors.New("ServicePrincipalID: empty, but exchange-setup.ps1 needs it; accepted form: the enterprise application's (service principal's) object ID, a GUID")
	}
	return v, nil
}

// secretValue is the secret or the placeholder.
func (v *view) secretValue() string {
	if v.secretSet {
		return v.in.Secret
	}
	return SecretPlaceholder
}

func (v *view) has(p catalog.Protocol) bool {
	for _, x := range v.in.Protocols {
		if x == p {
			return true
		}
	}
	return false
}

func (v *view) hasExchange() bool {
	for _, p := range v.in.Protocols {
		if p.IsExchange() {
			return true
		}
	}
	return false
}

func (v *view) hasGraph() bool { return v.has(catalog.GraphRead) || v.has(catalog.GraphSend) }

// needsScript: Exchange-side work exists for every Exchange protocol
// (protocol switches, and for app-only the service principal and mailbox
// rights) and for app-only Graph (optional RBAC scoping).
func (v *view) needsScript() bool {
	return v.hasExchange() || (v.m.Flow.AppOnly() && v.hasGraph())
}

// needsServicePrincipal: app-only access is registered in Exchange with New-ServicePrincipal.
func (v *view) needsServicePrincipal() bool { return v.m.Flow.AppOnly() && v.needsScript() }

// allMailboxes are the mailboxes and additional users, without repeats.
func (v *view) allMailboxes() []string {
	var out []string
	seen := map[string]bool{}
	for _, mb := range append(append([]string(nil), v.mailboxes...), v.additional...) {
		if k := strings.ToLower(mb); !seen[k] {
			seen[k] = true
			out = append(out, mb)
		}
	}
	return out
}

func (v *view) authority() string         { return v.in.Cloud.Authority(v.epTenant) }
func (v *view) tokenEndpoint() string     { return v.in.Cloud.TokenEndpoint(v.epTenant) }
func (v *view) authorizeEndpoint() string { return v.in.Cloud.AuthorizeEndpoint(v.epTenant) }
func (v *view) deviceCodeEndpoint() string {
	return v.in.Cloud.Authority(v.epTenant) + "/oauth2/v2.0/devicecode"
}

// scopesFor is what a client requests for protocol p alone: products keep
// one connection per protocol (often per direction), so each gets its own
// single-resource scope list; token_requests in settings.json shows the
// grouped form.
func (v *view) scopesFor(p catalog.Protocol) []string {
	t, err := catalog.TokenRequestForWith(v.in.Cloud, v.m.Flow, p, v.opts)
	if err != nil {
		return nil // newView already resolved every protocol
	}
	return t.Scopes
}

func (v *view) generated() time.Time {
	if v.in.GeneratedAt.IsZero() {
		return time.Now().UTC()
	}
	return v.in.GeneratedAt.UTC()
}

// endpointOf is host, port and TLS for a mail protocol.
func (v *view) endpointOf(p catalog.Protocol) (cloud.Endpoint, bool) {
	switch p {
	case catalog.IMAP:
		return v.in.Cloud.IMAP, true
	case catalog.POP:
		return v.in.Cloud.POP, true
	case catalog.SMTP:
		return v.in.Cloud.SMTP, true
	}
	return cloud.Endpoint{}, false
}

// ewsHost is the EWS server's host name (outlook.office365.com).
func (v *view) ewsHost() string {
	s := strings.TrimPrefix(strings.TrimPrefix(v.in.Cloud.EWSURL, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// ewsHostPort splits the EWS endpoint for products that take the host and
// the port in separate fields (Agiloft): Microsoft's is 443.
func (v *view) ewsHostPort() (string, string) {
	u, err := url.Parse(v.in.Cloud.EWSURL)
	if err != nil || u.Hostname() == "" {
		return v.ewsHost(), "443"
	}
	if p := u.Port(); p != "" {
		return u.Hostname(), p
	}
	return u.Hostname(), "443"
}

func (v *view) expiry() string {
	if v.in.SecretExpires.IsZero() {
		return "unknown (see Certificates & secrets in the portal)"
	}
	return v.in.SecretExpires.UTC().Format("2006-01-02")
}
