package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/browser"
	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/httptrace"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/wizard"
)

// setupOptions are the flags of `mailoauth setup` (and `demo`).
type setupOptions struct {
	IO          IO
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
	// flagAnswers are the answers given as flags (steps.Keys).
	flagAnswers steps.Answers
}

const setupExamples = `  # The wizard on your tenant (the default command)
  mailoauth

  # A consultant's unattended run: the admin approves one device code, the rest comes from the file
  mailoauth setup --answers customer.yaml --yes --json > result.json

  # Agiloft, no file: every answers key is also a flag
  mailoauth setup --product agiloft --mailboxes helpdesk@contoso.com --yes

  # See every Graph request first, change nothing
  mailoauth setup --answers customer.yaml --dry-run

  # Continue a run that was stopped, from its state file
  mailoauth setup --resume --state mailoauth-out/agiloft-mail-oauth2/state.json

  # A national cloud
  mailoauth setup --cloud usgov-high --tenant contoso.onmicrosoft.us`

func newCmdSetup(io IO, runF func(context.Context, *setupOptions) error) *cobra.Command {
	o := &setupOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Run the wizard against your Microsoft 365 tenant (the default command)",
		Long: "Set up OAuth2 mailbox access for a product in your Microsoft 365 tenant: sign in with a device code, register\n" +
			"and configure the Entra ID app, test a real mailbox login and write the product's settings.\n\n" +
			"In a terminal it is a wizard; with --yes (or without a terminal) it takes every answer from the answers\n" +
			"file and flags, and refuses a bad or missing one (exit 2) before the device code is requested.",
		Example: setupExamples,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return setupRun(cmd.Context(), o)
		},
	}
	o.registerCommon(cmd)
	fs := cmd.Flags()
	o.cloud.register(cmd)
	stringFlag(fs, &o.tenant, "tenant", "TENANT", "tenant ID or verified domain to sign in to (default: the admin's home tenant)", checkTenant)
	stringFlag(fs, &o.clientID, "client-id", "ID", "sign-in app's client ID (default: Microsoft Graph Command Line Tools, "+signin.DefaultClientID+")", checkClientID)
	boolFlag(fs, &o.browserOnly, "browser-sign-in", false, "sign in with the browser (loopback redirect + PKCE) instead of a device code")
	return cmd
}

// registerCommon registers the flags setup and demo share.
func (o *setupOptions) registerCommon(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.SortFlags = false
	stringFlag(fs, &o.answersFile, "answers", "FILE", "answers file (YAML); see README \"Answers file\"", nil)
	boolFlag(fs, &o.yes, "yes", false, "run unattended: take the answers and defaults, ask nothing")
	boolFlag(fs, &o.jsonOut, "json", false, "print the result as JSON on stdout (what was created, files, test results; never the secret)")
	stringFlag(fs, &o.out, "out", "FOLDER", "output folder for the settings and state file (default: mailoauth-out/<app name>)", nil)
	boolFlag(fs, &o.resume, "resume", false, "continue an interrupted or earlier setup: every answer comes from its state file")
	stringFlag(fs, &o.stateFile, "state", "FILE", "with --resume: the state file (default: the only one under mailoauth-out/, or --out's)", nil)
	boolFlag(fs, &o.dryRun, "dry-run", false, "sign in and print every Graph request the setup would make, changing nothing")
	stringFlag(fs, &o.debugHTTP, "debug-http", "FILE", "write every HTTP exchange with Entra ID and Graph as JSON Lines to FILE (secrets redacted)", nil)
	boolFlag(fs, &o.accessible, "accessible", false, "line-by-line prompts for screen readers (no full-screen drawing)")
	boolFlag(fs, &o.noSecret, "no-secret", false, "write a placeholder instead of the client secret in the exported files")
	boolFlag(fs, &o.force, "force", false, "overwrite exported files you changed since mailoauth wrote them")
	boolFlag(fs, &o.openBrowser, "open", false, "open the sign-in page in the browser without asking")
	boolFlag(fs, &o.removePerms, "remove-unneeded-permissions", false, "drop permissions the existing app has that this product does not need")
	boolFlag(fs, &o.rotate, "rotate-secret", false, "add a new client secret even when an earlier run added one")
	stringFlag(fs, &o.sendTo, "send-test-to", "ADDRESS", "send a real test message to ADDRESS during the login test (SMTP, Graph)", checkAddress)
	durationFlag(fs, &o.testTimeout, "test-timeout", 20*time.Second, "limit for each network step of the login test")
	registerAnswerFlags(cmd, &o.flagAnswers)
}

func setupRun(ctx context.Context, o *setupOptions) error {
	c, err := o.cloud.cloud()
	if err != nil {
		return err
	}
	answers, err := o.checkedAnswers(false)
	if err != nil {
		return err
	}
	return o.run(ctx, c, nil, answers)
}

func (o *setupOptions) unattended() bool { return o.yes || !o.IO.Interactive }

// checkedAnswers merges every answer and runs the one validation pass over
// them, before anything is written or sent: a bad or missing answer exits
// 2 with zero requests.
func (o *setupOptions) checkedAnswers(demo bool) (steps.Answers, error) {
	answers, err := o.answers()
	if err != nil {
		return answers, err
	}
	if o.dryRun {
		f := false
		answers.Test = &f // nothing is made, so nothing is tested
	}
	return answers, precheck(answers, o.unattended(), demo)
}

// run is setup's body, shared with demo (which passes its simulated tenant).
func (o *setupOptions) run(ctx context.Context, c cloud.Cloud, simTenant *sim.Server, answers steps.Answers) error {
	io := o.IO
	unattended := o.unattended()
	var err error
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
	confirm := confirmer(io)
	if !o.unattended() {
		// The full-screen wizard is drawn: nothing may print over it. The
		// sign-in screen shows the address itself when no browser opens,
		// and a file the admin changed is kept (--force overwrites it).
		openURL, confirm = browserOpener(io), nil
	}
	if simTenant != nil {
		// The demo opens its device-login page at once; where no browser
		// opens, the code and the in-terminal approval are on screen.
		openBrowser = o.demoAutoApprove == "" && io.Getenv("MAILOAUTH_NO_BROWSER") == ""
		openURL = func(u string) error { return browser.OpenURL(u) }
	}
	live := engine.New(engine.Options{
		Cloud: c, Tenant: o.tenant, ClientID: o.clientID, HTTPClient: hc, Needs: engine.NeedsFor(answers),
		OpenBrowser: openBrowser, BrowserOnly: o.browserOnly, OpenURL: openURL,
		OutDir: o.out, NoSecret: o.noSecret, Force: o.force, Confirm: confirm,
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
	}

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
	if unattended {
		writeSummary(io.Err, outcome)
	}
	if err != nil && !errors.As(err, new(*UsageError)) {
		// Every ending that is not a success says where a new secret is.
		writeSecretCustody(io, outcome, err, unattended)
	}
	if err != nil && unattended && (errors.Is(err, context.Canceled) || errors.Is(err, wizard.ErrAborted)) {
		writeStop(io.Err, err)
		return errStopReported
	}
	if err != nil {
		var ue *UsageError
		if uerr := answerError(err); errors.As(uerr, &ue) {
			return uerr
		}
		if errors.Is(err, wizard.ErrAborted) || errors.Is(err, context.Canceled) {
			// The wizard's own stop screen said what happened.
			return errStopReported
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

// precheck is the validation pass before anything is sent: the wizard's
// (every answer given ahead is valid) or the unattended run's (and none it
// needs is missing). The demo plays the mailbox user and fills in its
// password itself (engine.Demo.Prepare), so it is not asked for here.
func precheck(a steps.Answers, unattended, demo bool) error {
	if !unattended {
		return answerError(steps.CheckAnswers(a))
	}
	if demo && a.TestPassword == "" {
		a.TestPassword = "(filled in by the demo)"
	}
	return answerError(steps.Precheck(a))
}

// answerError makes a refused or missing answer a usage error (exit 2).
func answerError(err error) error {
	var missing *steps.MissingError
	var invalid *steps.InvalidError
	if errors.As(err, &missing) || errors.As(err, &invalid) {
		return &UsageError{Msg: err.Error()}
	}
	return err
}

// answers merges, lowest first: the resumed state's answers, the answers
// file, the environment (for keys given that way), the flags.
func (o *setupOptions) answers() (steps.Answers, error) {
	var a steps.Answers
	if o.resume {
		var err error
		if a, err = o.resumeAnswers(); err != nil {
			return a, err
		}
	}
	if o.answersFile != "" {
		if o.resume {
			return a, usagef("--resume takes its answers from the state file; leave out --answers (flags still override)")
		}
		data, err := readAnswersFile(o.answersFile)
		if err != nil {
			return a, err
		}
		if a, err = steps.ParseAnswers(data); err != nil {
			return a, usagef("--answers %s: %v", o.answersFile, err)
		}
	}
	// A key given through the environment (the ROPC test password: not in
	// shell history, not in a file) fills in what the file left empty.
	for _, k := range steps.Keys {
		if k.Env == "" {
			continue
		}
		if v := o.IO.Getenv(k.Env); v != "" {
			if _, given := a.Get(k.Key); !given {
				if err := k.Parse(&a, v); err != nil {
					return a, usagef("%s: %v", k.Env, err)
				}
			}
		}
	}
	a.Merge(o.flagAnswers)
	return a, nil
}

// readAnswersFile reads at most steps.MaxAnswersFile bytes: a 300 MB file
// is refused, not read.
func readAnswersFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--answers: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, steps.MaxAnswersFile+1))
	if err != nil {
		return nil, usagef("--answers: %v", err)
	}
	if len(data) > steps.MaxAnswersFile {
		return nil, usagef("--answers %s: larger than 1 MiB; accepted: an answers file of at most 1 MiB (README \"Answers file\")", path)
	}
	return data, nil
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
// and points --out at that run's folder. They go through the same checks
// as any other answer.
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
	fromState := func(key, value string) error {
		if value == "" {
			return nil
		}
		if err := a.Set(key, value); err != nil {
			return usagef("--resume: state file %s: %v", path, err)
		}
		return nil
	}
	for _, kv := range [][2]string{
		{"product", st.Product}, {"method", st.Setup.Method}, {"app_name", st.Plan.DisplayName}, {"app_id", st.ClientID},
		{"audience", st.Plan.Audience}, {"protocols", strings.Join(st.Plan.Protocols, ",")},
		{"mailboxes", strings.Join(st.Setup.Mailboxes, ",")}, {"additional_users", strings.Join(st.Setup.AdditionalUsers, ",")},
	} {
		if err := fromState(kv[0], kv[1]); err != nil {
			return a, err
		}
	}
	for k, v := range st.Setup.Answers {
		if err := fromState(k, v); err != nil {
			return a, err
		}
	}
	if st.Setup.SecretMonths > 0 {
		n := st.Setup.SecretMonths
		a.SecretMonths = &n
	}
	if st.Setup.RequireAssignment {
		// Recorded only when true: a product that assigns no users has
		// nothing to say here.
		req := true
		a.RequireAssignment = &req
	}
	// The state file's answers pass the same checks as typed ones; a
	// refusal names the file, since no one typed the value.
	if err := steps.CheckAnswers(a); err != nil {
		return a, usagef("--resume: state file %s: %v", path, err)
	}
	if o.out == "" {
		o.out = filepath.Dir(path)
	}
	return a, nil
}
