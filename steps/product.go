package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/output/product"
)

var (
	parseProtocol = catalog.ParseProtocol
	parseAudience = catalog.ParseAudience
)

// product: which product, which of its methods, its own questions (the
// few typed answers: instance URL, callback URL...), and the protocols.
func productStep() Step {
	return Step{
		ID:    ProductStep,
		Title: "Product",
		Help: "Chooses the product and how it signs in; this decides the flow, platform, redirect " +
			"and permissions of the app (the vendor's setup page, read for you).",
		Pages: []Page{productPage, methodPage, productQuestionsPage},
		Act: func(_ context.Context, s *State, _ Engine, _ Progress) error {
			return resolve(s)
		},
		Summary: func(s *State) string {
			if s.Draft.Product == "" {
				return ""
			}
			out := s.Draft.ProductName
			if s.Draft.MethodLabel != "" {
				out += " · " + s.Draft.Method
			}
			if len(s.Draft.Protocols) > 0 {
				out += " · " + labelProtocols(s.Draft.Protocols)
			}
			return out
		},
	}
}

func productPage(s *State) []Question {
	var opts []Option
	for _, p := range products() {
		opts = append(opts, Option{Value: p.ID, Label: p.Name})
	}
	return []Question{{
		Key:     "product",
		Title:   "Which product will read or send the mail?",
		Help:    "Each product has its own setup page; mailoauth follows it (and fixes its mistakes).",
		Kind:    Select,
		Options: opts,
		Default: s.Draft.Product,
		Set: func(s *State, v string) error {
			p, ok := lookupProduct(v)
			if !ok {
				return fmt.Errorf("unknown product %q", v)
			}
			if p.ID != s.Draft.Product {
				// Another product: its method, answers, protocols and app
				// start over.
				s.Draft = Draft{ProductAnswers: map[string]string{}}
				s.Existing, s.createAnyway = nil, false
			}
			s.Draft.Product, s.Draft.ProductName = p.ID, p.Name
			if len(p.Methods) == 1 {
				s.Draft.Method = p.Methods[0].ID
			}
			return nil
		},
	}}
}

func methodPage(s *State) []Question {
	p, ok := lookupProduct(s.Draft.Product)
	if !ok {
		return nil
	}
	mq, ok := p.MethodQuestion()
	if !ok {
		return nil
	}
	var opts []Option
	for _, m := range p.Methods {
		opts = append(opts, Option{Value: m.ID, Label: m.Label})
	}
	return []Question{{
		Key:     mq.Key,
		Title:   mq.Prompt,
		Help:    methodHelp(p),
		Kind:    Select,
		Options: opts,
		Default: s.Draft.Method,
		Set: func(s *State, v string) error {
			m, err := p.Method(v)
			if err != nil {
				return err
			}
			if m.ID != s.Draft.Method {
				s.Draft.Protocols = nil
				s.Draft.ProductAnswers = map[string]string{}
			}
			s.Draft.Method = m.ID
			return nil
		},
	}}
}

func productQuestionsPage(s *State) []Question {
	_, m, ok := chosen(s)
	if !ok {
		return nil
	}
	var qs []Question
	for _, pq := range m.Questions {
		if stepOwned[pq.Key] {
			continue
		}
		var after func(*State, string) error
		if pq.Key == product.KeyProtocols {
			if len(pq.Choices) < 2 {
				continue // nothing to choose
			}
			after = func(s *State, v string) error {
				ps, err := catalog.ParseProtocols(v)
				s.Draft.Protocols = ps
				return err
			}
		}
		q := productQuestion(s, pq, after)
		if pq.Key == product.KeyProtocols && !m.Flow.AppOnly() && hasDelegatedMailProtocol(pq.Choices) {
			q.Help += ". " + bothAPIsHelp
		}
		qs = append(qs, q)
	}
	return qs
}

// resolve fills the draft from the chosen product and method: flow,
// platform, redirect, permissions, secret, user assignment, notes.
func resolve(s *State) error {
	p, m, ok := chosen(s)
	if !ok {
		return &FieldError{Key: "product", Label: "Product", Err: errors.New("choose a product (and its method) first")}
	}
	d := &s.Draft
	d.Method = m.ID
	d.MethodLabel = ""
	if len(p.Methods) > 1 {
		d.MethodLabel = m.Label
	}
	d.Flow = m.Flow
	if len(d.Protocols) == 0 {
		d.Protocols = append([]catalog.Protocol(nil), m.DefaultProtocols...)
	}
	d.Platform = m.Platform
	d.PublicClient = m.PublicClient
	d.NeedsSecret = m.NeedsSecret
	d.AssignUsers = m.AssignUsers
	if d.Audience == "" {
		d.Audience = m.DefaultAudience
	}
	uris, err := m.RedirectURIs(product.Answers(d.ProductAnswers), s.Tenant.Cloud)
	if err != nil {
		return err
	}
	d.RedirectURIs = uris
	perms, err := m.Permissions(d.Protocols)
	if err != nil {
		return &FieldError{Key: product.KeyProtocols, Label: protocolsLabel, Err: withoutKey(product.KeyProtocols, err)}
	}
	d.Permissions = perms
	d.Warnings = p.Warnings(m, d.Protocols)
	d.Notes = append(append([]string(nil), d.Warnings...), p.Notes...)
	for _, f := range p.Fixes {
		d.Notes = append(d.Notes, "Vendor document fix: "+f.String())
	}
	if !d.NeedsSecret {
		d.SecretMonths = 0
	} else if d.SecretMonths == 0 {
		d.SecretMonths = DefaultSecretMonths
	}
	if !d.AssignUsers {
		d.RequireAssignment = false
	}
	return nil
}

// methodHelp says what the method choice decides, in the product's terms.
func methodHelp(p product.Profile) string {
	if p.ID == "generic" {
		return "How does your mail client sign in? Each way sets up the app differently; the client's documentation names it."
	}
	return p.Name + " can sign in more than one way; choose the one set in " + p.Name + "'s mail settings."
}

// protocolsLabel names the protocols question on screen.
const protocolsLabel = "Protocols"

// bothAPIsHelp says where the delegated IMAP, POP and SMTP permissions
// go, since vendor documents and the portal name either API.
const bothAPIsHelp = "mailoauth registers the IMAP, POP and SMTP permissions on both Microsoft Graph and Office 365 Exchange Online, so either place in the portal shows them."

// withoutKey drops a leading "key: " from a product error: the field's
// label (or, unattended, its flag and key) already names it.
func withoutKey(key string, err error) error {
	if msg := err.Error(); strings.HasPrefix(msg, key+": ") {
		return errors.New(strings.TrimPrefix(msg, key+": "))
	}
	return err
}

// hasDelegatedMailProtocol: IMAP, POP or SMTP is among the choices.
func hasDelegatedMailProtocol(choices []string) bool {
	for _, c := range choices {
		switch c {
		case string(catalog.IMAP), string(catalog.POP), string(catalog.SMTP):
			return true
		}
	}
	return false
}
