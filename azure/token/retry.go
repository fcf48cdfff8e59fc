package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailoauth/mailoauth/azure/explain"
)

// DefaultBudget bounds how long replication delay is waited out.
const DefaultBudget = 3 * time.Minute

// Event is one tick of a visible countdown while a refusal that is likely
// replication delay is waited out.
type Event struct {
	What    string              `json:"what"`    // "token for https://outlook.office365.com", "IMAP login helpdesk@contoso.com"
	Attempt int                 `json:"attempt"` // attempts made so far
	Reason  explain.Explanation `json:"reason"`  // why the last attempt failed
	NextIn  time.Duration       `json:"next_in"` // until the next attempt
	Left    time.Duration       `json:"left"`    // of the whole budget
}

// Retry waits out replication delay: bounded, with a countdown, cancellable
// through the context.
type Retry struct {
	// Budget is the longest total wait; 0 = DefaultBudget, negative = no retry.
	Budget time.Duration
	// Deadline, when set, also ends the waiting: the budget of a whole
	// login test counted from the last setup change.
	Deadline time.Time
	// Interval is the first wait between attempts (default 1 s); it grows
	// by a quarter each time up to MaxInterval (default 10 s): about ten
	// token requests in the first 30 s. Gentle growth, so a few seconds of
	// replication delay cost a few seconds, not the next power of two.
	Interval    time.Duration
	MaxInterval time.Duration
	// Tick is the countdown's step (default 1 s).
	Tick time.Duration
	// OnEvent receives the countdown; nil = silent.
	OnEvent func(Event)
}

// Classifier says whether an error is worth retrying and why it happened.
type Classifier func(error) (explain.Explanation, bool)

// Outcome is how a retried operation went.
type Outcome struct {
	Attempts int `json:"attempts"`
	// Waited is the time spent in countdowns between attempts.
	Waited time.Duration `json:"waited"`
}

// Do runs fn until it succeeds, fails with an error classify does not call
// retryable, the budget runs out, or ctx ends. The last error is returned.
func (r Retry) Do(ctx context.Context, what string, classify Classifier, fn func(context.Context) error) (Outcome, error) {
	budget := r.Budget
	if budget == 0 {
		budget = DefaultBudget
	}
	interval := orDefault(r.Interval, time.Second)
	maxInterval := orDefault(r.MaxInterval, 10*time.Second)
	tick := orDefault(r.Tick, time.Second)
	deadline := time.Now().Add(budget)
	if !r.Deadline.IsZero() && r.Deadline.Before(deadline) {
		deadline = r.Deadline
	}
	var out Outcome
	for {
		out.Attempts++
		err := fn(ctx)
		if err == nil {
			return out, nil
		}
		reason, retry := classify(err)
		if !retry || budget < 0 || ctx.Err() != nil {
			return out, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return out, &BudgetError{What: what, Budget: budget, Attempts: out.Attempts, Err: err}
		}
		wait := min(interval, left)
		interval = min(interval+interval/4, maxInterval)
		waitStart := time.Now()
		werr := r.countdown(ctx, what, out.Attempts, reason, wait, deadline, tick)
		out.Waited += time.Since(waitStart)
		if werr != nil {
			return out, errors.Join(werr, err)
		}
	}
}

// countdown sleeps wait, reporting the time left every tick.
func (r Retry) countdown(ctx context.Context, what string, attempt int, reason explain.Explanation, wait time.Duration, deadline time.Time, tick time.Duration) error {
	end := time.Now().Add(wait)
	for {
		next := time.Until(end)
		if next <= 0 {
			return nil
		}
		if r.OnEvent != nil {
			r.OnEvent(Event{What: what, Attempt: attempt, Reason: reason, NextIn: next.Round(time.Millisecond), Left: time.Until(deadline).Round(time.Millisecond)})
		}
		t := time.NewTimer(min(tick, next))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
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
	switch ae.Code() {
	case 700016, 7000215, 65001:
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
