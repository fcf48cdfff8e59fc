package exchange

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strings"
)

// IMAPServer is Exchange Online's IMAP4rev1 front end (outlook.office365.com:993):
// implicit TLS, XOAUTH2 only. It is written by hand rather than on
// go-imap's imapserver because Exchange's exact greeting and status texts
// (which clients and mailoauth's diagnosis match on) cannot be produced
// through that library.
type IMAPServer struct{ s *connServer }

// NewIMAPServer returns an IMAP server for cfg. Call Serve to start it.
func NewIMAPServer(cfg Config) *IMAPServer {
	srv := &IMAPServer{}
	srv.s = newConnServer(cfg, "imap", true, srv.handle)
	return srv
}

// Serve wraps ln in TLS (Config.TLS) and answers IMAP on it until Close.
func (s *IMAPServer) Serve(ln net.Listener) error { return s.s.serve(ln) }

// Close stops the listeners and ends every session.
func (s *IMAPServer) Close() error { return s.s.close() }

// Exchange's wire texts (microsoft.md §10, architecture.md "Exchange behaviour").
const (
	imapGreeting      = "* OK The Microsoft Exchange IMAP4 service is ready."
	imapCapabilities  = "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR ID UNSELECT CHILDREN LITERAL+"
	imapNotConnected  = "BAD User is authenticated but not connected."
	imapInvalidState  = "BAD Command received in Invalid state."
	imapCommandError  = "BAD Command Error. 12"
	imapArgumentError = "BAD Command Argument Error. 11"
	imapContinue      = "+ Ready for additional command text."
	imapByeTimeout    = "* BYE Connection is closed. 13"
	imapMaxLine       = 64 << 10
	imapMaxLiteral    = 1 << 20 // commands carry no message bodies (no APPEND)
)

// permanentFlags are the flags clients may set; only \Seen reaches the
// mailbox (Backend.MarkRead), the others live for the session.
const permanentFlags = `(\Seen \Answered \Flagged \Deleted \Draft $MDNSent)`

type imapState int

const (
	imapNotAuthenticated imapState = iota
	imapAuthenticated
	imapSelected
)

type imapSession struct {
	srv   *connServer
	c     *lineConn
	state imapState
	grant grant
	// connected is false when AUTHENTICATE succeeded but Exchange cannot open
	// the mailbox (IMAP off, no Exchange service principal, no FullAccess):
	// every mailbox command then gets imapNotConnected.
	connected bool
	sel       *imapMailbox
}

func (s *IMAPServer) handle(c *lineConn) {
	sess := &imapSession{srv: s.s, c: c}
	if c.reply(imapGreeting) != nil {
		return
	}
	for {
		tag, name, rest, err := sess.readCommand()
		switch {
		case err == nil:
		case errors.Is(err, errLineTooLong), errors.Is(err, errIMAPSyntax):
			if c.reply(nonEmpty(tag, "*")+" "+imapCommandError) != nil {
				return
			}
			continue
		case isTimeout(err):
			c.reply(imapByeTimeout)
			s.s.logf("%s idle timeout", c.RemoteAddr())
			return
		default:
			return
		}
		if !sess.dispatch(tag, name, rest) {
			return
		}
	}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// readCommand reads one command with its literals and splits off tag and
// name. rest keeps the literals inline for parseIMAPArgs.
func (sess *imapSession) readCommand() (tag, name, rest string, err error) {
	line, err := sess.c.readLine(imapMaxLine)
	if err != nil {
		return "", "", "", err
	}
	var full strings.Builder
	full.WriteString(line)
	for total := 0; ; {
		n, nonSync, ok := literalSize(line)
		if !ok {
			break
		}
		total += n
		if total > imapMaxLiteral {
			return firstWord(full.String()), "", "", errLineTooLong
		}
		if !nonSync {
			if err := sess.c.reply(imapContinue); err != nil {
				return "", "", "", err
			}
		}
		lit, err := sess.c.readFull(n)
		if err != nil {
			return "", "", "", err
		}
		if line, err = sess.c.readLine(imapMaxLine); err != nil {
			return "", "", "", err
		}
		full.WriteString("\r\n")
		full.Write(lit)
		full.WriteString(line)
	}
	text := full.String()
	tag, after, _ := strings.Cut(text, " ")
	if !validTag(tag) {
		return "", "", "", errIMAPSyntax
	}
	name, rest, _ = strings.Cut(after, " ")
	if name == "" {
		return tag, "", "", errIMAPSyntax
	}
	return tag, strings.ToUpper(name), rest, nil
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	if !validTag(w) {
		return ""
	}
	return w
}

func validTag(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return true
}

// dispatch runs one command; false ends the connection.
func (sess *imapSession) dispatch(tag, name, rest string) bool {
	args, err := parseIMAPArgs(rest)
	if err != nil {
		return sess.c.reply(tag+" "+imapArgumentError) == nil
	}
	var lines []string
	uid := false
	if name == "UID" {
		if len(args) == 0 || args[0].isList {
			return sess.c.reply(tag+" "+imapArgumentError) == nil
		}
		uid = true
		name = "UID " + strings.ToUpper(args[0].value)
		args = args[1:]
	}
	switch name {
	case "CAPABILITY":
		lines = []string{"* CAPABILITY " + imapCapabilities, tag + " OK CAPABILITY completed."}
	case "NOOP", "CHECK":
		lines = append(sess.refresh(), tag+" OK "+name+" completed.")
	case "LOGOUT":
		sess.c.reply("* BYE Microsoft Exchange Server IMAP4 server signing off.", tag+" OK LOGOUT completed.")
		return false
	case "ID":
		lines = []string{"* ID NIL", tag + " OK ID completed."}
	case "AUTHENTICATE":
		return sess.authenticate(tag, args)
	case "LOGIN":
		// Basic authentication is off in Exchange Online.
		if sess.state != imapNotAuthenticated {
			lines = []string{tag + " " + imapInvalidState}
		} else {
			sess.srv.logf("%s LOGIN refused: basic authentication is disabled", sess.c.RemoteAddr())
			lines = []string{tag + " NO LOGIN failed."}
		}
	case "SELECT", "EXAMINE", "LIST", "LSUB", "STATUS", "NAMESPACE",
		"FETCH", "STORE", "SEARCH", "UID FETCH", "UID STORE", "UID SEARCH",
		"CLOSE", "UNSELECT", "EXPUNGE":
		lines = sess.mailboxCommand(tag, name, uid, args)
	default:
		lines = []string{tag + " " + imapCommandError}
	}
	return sess.c.reply(lines...) == nil
}

func (sess *imapSession) authenticate(tag string, args []imapArg) bool {
	c := sess.c
	if sess.state != imapNotAuthenticated {
		return c.reply(tag+" "+imapInvalidState) == nil
	}
	if len(args) == 0 || args[0].isList || len(args) > 2 || (len(args) == 2 && args[1].isList) {
		return c.reply(tag+" "+imapArgumentError) == nil
	}
	mech := strings.ToUpper(args[0].value)
	var resp string
	if len(args) == 2 {
		resp = args[1].value
	} else {
		if c.reply("+ ") != nil {
			return false
		}
		line, err := c.readLine(maxSASLLine)
		if err != nil && !errors.Is(err, errLineTooLong) {
			return false
		}
		if line == "*" {
			return c.reply(tag+" BAD AUTHENTICATE aborted.") == nil
		}
		resp = line
	}
	if mech != "XOAUTH2" {
		sess.srv.logf("%s AUTHENTICATE %s refused: only XOAUTH2 is enabled", c.RemoteAddr(), mech)
		return c.reply(tag+" NO AUTHENTICATE failed.") == nil
	}
	user, token, err := parseXOAUTH2(resp)
	if err != nil {
		sess.srv.logf("%s AUTHENTICATE failed: %v", c.RemoteAddr(), err)
		return c.reply(tag+" NO AUTHENTICATE failed.") == nil
	}
	g, d := authorizeSASL(sess.srv.cfg.Backend, user, token, serviceIMAP)
	if d != nil {
		sess.srv.logf("%s AUTHENTICATE user=%s: %s", c.RemoteAddr(), user, d.reason)
	}
	switch {
	case d == nil:
		sess.connected = true
	case d.kind == denyProtocolOff || d.kind == denyNotRegistered || d.kind == denyNoFullAccess:
		// Exchange accepts the login and fails every mailbox command
		// (imapsync issue #250; microsoft.md §10).
		sess.connected = false
	default:
		return c.reply(tag+" NO AUTHENTICATE failed.") == nil
	}
	sess.state = imapAuthenticated
	sess.grant = g
	return c.reply(tag+" OK AUTHENTICATE completed.") == nil
}

// mailboxCommand runs the commands that need an opened mailbox.
func (sess *imapSession) mailboxCommand(tag, name string, uid bool, args []imapArg) []string {
	if sess.state == imapNotAuthenticated {
		return []string{tag + " " + imapInvalidState}
	}
	if !sess.connected {
		return []string{tag + " " + imapNotConnected}
	}
	switch name {
	case "SELECT", "EXAMINE":
		return sess.selectCmd(tag, name, args)
	case "LIST", "LSUB":
		return sess.list(tag, name, args)
	case "STATUS":
		return sess.status(tag, args)
	case "NAMESPACE":
		return []string{`* NAMESPACE (("" "/")) NIL NIL`, tag + " OK NAMESPACE completed."}
	}
	if sess.state != imapSelected {
		return []string{tag + " " + imapInvalidState}
	}
	var lines []string
	switch name {
	case "FETCH", "UID FETCH":
		lines = sess.fetch(tag, name, uid, args)
	case "STORE", "UID STORE":
		lines = sess.store(tag, name, uid, args)
	case "SEARCH", "UID SEARCH":
		lines = sess.search(tag, name, args) // UIDs equal sequence numbers: one answer serves both
	case "CLOSE", "UNSELECT":
		// Deleting is not modelled (Backend has no delete): CLOSE expunges nothing.
		sess.sel, sess.state = nil, imapAuthenticated
		return []string{tag + " OK " + name + " completed."}
	case "EXPUNGE":
		if sess.sel.readOnly {
			return []string{tag + " NO EXPUNGE failed."}
		}
		lines = []string{tag + " OK EXPUNGE completed."}
	}
	// Announce mail that arrived meanwhile before the tagged reply.
	return append(sess.refresh(), lines...)
}

// imapMailbox is the selected INBOX: the Backend's messages, oldest first.
// Backend only ever appends, so message i has sequence number and UID i+1.
type imapMailbox struct {
	address  string
	readOnly bool
	msgs     []Message
	flags    map[string]map[string]bool // session-only flags by message ID
}

func uidValidity(address string) uint32 {
	h := fnv.New32a()
	io.WriteString(h, strings.ToLower(address))
	return h.Sum32()%1000000 + 1
}

func isInbox(name string) bool { return strings.EqualFold(name, "INBOX") }

func (sess *imapSession) selectCmd(tag, name string, args []imapArg) []string {
	if len(args) < 1 || args[0].isList {
		return []string{tag + " " + imapArgumentError}
	}
	sess.sel, sess.state = nil, imapAuthenticated
	if !isInbox(args[0].value) {
		return []string{tag + " NO [NONEXISTENT] Mailbox doesn't exist."}
	}
	addr := sess.grant.mailbox.Address
	mb := &imapMailbox{address: addr, readOnly: name == "EXAMINE", flags: map[string]map[string]bool{}}
	mb.msgs = sess.srv.cfg.Backend.Messages(addr)
	sess.sel, sess.state = mb, imapSelected
	firstUnseen := 0
	for i, m := range mb.msgs {
		if !m.Read {
			firstUnseen = i + 1
			break
		}
	}
	lines := []string{
		fmt.Sprintf("* %d EXISTS", len(mb.msgs)),
		"* 0 RECENT",
		"* FLAGS " + permanentFlags,
		"* OK [PERMANENTFLAGS " + permanentFlags + "] Permanent flags",
	}
	if firstUnseen > 0 {
		lines = append(lines, fmt.Sprintf("* OK [UNSEEN %d] Is the first unseen message", firstUnseen))
	}
	lines = append(lines,
		fmt.Sprintf("* OK [UIDVALIDITY %d] UIDVALIDITY value", uidValidity(addr)),
		fmt.Sprintf("* OK [UIDNEXT %d] The next unique identifier value", len(mb.msgs)+1))
	if mb.readOnly {
		return append(lines, tag+" OK [READ-ONLY] EXAMINE completed.")
	}
	return append(lines, tag+" OK [READ-WRITE] SELECT completed.")
}

// refresh re-reads the selected mailbox and reports new messages.
func (sess *imapSession) refresh() []string {
	if sess.state != imapSelected || sess.sel == nil {
		return nil
	}
	msgs := sess.srv.cfg.Backend.Messages(sess.sel.address)
	grew := len(msgs) > len(sess.sel.msgs)
	sess.sel.msgs = msgs
	if grew {
		return []string{fmt.Sprintf("* %d EXISTS", len(msgs))}
	}
	return nil
}

func (sess *imapSession) list(tag, name string, args []imapArg) []string {
	if len(args) != 2 || args[0].isList || args[1].isList {
		return []string{tag + " " + imapArgumentError}
	}
	pattern := args[1].value
	lines := []string{}
	switch {
	case pattern == "":
		lines = append(lines, `* `+name+` (\Noselect) "/" ""`)
	case matchIMAPPattern(pattern, "INBOX"):
		lines = append(lines, `* `+name+` (\Marked \HasNoChildren) "/" INBOX`)
	}
	return append(lines, tag+" OK "+name+" completed.")
}

// matchIMAPPattern matches a LIST pattern (* and % wildcards) against a
// top-level mailbox name; INBOX matches case-insensitively.
func matchIMAPPattern(pattern, name string) bool {
	pattern, name = strings.ToUpper(pattern), strings.ToUpper(name)
	if pattern == "" {
		return name == ""
	}
	switch pattern[0] {
	case '*', '%':
		for i := 0; i <= len(name); i++ {
			if matchIMAPPattern(pattern[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	return name != "" && pattern[0] == name[0] && matchIMAPPattern(pattern[1:], name[1:])
}

func (sess *imapSession) status(tag string, args []imapArg) []string {
	if len(args) != 2 || args[0].isList || !args[1].isList {
		return []string{tag + " " + imapArgumentError}
	}
	if !isInbox(args[0].value) {
		return []string{tag + " NO [NONEXISTENT] Mailbox doesn't exist."}
	}
	addr := sess.grant.mailbox.Address
	msgs := sess.srv.cfg.Backend.Messages(addr)
	unseen := 0
	for _, m := range msgs {
		if !m.Read {
			unseen++
		}
	}
	var items []string
	for _, a := range args[1].list {
		switch item := strings.ToUpper(a.value); item {
		case "MESSAGES":
			items = append(items, fmt.Sprintf("MESSAGES %d", len(msgs)))
		case "RECENT":
			items = append(items, "RECENT 0")
		case "UIDNEXT":
			items = append(items, fmt.Sprintf("UIDNEXT %d", len(msgs)+1))
		case "UIDVALIDITY":
			items = append(items, fmt.Sprintf("UIDVALIDITY %d", uidValidity(addr)))
		case "UNSEEN":
			items = append(items, fmt.Sprintf("UNSEEN %d", unseen))
		default:
			return []string{tag + " " + imapArgumentError}
		}
	}
	return []string{"* STATUS INBOX (" + strings.Join(items, " ") + ")", tag + " OK STATUS completed."}
}

func (sess *imapSession) search(tag, name string, args []imapArg) []string {
	mb := sess.sel
	n := uint32(len(mb.msgs))
	if len(args) >= 2 && strings.EqualFold(args[0].value, "CHARSET") {
		args = args[2:]
	}
	match := func(i int) bool { return true }
	for j := 0; j < len(args); j++ {
		a := args[j]
		if a.isList {
			return []string{tag + " " + imapArgumentError}
		}
		prev := match
		switch key := strings.ToUpper(a.value); key {
		case "ALL":
		case "SEEN", "UNSEEN":
			want := key == "SEEN"
			match = func(i int) bool { return prev(i) && mb.msgs[i].Read == want }
		case "UID":
			if j+1 >= len(args) {
				return []string{tag + " " + imapArgumentError}
			}
			j++
			set, err := parseNumSet(args[j].value)
			if err != nil {
				return []string{tag + " " + imapArgumentError}
			}
			match = func(i int) bool { return prev(i) && numSetContains(set, uint32(i+1), n) }
		default:
			set, err := parseNumSet(a.value)
			if err != nil {
				return []string{tag + " " + imapArgumentError}
			}
			match = func(i int) bool { return prev(i) && numSetContains(set, uint32(i+1), n) }
		}
	}
	res := "* SEARCH"
	for i := range mb.msgs {
		if match(i) {
			res += fmt.Sprintf(" %d", i+1) // sequence number and UID coincide
		}
	}
	return []string{res, tag + " OK " + name + " completed."}
}

// selected returns the indexes a sequence or UID set names.
func (mb *imapMailbox) selected(set []numRange) []int {
	var out []int
	n := uint32(len(mb.msgs))
	for i := range mb.msgs {
		if numSetContains(set, uint32(i+1), n) {
			out = append(out, i)
		}
	}
	return out
}

func (mb *imapMailbox) flagList(i int) string {
	var fl []string
	if mb.msgs[i].Read {
		fl = append(fl, `\Seen`)
	}
	for _, f := range []string{`\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `$MDNSent`} {
		if mb.flags[mb.msgs[i].ID][f] {
			fl = append(fl, f)
		}
	}
	return "(" + strings.Join(fl, " ") + ")"
}

func (sess *imapSession) store(tag, name string, uid bool, args []imapArg) []string {
	if len(args) != 3 || args[0].isList || args[1].isList {
		return []string{tag + " " + imapArgumentError}
	}
	mb := sess.sel
	set, err := parseNumSet(args[0].value)
	if err != nil {
		return []string{tag + " " + imapArgumentError}
	}
	op := strings.ToUpper(args[1].value)
	silent := strings.HasSuffix(op, ".SILENT")
	op = strings.TrimSuffix(op, ".SILENT")
	if op != "FLAGS" && op != "+FLAGS" && op != "-FLAGS" {
		return []string{tag + " " + imapArgumentError}
	}
	var flags []string
	if args[2].isList {
		for _, f := range args[2].list {
			if f.isList {
				return []string{tag + " " + imapArgumentError}
			}
			flags = append(flags, f.value)
		}
	} else {
		flags = []string{args[2].value}
	}
	if mb.readOnly {
		return []string{tag + " NO " + name + " failed."}
	}
	var lines []string
	for _, i := range mb.selected(set) {
		m := &mb.msgs[i]
		seen := m.Read
		if op == "FLAGS" {
			seen = false
			delete(mb.flags, m.ID)
		}
		for _, f := range flags {
			on := op != "-FLAGS"
			if strings.EqualFold(f, `\Seen`) {
				seen = on
				continue
			}
			if mb.flags[m.ID] == nil {
				mb.flags[m.ID] = map[string]bool{}
			}
			mb.flags[m.ID][canonicalFlag(f)] = on
		}
		if seen != m.Read {
			sess.srv.cfg.Backend.MarkRead(mb.address, m.ID, seen)
			m.Read = seen
		}
		if !silent {
			item := "FLAGS " + mb.flagList(i)
			if uid {
				item = fmt.Sprintf("UID %d %s", i+1, item)
			}
			lines = append(lines, fmt.Sprintf("* %d FETCH (%s)", i+1, item))
		}
	}
	return append(lines, tag+" OK "+name+" completed.")
}

func canonicalFlag(f string) string {
	for _, k := range []string{`\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `$MDNSent`} {
		if strings.EqualFold(f, k) {
			return k
		}
	}
	return f
}
