package steps

// Guide is what a run that plays every part itself (the demo, on its
// simulated tenant) tells the person at the point they need it: who to
// sign in as, which mailbox to name, that a password is filled in. A real
// run has none: there the administrator knows the answers.
type Guide struct {
	// SignIn is shown with the administrator's device code: who to sign
	// in as and how.
	SignIn string
	// Mailbox is the mailbox question's default; MailboxHelp names the
	// seeded users and what each one shows.
	Mailbox     string
	MailboxHelp string
	// Password returns a seeded user's password ("" when it has none), so
	// the login test's password field starts filled in for the mailbox
	// chosen.
	Password func(mailbox string) string
	// Ephemeral: the tenant ends with the run, so there is nothing to
	// resume or undo afterwards.
	Ephemeral bool
}

// Guided is an engine that brings a Guide (the demo's).
type Guided interface {
	Guide() Guide
}

// GuideOf returns the engine's guide, or nil for a real tenant.
func GuideOf(e Engine) *Guide {
	if g, ok := e.(Guided); ok {
		guide := g.Guide()
		return &guide
	}
	return nil
}

// password is the guide's password for a mailbox ("" without a guide).
func (g *Guide) password(mailbox string) string {
	if g == nil || g.Password == nil {
		return ""
	}
	return g.Password(mailbox)
}
