package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
)

// deleteOptions are `mailoauth delete`'s flags.
type deleteOptions struct {
	IO      IO
	state   stateFlags
	cloud   cloudFlags
	yes     bool
	jsonOut bool
	tenant  string
}

const deleteExamples = `  # Show what would be removed, then ask
  mailoauth delete --state mailoauth-out/agiloft-mail-oauth2/state.json

  # In a script: remove without asking, report as JSON
  mailoauth delete --app-name "Agiloft mail (OAuth2)" --yes --json`

func newCmdDelete(io IO, runF func(context.Context, *deleteOptions) error) *cobra.Command {
	o := &deleteOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Remove from the tenant exactly what mailoauth created (from the state file)",
		Long: "Remove from the tenant exactly what mailoauth created, as its state file records: the app registration, its\n" +
			"enterprise application, the consent and assignments it added. Objects mailoauth found but did not create are kept.",
		Example: deleteExamples,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return deleteRun(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.state.register(cmd)
	boolFlag(fs, &o.yes, "yes", false, "delete without asking")
	boolFlag(fs, &o.jsonOut, "json", false, "print what was deleted as JSON on stdout")
	stringFlag(fs, &o.tenant, "tenant", "TENANT", "tenant to sign in to (default: the state file's)", checkTenant)
	o.cloud.register(cmd)
	return cmd
}

func deleteRun(ctx context.Context, o *deleteOptions) error {
	io := o.IO
	path, st, err := o.state.load()
	if err != nil {
		return err
	}
	c, err := o.cloud.cloudFor(st)
	if err != nil {
		return err
	}
	tenant := o.tenant
	if tenant == "" {
		tenant = st.Tenant
	}
	if st.AppObjectID == "" && st.SPID == "" {
		// Already deleted (delete empties the state) or never applied:
		// nothing to sign in for, and a re-run is not an error.
		fmt.Fprintf(io.Err, "Nothing to delete: %s records no object mailoauth created in tenant %s.\n", path, st.Tenant)
		if o.jsonOut {
			return writeJSON(io, provision.DeleteResult{Deleted: []provision.Change{}, Kept: []provision.Change{}})
		}
		return nil
	}
	fmt.Fprintf(io.Err, "This removes from tenant %s what mailoauth created for %q:\n", st.Tenant, st.Plan.DisplayName)
	for _, line := range deletionPreview(st) {
		fmt.Fprintf(io.Err, "  - %s\n", line)
	}
	fmt.Fprintln(io.Err, "Objects mailoauth found but did not create are kept.")
	if !o.yes {
		if !io.Interactive {
			return usagef("--yes required when not running interactively: delete removes objects from the tenant")
		}
		fmt.Fprint(io.Err, "Delete them? [y/N] ")
		line, _ := readLine(io.In)
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y") {
			return ErrAborted
		}
	}
	hc, err := c.HTTPClient(nil)
	if err != nil {
		return err
	}
	sess, err := signin.SignIn(ctx, signin.Options{
		Cloud: c, Tenant: tenant, HTTPClient: hc,
		Scopes:       signin.Scopes(c, engine.DeleteNeeds(st)),
		OnDeviceCode: func(p signin.DeviceCodePrompt) { fmt.Fprintln(io.Err, p.Message) },
		OpenURL:      openOrShow(io, "sign in"),
	})
	if err != nil {
		return err
	}
	g, err := graphapi.New(c, sess.TokenSource(), hc, graphapi.Options{})
	if err != nil {
		return err
	}
	res, err := provision.Delete(ctx, g, st, path)
	if err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(io, res)
	}
	for _, d := range res.Deleted {
		fmt.Fprintf(io.Out, "Deleted %s %s\n", d.Object, d.Detail)
	}
	for _, k := range res.Kept {
		fmt.Fprintf(io.Out, "Kept %s %s\n", k.Object, k.Detail)
	}
	return nil
}

func deletionPreview(st *state.State) []string {
	var out []string
	if st.AppCreated {
		out = append(out, fmt.Sprintf("app registration %q (%s); Entra keeps it restorable for 30 days", st.Plan.DisplayName, st.ClientID))
	}
	if st.SPCreated {
		out = append(out, "its enterprise application (service principal "+st.SPID+")")
	}
	for res, g := range st.Grants {
		if g.Created {
			out = append(out, "admin consent (delegated) on "+res+": "+g.Scope)
		}
	}
	for _, a := range st.AppRoleAssignments {
		if a.Created {
			out = append(out, "admin consent (application) "+a.Name)
		}
	}
	for _, a := range st.UserAssignments {
		if a.Created {
			out = append(out, "user assignment "+a.Name)
		}
	}
	if len(out) == 0 {
		out = append(out, "nothing: the state records no object mailoauth created")
	}
	return out
}
