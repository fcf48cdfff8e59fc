package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/steps"
)

// errDryRunDone ends a --dry-run after the plan was printed.
var errDryRunDone = errors.New("dry run: nothing was changed")

// dryRunEngine runs every step up to the review for real (sign-in and
// reads), then prints the Graph requests Apply would make instead of
// making them.
type dryRunEngine struct {
	*liveEngine
	inner  steps.Engine
	result *provision.DryRunResult
	text   string
}

func (d *dryRunEngine) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	return d.inner.SignIn(ctx, show)
}

func (d *dryRunEngine) Apply(ctx context.Context, dr steps.Draft, progress func(steps.Event)) (steps.Result, error) {
	g, err := d.client()
	if err != nil {
		return steps.Result{}, err
	}
	p, err := d.plan(dr)
	if err != nil {
		return steps.Result{}, err
	}
	st, _ := loadStateIfAny(d.statePath(dr))
	res, err := provision.DryRun(ctx, g, p, st)
	if err != nil {
		return steps.Result{}, err
	}
	d.result, d.text = res, dryRunText(res)
	return steps.Result{}, errDryRunDone
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
		fmt.Fprintf(&b, "  %-6s %s    # %s\n", req.Method, req.URL, req.Action)
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
