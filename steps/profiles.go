package steps

import (
	"strings"

	"github.com/mailoauth/mailoauth/output/product"
)

// The product profiles are data in output/product; this file is the only
// place the steps read them.

// stepOwned are product questions another step asks (audience in
// register, mailboxes in users), so the product step leaves them out.
var stepOwned = map[string]bool{
	product.KeyAudience:        true,
	product.KeyMailboxes:       true,
	product.KeyAdditionalUsers: true,
}

func products() []product.Profile { return product.All() }

func lookupProduct(id string) (product.Profile, bool) {
	p, err := product.Lookup(id)
	return p, err == nil
}

// chosen returns the product and method the draft names.
func chosen(s *State) (product.Profile, product.Method, bool) {
	p, ok := lookupProduct(s.Draft.Product)
	if !ok || s.Draft.Method == "" && len(p.Methods) > 1 {
		return product.Profile{}, product.Method{}, false
	}
	m, err := p.Method(s.Draft.Method)
	if err != nil {
		return product.Profile{}, product.Method{}, false
	}
	return p, m, true
}

func defaultAppName(p product.Profile, m product.Method) string {
	return product.DefaultAppName(p, m)
}

// productQuestion turns a product question into a step question whose
// answer is stored normalised in Draft.ProductAnswers (and, through
// after, anywhere else it belongs).
func productQuestion(s *State, pq product.Question, after func(s *State, v string) error) Question {
	q := Question{
		Key: pq.Key, Title: pq.Prompt, Help: pq.Help, Kind: Text,
		Default:  pq.Default,
		Validate: pq.Validate,
	}
	if prev, ok := s.Draft.ProductAnswers[pq.Key]; ok {
		q.Default = prev
	}
	if len(pq.Choices) > 0 {
		q.Kind = Select
		if pq.List {
			q.Kind = MultiSelect
		}
		for _, c := range pq.Choices {
			q.Options = append(q.Options, Option{Value: c, Label: choiceLabel(pq.Key, c)})
		}
		q.Default = canonicalList(q.Default)
	}
	q.Set = func(s *State, v string) error {
		norm, _, err := pq.Normalize(v)
		if err != nil {
			return err
		}
		s.Draft.ProductAnswers[pq.Key] = norm
		if after != nil {
			return after(s, norm)
		}
		return nil
	}
	return q
}

// canonicalList turns "a; b" into "a,b", the form options are matched in.
func canonicalList(v string) string { return strings.Join(SplitList(v), ",") }

func choiceLabel(key, v string) string {
	switch key {
	case product.KeyProtocols:
		if p, err := parseProtocol(v); err == nil {
			return p.Label()
		}
	case product.KeyAudience:
		if a, err := parseAudience(v); err == nil {
			return a.Label()
		}
	}
	return v
}
