// Package retry is mailoauth's one retry loop. Every wait for Microsoft —
// Graph throttling and directory replication, a new secret or consent not
// yet known to the token endpoint, Exchange not yet honouring a new
// registration — goes through Loop with a named Schedule, reports its
// waits as model.Event (a countdown on screen), is bounded in total time,
// and stops at once when the context ends.
package retry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailoauth/mailoauth/internal/model"
)

// Schedule is how long to wait before each new attempt.
type Schedule struct {
	// Name says which schedule, for errors and docs.
	Name string
	// First is the wait before the second attempt; each later wait is the
	// previous one times Factor, up to Max.
	First  time.Duration
	Factor float64
	Max    time.Duration
	// Bound is the longest total time of one loop (attempts and waits).
	Bound time.Duration
}

// The named schedules.
var (
	// Graph is Microsoft's recommended backoff for Graph replication and
	// throttling (microsoft.md §4: 1, 2, 4, 8, 16 s, bounded by 3 minutes);
	// a Retry-After from the server replaces the computed wait.
	Graph = Schedule{Name: "graph", First: time.Second, Factor: 2, Max: 16 * time.Second, Bound: 3 * time.Minute}
	// Replication is for sign-ins and mailbox logins right after a change
	// (new app, secret, consent, Exchange registration): gentle growth
	// (1 s, then a quarter more each time, up to 10 s), so a few seconds
	// of delay cost a few seconds, not the next power of two.
	Replication = Schedule{Name: "replication", First: time.Second, Factor: 1.25, Max: 10 * time.Second, Bound: 3 * time.Minute}
)

// Wait is the schedule's wait after the attempt-th attempt (from 1).
func (s Schedule) Wait(attempt int) time.Duration {
	d := s.First
	if d <= 0 {
		d = time.Second
	}
	for i := 1; i < attempt; i++ {
		next := time.Duration(float64(d) * s.Factor)
		if s.Max > 0 && next > s.Max {
			return s.Max
		}
		d = next
	}
	if s.Max > 0 && d > s.Max {
		return s.Max
	}
	return d
}

// Verdict is what the caller says about a failed attempt.
type Verdict struct {
	// Retry: waiting may cure it.
	Retry bool
	// After is the server's Retry-After, which replaces the schedule's
	// wait; a server asking for longer than the bound leaves ends the loop.
	After time.Duration
	// Why is the short reason shown with the countdown ("replication");
	// Code the refusal's code, when known.
	Why  string
	Code string
}

// Loop is one retried operation.
type Loop struct {
	Schedule Schedule
	// What names the operation in events and errors ("Creating app
	// registration", "IMAP login helpdesk@contoso.com").
	What string
	// Deadline, when set, also ends the waiting (the budget of a whole
	// login test counted from the last change).
	Deadline time.Time
	// First, when set, replaces the schedule's first wait (tests, fast
	// demos); later waits grow from it by the schedule's factor.
	First time.Duration
	// Tick, when set, reports the countdown every Tick instead of once per
	// wait.
	Tick time.Duration
	// OnWait receives the countdown; nil is silent.
	OnWait func(model.Event)
}

// Outcome is how the loop went.
type Outcome struct {
	Attempts int           `json:"attempts"`
	Waited   time.Duration `json:"waited"`
}

// Run calls attempt until it succeeds, its error is not to be retried, the
// bound runs out (a *GaveUpError wrapping the last error) or ctx ends.
// judge is asked about every failure.
func (l Loop) Run(ctx context.Context, attempt func(ctx context.Context, n int) error, judge func(error) Verdict) (Outcome, error) {
	start := time.Now()
	end := start.Add(l.Schedule.Bound)
	if l.Schedule.Bound <= 0 {
		end = start
	}
	if !l.Deadline.IsZero() && l.Deadline.Before(end) {
		end = l.Deadline
	}
	var out Outcome
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out.Attempts = n
		err := attempt(ctx, n)
		if err == nil {
			return out, nil
		}
		v := judge(err)
		if !v.Retry || ctx.Err() != nil {
			return out, err
		}
		wait := v.After
		if wait <= 0 {
			sched := l.Schedule
			if l.First > 0 {
				sched.First = l.First
			}
			wait = sched.Wait(n)
		}
		left := time.Until(end)
		if wait > left {
			// Use what is left for one last attempt, unless the server said
			// not to come back that soon or nothing useful is left.
			if left < 100*time.Millisecond || v.After > left {
				return out, &GaveUpError{What: l.What, Schedule: l.Schedule.Name, After: time.Since(start), Attempts: n, Err: err}
			}
			wait = left
		}
		waitStart := time.Now()
		werr := l.countdown(ctx, n+1, wait, end, v, err)
		out.Waited += time.Since(waitStart)
		if werr != nil {
			return out, errors.Join(werr, err)
		}
	}
}

// countdown sleeps wait, reporting the time to the next attempt.
func (l Loop) countdown(ctx context.Context, next int, wait time.Duration, end time.Time, v Verdict, cause error) error {
	until := time.Now().Add(wait)
	for {
		left := time.Until(until)
		if left <= 0 {
			return nil
		}
		if l.OnWait != nil {
			l.OnWait(model.Event{Action: l.What, Detail: v.Why, Code: v.Code, Err: cause, Wait: left.Round(time.Millisecond), Attempt: next, Left: time.Until(end).Round(time.Millisecond)})
		}
		step := left
		if l.Tick > 0 && l.Tick < step {
			step = l.Tick
		}
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if l.Tick <= 0 {
			return nil
		}
	}
}

// GaveUpError is returned when waiting outlasted the bound.
type GaveUpError struct {
	What     string
	Schedule string
	After    time.Duration
	Attempts int
	Err      error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("%s: still refused after %d attempts in %s; stopped waiting: %v", e.What, e.Attempts, e.After.Round(time.Second), e.Err)
}

func (e *GaveUpError) Unwrap() error { return e.Err }
