package token

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/internal/retry"
)

// DefaultBudget bounds how long replication delay is waited out.
var DefaultBudget = retry.Replication.Bound

// Event is one tick of the countdown while a refusal that is likely
// replication delay is waited out: Action names what is retried ("token
// for https://outlook.office365.com", "IMAP login helpdesk@contoso.com"),
// Detail and Code say why, Wait is the time to the next attempt and Left
// what remains of the budget.
type Event = model.Event

// Retry waits out replication delay on the Replication schedule: bounded,
// with a countdown, cancellable through the context.
type Retry struct {
	// Budget is the longest total wait; 0 = DefaultBudget, negative = no retry.
	Budget time.Duration
	// Deadline, when set, also ends the waiting: the budget of a whole
	// login test counted from the last setup change.
	Deadline time.Time
	// Interval, when set, replaces the schedule's first wait (1 s).
	Interval time.Duration
	// Tick is the countdown's step (default 1 s).
	Tick time.Duration
	// OnEvent receives the countdown; nil = silent.
	OnEvent func(Event)
}

// Classifier says whether an error is worth retrying and why it happened.
type Classifier func(error) (explain.Explanation, bool)

// Outcome is how a retried operation went.
type Outcome = retry.Outcome

// Do runs fn until it succeeds, fails with an error classify does not call
// retryable, the budget runs out (a *BudgetError), or ctx ends. The last
// error is returned.
func (r Retry) Do(ctx context.Context, what string, classify Classifier, fn func(context.Context) error) (Outcome, error) {
	sched := retry.Replication
	switch {
	case r.Budget < 0:
		sched.Bound = 0
	case r.Budget > 0:
		sched.Bound = r.Budget
	}
	tick := r.Tick
	if tick <= 0 {
		tick = time.Second
	}
	loop := retry.Loop{Schedule: sched, What: what, Deadline: r.Deadline, First: r.Interval, Tick: tick, OnWait: r.OnEvent}
	out, err := loop.Run(ctx, func(ctx context.Context, _ int) error { return fn(ctx) }, func(err error) retry.Verdict {
		x, ok := classify(err)
		return retry.Verdict{Retry: ok && r.Budget >= 0, Why: x.Title, Code: x.Code}
	})
	var gave *retry.GaveUpError
	if errors.As(err, &gave) {
		return out, &BudgetError{What: what, Budget: sched.Bound, Attempts: gave.Attempts, Err: gave.Err}
	}
	return out, err
}

// BudgetError is returned when replication delay outlasted the budget.
type BudgetError struct {
	What     string
	Budget   time.Duration
	Attempts int
	Err      error
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s: still refused after %d attempts, stopped waiting for replication (budget %s): %v", e.What, e.Attempts, e.Budget, e.Err)
}

func (e *BudgetError) Unwrap() error { return e.Err }

// ReplicationDelay classifies identity-platform refusals that replication
// delay right after setup explains: AADSTS700016 (new app), 7000215 (new
// secret), 65001 (new consent), plus temporarily_unavailable.
func ReplicationDelay(err error) (explain.Explanation, bool) {
	ae, ok := explain.ParseAAD(err)
	if !ok {
		return explain.Explanation{}, false
	}
	x := ae.Explain()
	if explain.IsReplication("token", strconv.Itoa(ae.Code()), false) {
		return x, true
	}
	if ae.Err == "temporarily_unavailable" || ae.Status >= 500 {
		return x, true
	}
	return x, false
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
