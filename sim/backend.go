package sim

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// backend is the tenant as Exchange's front ends see it (exchange.Backend).
// Every method takes the tenant lock, so the front ends may call it from any
// goroutine.
type backend struct{ s *Server }

var _ exchange.Backend = backend{}

// Backend returns the exchange.Backend of this tenant.
func (s *Server) Backend() exchange.Backend { return backend{s} }

func (b backend) TenantID() string { return TenantID }

// mailboxUser finds the owner of a mailbox by SMTP address (any proxy
// address), UPN or user object id (caller holds s.mu). Users without a
// mailbox are found too, so the front ends can say "no mailbox".
func (s *Server) mailboxUser(address string) *user {
	address = strings.TrimSpace(address)
	for _, u := range s.users {
		if strings.EqualFold(u.UPN, address) || strings.EqualFold(u.Mail, address) || strings.EqualFold(u.ID, address) {
			return u
		}
	}
	for _, u := range s.users {
		if !u.HasMailbox {
			continue
		}
		for _, p := range u.proxyAddresses() {
			if strings.EqualFold(smtpOf(p), address) {
				return u
			}
		}
	}
	return nil
}

func (b backend) Mailbox(address string) (exchange.Mailbox, bool) {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mailboxUser(address)
	if u == nil {
		return exchange.Mailbox{}, false
	}
	m := exchange.Mailbox{Address: mailOf(u), UPN: u.UPN, UserID: u.ID, DisplayName: u.DisplayName, Shared: u.Shared, Enabled: u.HasMailbox}
	if c := s.exo.cas[u.ID]; c != nil {
		m.IMAPEnabled, m.POPEnabled, m.EWSEnabled, m.SMTPAuth = c.IMAP, c.POP, c.EWS, c.SMTPAuth
	}
	return m, true
}

// AppAccess: Registered only when New-ServicePrincipal named the app's
// enterprise application (service principal) object id; FullAccess and
// SendAs only once replicated (Delays.MailboxPermission); RBAC lists what
// in-scope RBAC for Applications assignments of that registration grant.
func (b backend) AppAccess(appID, mailbox string) exchange.AppAccess {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var acc exchange.AppAccess
	r := s.validSP(appID)
	if r == nil {
		return acc
	}
	acc.Registered = true
	u := s.mailboxUser(mailbox)
	if u == nil || !u.HasMailbox {
		return acc
	}
	acc.FullAccess, acc.SendAs = s.rights(u, trusteeSP, r.ObjectID, time.Now())
	acc.RBAC = s.rbacPermissions(r, u)
	return acc
}

// UserAccess is a user's FullAccess/SendAs on another mailbox.
func (b backend) UserAccess(upn, mailbox string) (fullAccess, sendAs bool) {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	who, u := s.userByName(upn), s.mailboxUser(mailbox)
	if who == nil || u == nil || !u.HasMailbox {
		return false, false
	}
	return s.rights(u, trusteeUser, who.ID, time.Now())
}

func (b backend) TenantSMTPAuthDisabled() bool {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return b.s.exo.smtpAuthDisabled
}

// EWSAllowed applies Set-OrganizationConfig -EwsEnabled/-EwsAllowedAppIDs:
// $null = no effect, $false = all blocked, $true + list = only the list
// (OPS Set-OrganizationConfig.md -EwsAllowedAppIDs).
func (b backend) EWSAllowed(appID string) bool {
	o := b.s.exo
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if o.ewsEnabled == nil {
		return true
	}
	if !*o.ewsEnabled {
		return false
	}
	if len(o.ewsAllowedAppIDs) == 0 {
		return true
	}
	return slices.ContainsFunc(o.ewsAllowedAppIDs, func(id string) bool { return strings.EqualFold(id, appID) })
}

func (b backend) Messages(mailbox string) []exchange.Message {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mailboxUser(mailbox)
	if u == nil {
		return nil
	}
	msgs := s.exo.mail[u.ID]
	out := make([]exchange.Message, len(msgs))
	for i, m := range msgs {
		m.To = append([]string(nil), m.To...)
		out[i] = m // Raw is never modified in place, so sharing it is safe
	}
	return out
}

func (b backend) Deliver(from string, to []string, raw []byte) error {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	subject := ""
	if msg, err := mail.ReadMessage(strings.NewReader(string(raw))); err == nil {
		subject = msg.Header.Get("Subject")
	}
	now := time.Now().UTC()
	delivered := 0
	for _, rcpt := range to {
		u := s.mailboxUser(rcpt)
		if u == nil || !u.HasMailbox {
			continue // leaves the tenant
		}
		s.exo.mailSeq++
		s.exo.mail[u.ID] = append(s.exo.mail[u.ID], exchange.Message{
			ID: fmt.Sprintf("msg-%d-%d", now.Unix(), s.exo.mailSeq), Received: now, From: from,
			To: append([]string(nil), to...), Subject: subject, Raw: append([]byte(nil), raw...),
		})
		delivered++
	}
	s.logf("sim: delivered a message to %d mailbox(es) of the tenant", delivered)
	return nil
}

func (b backend) MarkRead(mailbox, id string, read bool) {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mailboxUser(mailbox)
	if u == nil {
		return
	}
	msgs := s.exo.mail[u.ID]
	for i := range msgs {
		if msgs[i].ID == id {
			msgs[i].Read = read
		}
	}
}

// ---- Exchange admin knobs (real life: Exchange Online PowerShell) ----

func (s *Server) cas1(mailbox string) (*casSettings, error) {
	u := s.mailboxUser(mailbox)
	if u == nil {
		return nil, fmt.Errorf("sim: the operation couldn't be performed because object '%s' couldn't be found", mailbox)
	}
	c := s.exo.cas[u.ID]
	if c == nil || !u.HasMailbox {
		return nil, fmt.Errorf("sim: %s has no mailbox (no Exchange Online licence)", u.UPN)
	}
	return c, nil
}

// SetIMAPEnabled is Set-CASMailbox -ImapEnabled.
func (s *Server) SetIMAPEnabled(mailbox string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cas1(mailbox)
	if err == nil {
		c.IMAP = on
	}
	return err
}

// SetPOPEnabled is Set-CASMailbox -PopEnabled.
func (s *Server) SetPOPEnabled(mailbox string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cas1(mailbox)
	if err == nil {
		c.POP = on
	}
	return err
}

// SetSMTPAuth is Set-CASMailbox -SmtpClientAuthenticationDisabled.
func (s *Server) SetSMTPAuth(mailbox string, v exchange.SMTPAuth) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cas1(mailbox)
	if err == nil {
		c.SMTPAuth = v
	}
	return err
}

// SetTenantSMTPAuthDisabled is Set-TransportConfig -SmtpClientAuthenticationDisabled.
func (s *Server) SetTenantSMTPAuthDisabled(disabled bool) {
	s.mu.Lock()
	s.exo.smtpAuthDisabled = disabled
	s.mu.Unlock()
}
