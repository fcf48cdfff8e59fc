package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/output/export"
)

// exportOptions are `mailoauth export`'s flags.
type exportOptions struct {
	IO       IO
	state    stateFlags
	cloud    cloudFlags
	outDir   string
	noSecret bool
	force    bool
	jsonOut  bool
}

const exportExamples = `  # Write the settings again into the setup's folder (the secret is asked for, or left out)
  mailoauth export --state mailoauth-out/extraview-mail-oauth2/state.json

  # A hand-over copy in another folder, with the secret from the environment
  MAILOAUTH_CLIENT_SECRET=... mailoauth export --app-name "ExtraView mail (OAuth2)" --out handover/contoso

  # Overwrite a settings.md you edited
  mailoauth export --out mailoauth-out/extraview-mail-oauth2 --force`

func newCmdExport(io IO, runF func(context.Context, *exportOptions) error) *cobra.Command {
	o := &exportOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the product's settings again from the state file",
		Long: "Write the product's settings sheet, settings.json, .env and the other files again from the state file a setup\n" +
			"wrote. The state file never holds the client secret: it is asked for, taken from MAILOAUTH_CLIENT_SECRET, or left\n" +
			"out (files that already hold it are kept).",
		Example: exportExamples,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return exportRun(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	stringFlag(fs, &o.state.path, "state", "FILE", "the state file a setup wrote", nil)
	stringFlag(fs, &o.state.appName, "app-name", "NAME", "the app's display name, to find mailoauth-out/<name>/state.json", nil)
	stringFlag(fs, &o.outDir, "out", "FOLDER", "output folder (default: the state file's folder)", nil)
	boolFlag(fs, &o.noSecret, "no-secret", false, "write a placeholder instead of the client secret")
	boolFlag(fs, &o.force, "force", false, "overwrite files you changed since mailoauth wrote them")
	boolFlag(fs, &o.jsonOut, "json", false, "print what was written as JSON on stdout")
	o.cloud.register(cmd)
	return cmd
}

func exportRun(_ context.Context, o *exportOptions) error {
	io := o.IO
	if o.state.path == "" && o.state.appName == "" && o.outDir != "" {
		o.state.out = o.outDir
	}
	path, st, err := o.state.load()
	if err != nil {
		return err
	}
	if o.outDir == "" {
		o.outDir = filepath.Dir(path)
	}
	c, err := o.cloud.cloudFor(st)
	if err != nil {
		return err
	}
	in, err := engine.ExportInput(st, path, c, "", time.Now())
	if err != nil {
		return err
	}
	if !o.noSecret && st.Secret != nil {
		if in.Secret, err = secretFrom(io, true); err != nil {
			return err
		}
		if in.Secret == "" {
			fmt.Fprintln(io.Err, "No secret given (the state file never holds it): files that already hold it are kept, new ones get a placeholder.")
		}
	}
	files, err := export.Write(in, export.Options{OutDir: o.outDir, NoSecret: o.noSecret || in.Secret == "", Force: o.force, Confirm: confirmer(io)})
	if err != nil {
		return err
	}
	res := engine.ExportResult(o.outDir, in, files)
	if o.jsonOut {
		return writeJSON(io, res)
	}
	fmt.Fprintf(io.Out, "Wrote to %s:\n", o.outDir)
	for _, f := range res.Files {
		fmt.Fprintf(io.Out, "  %s\n", f)
	}
	return nil
}
