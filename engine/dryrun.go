package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/exchangesetup"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/steps"
)

// ErrDryRunDone ends a --dry-run after the plan was printed.
var ErrDryRunDone = errors.New("dry run: nothing was changed")

// DryRun runs every step up to the review for real (sign-in and
// reads), then prints the Graph requests Apply would make instead of
// making them.
type DryRun struct {
	*Live
	inner  steps.Engine
	result *DryRunResult
	text   string
}

// NewDryRun wraps inner (the live engine, or the demo around it), whose
// reads and sign-in run for real.
func NewDryRun(l *Live, inner steps.Engine) *DryRun {
	l.dryRun = true
	return &DryRun{Live: l, inner: inner}
}

// Result is the planned requests, after Apply returned ErrDryRunDone.
func (d *DryRun) Result() *DryRunResult { return d.result }

// DryRunResult is every Graph request and every Exchange cmdlet an apply
// would send, in order, with nothing sent.
type DryRunResult struct {
	*provision.DryRunResult
	// Exchange are the cmdlets with their parameters (Exchange Online's
	// admin endpoint), planned from what was read.
	Exchange []exchangesetup.PlannedCommand `json:"exchange,omitempty"`
}

// Text is Result for people.
func (d *DryRun) Text() string { return d.text }

func (d *DryRun) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	return d.inner.SignIn(ctx, show)
}

func (d *DryRun) Apply(ctx context.Context, dr steps.Draft, progress func(steps.Event)) (steps.Result, error) {
	g, err := d.reader()
	if err != nil {
		return steps.Result{}, err
	}
	p, err := d.plan(dr)
	if err != nil {
		return steps.Result{}, err
	}
	st, err := d.stateOf(dr)
	if err != nil {
		return steps.Result{}, err
	}
	res, err := provision.DryRun(ctx, g, p, st)
	if err != nil {
		return steps.Result{}, err
	}
	d.result = &DryRunResult{DryRunResult: res, Exchange: d.exchangeDryRun()}
	d.text = dryRunText(d.result)
	return steps.Result{}, ErrDryRunDone
}

func dryRunText(r *DryRunResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dry run: nothing was changed. %s\n\n", r.Note)
	round := 0
	for _, req := range r.Requests {
		if req.Round != round {
			round = req.Round
			fmt.Fprintf(&b, "Round trip %d:\n", round)
		}
		fmt.Fprintf(&b, "  %-6s %s    # %s\n", req.Method, req.URL, req.Change.Progress())
		if req.Body != nil {
			body, _ := json.MarshalIndent(req.Body, "         ", "  ")
			fmt.Fprintf(&b, "         %s\n", body)
		}
	}
	if len(r.Requests) == 0 {
		b.WriteString("No request: the tenant already matches the plan.\n")
	}
	if len(r.Exchange) > 0 {
		b.WriteString("\nExchange Online (the module's admin endpoint; each after the Entra part has the app's IDs):\n")
		for _, c := range r.Exchange {
			params, _ := json.Marshal(c.Command.Map())
			fmt.Fprintf(&b, "  %s %s    # %s\n", c.Command.Cmdlet, params, c.Change.Progress())
		}
	}
	if len(r.Manifest) > 0 {
		fmt.Fprintf(&b, "\nrequiredResourceAccess (for change control):\n%s\n", r.Manifest)
	}
	return b.String()
}
