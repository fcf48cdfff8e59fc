package steps

import (
	"context"
	"fmt"
	"strings"
)

// signIn: device-code sign-in of the administrator, then the tenant and
// the pre-flight checks that need no product yet (roles, licences).
func signIn() Step {
	return Step{
		ID:      SignInStep,
		Title:   "Sign in",
		SignsIn: true,
		Help: "Signs you in as a tenant administrator with a device code and reads the tenant " +
			"(portal: sign in at portal.azure.com, Microsoft Entra ID → Overview → Tenant ID).",
		Act: func(ctx context.Context, s *State, e Engine, p Progress) error {
			show := p.DeviceCode
			if show == nil {
				show = func(DeviceCode) {}
			}
			t, err := e.SignIn(ctx, show)
			if err != nil {
				return fmt.Errorf("sign-in failed: %w", err)
			}
			s.Tenant = t
			f, err := e.Preflight(ctx, s.Draft)
			if err != nil {
				return fmt.Errorf("reading the tenant failed: %w", err)
			}
			s.Findings = f
			s.SignInFindings = append([]Finding(nil), f...)
			return nil
		},
		Summary: func(s *State) string {
			if s.Tenant.ID == "" {
				return ""
			}
			return fmt.Sprintf("%s · %s", s.Tenant.AdminUPN, tenantLabel(s.Tenant))
		},
	}
}

func tenantLabel(t Tenant) string {
	if t.Name != "" {
		return t.Name
	}
	if len(t.Domains) > 0 {
		return t.Domains[0]
	}
	return t.ID
}

// TenantLines describes the tenant for the screen: ID, domains, roles.
func TenantLines(t Tenant) []string {
	lines := []string{
		"Tenant:  " + tenantLabel(t),
		"ID:      " + t.ID,
	}
	if len(t.Domains) > 0 {
		lines = append(lines, "Domains: "+strings.Join(t.Domains, ", "))
	}
	if t.AdminUPN != "" {
		who := "Signed in as " + t.AdminUPN
		if len(t.AdminRoles) > 0 {
			who += " (" + strings.Join(t.AdminRoles, ", ") + ")"
		}
		lines = append(lines, who)
	}
	return lines
}

// Blockers returns the findings that stop the setup.
func Blockers(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity == Blocker {
			out = append(out, f)
		}
	}
	return out
}

// FindingLine formats a finding with its fix.
func FindingLine(f Finding) string {
	line := string(f.Severity) + ": " + f.Text
	if f.Fix != "" {
		line += "\n  Fix: " + f.Fix
	}
	return line
}
