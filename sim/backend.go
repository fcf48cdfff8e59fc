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

// mailboxUser finds the owner of a mailbox by SMTP address, UPN or user
// object id (caller holds s.mu).
func (s *Server) mailboxUser(address string) *user {
	address = strings.TrimSpace(address)
	for _, u := range s.users {
		if strings.EqualFold(u.UPN, address) || strings.EqualFold(u.Mail, address) || strings.EqualFold(u.ID, address) {
			return u
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
	if c := s.cas[strings.ToLower(u.UPN)]; c != nil {
		m.IMAPEnabled, m.POPEnabled, m.EWSEnabled, m.SMTPAuth = c.IMAP, c.POP, c.EWS, exchange.SMTPAuth(c.SMTPAuth)
	}
	return m, true
}

// AppAccess: Registered only when New-ServicePrincipal named the app's
// enterprise application (service principal) object id.
func (b backend) AppAccess(appID, mailbox string) exchange.AppAccess {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var acc exchange.AppAccess
	sp := s.spByAppID(appID)
	var exoIdentity string
	for _, r := range s.exoSPs {
		if strings.EqualFold(r.AppID, appID) && sp != nil && strings.EqualFold(r.ObjectID, sp.ID) {
			acc.Registered = true
			exoIdentity = r.ObjectID
		}
	}
	u := s.mailboxUser(mailbox)
	if u == nil {
		return acc
	}
	box := strings.ToLower(u.UPN)
	for _, p := range s.mbxPerms {
		if p.Mailbox != box {
			continue
		}
		// Exchange resolves the trustee to its own service principal
		// object: the appId or the registered object id both name it.
		if !strings.EqualFold(p.Trustee, appID) && (exoIdentity == "" || !strings.EqualFold(p.Trustee, exoIdentity)) {
			continue
		}
		switch p.Right {
		case "FullAccess":
			acc.FullAccess = true
		case "SendAs":
			acc.SendAs = true
		}
	}
	return acc
}

func (b backend) TenantSMTPAuthDisabled() bool {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return b.s.tenantSMTPAuthDisabled
}

// EWSAllowed applies Set-OrganizationConfig -EwsEnabled/-EwsAllowedAppIDs:
// $null = no effect, $false = all blocked, $true + list = only the list.
func (b backend) EWSAllowed(appID string) bool {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ewsEnabled == nil {
		return true
	}
	if !*s.ewsEnabled {
		return false
	}
	if len(s.ewsAllowedAppIDs) == 0 {
		return true
	}
	return slices.ContainsFunc(s.ewsAllowedAppIDs, func(id string) bool { return strings.EqualFold(id, appID) })
}

func (b backend) Messages(mailbox string) []exchange.Message {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mailboxUser(mailbox)
	if u == nil {
		return nil
	}
	msgs := s.mail[strings.ToLower(u.UPN)]
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
		s.mailSeq++
		key := strings.ToLower(u.UPN)
		s.mail[key] = append(s.mail[key], exchange.Message{
			ID: fmt.Sprintf("msg-%d-%d", now.Unix(), s.mailSeq), Received: now, From: from,
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
	msgs := s.mail[strings.ToLower(u.UPN)]
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
	c := s.cas[strings.ToLower(u.UPN)]
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
		c.SMTPAuth = int(v)
	}
	return err
}

// SetTenantSMTPAuthDisabled is Set-TransportConfig -SmtpClientAuthenticationDisabled.
func (s *Server) SetTenantSMTPAuthDisabled(disabled bool) {
	s.mu.Lock()
	s.tenantSMTPAuthDisabled = disabled
	s.mu.Unlock()
}
