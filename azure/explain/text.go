package explain

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Kinds of what Text finds.
const (
	KindAADSTS        = "aadsts"         // an AADSTS code, with or without the token endpoint's JSON
	KindOAuth         = "oauth"          // a token-endpoint error without an AADSTS code
	KindGraph         = "graph"          // a Microsoft Graph error (JSON or code)
	KindIMAP          = "imap"           // an IMAP server's failure reply
	KindPOP           = "pop3"           // a POP3 server's failure reply
	KindSMTP          = "smtp"           // an SMTP server's failure reply
	KindEWS           = "ews"            // an EWS failure (HTTP status, SOAP response code)
	KindExchangeAdmin = "exchange-admin" // an Exchange Online cmdlet's error (PowerShell or the admin API)
	KindUnrecognised  = "unrecognised"   // text the tables do not know
)

// MaxTextInput bounds what Text reads; the rest is ignored (Truncated).
const MaxTextInput = 1 << 20

// Item is one thing Text found in pasted text, or the text it did not
// recognise.
type Item struct {
	Kind string `json:"kind"`
	// Line is the 1-based line of the pasted text it starts on.
	Line int `json:"line"`
	// Text is the exact text the item rests on (the failing reply, the
	// error JSON), with any token, secret or password in it removed.
	Text string `json:"text"`
	// Recognised is false when the tables do not know it: Explanation then
	// says so and holds the exact text, never a guess.
	Recognised  bool        `json:"recognised"`
	Explanation Explanation `json:"explanation"`
	// Server is who answered, from a transcript's greeting.
	Server string `json:"server,omitempty"`
	// Microsoft's ids of the failed request, when the text holds them.
	TraceID       string `json:"trace_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
	Timestamp     string `json:"timestamp,omitempty"`
}

// TextReport is what Text found, in the order it appears.
type TextReport struct {
	Items []Item `json:"items"`
	// Truncated: the text was longer than MaxTextInput.
	Truncated bool `json:"truncated,omitempty"`
}

// Recognised reports whether at least one item was recognised.
func (r TextReport) Recognised() bool {
	for _, it := range r.Items {
		if it.Recognised {
			return true
		}
	}
	return false
}

// WriteText writes the report as plain text, one block per item.
func (r TextReport) WriteText(w io.Writer) error {
	for i, it := range r.Items {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := it.Explanation.Title
		if it.Explanation.Code != "" && it.Explanation.Code != CodeUnrecognised {
			head = it.Explanation.Code + ": " + head
		}
		if !it.Recognised {
			head = "Not recognised (" + it.Kind + "): " + head
		}
		fmt.Fprintf(w, "%s\n  Line %d: %s\n", head, it.Line, it.Text)
		if it.Server != "" {
			fmt.Fprintf(w, "  Server: %s\n", it.Server)
		}
		x := it.Explanation
		fmt.Fprintf(w, "  Cause: %s\n  Fix: %s\n", x.Cause, x.Fix)
		if x.FixCommand != "" {
			fmt.Fprintf(w, "  Run in Exchange Online PowerShell:\n    %s\n", strings.ReplaceAll(x.FixCommand, "\n", "\n    "))
		}
		for _, alt := range x.Alternatives {
			fmt.Fprintf(w, "  Other possible cause: %s. %s Fix: %s\n", alt.Title, alt.Cause, alt.Fix)
		}
		for _, id := range [][2]string{{"Trace ID", it.TraceID}, {"Correlation ID", it.CorrelationID}, {"Request ID", it.RequestID}, {"Timestamp", it.Timestamp}} {
			if id[1] != "" {
				fmt.Fprintf(w, "  %s: %s\n", id[0], id[1])
			}
		}
		if x.Link != "" {
			fmt.Fprintf(w, "  See: %s\n", x.Link)
		}
	}
	if r.Truncated {
		fmt.Fprintf(w, "\nOnly the first %d bytes were read.\n", MaxTextInput)
	}
	_, err := fmt.Fprint(w)
	return err
}

// Text explains pasted text offline: an AADSTS error (the token
// endpoint's JSON or just its line, with its trace and correlation ids), a
// Graph error (JSON or code), an IMAP, POP3, SMTP or EWS reply (one line or
// a whole session transcript, whose failing lines are found and whose
// greeting tells Exchange Online from other servers), or an Exchange Online
// cmdlet's error. Each item is explained from the same tables the login
// test uses; text it does not know comes back as one unrecognised item with
// its exact words. Tokens, secrets and passwords in the text are never
// echoed. Text reads at most MaxTextInput bytes and runs in time linear in
// them.
func Text(s string) TextReport {
	var rep TextReport
	if len(s) > MaxTextInput {
		s, rep.Truncated = s[:MaxTextInput], true
	}
	t := &textScan{src: s, seen: map[string]bool{}}
	t.lines = strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	t.covered = make([]bool, len(t.lines))
	t.jsonObjects()
	t.scanLines()
	rep.Items = t.items
	if len(rep.Items) == 0 {
		text := strings.TrimSpace(s)
		if len(text) > MaxEcho+16<<10 {
			// Redact before cutting, on enough text that a token cut by
			// the echo limit is still whole when it is removed.
			text = text[:MaxEcho+16<<10]
		}
		text = echo(redact(text))
		x := Explanation{
			Code:  CodeUnrecognised,
			Title: "Not recognised",
			Cause: "mailoauth's tables hold no AADSTS code, Graph error, mail server reply or Exchange error in this text, so it does not guess a cause: " + text,
			Fix:   "Paste the exact error text (the whole line, or the server's session transcript); search for its exact words otherwise.",
		}
		rep.Items = []Item{{Kind: KindUnrecognised, Line: 1, Text: text, Explanation: x}}
	}
	for i := range rep.Items {
		it := &rep.Items[i]
		it.Text = strings.ToValidUTF8(it.Text, "\uFFFD")
		it.Explanation.Cause = redact(it.Explanation.Cause)
	}
	return rep
}

type textScan struct {
	src     string
	lines   []string
	covered []bool
	items   []Item
	seen    map[string]bool // dedupe keys
	// transcript state
	greeting map[catalog.Protocol]string
	claims   *pastedClaims
	user     string
	starts   []int // byte offset of each line
}

func (t *textScan) add(it Item) {
	it.Text = echo(it.Text)
	key := it.Kind + "|" + it.Explanation.Code + "|" + it.Text
	if t.seen[key] {
		return
	}
	t.seen[key] = true
	t.items = append(t.items, it)
}

// lineOf is the 0-based line index of byte offset off in src.
func (t *textScan) lineOf(off int) int {
	if t.starts == nil {
		t.starts = []int{0}
		for i := 0; i < len(t.src); i++ {
			if t.src[i] == '\n' {
				t.starts = append(t.starts, i+1)
			}
		}
	}
	return sort.Search(len(t.starts), func(i int) bool { return t.starts[i] > off }) - 1
}

// maxJSONTries and maxJSONSpan bound the JSON search so that text full of
// braces stays linear.
const (
	maxJSONTries = 64
	maxJSONSpan  = 64 << 10
)

var jsonStart = regexp.MustCompile(`\{\s*"`)

// jsonObjects finds the JSON objects in the text and explains the token
// endpoint's, Graph's and Exchange's error bodies among them.
func (t *textScan) jsonObjects() {
	s := t.src
	tries := 0
	for off := 0; off < len(s) && tries < maxJSONTries; {
		loc := jsonStart.FindStringIndex(s[off:])
		if loc == nil {
			return
		}
		i := off + loc[0]
		tries++
		end := i + maxJSONSpan
		if end > len(s) {
			end = len(s)
		}
		dec := json.NewDecoder(strings.NewReader(s[i:end]))
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			off = i + 1
			continue
		}
		n := int(dec.InputOffset())
		if t.jsonItem(raw, t.lineOf(i)) {
			for l, last := t.lineOf(i), t.lineOf(i+n-1); l <= last && l < len(t.covered); l++ {
				t.covered[l] = true
			}
		}
		off = i + n
	}
}

// jsonItem explains one JSON object; false when it is no error body.
func (t *textScan) jsonItem(raw json.RawMessage, line int) bool {
	text := string(raw)
	if ae, ok := ParseAADBody(raw); ok {
		var extra struct {
			Timestamp string `json:"timestamp"`
		}
		_ = json.Unmarshal(raw, &extra)
		codes := ae.Codes
		if len(codes) == 0 {
			x := oauthError(ae.Err, ae.Description)
			t.add(Item{Kind: KindOAuth, Line: line + 1, Text: redact(text), Recognised: x.Fix != "Check the Entra ID sign-in logs for details.", Explanation: x,
				TraceID: ae.TraceID, CorrelationID: ae.CorrelationID, Timestamp: extra.Timestamp})
			return true
		}
		for _, c := range codes {
			_, known := aadTable[c]
			t.seen["aadsts|"+strconv.Itoa(c)] = true
			t.add(Item{Kind: KindAADSTS, Line: line + 1, Text: redact(text), Recognised: known, Explanation: AADSTS(c),
				TraceID: ae.TraceID, CorrelationID: ae.CorrelationID, Timestamp: extra.Timestamp})
		}
		return true
	}
	var body struct {
		Error *struct {
			Code       string         `json:"code"`
			Message    string         `json:"message"`
			InnerError map[string]any `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Error == nil || body.Error.Code == "" {
		return false
	}
	if x, ok := exchangeAdminError(text); ok {
		t.add(Item{Kind: KindExchangeAdmin, Line: line + 1, Text: redact(text), Recognised: true, Explanation: x})
		return true
	}
	ge, _ := ParseGraphBody(0, raw)
	x := Graph(ge)
	known := x.Title != "Microsoft Graph request failed" && x.Title != "Forbidden"
	if !known {
		x.Code, x.Title = ge.Code, "Graph error not in mailoauth's tables"
		x.Cause = fmt.Sprintf("Microsoft Graph answered %s: %s", ge.Code, firstLine(ge.Message))
		x.Fix = "mailoauth does not know this Graph error code, so it does not guess a cause; look the code up in Microsoft Graph's error documentation; the request id identifies the call for Microsoft support."
	}
	t.seen["graph|"+ge.Code] = true
	t.add(Item{Kind: KindGraph, Line: line + 1, Text: redact(text), Recognised: known, Explanation: x, RequestID: ge.RequestID, Timestamp: ge.Date})
	return true
}

var (
	// linePrefix is what logs put before a protocol line: a date and time,
	// a level and logger name, a direction marker (S: C: << >> < >).
	linePrefix = regexp.MustCompile(`^\s*(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s+)?(?:\[?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]?\s+)?(?:(?:DEBUG|INFO|WARN|WARNING|ERROR|TRACE)\b[^:]{0,40}:\s*)?(?:(?:S|C|SERVER|CLIENT|RECV|SEND|IN|OUT|Server|Client)\s*[:>]\s*|<{1,3}\s+|>{1,3}\s+|<-\s+|->\s+)?`)
	// pyBytes is Python's repr of a protocol line: b'...\r\n'.
	pyBytes    = regexp.MustCompile(`^b(['"])(.*?)(?:\\r\\n|\\n)?(['"])$`)
	aadstsCode = regexp.MustCompile(`AADSTS(\d{4,9})\b`)
	traceID    = regexp.MustCompile(`(?i)trace[ _-]?id["']?\s*[:=]\s*["']?([0-9a-f-]{16,})`)
	corrID     = regexp.MustCompile(`(?i)correlation[ _-]?id["']?\s*[:=]\s*["']?([0-9a-f-]{16,})`)
	requestID  = regexp.MustCompile(`(?i)(?:request-id|client-request-id)["']?\s*[:=]\s*["']?([0-9a-f-]{16,})`)
	timestamp  = regexp.MustCompile(`(?i)timestamp["']?\s*[:=]\s*["']?(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z?)`)
	imapTag    = regexp.MustCompile(`^([A-Za-z0-9.+_-]{1,32}) (OK|NO|BAD)(?:\s|$)`)
	popReplyRe = regexp.MustCompile(`^[-+](OK|ERR)(?:\s|$)`)
	smtpCodeRe = regexp.MustCompile(`^([2-5]\d\d)([ -]|$)`)
	smtpStatus = regexp.MustCompile(`^[2-5]\d\d[ -][245]\.\d{1,3}\.\d{1,3}(?:\s|$)`)
	httpStatus = regexp.MustCompile(`^(?:HTTP/\d(?:\.\d)?\s+)(\d{3})\b`)
	b64Blob    = regexp.MustCompile(`[A-Za-z0-9+/]{40,}={0,2}`)
	ewsCode    = regexp.MustCompile(`\b(ErrorInvalidExchangeImpersonationHeaderData|ErrorNonExistentMailbox|ErrorImpersonateUserDenied|ErrorAccessDenied)\b`)
	graphCode  = regexp.MustCompile(`\b(Authorization_RequestDenied|Request_ResourceNotFound|Request_UnsupportedQuery|InvalidAuthenticationToken|MailboxNotEnabledForRESTAPI|NoBackingApplicationObject|ErrorAccessDenied)\b`)
)

func cleanLine(l string) string {
	l = strings.TrimRight(l, "\r")
	l = l[len(linePrefix.FindString(l)):]
	if m := pyBytes.FindStringSubmatch(l); m != nil && m[1] == m[3] {
		l = m[2]
	}
	return strings.TrimSpace(l)
}

func (t *textScan) scanLines() {
	t.greeting = map[catalog.Protocol]string{}
	ews := strings.Contains(t.src, "Exchange.asmx") || strings.Contains(strings.ToLower(t.src), "soap:") || strings.Contains(t.src, "EWS")
	var smtpLines []string
	smtpStart := 0
	for i := 0; i < len(t.lines); i++ {
		if t.covered[i] {
			continue
		}
		raw := t.lines[i]
		l := cleanLine(raw)
		if l == "" {
			continue
		}
		t.credentials(l)
		// Identity lines: the greetings.
		switch {
		case strings.HasPrefix(l, "* OK") || strings.HasPrefix(l, "* PREAUTH"):
			if _, ok := t.greeting[catalog.IMAP]; !ok {
				t.greeting[catalog.IMAP] = l
			}
		case strings.HasPrefix(l, "+OK") && t.greeting[catalog.POP] == "":
			t.greeting[catalog.POP] = l
		case strings.HasPrefix(l, "220 ") && t.greeting[catalog.SMTP] == "":
			t.greeting[catalog.SMTP] = l
		}
		t.aadLine(i, l)
		t.adminLine(i, l)
		// SMTP multi-line replies: "535-..." continues, "535 ..." ends.
		if m := smtpCodeRe.FindStringSubmatch(l); m != nil && !t.imapContext(l) {
			if m[2] == "-" {
				if len(smtpLines) == 0 {
					smtpStart = i
				}
				smtpLines = append(smtpLines, l)
				continue
			}
			if len(smtpLines) == 0 {
				smtpStart = i
			}
			reply := strings.Join(append(smtpLines, l), "\n")
			smtpLines = nil
			if m[1][0] == '4' || m[1][0] == '5' {
				t.mailItem(catalog.SMTP, smtpStart, reply)
			}
			continue
		}
		smtpLines = nil
		switch {
		case imapTag.MatchString(l) && !strings.HasPrefix(l, "* "):
			if m := imapTag.FindStringSubmatch(l); m[2] != "OK" {
				t.mailItem(catalog.IMAP, i, l)
			}
		case popReplyRe.MatchString(l):
			if strings.HasPrefix(l, "-ERR") {
				t.mailItem(catalog.POP, i, l)
			}
		case strings.HasPrefix(l, NoXOAUTH2Prefix):
			p := catalog.IMAP
			if strings.Contains(l, "AUTH XOAUTH2") {
				p = catalog.SMTP
			}
			t.mailItem(p, i, l)
		case ews && httpStatus.MatchString(l):
			code := httpStatus.FindStringSubmatch(l)[1]
			if code == "401" || code == "403" || code[0] == '5' {
				reply := "HTTP " + code
				for j := i + 1; j < len(t.lines) && j <= i+40; j++ {
					h := cleanLine(t.lines[j])
					if strings.HasPrefix(strings.ToLower(h), "x-ms-diagnostics:") {
						reply += " " + h
						break
					}
				}
				t.mailItem(catalog.EWS, i, reply)
			}
		case ewsCode.MatchString(l) && (ews || !graphCode.MatchString(l) || strings.Contains(l, "ResponseCode")):
			t.mailItem(catalog.EWS, i, l)
		case graphCode.MatchString(l):
			t.graphLine(i, l)
		}
	}
}

// imapContext: a line like "250 OK" could be SMTP or an IMAP tag 250; a
// transcript's greeting decides, else the SMTP shape wins unless the
// second word is NO or BAD.
func (t *textScan) imapContext(l string) bool {
	if !imapTag.MatchString(l) {
		return false
	}
	if smtpStatus.MatchString(l) {
		return false
	}
	_, imap := t.greeting[catalog.IMAP]
	_, smtp := t.greeting[catalog.SMTP]
	if imap && !smtp {
		return true
	}
	if smtp && !imap {
		return false
	}
	w := imapTag.FindStringSubmatch(l)[2]
	return w == "NO" || w == "BAD"
}

// credentials reads a client's XOAUTH2 line, if this is one: the user= and
// the token's claims give the explanations real values. The token is
// decoded for diagnosis only, never checked, never echoed.
func (t *textScan) credentials(l string) {
	for _, b := range b64Blob.FindAllString(l, 4) {
		dec, err := base64.StdEncoding.DecodeString(b)
		if err != nil {
			continue
		}
		user, tok, ok := parseXOAUTH2(string(dec))
		if !ok {
			continue
		}
		t.user = user
		if c, ok := decodeClaims(tok); ok {
			t.claims = &c
		}
	}
}

func parseXOAUTH2(s string) (user, token string, ok bool) {
	for _, part := range strings.Split(s, "\x01") {
		switch {
		case strings.HasPrefix(part, "user="):
			user = strings.TrimPrefix(part, "user=")
		case strings.HasPrefix(strings.ToLower(part), "auth=bearer "):
			token, ok = part[len("auth=bearer "):], true
		}
	}
	return user, token, ok && user != ""
}

// pastedClaims are the claims of a token found in pasted text.
type pastedClaims struct {
	aud, tid, user, appID string
	scopes, roles         []string
}

func decodeClaims(tok string) (pastedClaims, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return pastedClaims{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return pastedClaims{}, false
	}
	var c struct {
		Aud   json.RawMessage `json:"aud"`
		Tid   string          `json:"tid"`
		Scp   string          `json:"scp"`
		Roles []string        `json:"roles"`
		UPN   string          `json:"upn"`
		UN    string          `json:"unique_name"`
		PU    string          `json:"preferred_username"`
		AppID string          `json:"appid"`
		Azp   string          `json:"azp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return pastedClaims{}, false
	}
	out := pastedClaims{tid: c.Tid, roles: c.Roles, appID: c.AppID}
	if out.appID == "" {
		out.appID = c.Azp
	}
	var aud string
	if json.Unmarshal(c.Aud, &aud) != nil {
		var auds []string
		if json.Unmarshal(c.Aud, &auds) == nil && len(auds) > 0 {
			aud = auds[0]
		}
	}
	out.aud = aud
	if c.Scp != "" {
		out.scopes = strings.Fields(c.Scp)
	}
	for _, u := range []string{c.UPN, c.UN, c.PU} {
		if u != "" {
			out.user = u
			break
		}
	}
	return out, true
}

// contexts are the MailContexts a pasted reply is explained with: the
// token's own flow when the transcript holds it, else both (delegated and
// app-only), since the explanation differs.
func (t *textScan) contexts(p catalog.Protocol) []MailContext {
	base := MailContext{Mailbox: t.user, Greeting: t.greeting[p]}
	if c := t.claims; c != nil {
		base.TokenAudience, base.TokenTenant, base.TokenUser, base.AppID, base.TenantID = c.aud, c.tid, c.user, c.appID, c.tid
		base.TokenScopes, base.TokenRoles = c.scopes, c.roles
		if len(c.roles) > 0 && len(c.scopes) == 0 {
			base.Flow = catalog.ClientCredentials
		} else {
			base.Flow = catalog.AuthCode
			if base.TokenScopes == nil {
				base.TokenScopes = []string{}
			}
		}
		if base.Flow == catalog.ClientCredentials && base.TokenRoles == nil {
			base.TokenRoles = []string{}
		}
		return []MailContext{base}
	}
	app := base
	app.Flow = catalog.ClientCredentials
	base.Flow = catalog.AuthCode
	return []MailContext{base, app}
}

func kindOf(p catalog.Protocol) string {
	switch p {
	case catalog.IMAP:
		return KindIMAP
	case catalog.POP:
		return KindPOP
	case catalog.SMTP:
		return KindSMTP
	}
	return KindEWS
}

// mailItem explains a failing reply with the login test's tables.
func (t *textScan) mailItem(p catalog.Protocol, line int, reply string) {
	key := "mail|" + string(p) + "|" + reply
	if t.seen[key] {
		return
	}
	t.seen[key] = true
	ctxs := t.contexts(p)
	x := Mail(p, reply, ctxs[0])
	if len(ctxs) > 1 {
		y := Mail(p, reply, ctxs[1])
		if y.Cause != x.Cause || y.FixCommand != x.FixCommand {
			// The flow is unknown: both, each labelled.
			x.Title += " (if the product signs in as a user)"
			y.Title += " (if the product signs in as the app, client credentials)"
			alts := append([]Explanation{}, x.Alternatives...)
			yAlts := y.Alternatives
			y.Alternatives = nil
			x.Alternatives = append(append(alts, y), yAlts...)
		}
	}
	srv := ctxs[0].Server(p)
	it := Item{Kind: kindOf(p), Line: line + 1, Text: redact(reply), Recognised: x.Code != CodeUnrecognised, Explanation: x}
	if srv.Known() && p != catalog.EWS {
		it.Server = srv.Name
		if srv.Greeting != "" {
			it.Server += " (greeting: " + srv.Greeting + ")"
		}
	}
	t.add(it)
}

// aadLine finds AADSTS codes in a line not covered by the JSON, with the
// trace and correlation ids on it or on the few lines after it.
func (t *textScan) aadLine(i int, l string) {
	for _, m := range aadstsCode.FindAllStringSubmatch(l, 8) {
		code, err := strconv.Atoi(m[1])
		if err != nil || t.seen["aadsts|"+m[1]] {
			continue
		}
		t.seen["aadsts|"+m[1]] = true
		_, known := aadTable[code]
		it := Item{Kind: KindAADSTS, Line: i + 1, Text: redact(l), Recognised: known, Explanation: AADSTS(code)}
		window := l
		for j := i + 1; j < len(t.lines) && j <= i+4; j++ {
			window += "\n" + t.lines[j]
		}
		it.TraceID = sub(traceID, window)
		it.CorrelationID = sub(corrID, window)
		it.Timestamp = sub(timestamp, window)
		t.add(it)
	}
}

func sub(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// graphLine explains a Graph error code found in a line without its JSON.
func (t *textScan) graphLine(i int, l string) {
	code := graphCode.FindStringSubmatch(l)[1]
	if t.seen["graph|"+code] {
		return
	}
	t.seen["graph|"+code] = true
	x := Graph(&GraphError{Code: code, Message: l})
	if code == "NoBackingApplicationObject" {
		x = Graph(&GraphError{Status: 400, Code: "Request_BadRequest", DetailCode: code, Message: l})
	}
	t.add(Item{Kind: KindGraph, Line: i + 1, Text: redact(l), Recognised: true, Explanation: x, RequestID: sub(requestID, l)})
}

// adminLine explains an Exchange cmdlet's error on a line.
func (t *textScan) adminLine(i int, l string) {
	if x, ok := exchangeAdminError(l); ok {
		t.add(Item{Kind: KindExchangeAdmin, Line: i + 1, Text: redact(l), Recognised: true, Explanation: x})
	}
}

// exchangeAdmin are Exchange Online cmdlet errors by their .NET exception
// type, as PowerShell prints them ("|Microsoft.Exchange...Exception|text")
// and the admin API returns them (docs/exchange.md).
var exchangeAdmin = []struct {
	words       []string
	code, title string
	cause, fix  string
	retryable   bool
}{
	{[]string{"ManagementObjectNotFoundException", "couldn't be found on"}, "ManagementObjectNotFoundException", "Exchange object not found",
		"Exchange Online has no object by the name given (a mailbox, a service principal registration, a management scope): a typo, another identity form than the cmdlet takes, or an object created moments ago that has not replicated yet.",
		"Check the -Identity value with the matching Get- cmdlet (Get-Mailbox, Get-ServicePrincipal, Get-ManagementScope); if the object was just created, wait a minute and run the cmdlet again.", true},
	{[]string{"ManagementObjectAmbiguousException", "matches multiple entries"}, "ManagementObjectAmbiguousException", "Exchange identity is ambiguous",
		"The identity given matches several Exchange objects.", "Name the object uniquely: a mailbox by its primary SMTP address, a registration by its ObjectId.", false},
	{[]string{"ADObjectAlreadyExistsException", "already exists"}, "ADObjectAlreadyExistsException", "Exchange object already exists",
		"The object the cmdlet creates exists already (for New-ServicePrincipal: Exchange has a registration for this app).",
		"Nothing needs creating: check the existing object (Get-ServicePrincipal shows the registration and its ObjectId, which must be the enterprise application's object id).", false},
	{[]string{"CmdletAccessDeniedException", "isn't within your current write scopes", "is not within your current write scopes"}, "CmdletAccessDeniedException", "No Exchange role for this cmdlet",
		"The signed-in account has no Exchange Online admin role that allows this cmdlet.",
		"Sign in as an Exchange Administrator or Global Administrator (Entra roles), or a member of the Organization Management role group in Exchange; a Global Administrator or Privileged Role Administrator can assign Exchange Administrator.", false},
}

func exchangeAdminError(s string) (Explanation, bool) {
	if !strings.Contains(s, "Microsoft.Exchange") && !strings.Contains(s, "Exception") {
		return Explanation{}, false
	}
	for _, e := range exchangeAdmin {
		for _, w := range e.words {
			if strings.Contains(s, w) && (strings.Contains(w, "Exception") || strings.Contains(s, "Microsoft.Exchange")) {
				msg := s
				if i := strings.LastIndex(s, "|"); i >= 0 && i < len(s)-1 {
					msg = strings.TrimSpace(s[i+1:])
				}
				return Explanation{Code: e.code, Title: e.title, Cause: e.cause + " Exchange said: " + firstLine(msg), Fix: e.fix, Retryable: e.retryable}, true
			}
		}
	}
	return Explanation{}, false
}

var (
	jwtRe    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
	secretRe = regexp.MustCompile(`(?i)((?:client_secret|password|passwd|access_token|refresh_token|id_token|client_assertion|assertion|code_verifier)["']?\s*[:=]\s*["']?)([^"'&\s,}]+)`)
	bearerRe = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/-]{8,}=*`)
)

// MaxEcho bounds the text echoed back for one item.
const MaxEcho = 4 << 10

// echo is s cut to MaxEcho bytes (on a character boundary), saying so.
func echo(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(" … (%d more bytes)", len(s)-cut)
}

// redact removes tokens, XOAUTH2 credentials, secrets and passwords from
// text that is echoed back.
func redact(s string) string {
	s = jwtRe.ReplaceAllString(s, "[token removed]")
	s = b64Blob.ReplaceAllStringFunc(s, func(b string) string {
		if dec, err := base64.StdEncoding.DecodeString(b); err == nil && strings.Contains(strings.ToLower(string(dec)), "auth=bearer") {
			return "[XOAUTH2 credentials removed]"
		}
		return b
	})
	s = secretRe.ReplaceAllString(s, "${1}[removed]")
	s = bearerRe.ReplaceAllString(s, "${1}[removed]")
	return s
}
