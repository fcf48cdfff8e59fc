package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/httptrace"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/output/product"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/wizard"
	"github.com/pkg/browser"
)

// setupOptions are the flags of `mailoauth setup` (and `demo`).
type setupOptions struct {
	cloud       cloudFlags
	tenant      string
	clientID    string
	debugHTTP   string
	jsonOut     bool
	accessible  bool
	answersFile string
	yes         bool
	out         string
	dryRun      bool
	noSecret    bool
	force       bool
	openBrowser bool
	browserOnly bool
	removePerms bool
	rotate      bool
	sendTo      string
	testTimeout time.Duration
	resume      bool
	stateFile   string
	// demo only
	demoAutoApprove string
	demoNoDelay     bool
	// answers given as flags; set marks which were given.
	flagAnswers steps.Answers
	set         map[string]bool
}

func (o *setupOptions) register(fs *flag.FlagSet, demo bool) {
	if !demo {
		o.cloud.register(fs)
		fs.StringVar(&o.tenant, "tenant", "", "tenant ID or verified domain to sign in to (default: the admin's home tenant)")
		fs.StringVar(&o.clientID, "client-id", "", "sign-in app's client `ID` (default: Microsoft Graph Command Line Tools, "+signin.DefaultClientID+")")
		fs.BoolVar(&o.browserOnly, "browser-sign-in", false, "sign in with the browser (loopback redirect + PKCE) instead of a device code")
	} else {
		fs.StringVar(&o.demoAutoApprove, "auto-approve", "", "approve every sign-in as `USER` (a seeded UPN, e.g. "+engine.DemoAdmin+"), for unattended demos")
		fs.BoolVar(&o.demoNoDelay, "no-delay", false, "no simulated replication delay")
	}
	fs.StringVar(&o.debugHTTP, "debug-http", "", "write every HTTP exchange with Entra ID and Graph as JSON Lines to `FILE` (secrets redacted)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON on stdout (what was created, files, test results; never the secret)")
	fs.BoolVar(&o.accessible, "accessible", false, "line-by-line prompts for screen readers (no full-screen drawing)")
	fs.StringVar(&o.answersFile, "answers", "", "answers `FILE` (YAML); see README \"Answers file\"")
	fs.BoolVar(&o.yes, "yes", false, "run unattended: take the answers and defaults, ask nothing")
	fs.StringVar(&o.out, "out", "", "output `FOLDER` for the settings and state file (default: mailoauth-out/<app name>)")
	fs.BoolVar(&o.resume, "resume", false, "continue an interrupted or earlier setup: every answer comes from its state file")
	fs.StringVar(&o.stateFile, "state", "", "with --resume: the state `FILE` (default: the only one under mailoauth-out/, or --out's)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "sign in and print every Graph request the setup would make, changing nothing")
	fs.BoolVar(&o.noSecret, "no-secret", false, "write a placeholder instead of the client secret in the exported files")
	fs.BoolVar(&o.force, "force", false, "overwrite exported files you changed since mailoauth wrote them")
	fs.BoolVar(&o.openBrowser, "open", false, "open the sign-in page in the browser without asking")
	fs.BoolVar(&o.removePerms, "remove-unneeded-permissions", false, "drop permissions the existing app has that this product does not need")
	fs.BoolVar(&o.rotate, "rotate-secret", false, "add a new client secret even when an earlier run added one")
	fs.StringVar(&o.sendTo, "send-test-to", "", "send a real test message to `ADDRESS` during the login test (SMTP, Graph)")
	fs.DurationVar(&o.testTimeout, "test-timeout", 20*time.Second, "limit for each network step of the login test")
	registerAnswerFlags(fs, &o.flagAnswers)
}

// registerAnswerFlags: every answers-file key is also a flag.
func registerAnswerFlags(fs *flag.FlagSet, a *steps.Answers) {
	fs.StringVar(&a.Product, "product", "", "product: "+strings.Join(product.IDs(), ", "))
	fs.StringVar(&a.Method, "method", "", "Monitor ERP: user-password, client-secret; generic: auth-code, ropc, client-credentials, device-code")
	fs.StringVar(&a.AppName, "app-name", "", "app registration display `NAME` (default from the product)")
	fs.StringVar(&a.AppID, "app-id", "", "update this existing app (client ID or object ID) instead of finding it by name")
	fs.StringVar(&a.Audience, "audience", "", "single or multi (tenant)")
	fs.Func("protocols", "comma-separated: imap, pop, smtp, ews, graph-read, graph-send", func(s string) error {
		a.Protocols = steps.SplitList(s)
		return nil
	})
	fs.StringVar(&a.ExtraViewURL, "extraview-url", "", "ExtraView instance `URL`, e.g. https://ev.example.com/evj")
	fs.StringVar(&a.CallbackURL, "callback-url", "", "Email This Issue callback `URL` (from its OAuth2 Client Credentials dialog)")
	fs.StringVar(&a.RedirectURI, "redirect-uri", "", "redirect `URI` (generic auth-code)")
	fs.Func("mailboxes", "comma-separated mailbox addresses", func(s string) error {
		a.Mailboxes = steps.SplitList(s)
		return nil
	})
	fs.Func("additional-users", "comma-separated additional mailbox addresses (Agiloft)", func(s string) error {
		a.AdditionalUsers = steps.SplitList(s)
		return nil
	})
	fs.Func("secret-months", "client secret lifetime in months, 1 to 24 (default 12)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("a whole number of months, 1 to 24")
		}
		a.SecretMonths = &n
		return nil
	})
	fs.Func("require-assignment", "true: only assigned users may sign in to the app", func(s string) error {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("true or false")
		}
		a.RequireAssignment = &b
		return nil
	})
	fs.Func("test", "true or false: run the mailbox login test (default true)", func(s string) error {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("true or false")
		}
		a.Test = &b
		return nil
	})
}

// answers merges the answers file and the flags (flags win).
func (o *setupOptions) answers(io IO) (steps.Answers, error) {
	var a steps.Answers
	if o.resume {
		var err error
		if a, err = o.resumeAnswers(); err != nil {
			return a, err
		}
	}
	if o.answersFile != "" {
		data, err := os.ReadFile(o.answersFile)
		if err != nil {
			return a, usagef("--answers: %v", err)
		}
		fileAnswers, err := steps.ParseAnswers(data)
		if err != nil {
			return a, usagef("--answers %s: %v", o.answersFile, err)
		}
		if o.resume {
			return a, usagef("--resume takes its answers from the state file; leave out --answers (flags still override)")
		}
		a = fileAnswers
	}
	f := o.flagAnswers
	for _, m := range []struct {
		flag string
		dst  *string
		src  string
	}{{"product", &a.Product, f.Product}, {"method", &a.Method, f.Method}, {"app-name", &a.AppName, f.AppName},
		{"app-id", &a.AppID, f.AppID}, {"audience", &a.Audience, f.Audience}, {"extraview-url", &a.ExtraViewURL, f.ExtraViewURL},
		{"callback-url", &a.CallbackURL, f.CallbackURL}, {"redirect-uri", &a.RedirectURI, f.RedirectURI}} {
		if o.set[m.flag] {
			*m.dst = m.src
		}
	}
	if o.set["protocols"] {
		a.Protocols = f.Protocols
	}
	if o.set["mailboxes"] {
		a.Mailboxes = f.Mailboxes
	}
	if o.set["additional-users"] {
		a.AdditionalUsers = f.AdditionalUsers
	}
	if o.set["secret-months"] {
		a.SecretMonths = f.SecretMonths
	}
	if o.set["require-assignment"] {
		a.RequireAssignment = f.RequireAssignment
	}
	if o.set["test"] {
		a.Test = f.Test
	}
	// The ROPC test password is best given through the environment, where
	// it does not land in shell history or an answers file.
	if pw := io.Getenv("MAILOAUTH_TEST_PASSWORD"); pw != "" && a.TestPassword == "" {
		a.TestPassword = pw
	}
	return a, nil
}

func parseSetupFlags(name, summary string, args []string, io IO, demo bool) (*setupOptions, error) {
	o := &setupOptions{set: map[string]bool{}}
	fs := newFlagSet(name, summary, io)
	o.register(fs, demo)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, nil
}

func runSetup(ctx context.Context, args []string, io IO) error {
	o, err := parseSetupFlags("setup", "Set up OAuth2 mailbox access for a product in your Microsoft 365 tenant.", args, io, false)
	if err != nil {
		return err
	}
	c, err := o.cloud.cloud()
	if err != nil {
		return err
	}
	if o.tenant != "" && !provision.ValidTenant(o.tenant) {
		return usagef("--tenant: %q is not a tenant ID (GUID) or domain; accepted form: 00000000-0000-0000-0000-000000000000 or contoso.onmicrosoft.com", o.tenant)
	}
	if o.clientID != "" && !provision.IsGUID(o.clientID) {
		return usagef("--client-id: %q is not an application (client) ID; accepted form: a GUID", o.clientID)
	}
	return o.run(ctx, io, c, nil)
}

// run is setup's body, shared with demo (which passes its simulated tenant).
func (o *setupOptions) run(ctx context.Context, io IO, c cloud.Cloud, simTenant *sim.Server) error {
	answers, err := o.answers(io)
	if err != nil {
		return err
	}
	var tracer *httptrace.Tracer
	if o.debugHTTP != "" {
		if tracer, err = httptrace.Open(o.debugHTTP); err != nil {
			return usagef("--debug-http: %v", err)
		}
		defer tracer.Close()
	}
	var wrap func(http.RoundTripper) http.RoundTripper
	if tracer != nil {
		wrap = tracer.Wrap
	}
	hc, err := c.HTTPClient(wrap)
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := checkOutDir(o.out); err != nil {
			return err
		}
	}
	openURL, openBrowser := openOrShow(io, "sign in"), o.openBrowser
	if simTenant != nil {
		// The demo opens its device-login page at once; where no browser
		// opens, the code and the in-terminal approval are on screen.
		openBrowser = o.demoAutoApprove == "" && io.Getenv("MAILOAUTH_NO_BROWSER") == ""
		openURL = func(u string) error { return browser.OpenURL(u) }
	}
	live := engine.New(engine.Options{
		Cloud: c, Tenant: o.tenant, ClientID: o.clientID, HTTPClient: hc, Needs: engine.NeedsFor(answers),
		OpenBrowser: openBrowser, BrowserOnly: o.browserOnly, OpenURL: openURL,
		OutDir: o.out, NoSecret: o.noSecret, Force: o.force, Confirm: confirmer(io),
		RemoveUnneeded: o.removePerms, RotateSecret: o.rotate, TestTimeout: o.testTimeout, SendTo: o.sendTo,
		Interactive: io.Interactive,
	})
	defer live.Close()
	var eng steps.Engine = live
	var demo *engine.Demo
	if simTenant != nil {
		demo = engine.NewDemo(simTenant, live, o.demoAutoApprove)
		demo.Prepare(&answers)
		eng = demo
	}
	var dry *engine.DryRun
	if o.dryRun {
		dry = engine.NewDryRun(live, eng)
		eng = dry
		f := false
		answers.Test = &f
	}

	unattended := o.yes || !io.Interactive
	var outcome steps.Outcome
	if unattended {
		outcome, err = steps.RunUnattended(ctx, answers, eng, io.Err)
	} else {
		wo := wizard.Options{Accessible: o.accessible, NoColor: io.Getenv("NO_COLOR") != "", Out: io.Err, In: io.In, Answers: answers, OpenURL: browserOpener(io)}
		if demo != nil {
			wo.ApproveInTerminal = demo.Approve
			wo.Title = "mailoauth demo (simulated tenant)"
		}
		outcome, err = wizard.Run(ctx, eng, wo)
	}
	if dry != nil && errors.Is(err, engine.ErrDryRunDone) {
		return printJSONOrText(io, o.jsonOut, dry.Result(), dry.Text())
	}
	if err != nil {
		var missing *steps.MissingError
		if errors.As(err, &missing) {
			return &UsageError{Msg: err.Error()}
		}
		if errors.Is(err, wizard.ErrAborted) {
			return ErrAborted
		}
		if o.jsonOut {
			_ = writeJSON(io, outcome)
		}
		return err
	}
	if o.jsonOut {
		if err := writeJSON(io, outcome); err != nil {
			return err
		}
	}
	if outcome.LoginFailed() {
		return ErrTestFailed
	}
	return nil
}

func writeJSON(io IO, v any) error {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printJSONOrText(io IO, jsonOut bool, v any, text string) error {
	if jsonOut {
		return writeJSON(io, v)
	}
	_, err := fmt.Fprint(io.Out, text)
	return err
}

// checkOutDir refuses a folder that holds other things: the output folder
// is made private (0700) and its files may be rewritten.
func checkOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usagef("--out: %v", err)
	}
	for _, e := range entries {
		switch e.Name() {
		case engine.StateFileName, ".mailoauth-written.json":
			return nil // a mailoauth folder
		}
	}
	if len(entries) > 0 {
		return usagef("--out: %s already holds other files; accepted: an empty or new folder, or one mailoauth wrote before (it is made private, 0700)", dir)
	}
	return nil
}

// resumeAnswers rebuilds the answers of an earlier run from its state file,
// and points --out at that run's folder.
func (o *setupOptions) resumeAnswers() (steps.Answers, error) {
	var a steps.Answers
	path := o.stateFile
	if path == "" && o.out != "" {
		path = filepath.Join(o.out, engine.StateFileName)
	}
	if path == "" {
		found, _ := filepath.Glob(filepath.Join("mailoauth-out", "*", engine.StateFileName))
		switch len(found) {
		case 1:
			path = found[0]
		case 0:
			return a, usagef("--resume: no state file under mailoauth-out/; accepted: --state FILE or --out FOLDER")
		default:
			return a, usagef("--resume: several setups under mailoauth-out/ (%s); name one with --state FILE", strings.Join(found, ", "))
		}
	}
	st, err := state.Load(path)
	if err != nil {
		return a, usagef("--state: %v", err)
	}
	if st.Setup == nil {
		return a, usagef("--resume: %s has no setup record; run mailoauth setup with the same app name instead", path)
	}
	a.Product, a.Method, a.AppName, a.AppID, a.Audience = st.Product, st.Setup.Method, st.Plan.DisplayName, st.ClientID, st.Plan.Audience
	a.Protocols = steps.List(st.Plan.Protocols)
	a.Mailboxes, a.AdditionalUsers = steps.List(st.Setup.Mailboxes), steps.List(st.Setup.AdditionalUsers)
	for k, v := range st.Setup.Answers {
		if err := a.Set(k, v); err != nil {
			return a, fmt.Errorf("state file %s: %v", path, err)
		}
	}
	if st.Setup.SecretMonths > 0 {
		n := st.Setup.SecretMonths
		a.SecretMonths = &n
	}
	req := st.Setup.RequireAssignment
	a.RequireAssignment = &req
	if o.out == "" {
		o.out = filepath.Dir(path)
	}
	return a, nil
}
