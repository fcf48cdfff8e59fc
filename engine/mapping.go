package engine

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/output/product"
	"github.com/mailoauth/mailoauth/output/safefile"
	"github.com/mailoauth/mailoauth/steps"
)

// plan turns the steps' draft into the engine's product-agnostic plan.
func (e *Live) plan(d steps.Draft) (provision.Plan, error) {
	perms := d.Permissions
	if len(perms) == 0 {
		var err error
		if perms, err = draftPermissions(d); err != nil {
			return provision.Plan{}, err
		}
	}
	p := provision.Plan{
		Tenant:            e.tenantID(),
		DisplayName:       d.AppName,
		Audience:          d.Audience,
		Flow:              d.Flow,
		Protocols:         d.Protocols,
		Permissions:       perms,
		Platform:          d.Platform,
		RedirectURIs:      d.RedirectURIs,
		PublicClient:      d.PublicClient,
		Secret:            provision.SecretSpec{Needed: d.NeedsSecret, Months: d.SecretMonths, Rotate: e.rotateSecret || e.needsNewSecret(d)},
		Mailboxes:         d.AllMailboxes(),
		AssignUsers:       d.AssignUsers,
		RequireAssignment: d.RequireAssignment,
		AppID:             d.AppID,
		Product:           d.Product,
	}
	e.mu.Lock()
	e.lastPlan = p
	e.mu.Unlock()
	return p, nil
}

// draftPermissions is the product method's permission set for the draft's protocols.
func draftPermissions(d steps.Draft) ([]catalog.Permission, error) {
	prof, err := product.Lookup(d.Product)
	if err != nil {
		return catalog.Permissions(d.Flow, d.Protocols)
	}
	m, err := prof.Method(d.Method)
	if err != nil {
		return nil, err
	}
	return m.Permissions(d.Protocols)
}

func (e *Live) tenantID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.tenantT.ID != "":
		return e.tenantT.ID
	case e.session != nil:
		return e.session.TenantID()
	}
	return e.tenant
}

// outDirFor is the app's output folder: --out, or mailoauth-out/<app>.
// The state file lives there too, so one folder holds one setup.
func (e *Live) outDirFor(appName string) string {
	if e.outDir != "" {
		return e.outDir
	}
	if e.baseDir != "" {
		return filepath.Join(e.baseDir, export.Slug(appName))
	}
	return export.DefaultOutDir(appName)
}

func (e *Live) statePath(d steps.Draft) string {
	return filepath.Join(e.outDirFor(d.AppName), StateFileName)
}

const StateFileName = "state.json"

// LoadStateIfAny reads a state file; a missing one is (nil, nil).
func LoadStateIfAny(path string) (*state.State, error) {
	st, err := state.Load(path)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	return st, err
}

func ensurePrivateDir(dir string) error { return safefile.EnsureDir(dir) }

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// InitialDomain is the tenant's *.onmicrosoft.com domain, which
// Connect-ExchangeOnline -Organization accepts in every tenant.
func InitialDomain(domains []string) string {
	for _, d := range domains {
		if strings.HasSuffix(strings.ToLower(d), ".onmicrosoft.com") || strings.HasSuffix(strings.ToLower(d), ".onmicrosoft.us") ||
			strings.HasSuffix(strings.ToLower(d), ".partner.onmschina.cn") {
			return d
		}
	}
	if len(domains) > 0 {
		return domains[0]
	}
	return ""
}

// ExportResult is the steps' view of what was written: the files, the
// product's settings under their headings (the client secret's row, which
// only points at the files, is left out: the final screen shows the value
// itself), and what is left to do by hand.
func ExportResult(dir string, in export.Input, files []export.File) steps.ExportResult {
	res := steps.ExportResult{Dir: dir}
	for _, f := range files {
		res.Files = append(res.Files, f.Path+statusNote(f.Status))
		if f.HoldsSecret && res.SecretFile == "" {
			res.SecretFile = f.Path
		}
	}
	if sum, err := export.Summarize(in); err == nil {
		for _, s := range sum.Settings {
			res.Keys = append(res.Keys, steps.KeyValue{Key: s.Name, Value: s.Value, Secret: s.Secret, Section: s.Section})
		}
		for _, sec := range sum.Sections {
			out := steps.SettingsSection{Title: sec.Title}
			for _, s := range sec.Settings {
				if !s.Secret {
					out.Keys = append(out.Keys, steps.KeyValue{Key: s.Name, Value: s.Value, Section: sec.Title})
				}
			}
			res.Sections = append(res.Sections, out)
		}
		res.Manual = sum.Manual
	}
	return res
}

func statusNote(status string) string {
	switch status {
	case "unchanged":
		return " (unchanged)"
	case "skipped-modified":
		return " (kept: you changed it; --force overwrites)"
	case "kept-secret":
		return " (kept: it holds the client secret and none was given; --force overwrites)"
	}
	return ""
}
