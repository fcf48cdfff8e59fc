package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/internal/validate"
)

// newApp is the update choice's value for "create another app".
const newApp = "new"

// register: the app registration's name and audience; an app that
// already has the name is found and offered for update, so a second run
// updates instead of duplicating.
func register() Step {
	return Step{
		ID:    RegisterStep,
		Title: "Register",
		Help: "Names the app registration and who may sign in to it " +
			"(portal: Entra ID → App registrations → New registration → Name, Supported account types).",
		Prepare: func(ctx context.Context, s *State, e Engine, _ Progress) error {
			if s.Draft.AppID != "" || s.Answers.AppID != "" {
				return nil
			}
			apps, err := e.FindApps(ctx, appNameDefault(s))
			if err != nil {
				return fmt.Errorf("looking for an existing app failed: %w", err)
			}
			s.Existing = apps
			return nil
		},
		Pages: []Page{registerPage, updatePage},
		Act: func(ctx context.Context, s *State, e Engine, _ Progress) error {
			d := &s.Draft
			if d.AppID != "" {
				return nil
			}
			if s.existingNamed(d.AppName) == nil {
				// A name other than the one searched: look again, so that
				// re-running with the same name updates the same app.
				apps, err := e.FindApps(ctx, d.AppName)
				if err != nil {
					return fmt.Errorf("looking for an existing app failed: %w", err)
				}
				s.Existing = apps
				if len(apps) > 1 {
					return &FieldError{Key: "app_id", Label: "App registration name", Err: fmt.Errorf("%d apps are named %q (%s); choose one by its Application (client) ID",
						len(apps), d.AppName, appIDs(apps))}
				}
				if len(apps) == 1 && !s.createAnyway {
					d.AppID = apps[0].AppID
				}
			}
			return nil
		},
		Summary: func(s *State) string {
			if s.Draft.AppName == "" {
				return ""
			}
			verb := "new app"
			if s.Draft.AppID != "" {
				verb = "update " + s.Draft.AppID
			}
			return fmt.Sprintf("%q, %s tenant, %s", s.Draft.AppName, s.Draft.Audience, verb)
		},
	}
}

func appNameDefault(s *State) string {
	if s.Draft.AppName != "" {
		return s.Draft.AppName
	}
	if s.Answers.AppName != "" {
		return s.Answers.AppName
	}
	if p, m, ok := chosen(s); ok {
		return defaultAppName(p, m)
	}
	return "Mail OAuth"
}

func registerPage(s *State) []Question {
	aud := s.Draft.Audience
	if aud == "" {
		aud = catalog.SingleTenant
	}
	audHelp := "Single tenant unless the product's vendor hosts it for many customers."
	if _, m, ok := chosen(s); ok {
		if pq, found := m.Question("audience"); found {
			audHelp = pq.Help
		}
	}
	qs := []Question{
		{
			Key:   "app_name",
			Title: "App registration name",
			Help:  "Shown in Entra ID and on the consent screen; the same name finds this app again next time.",
			Kind:  Text, Default: appNameDefault(s), Validate: ValidateAppName,
			Set: func(s *State, v string) error {
				if v != s.Draft.AppName && s.Answers.AppID == "" {
					s.Draft.AppID = "" // another name: another app
				}
				s.Draft.AppName = strings.TrimSpace(v)
				return nil
			},
		},
		{
			Key:   "audience",
			Title: "Who may sign in?",
			Help:  audHelp,
			Kind:  Select,
			Options: []Option{
				{string(catalog.SingleTenant), catalog.SingleTenant.Label()},
				{string(catalog.MultiTenant), catalog.MultiTenant.Label()},
			},
			Default: string(aud),
			Set: func(s *State, v string) error {
				a, err := catalog.ParseAudience(v)
				s.Draft.Audience = a
				s.Draft.ProductAnswers["audience"] = string(a)
				return err
			},
		},
		{
			Key:   "app_id",
			Title: "Existing app to update (Application ID)",
			Kind:  Text, Default: s.Answers.AppID, Validate: validateOptionalGUID,
			Set: func(s *State, v string) error {
				if v != "" {
					s.Draft.AppID = strings.ToLower(strings.TrimSpace(v))
				}
				return nil
			},
		},
	}
	if s.Answers.AppID == "" {
		// app_id is asked only when given ahead; the wizard offers apps by name.
		qs = qs[:2]
	}
	return qs
}

// updatePage offers the apps found with the chosen name for update. Its
// key is app_id: with several namesakes and no app_id given, an
// unattended run cannot guess and says so.
func updatePage(s *State) []Question {
	named := s.existingAllNamed(s.Draft.AppName)
	if len(named) == 0 || s.Answers.AppID != "" {
		return nil
	}
	def := ""
	if len(named) == 1 {
		def = named[0].AppID
	}
	if s.Draft.AppID != "" {
		def = s.Draft.AppID
	}
	if s.createAnyway {
		def = newApp
	}
	var opts []Option
	for _, a := range named {
		label := "Update it (" + a.AppID
		if !a.Created.IsZero() {
			label += ", created " + a.Created.Format("2006-01-02")
		}
		opts = append(opts, Option{a.AppID, label + ")"})
	}
	opts = append(opts, Option{newApp, "Create another app with the same name"})
	return []Question{{
		Key:     "app_id",
		Title:   fmt.Sprintf("%d app(s) named %q already exist", len(named), s.Draft.AppName),
		Help:    "Updating keeps the Application ID, so the product's settings stay valid.",
		Kind:    Select,
		Options: opts,
		Default: def,
		Set: func(s *State, v string) error {
			s.createAnyway = v == newApp
			if s.createAnyway {
				s.Draft.AppID = ""
			} else {
				s.Draft.AppID = v
			}
			return nil
		},
	}}
}

func (s *State) existingAllNamed(name string) []ExistingApp {
	var out []ExistingApp
	for _, a := range s.Existing {
		if strings.EqualFold(a.DisplayName, name) {
			out = append(out, a)
		}
	}
	return out
}

func (s *State) existingNamed(name string) *ExistingApp {
	for i, a := range s.Existing {
		if strings.EqualFold(a.DisplayName, name) {
			return &s.Existing[i]
		}
	}
	return nil
}

func appIDs(apps []ExistingApp) string {
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.AppID
	}
	return strings.Join(ids, ", ")
}

// ValidateAppName accepts what provisioning accepts as a display name
// (internal/validate: 1 to 120 characters, nothing invisible).
func ValidateAppName(v string) error { return validate.AppName(v) }

// ValidateGUID accepts an ID like 00000000-0000-0000-0000-000000000000.
func ValidateGUID(v string) error { return validate.GUID(strings.TrimSpace(v)) }

func validateOptionalGUID(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return ValidateGUID(v)
}
