package steps

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/output/product"
)

// Precheck is the one validation pass over an unattended run's answers,
// before anything happens (the device-code request included): every
// answer given is checked (its kind, size and rule from the Keys table,
// then against the product profile: the product, its method, the
// protocols it supports, its own questions, the keys it uses), and every
// answer the run needs but lacks is named (the product, the method of a
// product that has several, the product's required questions, the
// mailboxes, and the ROPC test password unless the test is off).
//
// A refused value is an *InvalidError, a missing one a *MissingError; both
// name the flag and the answers key. The steps check again, with the
// tenant's help, as they go (a mailbox that does not exist); this spares
// an administrator a sign-in that could not lead anywhere.
func Precheck(a Answers) error { return checkAnswers(a, true) }

// CheckAnswers is Precheck for the wizard: every answer given ahead is
// checked the same way, but a missing one is left for the wizard to ask.
func CheckAnswers(a Answers) error { return checkAnswers(a, false) }

func checkAnswers(a Answers, unattended bool) error {
	// Each key's own rule, from the Keys table.
	for _, k := range Keys {
		if err := k.check(&a); err != nil {
			return &InvalidError{Key: k.Key, Err: err}
		}
	}
	if a.Product == "" {
		if unattended {
			return &MissingError{Key: "product", Help: "one of " + strings.Join(product.IDs(), ", ")}
		}
		return nil // the wizard asks, then checks the rest
	}
	p, err := product.Lookup(a.Product)
	if err != nil {
		return &InvalidError{Key: "product", Err: err}
	}
	if a.Method == "" && len(p.Methods) > 1 {
		if !unattended {
			return nil
		}
		if q, ok := p.MethodQuestion(); ok {
			return &MissingError{Key: "method", Help: q.Help}
		}
		return &MissingError{Key: "method"}
	}
	m, err := p.Method(a.Method)
	if err != nil {
		return &InvalidError{Key: "method", Err: err}
	}
	if err := checkUsed(a, p, m); err != nil {
		return err
	}
	if len(a.Protocols) > 0 {
		if _, err := m.ParseProtocols(strings.Join(a.Protocols, ",")); err != nil {
			return &InvalidError{Key: "protocols", Err: err}
		}
	}
	for _, q := range m.Questions {
		if q.Key == "" || q.Key == product.KeyProtocols {
			continue
		}
		v, given := a.Get(q.Key)
		switch {
		case given:
			if err := q.Validate(v); err != nil {
				return &InvalidError{Key: q.Key, Err: err}
			}
		case unattended && !q.Optional && q.Default == "":
			return &MissingError{Key: q.Key, Help: q.Help}
		}
	}
	if unattended && len(a.Mailboxes) == 0 {
		// A method without a mailbox question still needs one for the test.
		return &MissingError{Key: "mailboxes", Help: "the mailbox address(es) the product signs in to"}
	}
	runTest := a.Test == nil || *a.Test
	if unattended && runTest && m.Flow == catalog.ROPC && a.TestPassword == "" {
		return &MissingError{Key: "test_password", Help: "the password of the mailbox the login test signs in to (" + p.Name +
			" signs in with it); set MAILOAUTH_TEST_PASSWORD, or skip the test with --test false"}
	}
	return nil
}

// checkUsed refuses an answer the chosen product and method would not
// use, instead of ignoring it: a callback URL for ExtraView, a secret
// lifetime where no secret is made, user assignment where no user is
// assigned, mailbox scoping for a delegated app.
func checkUsed(a Answers, p product.Profile, m product.Method) error {
	what := p.Name
	if len(p.Methods) > 1 {
		what += " (" + m.ID + ")"
	}
	for _, key := range productOnlyKeys() {
		if _, given := a.Get(key); !given {
			continue
		}
		if _, asked := m.Question(key); !asked {
			return &InvalidError{Key: key, Err: fmt.Errorf("%s does not use it; accepted: leave it out (it is asked for %s)", what, askedBy(key))}
		}
	}
	if a.SecretMonths != nil && !m.NeedsSecret {
		return &InvalidError{Key: "secret_months", Err: fmt.Errorf("%s signs in without a client secret (%s); accepted: leave it out", what, m.Flow.Label())}
	}
	if a.RequireAssignment != nil && *a.RequireAssignment && !m.AssignUsers {
		return &InvalidError{Key: "require_assignment", Err: fmt.Errorf("%s does not assign users to its app; accepted: leave it out, or false", what)}
	}
	if a.LimitMailboxAccess != nil && *a.LimitMailboxAccess && !m.Flow.AppOnly() {
		return &InvalidError{Key: "limit_mailbox_access", Err: fmt.Errorf("%s signs in as the mailbox user (%s), so the app reaches only what that user may; "+
			"accepted: true only for app-only (client credentials) setups, else leave it out or false", what, m.Flow.Label())}
	}
	return nil
}

// productOnlyKeys are the answers keys that only some products' methods
// ask (ExtraView's URL, Email This Issue's callback, the generic redirect,
// Agiloft's additional users): read from the profiles, not listed here.
func productOnlyKeys() []string {
	everywhere := map[string]bool{product.KeyMailboxes: true, product.KeyAudience: true, product.KeyProtocols: true, product.KeyMethod: true}
	var keys []string
	seen := map[string]bool{}
	for _, p := range product.All() {
		for _, m := range p.Methods {
			for _, q := range m.Questions {
				if q.Key != "" && !everywhere[q.Key] && !seen[q.Key] {
					seen[q.Key] = true
					keys = append(keys, q.Key)
				}
			}
		}
	}
	return keys
}

// askedBy names the products (and methods) that ask a key.
func askedBy(key string) string {
	var out []string
	for _, p := range product.All() {
		for _, m := range p.Methods {
			if _, ok := m.Question(key); ok {
				name := p.Name
				if len(p.Methods) > 1 {
					name += " " + m.ID
				}
				out = append(out, name)
			}
		}
	}
	return strings.Join(out, ", ")
}
