package sim

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// RunPowerShell runs Exchange Online PowerShell lines against the tenant's
// Exchange state: one cmdlet per line, `#` comments and blank lines
// skipped (docs/architecture.md "PowerShell (sim)"). It returns what the
// cmdlets printed; an error names the line that failed.
func (s *Server) RunPowerShell(script string) (string, error) {
	var out strings.Builder
	for i, line := range strings.Split(strings.ReplaceAll(script, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := psWords(line)
		if err != nil {
			return out.String(), fmt.Errorf("line %d: %v", i+1, err)
		}
		cmd, err := parseCmdlet(words)
		if err != nil {
			return out.String(), fmt.Errorf("line %d: %v", i+1, err)
		}
		text, err := s.runCmdlet(cmd)
		if err != nil {
			if strings.EqualFold(cmd.flags["erroraction"], "SilentlyContinue") || strings.EqualFold(cmd.flags["erroraction"], "Ignore") {
				continue
			}
			return out.String(), fmt.Errorf("line %d: %s: %v", i+1, cmd.name, err)
		}
		out.WriteString(text)
	}
	return out.String(), nil
}

type psValue struct {
	name  string // the parameter as written
	text  string
	null  bool
	isSet bool
}

type cmdlet struct {
	name       string
	params     map[string]psValue // lower-case name -> value
	positional []string
	flags      map[string]string // common parameters
}

// psWords splits a line on blanks, honouring single and double quotes.
func psWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0:
			if ch == quote {
				if i+1 < len(line) && line[i+1] == quote { // '' or "" escapes
					cur.WriteByte(ch)
					i++
					continue
				}
				quote = 0
				continue
			}
			cur.WriteByte(ch)
		case ch == '\'' || ch == '"':
			quote = ch
			inWord = true
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '#' && !inWord:
			i = len(line) // trailing comment
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("the string is missing the terminator: %c", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

var commonParams = map[string]bool{"erroraction": true, "warningaction": true, "confirm": true, "verbose": true, "whatif": true, "debug": true}

func parseCmdlet(words []string) (cmdlet, error) {
	c := cmdlet{name: words[0], params: map[string]psValue{}, flags: map[string]string{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || len(w) < 2 {
			c.positional = append(c.positional, w)
			continue
		}
		name, val, hasColon := strings.Cut(w[1:], ":")
		key := strings.ToLower(name)
		var v psValue
		switch {
		case hasColon:
			v = psLiteral(val)
		case i+1 < len(words) && !strings.HasPrefix(words[i+1], "-"):
			v = psLiteral(words[i+1])
			i++
		default:
			v = psValue{text: "$true", isSet: true} // a switch
		}
		if commonParams[key] {
			c.flags[key] = v.text
			continue
		}
		v.name = name
		c.params[key] = v
	}
	return c, nil
}

func psLiteral(s string) psValue {
	switch strings.ToLower(s) {
	case "$null":
		return psValue{null: true, isSet: true}
	case "$true":
		return psValue{text: "$true", isSet: true}
	case "$false":
		return psValue{text: "$false", isSet: true}
	}
	return psValue{text: s, isSet: true}
}

func (v psValue) bool() (bool, error) {
	switch v.text {
	case "$true":
		return true, nil
	case "$false":
		return false, nil
	}
	return false, fmt.Errorf("cannot convert value %q to type System.Boolean; use $true or $false", v.text)
}

// take returns a parameter and removes it, so leftovers can be reported.
func (c *cmdlet) take(name string) (psValue, bool) {
	v, ok := c.params[strings.ToLower(name)]
	delete(c.params, strings.ToLower(name))
	return v, ok
}

func (c *cmdlet) required(name string) (string, error) {
	v, ok := c.take(name)
	if !ok || v.null || v.text == "" || v.text == "$true" {
		return "", fmt.Errorf("missing an argument for parameter '%s'. Specify a parameter of type 'System.String' and try again", name)
	}
	return v.text, nil
}

func (c *cmdlet) leftover() error {
	for _, v := range c.params {
		return fmt.Errorf("a parameter cannot be found that matches parameter name '%s'", v.name)
	}
	return nil
}

func (s *Server) runCmdlet(c cmdlet) (string, error) {
	switch strings.ToLower(c.name) {
	case "connect-exchangeonline", "disconnect-exchangeonline", "import-module", "install-module":
		return "", nil
	case "new-serviceprincipal":
		return s.psNewServicePrincipal(c)
	case "remove-serviceprincipal":
		return s.psRemoveServicePrincipal(c)
	case "get-serviceprincipal":
		return s.psGetServicePrincipal(c)
	case "add-mailboxpermission":
		return s.psMailboxPermission(c, "-User", "FullAccess")
	case "add-recipientpermission":
		return s.psMailboxPermission(c, "-Trustee", "SendAs")
	case "set-casmailbox":
		return s.psSetCASMailbox(c)
	case "set-transportconfig":
		v, ok := c.take("SmtpClientAuthenticationDisabled")
		if !ok {
			return "", fmt.Errorf("nothing to set: give -SmtpClientAuthenticationDisabled $true or $false")
		}
		b, err := v.bool()
		if err != nil {
			return "", err
		}
		if err := c.leftover(); err != nil {
			return "", err
		}
		s.SetTenantSMTPAuthDisabled(b)
		return "", nil
	case "set-organizationconfig":
		return s.psSetOrganizationConfig(c)
	case "new-managementscope", "new-managementroleassignment", "test-serviceprincipalauthorization", "new-applicationaccesspolicy", "test-applicationaccesspolicy":
		s.mu.Lock()
		s.psRecorded = append(s.psRecorded, c.name)
		s.mu.Unlock()
		return "", nil
	}
	return "", fmt.Errorf("the term '%s' is not recognized as a name of a cmdlet, function, script file, or executable program", c.name)
}

func (s *Server) psNewServicePrincipal(c cmdlet) (string, error) {
	appID, err := c.required("AppId")
	if err != nil {
		return "", err
	}
	objectID := ""
	if v, ok := c.take("ObjectId"); ok {
		objectID = v.text
	} else if v, ok := c.take("ServiceId"); ok { // deprecated alias
		objectID = v.text
	}
	if objectID == "" {
		return "", fmt.Errorf("missing an argument for parameter 'ObjectId'. Specify a parameter of type 'System.String' and try again")
	}
	name := ""
	if v, ok := c.take("DisplayName"); ok {
		name = v.text
	}
	c.take("Organization")
	if err := c.leftover(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.exoSPs {
		if strings.EqualFold(r.AppID, appID) || strings.EqualFold(r.ObjectID, objectID) {
			return "", fmt.Errorf("the service principal with AppId '%s' or ObjectId '%s' already exists", appID, objectID)
		}
	}
	if name == "" {
		if a := s.appByAppID(appID); a != nil {
			name = a.DisplayName
		} else {
			name = appID
		}
	}
	// Recorded whatever the ObjectId: the real cmdlet does not check it
	// against Entra, which is exactly the pitfall (microsoft.md §11).
	s.exoSPs = append(s.exoSPs, exoServicePrincipal{AppID: strings.ToLower(appID), ObjectID: strings.ToLower(objectID), DisplayName: name})
	return fmt.Sprintf("\nDisplayName                    ObjectId                             AppId\n-----------                    --------                             -----\n%-30s %s %s\n", name, strings.ToLower(objectID), strings.ToLower(appID)), nil
}

func (s *Server) psMailboxPermission(c cmdlet, trusteeParam, right string) (string, error) {
	identity, err := c.identity()
	if err != nil {
		return "", err
	}
	trustee, err := c.required(strings.TrimPrefix(trusteeParam, "-"))
	if err != nil {
		return "", err
	}
	rights, err := c.required("AccessRights")
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(rights, right) {
		return "", fmt.Errorf("the sim supports only -AccessRights %s here, not %q", right, rights)
	}
	c.take("InheritanceType")
	c.take("AutoMapping")
	if err := c.leftover(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mailboxUser(identity)
	if u == nil || !u.HasMailbox {
		return "", fmt.Errorf("the operation couldn't be performed because object '%s' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'", identity)
	}
	known := s.userByName(trustee) != nil
	for _, r := range s.exoSPs {
		if strings.EqualFold(r.ObjectID, trustee) || strings.EqualFold(r.AppID, trustee) {
			known = true
		}
	}
	if !known {
		return "", fmt.Errorf("user or group '%s' wasn't found. Please make sure you've typed it correctly (run New-ServicePrincipal first)", trustee)
	}
	box := strings.ToLower(u.UPN)
	for _, p := range s.mbxPerms {
		if p.Mailbox == box && p.Right == right && strings.EqualFold(p.Trustee, trustee) {
			return "WARNING: The appropriate access control entry is already present on the object.\n", nil
		}
	}
	s.mbxPerms = append(s.mbxPerms, mailboxPermission{Mailbox: box, Trustee: strings.ToLower(trustee), Right: right})
	return fmt.Sprintf("\nIdentity             Trustee                              AccessRights\n--------             -------                              ------------\n%-20s %s {%s}\n", u.DisplayName, strings.ToLower(trustee), right), nil
}

func (s *Server) psSetCASMailbox(c cmdlet) (string, error) {
	identity, err := c.identity()
	if err != nil {
		return "", err
	}
	type change struct {
		param string
		apply func(*casSettings, psValue) error
	}
	boolSetter := func(field func(*casSettings) *bool) func(*casSettings, psValue) error {
		return func(cs *casSettings, v psValue) error {
			b, err := v.bool()
			if err == nil {
				*field(cs) = b
			}
			return err
		}
	}
	changes := []change{
		{"ImapEnabled", boolSetter(func(cs *casSettings) *bool { return &cs.IMAP })},
		{"PopEnabled", boolSetter(func(cs *casSettings) *bool { return &cs.POP })},
		{"EwsEnabled", boolSetter(func(cs *casSettings) *bool { return &cs.EWS })},
		{"SmtpClientAuthenticationDisabled", func(cs *casSettings, v psValue) error {
			if v.null {
				cs.SMTPAuth = int(exchange.SMTPAuthInherit)
				return nil
			}
			b, err := v.bool()
			if err != nil {
				return err
			}
			if b {
				cs.SMTPAuth = int(exchange.SMTPAuthDisabled)
			} else {
				cs.SMTPAuth = int(exchange.SMTPAuthEnabled)
			}
			return nil
		}},
	}
	type pending struct {
		ch change
		v  psValue
	}
	var todo []pending
	for _, ch := range changes {
		if v, ok := c.take(ch.param); ok {
			todo = append(todo, pending{ch, v})
		}
	}
	if err := c.leftover(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.cas1(identity)
	if err != nil {
		return "", fmt.Errorf("the operation couldn't be performed because object '%s' couldn't be found", identity)
	}
	next := *cs
	for _, p := range todo {
		if err := p.ch.apply(&next, p.v); err != nil {
			return "", fmt.Errorf("cannot bind parameter '%s': %v", p.ch.param, err)
		}
	}
	*cs = next
	return "", nil
}

func (s *Server) psSetOrganizationConfig(c cmdlet) (string, error) {
	var enabled *bool
	setEnabled := false
	if v, ok := c.take("EwsEnabled"); ok {
		setEnabled = true
		if !v.null {
			b, err := v.bool()
			if err != nil {
				return "", fmt.Errorf("cannot bind parameter 'EwsEnabled': %v", err)
			}
			enabled = &b
		}
	}
	var allowed []string
	setAllowed := false
	if v, ok := c.take("EwsAllowedAppIDs"); ok {
		setAllowed = true
		for _, id := range strings.Split(v.text, ",") {
			if id = strings.TrimSpace(id); id != "" {
				allowed = append(allowed, strings.ToLower(id))
			}
		}
	}
	c.take("EwsApplicationAccessPolicy")
	if err := c.leftover(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if setEnabled {
		s.ewsEnabled = enabled
	}
	if setAllowed {
		s.ewsAllowedAppIDs = allowed
	}
	return "", nil
}

// psRemoveServicePrincipal undoes New-ServicePrincipal (the fix for the
// wrong-ObjectId pitfall); the mailbox permissions given to that principal
// go with it.
func (s *Server) psRemoveServicePrincipal(c cmdlet) (string, error) {
	identity, err := c.identity()
	if err != nil {
		return "", err
	}
	if err := c.leftover(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.exoSPs {
		if strings.EqualFold(r.ObjectID, identity) || strings.EqualFold(r.AppID, identity) || strings.EqualFold(r.DisplayName, identity) {
			s.exoSPs = append(s.exoSPs[:i], s.exoSPs[i+1:]...)
			kept := s.mbxPerms[:0]
			for _, p := range s.mbxPerms {
				if !strings.EqualFold(p.Trustee, r.ObjectID) && !strings.EqualFold(p.Trustee, r.AppID) {
					kept = append(kept, p)
				}
			}
			s.mbxPerms = kept
			return "", nil
		}
	}
	return "", fmt.Errorf("the operation couldn't be performed because object '%s' couldn't be found", identity)
}

// psGetServicePrincipal lists Exchange's service principal registrations.
func (s *Server) psGetServicePrincipal(c cmdlet) (string, error) {
	c.take("Identity")
	if err := c.leftover(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString("\nDisplayName                    ObjectId                             AppId\n-----------                    --------                             -----\n")
	for _, r := range s.exoSPs {
		fmt.Fprintf(&b, "%-30s %s %s\n", r.DisplayName, r.ObjectID, r.AppID)
	}
	return b.String(), nil
}

// identity is -Identity, or the first positional argument (Exchange's
// cmdlets take the identity either way).
func (c *cmdlet) identity() (string, error) {
	if v, ok := c.take("Identity"); ok && v.text != "" {
		return v.text, nil
	}
	if len(c.positional) > 0 && c.positional[0] != "" {
		return c.positional[0], nil
	}
	return "", fmt.Errorf("missing an argument for parameter 'Identity'")
}
