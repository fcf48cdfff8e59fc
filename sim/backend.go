package sim

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// backend is the tenants as Exchange's front ends see them
// (exchange.Backend): a mailbox belongs to the tenant whose directory holds
// it. Every method takes the server lock, so the front ends may call it
// from any goroutine.
type backend struct{ s *Server }

var _ exchange.Backend = backend{}

// Backend returns the exchange.Backend of the simulator's tenants.
func (s *Server) Backend() exchange.Backend { return backend{s} }

func (b backend) KnownTenant(tid string) bool {
	for _, t := range b.s.tenants {
		if strings.EqualFold(t.ID, tid) {
			return true
		}
	}
	return false
}

// mailboxUser finds the owner of a mailbox by SMTP address (any proxy
// address), UPN or user object id (caller holds s.mu). Users without a
// mailbox are found too, so the front ends can say "no mailbox".
func (s *view) mailboxUser(address string) *user {
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

// owner finds a mailbox's owner in whichever tenant holds it (caller holds
// s.mu).
func (s *Server) owner(address string) (*view, *user) {
	for _, t := range s.tenants {
		v := s.viewOf(t)
		if u := v.mailboxUser(address); u != nil {
			return v, u
		}
	}
	return nil, nil
}

func (b backend) Mailbox(address string) (exchange.Mailbox, bool) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	v, u := b.s.owner(address)
	if u == nil {
		return exchange.Mailbox{}, false
	}
	m := exchange.Mailbox{Address: mailOf(u), UPN: u.UPN, UserID: u.ID, DisplayName: u.DisplayName, Shared: u.Shared, Enabled: u.HasMailbox,
		TenantID: v.ID, OrgSMTPAuthDisabled: v.exo.smtpAuthDisabled}
	if c := v.exo.cas[u.ID]; c != nil {
		m.IMAPEnabled, m.POPEnabled, m.EWSEnabled, m.SMTPAuth = c.IMAP, c.POP, c.EWS, c.SMTPAuth
	}
	return m, true
}

// AppAccess: Registered only when New-ServicePrincipal named the app's
// enterprise application (service principal) object id in the mailbox's
// tenant; FullAccess and SendAs only once replicated
// (Delays.MailboxPermission); RBAC lists what in-scope RBAC for
// Applications assignments of that registration grant.
func (b backend) AppAccess(appID, mailbox string) exchange.AppAccess {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	var acc exchange.AppAccess
	v, u := b.s.owner(mailbox)
	if u == nil {
		return acc
	}
	r := v.validSP(appID)
	if r == nil {
		return acc
	}
	acc.Registered = true
	if !u.HasMailbox {
		return acc
	}
	acc.FullAccess, acc.SendAs = v.rights(u, trusteeSP, r.ObjectID, time.Now())
	acc.RBAC = v.rbacPermissions(r, u)
	return acc
}

// UserAccess is a user's FullAccess/SendAs on another mailbox of the same
// tenant.
func (b backend) UserAccess(upn, mailbox string) (fullAccess, sendAs bool) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	v, u := b.s.owner(mailbox)
	if u == nil || !u.HasMailbox {
		return false, false
	}
	who := v.userByName(upn)
	if who == nil {
		return false, false
	}
	return v.rights(u, trusteeUser, who.ID, time.Now())
}

// EWSAllowed applies Set-OrganizationConfig -EwsEnabled/-EwsAllowedAppIDs
// of the tenant: $null = no effect, $false = all blocked, $true + list =
// only the list (OPS Set-OrganizationConfig.md -EwsAllowedAppIDs).
func (b backend) EWSAllowed(tenantID, appID string) bool {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	t := b.s.tenantBySegment(tenantID)
	if t == nil {
		return false
	}
	o := t.exo
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
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	v, u := b.s.owner(mailbox)
	if u == nil {
		return nil
	}
	msgs := v.exo.mail[u.ID]
	out := make([]exchange.Message, len(msgs))
	for i, m := range msgs {
		m.To = append([]string(nil), m.To...)
		out[i] = m // Raw is never modified in place, so sharing it is safe
	}
	return out
}

// Deliver stores a message in every recipient mailbox of any of the
// simulator's tenants.
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
		v, u := s.owner(rcpt)
		if u == nil || !u.HasMailbox {
			continue // leaves the tenants
		}
		v.exo.mailSeq++
		v.exo.mail[u.ID] = append(v.exo.mail[u.ID], exchange.Message{
			ID: fmt.Sprintf("msg-%d-%d", now.Unix(), v.exo.mailSeq), Received: now, From: from,
			To: append([]string(nil), to...), Subject: subject, Raw: append([]byte(nil), raw...),
		})
		delivered++
	}
	s.logf("sim: delivered a message to %d mailbox(es) of the tenant", delivered)
	return nil
}

func (b backend) MarkRead(mailbox, id string, read bool) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	v, u := b.s.owner(mailbox)
	if u == nil {
		return
	}
	msgs := v.exo.mail[u.ID]
	for i := range msgs {
		if msgs[i].ID == id {
			msgs[i].Read = read
		}
	}
}

// ---- Exchange admin knobs (real life: Exchange Online PowerShell) ----

func (s *view) cas1(mailbox string) (*casSettings, error) {
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

// casOf is cas1 in the mailbox's own tenant (caller holds s.mu).
func (s *Server) casOf(mailbox string) (*casSettings, error) {
	v, _ := s.owner(mailbox)
	if v == nil {
		v = s.home()
	}
	return v.cas1(mailbox)
}

// SetIMAPEnabled is Set-CASMailbox -ImapEnabled.
func (s *Server) SetIMAPEnabled(mailbox string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.casOf(mailbox)
	if err == nil {
		c.IMAP = on
	}
	return err
}

// SetPOPEnabled is Set-CASMailbox -PopEnabled.
func (s *Server) SetPOPEnabled(mailbox string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.casOf(mailbox)
	if err == nil {
		c.POP = on
	}
	return err
}

// SetSMTPAuth is Set-CASMailbox -SmtpClientAuthenticationDisabled.
func (s *Server) SetSMTPAuth(mailbox string, v exchange.SMTPAuth) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.casOf(mailbox)
	if err == nil {
		c.SMTPAuth = v
	}
	return err
}

// SetTenantSMTPAuthDisabled is Set-TransportConfig -SmtpClientAuthenticationDisabled
// in the seed tenant.
func (s *Server) SetTenantSMTPAuthDisabled(disabled bool) {
	s.mu.Lock()
	s.tenants[0].exo.smtpAuthDisabled = disabled
	s.mu.Unlock()
}
