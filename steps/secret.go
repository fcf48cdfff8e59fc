package steps

import (
	"github.com/mailoauth/mailoauth/internal/model"

	"fmt"
	"strconv"
	"strings"
)

// secret: the client secret's lifetime; its value is shown once at the end.
func secret() Step {
	return Step{
		ID:    SecretStep,
		Title: "Secret",
		Help: "Adds a client secret; its value is shown once at the end and written to a 0600 file " +
			"(portal: Certificates & secrets → New client secret → Expires).",
		Pages: []Page{func(s *State) []Question {
			if !s.Draft.NeedsSecret {
				return nil
			}
			def := DefaultSecretMonths
			if s.Draft.SecretMonths > 0 {
				def = s.Draft.SecretMonths
			}
			return []Question{{
				Key:   "secret_months",
				Title: "Client secret lifetime (months)",
				Help: "1 to 24 (Entra's maximum). Microsoft recommends less than 12 months; 6 is the portal's recommended 180 days. " +
					"Before it expires, add a new secret and paste it into the product.",
				Kind: Number, Default: strconv.Itoa(def), Validate: ValidateSecretMonths,
				Set: func(s *State, v string) error {
					n, _ := strconv.Atoi(strings.TrimSpace(v))
					s.Draft.SecretMonths = n
					return nil
				},
			}}
		}},
		Summary: func(s *State) string {
			if s.Draft.Product == "" {
				return ""
			}
			if !s.Draft.NeedsSecret {
				return "no secret (" + s.Draft.Flow.Label() + ")"
			}
			return fmt.Sprintf("%d months", s.Draft.SecretMonths)
		},
	}
}

// DefaultSecretMonths is the client secret's lifetime when none is given.
const DefaultSecretMonths = model.DefaultSecretMonths

// ValidateSecretMonths accepts a whole number from 1 to 24.
func ValidateSecretMonths(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("%q is not a whole number; accepted: 1..24", v)
	}
	if n < 1 || n > 24 {
		return fmt.Errorf("%d is out of range; accepted: 1..24 (Entra allows at most 24 months)", n)
	}
	return nil
}
