package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
	result *provision.DryRunResult
	text   string
}

// NewDryRun wraps inner (the live engine, or the demo around it), whose
// reads and sign-in run for real.
func NewDryRun(l *Live, inner steps.Engine) *DryRun {
	l.dryRun = true
	return &DryRun{Live: l, inner: inner}
}

// Result is the planned requests, after Apply returned ErrDryRunDone.
func (d *DryRun) Result() *provision.DryRunResult { return d.result }

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
	d.result, d.text = res, dryRunText(res)
	return steps.Result{}, ErrDryRunDone
}

func dryRunText(r *provision.DryRunResult) string {
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
	if len(r.Manifest) > 0 {
		fmt.Fprintf(&b, "\nrequiredResourceAccess (for change control):\n%s\n", r.Manifest)
	}
	return b.String()
}
