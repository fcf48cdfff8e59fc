package steps

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrDeclined: the administrator did not approve the review; nothing was
// changed.
var ErrDeclined = errors.New("the changes were not approved; nothing was changed")

// review: everything that will be created or changed, before any change;
// once approved the changes run, one progress line per action.
func review() Step {
	return Step{
		ID:    ReviewStep,
		Title: "Review",
		Help: "Lists every change before making any; then creates and configures the app " +
			"(portal: all of the above, clicked for you).",
		Commits: true,
		Prepare: func(ctx context.Context, s *State, e Engine, _ Progress) error {
			findings, err := e.Preflight(ctx, s.Draft)
			if err != nil {
				return fmt.Errorf("pre-flight checks failed: %w", err)
			}
			s.Findings = findings
			if b := Blockers(findings); len(b) > 0 {
				lines := make([]string, len(b))
				for i, f := range b {
					lines[i] = FindingLine(f)
				}
				return fmt.Errorf("the setup cannot succeed yet:\n%s", strings.Join(lines, "\n"))
			}
			changes, err := e.Review(ctx, s.Draft)
			if err != nil {
				return fmt.Errorf("planning the changes failed: %w", err)
			}
			s.Changes = changes
			return nil
		},
		Pages: []Page{func(s *State) []Question {
			qs := []Question{note("What will be created or changed", ReviewBody(s))}
			// What mailoauth may change only if you say so (it did not make
			// it, or it changes others too): asked, default no.
			for _, f := range s.Findings {
				if f.Ask == "" {
					continue
				}
				key := f.Ask
				qs = append(qs, Question{
					Title: f.Text, Kind: Confirm, Default: strconv.FormatBool(s.Draft.Consents[key]), Help: f.Fix,
					Set: func(s *State, v string) error {
						if s.Draft.Consents == nil {
							s.Draft.Consents = map[string]bool{}
						}
						s.Draft.Consents[key] = v == "true"
						return nil
					},
				})
			}
			return append(qs,
				Question{
					Title: "Make these changes now?", Kind: Confirm, Default: "true",
					Help: "After this, Ctrl-C stops cleanly after the action in hand; re-running resumes.",
					Set: func(s *State, v string) error {
						s.approved = v == "true"
						return nil
					},
				})
		}},
		Act: func(ctx context.Context, s *State, e Engine, p Progress) error {
			if !s.approved {
				return ErrDeclined
			}
			r, err := e.Apply(ctx, s.Draft, p.Event)
			s.Result = r
			if err != nil {
				return s.applyError(err, r)
			}
			s.Applied = true
			return nil
		},
		Summary: func(s *State) string {
			switch {
			case s.Applied && s.Result.Created:
				return "created " + s.Result.AppID
			case s.Applied:
				return "updated " + s.Result.AppID
			case len(s.Changes) > 0:
				return fmt.Sprintf("%d changes planned", len(s.Changes))
			}
			return ""
		},
	}
}

// ReviewBody lists the planned changes, then what applies to them and is
// new since sign-in: the pre-flight's blockers and warnings, and the
// product's cautions for the method and protocols chosen. The product's
// general notes and corrections to its vendor document are on the
// settings sheet, not here.
func ReviewBody(s *State) []Line {
	var lines []Line
	for _, c := range s.Changes {
		line := fmt.Sprintf("%-7s %s", c.Action, c.Object)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		kind := LineChange
		if !c.Action.Changes() {
			kind = LineUnchanged
		}
		lines = append(lines, Line{Kind: kind, Text: line})
	}
	seen := map[string]bool{}
	for _, f := range s.SignInFindings {
		seen[f.Text] = true
	}
	for _, f := range s.Findings {
		if seen[f.Text] {
			continue // shown after sign-in already
		}
		seen[f.Text] = true
		kind := LineAside
		switch f.Severity {
		case Blocker:
			kind = LineStop
		case Warning:
			kind = LineCaution
		}
		lines = append(lines, Line{Kind: kind, Text: FindingLine(f)})
	}
	for _, w := range s.Draft.Warnings {
		lines = append(lines, Line{Kind: LineCaution, Text: "warning: " + w})
	}
	return lines
}

// applyError is a failed or stopped Apply (or what follows it), with what
// is needed to resume or undo it.
func (s *State) applyError(err error, r Result) *ApplyError {
	return &ApplyError{
		Err: err, StateFile: r.StateFile, AppName: s.Draft.AppName, Secret: r.Secret, SecretFile: r.SecretFile,
		CloudFlags: s.Tenant.Cloud.Flags(), Ephemeral: s.Guide != nil && s.Guide.Ephemeral,
	}
}

// StopError is the ApplyError of a run stopped after the review (in the
// test or export step): the state file, the cloud's flags and the secret
// of what Apply made.
func (s *State) StopError(err error) *ApplyError {
	var ae *ApplyError
	if errors.As(err, &ae) {
		return ae
	}
	return s.applyError(err, s.Result)
}

// ApplyError is a failed or interrupted Apply: some changes may exist,
// recorded in the state file, so the run can be resumed or undone.
type ApplyError struct {
	Err       error
	StateFile string
	AppName   string
	// CloudFlags select the cloud again in the printed commands.
	CloudFlags []string
	// Secret is a client secret added before the stop: Entra shows its
	// value only once, so the stop screen hands it over. Never in Error().
	Secret string `json:"-"`
	// SecretFile is the 0600 file that has held the secret's value since
	// Graph returned it ("" when no file could be written).
	SecretFile string
	// Ephemeral: the tenant ends with the run (the demo's), so there is
	// nothing to resume or undo.
	Ephemeral bool
}

// SecretLines hand over a secret added before the stop (empty when none):
// where its file is, and the value itself, for a screen.
func (e *ApplyError) SecretLines() []string {
	if e.Secret == "" && e.SecretFile == "" {
		return nil
	}
	lines := e.SecretFileLines()
	if e.Secret != "" {
		lines = append(lines, "Microsoft shows its value only once; here it is:", "  "+e.Secret)
	}
	return lines
}

// SecretFileLines say where the secret added before the stop is, without
// its value (for logs and unattended runs).
func (e *ApplyError) SecretFileLines() []string {
	switch {
	case e.SecretFile != "":
		return []string{"A client secret was added before the stop; its value is in:", "  " + e.SecretFile + "  (only you can read it)",
			"A resumed run takes it from there; delete the file once the product has it."}
	case e.Secret != "":
		return []string{"A client secret was added before the stop, and no file could hold it (full or read-only disk?): copy it from the screen now."}
	}
	return nil
}

func (e *ApplyError) Error() string { return "applying the changes stopped: " + e.Err.Error() }
func (e *ApplyError) Unwrap() error { return e.Err }

// Interrupted reports whether Apply stopped because it was cancelled.
func (e *ApplyError) Interrupted() bool {
	return errors.Is(e.Err, context.Canceled)
}

// ResumeHelp says how to go on or undo, for the screen and the log.
func (e *ApplyError) ResumeHelp() []string {
	if e.Ephemeral {
		return []string{"The demo's simulated tenant ends when the demo exits, so there is nothing to resume or undo: run mailoauth demo again to start over."}
	}
	if e.StateFile == "" {
		return []string{"Resume: run again with the same app name " + quote(e.AppName) + ": it finds and updates the app"}
	}
	flags := ""
	if len(e.CloudFlags) > 0 {
		flags = " " + strings.Join(e.CloudFlags, " ")
	}
	return []string{
		"Resume: mailoauth setup --resume --state " + e.StateFile + flags + " (or run again with the same app name " + quote(e.AppName) + ")",
		"State file: " + e.StateFile,
		"Undo: mailoauth delete --state " + e.StateFile + flags,
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
