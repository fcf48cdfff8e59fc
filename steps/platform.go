package steps

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// platform: where the sign-in answer goes (redirect URI), filled from the
// product and shown with the reason; nothing to type.
func platform() Step {
	return Step{
		ID:    PlatformStep,
		Title: "Platform",
		Help: "Sets the platform, redirect URI and public-client switch the product needs " +
			"(portal: App registration → Authentication → Add a platform; Allow public client flows).",
		Pages: []Page{func(s *State) []Question {
			return []Question{note("Platform and redirect", plainLines(PlatformLines(s.Draft)))}
		}},
		Summary: func(s *State) string {
			if s.Draft.Platform == "" {
				return ""
			}
			out := s.Draft.Platform.Label()
			if len(s.Draft.RedirectURIs) > 0 {
				out += " · " + strings.Join(s.Draft.RedirectURIs, ", ")
			}
			if s.Draft.PublicClient {
				out += " · public client flows on"
			}
			return out
		},
	}
}

// PlatformLines explains the platform settings and why they are right.
func PlatformLines(d Draft) []string {
	var lines []string
	switch d.Platform {
	case catalog.Web:
		lines = append(lines, "Platform: Web")
		for _, u := range d.RedirectURIs {
			lines = append(lines, "Redirect URI: "+u)
		}
		lines = append(lines, fmt.Sprintf("Why: %s signs the mailbox user in through the browser (%s); Microsoft sends the answer back to this address on the product's server.", d.ProductName, d.Flow.Label()))
	case catalog.PublicClient:
		lines = append(lines, "Platform: Mobile and desktop applications")
		for _, u := range d.RedirectURIs {
			lines = append(lines, "Redirect URI: "+u)
		}
		lines = append(lines, fmt.Sprintf("Why: %s's setup page asks for this native-client address; %s needs no browser answer.", d.ProductName, d.Flow.Label()))
	default:
		lines = append(lines, "Platform: none (no redirect URI)")
		lines = append(lines, "Why: "+noRedirectWhy(d))
	}
	if d.PublicClient {
		lines = append(lines, "Allow public client flows: Yes: the product sends the user's name and password (or a device code) without a client secret.")
	} else {
		lines = append(lines, "Allow public client flows: No")
	}
	return lines
}

// noRedirectWhy says why a flow needs no redirect URI.
func noRedirectWhy(d Draft) string {
	switch d.Flow {
	case catalog.DeviceCode:
		return "with a device code the user signs in in a browser on any device, and the product fetches the token itself: Microsoft sends nothing back to an address."
	case catalog.ROPC:
		return d.ProductName + " sends the user's name and password straight to Microsoft: no browser sign-in, so there is nowhere to send an answer."
	}
	if d.Flow.AppOnly() {
		return d.ProductName + " signs in as the app with its own credentials: no user signs in, so there is nowhere to send an answer."
	}
	return d.Flow.Label() + " needs no redirect URI."
}
