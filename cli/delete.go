package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/exchangesetup"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/output/export"
)

// deleteOptions are `mailoauth delete`'s flags.
type deleteOptions struct {
	IO      IO
	state   stateFlags
	cloud   cloudFlags
	yes     bool
	jsonOut bool
	tenant  string
	// keepFiles keeps the local files that hold the secret.
	keepFiles bool
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
	boolFlag(fs, &o.keepFiles, "keep-files", false, "keep the setup's local files that hold the client secret (settings.md, settings.html, settings.json, .env, client-secret.txt)")
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
	out := deleteOutcome{}
	// Exchange first: its registration names the service principal.
	if exchangeItems(st) {
		out.Exchange, err = deleteExchange(ctx, io, c, hc, sess.TenantID(), path)
		if err != nil {
			return err
		}
		if st, err = state.Load(path); err != nil {
			return err
		}
	}
	if out.Entra, err = provision.Delete(ctx, g, st, path); err != nil {
		return err
	}
	if !o.keepFiles && len(out.Entra.Refused) == 0 {
		out.FilesRemoved = removeSecretFiles(filepath.Dir(path))
	}
	if o.jsonOut {
		return writeJSON(io, out)
	}
	out.print(io.Out, filepath.Dir(path), o.keepFiles)
	return nil
}

// deleteOutcome is what delete did, in Entra, in Exchange and on disk.
type deleteOutcome struct {
	Entra        *provision.DeleteResult     `json:"entra"`
	Exchange     *exchangesetup.DeleteResult `json:"exchange,omitempty"`
	FilesRemoved []string                    `json:"files_removed,omitempty"`
}

func (d deleteOutcome) print(w io.Writer, dir string, keptFiles bool) {
	if x := d.Exchange; x != nil {
		for _, c := range x.Removed {
			fmt.Fprintf(w, "Exchange Online: %s\n", c.Summary())
		}
		for _, c := range x.Gone {
			fmt.Fprintf(w, "Exchange Online: %s (already gone)\n", c.Object)
		}
		for _, c := range x.Kept {
			fmt.Fprintf(w, "Exchange Online, left as it is: %s\n", c.Summary())
		}
		for _, r := range x.Refused {
			fmt.Fprintf(w, "Exchange Online, refused: %s: %s\n", r.Object, r.Why)
		}
	}
	for _, c := range d.Entra.Deleted {
		fmt.Fprintln(w, c.Summary())
	}
	for _, c := range d.Entra.Kept {
		fmt.Fprintf(w, "Kept %s: %s\n", c.Object, c.Detail)
	}
	for _, c := range d.Entra.Refused {
		fmt.Fprintf(w, "Refused %s: %s\n", c.Object, c.Detail)
	}
	switch {
	case len(d.FilesRemoved) > 0:
		fmt.Fprintf(w, "Removed the local files that held the client secret in %s: %s\n", dir, strings.Join(d.FilesRemoved, ", "))
	case keptFiles:
		fmt.Fprintf(w, "Kept the local files in %s (--keep-files); they still hold the removed app's client secret.\n", dir)
	}
}

// exchangeItems: the state records something mailoauth added in Exchange.
func exchangeItems(st *state.State) bool {
	if st.Exchange == nil {
		return false
	}
	for _, it := range st.Exchange.Items {
		if it.Created {
			return true
		}
	}
	return len(st.Exchange.Pending) > 0
}

// deleteExchange removes what mailoauth added in Exchange Online, after its
// own sign-in; a refused sign-in leaves it, saying what is left.
func deleteExchange(ctx context.Context, io IO, c cloud.Cloud, hc *http.Client, tenantID, path string) (*exchangesetup.DeleteResult, error) {
	fmt.Fprintln(io.Err, "Sign in to Exchange Online as an Exchange administrator to remove what mailoauth added there:")
	sess, err := exchange.SignIn(ctx, signin.Options{Cloud: c, Tenant: tenantID, HTTPClient: hc,
		OnDeviceCode: func(p signin.DeviceCodePrompt) { fmt.Fprintln(io.Err, p.Message) }, OpenURL: openOrShow(io, "sign in")})
	if err != nil {
		return nil, fmt.Errorf("the Exchange Online sign-in failed (%w); nothing was deleted. Remove the app's Exchange registration and permissions with Remove-ServicePrincipal / Remove-MailboxPermission, or sign in as an Exchange Administrator and run delete again", err)
	}
	cl, err := exchange.NewClient(exchange.Options{Cloud: c, HTTPClient: hc}, sess)
	if err != nil {
		return nil, err
	}
	store, err := state.Open(path)
	if err != nil {
		return nil, err
	}
	return exchangesetup.Delete(ctx, cl, store, exchangesetup.ApplyOptions{})
}

// removeSecretFiles removes the setup's files that hold the client secret
// (the app is gone, the secret with it) and returns their names.
func removeSecretFiles(dir string) []string {
	var out []string
	for _, name := range []string{export.SettingsMD, export.SettingsHTML, export.SettingsJSON, export.DotEnv, engine.SecretFileName} {
		if err := os.Remove(filepath.Join(dir, name)); err == nil {
			out = append(out, name)
		}
	}
	return out
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
