package steps

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// ExchangeAPINote says on screen what the Exchange sign-in talks to.
const ExchangeAPINote = "mailoauth talks to the admin endpoint the ExchangeOnlineManagement PowerShell module itself uses: it is not a documented Microsoft API, so exchange-setup.ps1 is written too, as the record and the fallback."

// exchangeStep: the Exchange Online side (issue 9). A second, short
// sign-in as an Exchange administrator, asked only when the setup needs
// Exchange-side work or reads; refused or skipped, the Entra part goes on
// and exchange-setup.ps1 holds the rest.
func exchangeStep() Step {
	return Step{
		ID:    ExchangeStep,
		Title: "Exchange Online",
		Help: "Signs you in to Exchange Online as an Exchange administrator, so mailoauth reads and sets the Exchange side itself " +
			"(PowerShell: Connect-ExchangeOnline, New-ServicePrincipal, Add-MailboxPermission, Set-CASMailbox, the EWS allow-list). " + ExchangeAPINote,
		SignsIn: true,
		Pages:   []Page{exchangePage},
		Act: func(ctx context.Context, s *State, e Engine, p Progress) error {
			if !needsExchange(s.Draft) {
				s.Exchange = ExchangeSession{}
				return nil
			}
			show := p.DeviceCode
			if show == nil {
				show = func(DeviceCode) {}
			}
			x, err := e.ExchangeSignIn(ctx, s.Draft, show)
			if err != nil {
				return fmt.Errorf("Exchange Online sign-in: %w", err)
			}
			s.Exchange = x
			return nil
		},
		Summary: func(s *State) string {
			x := s.Exchange
			switch {
			case !x.Needed:
				return "nothing to do in Exchange"
			case x.Left != "":
				return "left to exchange-setup.ps1"
			case x.Account != "":
				return "signed in as " + x.Account
			}
			return ""
		},
	}
}

// needsExchange: the product logs in over an Exchange protocol (IMAP, POP,
// SMTP, EWS), whose switches, registration and rights live in Exchange.
func needsExchange(d Draft) bool {
	for _, p := range d.Protocols {
		if p.IsExchange() {
			return true
		}
	}
	return false
}

func exchangePage(s *State) []Question {
	d := s.Draft
	if !needsExchange(d) {
		return nil
	}
	mode := d.Exchange
	if mode == "" {
		mode = "apply"
	}
	qs := []Question{{
		Key: "exchange", Title: "Make the Exchange Online changes now?",
		Help: "apply: sign in as an Exchange administrator and let mailoauth do them (read first, shown in the review); script: write exchange-setup.ps1 for you to run",
		Kind: Select, Default: mode,
		Options: []Option{{Value: "apply", Label: "Yes, sign in to Exchange Online (apply)"}, {Value: "script", Label: "No, write exchange-setup.ps1 for me to run (script)"}},
		Set: func(s *State, v string) error {
			s.Draft.Exchange = v
			return nil
		},
	}}
	if d.Flow.AppOnly() && (hasProtocol(d, catalog.EWS) || hasProtocol(d, catalog.GraphRead) || hasProtocol(d, catalog.GraphSend)) {
		qs = append(qs, Question{
			Key: "limit_mailbox_access", Title: "Limit the app to its mailboxes?",
			Help: "App-only EWS and Graph mail reach every mailbox in the tenant. Yes scopes the app to the mailboxes above with RBAC for Applications and then removes the tenant-wide permission (Microsoft requires it for the scope to hold).",
			Kind: Confirm, Default: strconv.FormatBool(d.LimitMailboxAccess),
			Set: func(s *State, v string) error {
				s.Draft.LimitMailboxAccess = v == "true"
				return nil
			},
		})
	}
	return qs
}

func hasProtocol(d Draft, p catalog.Protocol) bool {
	for _, x := range d.Protocols {
		if x == p {
			return true
		}
	}
	return false
}
