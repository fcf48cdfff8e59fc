package cli

import (
	"fmt"

	"github.com/pkg/browser"
)

// openOrShow opens an address in the system browser and, when none can be
// opened (an SSH session, a server) or MAILOAUTH_NO_BROWSER is set, prints
// it so the person can open it; the caller keeps waiting for the sign-in
// either way.
func openOrShow(io IO, what string) func(string) error {
	return func(u string) error {
		if io.Getenv("MAILOAUTH_NO_BROWSER") == "" {
			if err := browser.OpenURL(u); err == nil {
				return nil
			}
		}
		fmt.Fprintf(io.Err, "Open this address in a browser on this computer to %s:\n  %s\n", what, u)
		return nil
	}
}

// browserOpener is the wizard's "Enter opens the browser".
func browserOpener(io IO) func(string) error {
	return func(u string) error {
		if io.Getenv("MAILOAUTH_NO_BROWSER") != "" {
			return fmt.Errorf("MAILOAUTH_NO_BROWSER is set: open %s yourself", u)
		}
		return browser.OpenURL(u)
	}
}
