package steps

import (
	"context"
	"fmt"
)

// export: the product's settings written to files, the key values on the
// screen, and what is still to be done by hand.
func export() Step {
	return Step{
		ID:    ExportStep,
		Title: "Export",
		Help: "Writes the settings sheet in the product's own field names, machine-readable settings " +
			"and any Exchange PowerShell still to run (portal: Overview → copy the IDs; the secret value once).",
		Act: func(ctx context.Context, s *State, e Engine, _ Progress) error {
			r, err := e.Export(ctx, s.Result, ExportInput{Draft: s.Draft, Tenant: s.Tenant, Report: s.Report})
			if err != nil {
				return fmt.Errorf("writing the settings failed: %w", err)
			}
			s.Export = &r
			return nil
		},
		Summary: func(s *State) string {
			if s.Export == nil {
				return ""
			}
			n := len(s.Export.Files)
			if n == 1 {
				return "1 file in " + s.Export.Dir
			}
			return fmt.Sprintf("%d files in %s", n, s.Export.Dir)
		},
	}
}
