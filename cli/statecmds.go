package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/steps"
)

// stateFlags find the state file: --state FILE, or --out FOLDER, or the
// default folder of --app-name.
type stateFlags struct {
	path    string
	out     string
	appName string
}

func (s *stateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.path, "state", "", "the state `FILE` a setup wrote (default: <out>/state.json)")
	fs.StringVar(&s.out, "out", "", "the setup's output `FOLDER` (holds state.json)")
	fs.StringVar(&s.appName, "app-name", "", "the app's display `NAME`, to find mailoauth-out/<name>/state.json")
}

func (s *stateFlags) load() (string, *state.State, error) {
	path := s.path
	switch {
	case path != "":
	case s.out != "":
		path = filepath.Join(s.out, engine.StateFileName)
	case s.appName != "":
		path = filepath.Join(export.DefaultOutDir(s.appName), engine.StateFileName)
	default:
		return "", nil, usagef("--state required: the state file a setup wrote (or --out FOLDER, or --app-name NAME)")
	}
	st, err := state.Load(path)
	if errors.Is(err, state.ErrNotFound) {
		return path, nil, usagef("--state: no state file at %s; accepted: the state.json in a setup's output folder", path)
	}
	if err != nil {
		return path, nil, err
	}
	return path, st, nil
}

// secretFrom finds the client secret for export and test: the environment
// (MAILOAUTH_CLIENT_SECRET), else a hidden prompt on a terminal. The state
// file never holds it.
func secretFrom(io IO, ask bool) (string, error) {
	if s := io.Getenv("MAILOAUTH_CLIENT_SECRET"); s != "" {
		return s, nil
	}
	if !ask || !io.Interactive {
		return "", nil
	}
	return readHidden(io, "Client secret value (Enter leaves it out): ")
}

func readHidden(io IO, prompt string) (string, error) {
	fmt.Fprint(io.Err, prompt)
	if f, ok := io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(io.Err)
		return strings.TrimSpace(string(b)), err
	}
	line, err := readLine(io.In)
	if err != nil && line == "" {
		return "", nil
	}
	return strings.TrimSpace(line), nil
}

// readLine reads one answer line, byte by byte: a bufio.Reader made per
// prompt would swallow the answers to the prompts after it when stdin is
// a pipe (the secret, then "y" to overwrite a changed file).
func readLine(in io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}

// ---- mailoauth test

func runTest(ctx context.Context, args []string, io IO) error {
	var (
		sf       stateFlags
		cf       cloudFlags
		mailbox  string
		protos   string
		jsonOut  bool
		timeout  time.Duration
		sendTo   string
		openWith bool
		wait     time.Duration
	)
	fs := newFlagSet("test", "Prove a mailbox login the way the product will log in, from the state file.", io)
	sf.register(fs)
	cf.register(fs)
	fs.StringVar(&mailbox, "mailbox", "", "mailbox `ADDRESS` to log in to (default: the setup's first mailbox)")
	fs.StringVar(&protos, "protocols", "", "comma-separated protocols to check (default: the setup's)")
	fs.BoolVar(&jsonOut, "json", false, "print the report as JSON on stdout (never a token, secret or password)")
	fs.DurationVar(&timeout, "timeout", 20*time.Second, "limit for each network step")
	fs.StringVar(&sendTo, "send-test-to", "", "send a real test message to `ADDRESS` (SMTP, Graph)")
	fs.BoolVar(&openWith, "open", true, "open the browser for a delegated sign-in as the mailbox user")
	fs.DurationVar(&wait, "wait", 0, "wait up to `DURATION` for Microsoft and Exchange to replicate (e.g. 10m after running exchange-setup.ps1); 0 waits for nothing (default: up to 3m within 10 minutes of the setup)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	waitSet := false
	fs.Visit(func(f *flag.Flag) { waitSet = waitSet || f.Name == "wait" })
	statePath, st, err := sf.load()
	if err != nil {
		return err
	}
	c, err := cf.cloudFor(st)
	if err != nil {
		return err
	}
	setup := st.Setup
	if setup == nil {
		setup = &state.Setup{}
	}
	flow, err := catalog.ParseFlow(st.Plan.Flow)
	if err != nil {
		return fmt.Errorf("state file: %v", err)
	}
	protocols, err := catalog.ParseProtocols(strings.Join(st.Plan.Protocols, ","))
	if protos != "" {
		protocols, err = catalog.ParseProtocols(protos)
		if err != nil {
			return usagef("--protocols: %v", err)
		}
	}
	if err != nil {
		return fmt.Errorf("state file: %v", err)
	}
	if mailbox == "" {
		if mbs := append(append([]string(nil), setup.Mailboxes...), st.Users...); len(mbs) > 0 {
			mailbox = mbs[0]
		}
	}
	if mailbox == "" || !provision.ValidEmail(mailbox) {
		return usagef("--mailbox: %q is not a mailbox address; accepted form: name@domain", mailbox)
	}
	in := steps.TestInput{Mailbox: mailbox, Protocols: protocols}
	var secret string
	if st.Secret != nil || flow.AppOnly() {
		// The environment first, then the setup's own settings.json (0600,
		// matched by key ID), then a hidden prompt on a terminal.
		secret = io.Getenv("MAILOAUTH_CLIENT_SECRET")
		if secret == "" {
			secret, _ = engine.SecretFromFolder(filepath.Dir(statePath), st)
		}
		if secret == "" {
			if secret, err = secretFrom(io, true); err != nil {
				return err
			}
		}
		if secret == "" {
			return usagef("the client secret is needed: set MAILOAUTH_CLIENT_SECRET (the state file never holds it, and the setup's settings.json has none)")
		}
	}
	if flow == catalog.ROPC {
		in.Password = io.Getenv("MAILOAUTH_TEST_PASSWORD")
		if in.Password == "" && io.Interactive {
			if in.Password, err = readHidden(io, "Password of "+mailbox+" (used once, never stored): "); err != nil {
				return err
			}
		}
		if in.Password == "" {
			return usagef("ROPC needs the mailbox password: set MAILOAUTH_TEST_PASSWORD or run in a terminal")
		}
	}
	hc, err := c.HTTPClient(nil)
	if err != nil {
		return err
	}
	lt := engine.LoginTest{
		Cloud: c, HTTPClient: hc, TenantID: st.Tenant, ClientID: st.ClientID, Secret: secret,
		SPObjectID: st.SPID, AppObjectID: st.AppObjectID, Flow: flow, Input: in, Timeout: timeout, SendTo: sendTo,
	}
	if openWith {
		lt.OpenURL = openOrShow(io, "sign in as "+mailbox)
	}
	if len(st.Plan.RedirectURIs) > 0 {
		lt.RedirectURI = st.Plan.RedirectURIs[0]
	}
	// Replication delay is waited out shortly after the setup changed, or
	// for as long as --wait says (the Exchange script was just run).
	switch {
	case wait > 0:
		lt.ChangedAt, lt.Wait = time.Now(), wait
	case waitSet:
		// --wait 0: report at once, even right after the setup.
	case time.Since(st.UpdatedAt) < 10*time.Minute:
		lt.ChangedAt = st.UpdatedAt
	}
	rep, err := engine.CheckLogins(ctx, lt, func(ev steps.Event) { fmt.Fprintln(io.Err, steps.EventLine(ev)) })
	if err != nil {
		return usagef("%v", err)
	}
	if jsonOut {
		if err := writeJSON(io, rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(io.Out)
	}
	if !rep.OK() {
		return ErrTestFailed
	}
	return nil
}

// cloudFor is the cloud the state names, with the flags' overrides. A
// state written for another cloud than the flags select is refused: the
// command would otherwise sign in to, test against or export the settings
// of the wrong cloud (a custom cloud's endpoints are not in the state, so
// without --cloud custom and its flags it silently became the global one).
func (cf *cloudFlags) cloudFor(st *state.State) (cloud.Cloud, error) {
	if cf.name == "global" && st.Cloud != "" && st.Cloud != "global" && st.Cloud != "custom" {
		cf.name = st.Cloud
	}
	c, err := cf.cloud()
	if err != nil {
		return c, err
	}
	switch {
	case st.Cloud == "custom" && c.Name != "custom":
		return cloud.Cloud{}, usagef("--cloud custom required: the state file was written for a custom cloud (a lab or the simulator), whose endpoints it does not record; accepted: the setup's --cloud custom --authority URL --graph-url URL (and --imap, --pop, --smtp, --ews-url, --ca-file as it used)")
	case st.Cloud != "" && c.Name != st.Cloud:
		return cloud.Cloud{}, usagef("--cloud %s: the state file was written for the %s cloud; accepted: --cloud %s", cf.name, st.Cloud, st.Cloud)
	}
	return c, nil
}

// ---- mailoauth export

func runExport(ctx context.Context, args []string, io IO) error {
	var (
		sf       stateFlags
		cf       cloudFlags
		outDir   string
		noSecret bool
		force    bool
		jsonOut  bool
	)
	fs := newFlagSet("export", "Write the product's settings again from the state file (the secret is asked for, or left out).", io)
	fs.StringVar(&sf.path, "state", "", "the state `FILE` a setup wrote")
	fs.StringVar(&sf.appName, "app-name", "", "the app's display `NAME`, to find mailoauth-out/<name>/state.json")
	cf.register(fs)
	fs.StringVar(&outDir, "out", "", "output `FOLDER` (default: the state file's folder)")
	fs.BoolVar(&noSecret, "no-secret", false, "write a placeholder instead of the client secret")
	fs.BoolVar(&force, "force", false, "overwrite files you changed since mailoauth wrote them")
	fs.BoolVar(&jsonOut, "json", false, "print what was written as JSON on stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if sf.path == "" && sf.appName == "" && outDir != "" {
		sf.out = outDir
	}
	path, st, err := sf.load()
	if err != nil {
		return err
	}
	if outDir == "" {
		outDir = filepath.Dir(path)
	}
	c, err := cf.cloudFor(st)
	if err != nil {
		return err
	}
	in, err := engine.ExportInput(st, path, c, "", time.Now())
	if err != nil {
		return err
	}
	if !noSecret && st.Secret != nil {
		if in.Secret, err = secretFrom(io, true); err != nil {
			return err
		}
		if in.Secret == "" {
			fmt.Fprintln(io.Err, "No secret given (the state file never holds it): files that already hold it are kept, new ones get a placeholder.")
		}
	}
	files, err := export.Write(in, export.Options{OutDir: outDir, NoSecret: noSecret || in.Secret == "", Force: force, Confirm: confirmer(io)})
	if err != nil {
		return err
	}
	res := engine.ExportResult(outDir, in, files)
	if jsonOut {
		return writeJSON(io, res)
	}
	fmt.Fprintf(io.Out, "Wrote to %s:\n", outDir)
	for _, f := range res.Files {
		fmt.Fprintf(io.Out, "  %s\n", f)
	}
	return nil
}

// confirmer asks before overwriting a file the admin changed (terminal only).
func confirmer(io IO) func(string) bool {
	if !io.Interactive {
		return nil
	}
	return func(path string) bool {
		fmt.Fprintf(io.Err, "%s was changed since mailoauth wrote it. Overwrite? [y/N] ", path)
		line, _ := readLine(io.In)
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y")
	}
}

// ---- mailoauth delete

func runDelete(ctx context.Context, args []string, io IO) error {
	var (
		sf      stateFlags
		cf      cloudFlags
		yes     bool
		jsonOut bool
		tenant  string
	)
	fs := newFlagSet("delete", "Remove from the tenant exactly what mailoauth created, as its state file records.", io)
	sf.register(fs)
	cf.register(fs)
	fs.BoolVar(&yes, "yes", false, "delete without asking")
	fs.BoolVar(&jsonOut, "json", false, "print what was deleted as JSON on stdout")
	fs.StringVar(&tenant, "tenant", "", "tenant to sign in to (default: the state file's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if tenant != "" && !provision.ValidTenant(tenant) {
		return usagef("--tenant: %q is not a tenant ID (GUID) or domain; accepted form: 00000000-0000-0000-0000-000000000000 or contoso.onmicrosoft.com", tenant)
	}
	path, st, err := sf.load()
	if err != nil {
		return err
	}
	c, err := cf.cloudFor(st)
	if err != nil {
		return err
	}
	if tenant == "" {
		tenant = st.Tenant
	}
	if st.AppObjectID == "" && st.SPID == "" {
		// Already deleted (delete empties the state) or never applied:
		// nothing to sign in for, and a re-run is not an error.
		fmt.Fprintf(io.Err, "Nothing to delete: %s records no object mailoauth created in tenant %s.\n", path, st.Tenant)
		if jsonOut {
			return writeJSON(io, provision.DeleteResult{Deleted: []provision.Change{}, Kept: []provision.Change{}})
		}
		return nil
	}
	fmt.Fprintf(io.Err, "This removes from tenant %s what mailoauth created for %q:\n", st.Tenant, st.Plan.DisplayName)
	for _, line := range deletionPreview(st) {
		fmt.Fprintf(io.Err, "  - %s\n", line)
	}
	fmt.Fprintln(io.Err, "Objects mailoauth found but did not create are kept.")
	if !yes {
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
	if jsonOut {
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
