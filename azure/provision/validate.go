package provision

import (
	"strings"

	"github.com/mailoauth/mailoauth/internal/validate"
)

// These are kept for their callers in this package; the rules themselves
// are internal/validate's, shared with the wizard, the answers file and
// the exporter, so every layer accepts and refuses the same inputs.

// IsGUID reports whether s is a GUID.
func IsGUID(s string) bool { return validate.IsGUID(s) }

// ValidTenant accepts a GUID or a DNS domain name.
func ValidTenant(s string) bool { return validate.IsTenant(strings.TrimSpace(s)) }

// ValidEmail accepts a bare address local@domain with a DNS domain.
func ValidEmail(s string) bool { return validate.IsEmail(s) }

// ValidRedirectURI accepts an absolute https URI, or http on localhost /
// 127.0.0.1 (loopback redirects of desktop apps), without a fragment.
func ValidRedirectURI(s string) bool { return validate.IsRedirectURI(s) }
