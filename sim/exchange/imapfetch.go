package exchange

import (
	"bytes"
	"fmt"
	"maps"
	"mime"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

// fetch answers FETCH and UID FETCH for the data items clients use:
// UID, FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE/BODY
// (single-part messages), BODY[...] and BODY.PEEK[...] with HEADER,
// HEADER.FIELDS[.NOT], TEXT, MIME-less part 1 and <partial>, RFC822,
// RFC822.HEADER, RFC822.TEXT, and the ALL/FAST/FULL macros.
func (sess *imapSession) fetch(tag, name string, uid bool, args []imapArg) []string {
	mb := sess.sel
	if len(args) != 2 || args[0].isList {
		return []string{tag + " " + imapArgumentError}
	}
	set, err := parseNumSet(args[0].value)
	if err != nil {
		return []string{tag + " " + imapArgumentError}
	}
	var items []string
	if args[1].isList {
		for _, a := range args[1].list {
			if a.isList {
				return []string{tag + " " + imapArgumentError}
			}
			items = append(items, a.value)
		}
	} else {
		switch strings.ToUpper(args[1].value) {
		case "ALL":
			items = []string{"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}
		case "FAST":
			items = []string{"FLAGS", "INTERNALDATE", "RFC822.SIZE"}
		case "FULL":
			items = []string{"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}
		default:
			items = []string{args[1].value}
		}
	}
	if uid && !containsFold(items, "UID") {
		items = append([]string{"UID"}, items...)
	}
	var lines []string
	for _, i := range mb.selected(set) {
		line, err := sess.fetchOne(i, items)
		if err != nil {
			return []string{tag + " " + imapArgumentError}
		}
		lines = append(lines, line)
	}
	return append(lines, tag+" OK "+name+" completed.")
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func (sess *imapSession) fetchOne(i int, items []string) (string, error) {
	mb := sess.sel
	m := mb.msgs[i]
	var parts []string
	markSeen := false
	wroteFlags := false
	for _, item := range items {
		up := strings.ToUpper(item)
		switch up {
		case "UID":
			parts = append(parts, fmt.Sprintf("UID %d", i+1))
		case "FLAGS":
			wroteFlags = true
			parts = append(parts, "") // filled in below, after \Seen may change
		case "INTERNALDATE":
			parts = append(parts, `INTERNALDATE "`+m.Received.Format("02-Jan-2006 15:04:05 -0700")+`"`)
		case "RFC822.SIZE":
			parts = append(parts, fmt.Sprintf("RFC822.SIZE %d", len(m.Raw)))
		case "ENVELOPE":
			parts = append(parts, "ENVELOPE "+envelope(m.Raw))
		case "BODYSTRUCTURE", "BODY":
			bs, err := bodyStructure(m.Raw)
			if err != nil {
				return "", err
			}
			parts = append(parts, up+" "+bs)
		case "RFC822":
			markSeen = true
			parts = append(parts, "RFC822 "+imapLiteral(m.Raw))
		case "RFC822.HEADER":
			h, _ := splitMessage(m.Raw)
			parts = append(parts, "RFC822.HEADER "+imapLiteral(h))
		case "RFC822.TEXT":
			markSeen = true
			_, b := splitMessage(m.Raw)
			parts = append(parts, "RFC822.TEXT "+imapLiteral(b))
		default:
			peek := strings.HasPrefix(up, "BODY.PEEK[")
			if !peek && !strings.HasPrefix(up, "BODY[") {
				return "", errIMAPSyntax
			}
			section, data, err := bodySection(item, m.Raw)
			if err != nil {
				return "", err
			}
			if !peek {
				markSeen = true
			}
			parts = append(parts, section+" "+imapLiteral(data))
		}
	}
	if markSeen && !mb.readOnly && !m.Read {
		sess.srv.cfg.Backend.MarkRead(mb.address, m.ID, true)
		mb.msgs[i].Read = true
		if !wroteFlags {
			parts = append(parts, "")
			wroteFlags = true
		}
	}
	for k, p := range parts {
		if p == "" {
			parts[k] = "FLAGS " + mb.flagList(i)
		}
	}
	return fmt.Sprintf("* %d FETCH (%s)", i+1, strings.Join(parts, " ")), nil
}

// bodySection extracts BODY[<section>]<<partial>> and names it the way the
// response must (BODY[...]<origin>, never PEEK).
func bodySection(item string, raw []byte) (name string, data []byte, err error) {
	open := strings.IndexByte(item, '[')
	closeIdx := strings.LastIndexByte(item, ']')
	if open < 0 || closeIdx < open {
		return "", nil, errIMAPSyntax
	}
	section := strings.ToUpper(item[open+1 : closeIdx])
	partial := item[closeIdx+1:]
	header, body := splitMessage(raw)
	switch {
	case section == "":
		data = raw
	case section == "HEADER":
		data = header
	case section == "TEXT", section == "1":
		data = body
	case strings.HasPrefix(section, "HEADER.FIELDS"):
		not := strings.HasPrefix(section, "HEADER.FIELDS.NOT")
		args, perr := parseIMAPArgs(strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(section, "HEADER.FIELDS.NOT"), "HEADER.FIELDS")))
		if perr != nil || len(args) != 1 || !args[0].isList {
			return "", nil, errIMAPSyntax
		}
		var names []string
		for _, a := range args[0].list {
			names = append(names, a.value)
		}
		data = filterHeader(header, names, not)
	default:
		return "", nil, errIMAPSyntax
	}
	name = "BODY[" + section + "]"
	if partial != "" {
		if len(partial) < 3 || partial[0] != '<' || partial[len(partial)-1] != '>' {
			return "", nil, errIMAPSyntax
		}
		o, l, hasLen := strings.Cut(partial[1:len(partial)-1], ".")
		origin, err1 := strconv.Atoi(o)
		length := len(data)
		var err2 error
		if hasLen {
			length, err2 = strconv.Atoi(l)
		}
		if err1 != nil || err2 != nil || origin < 0 || length < 0 {
			return "", nil, errIMAPSyntax
		}
		origin = min(origin, len(data))
		data = data[origin:min(len(data), origin+min(length, len(data)))]
		name += "<" + strconv.Itoa(origin) + ">"
	}
	return name, data, nil
}

// splitMessage splits raw into its header (with the blank line) and body.
func splitMessage(raw []byte) (header, body []byte) {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+4], raw[i+4:]
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+2], raw[i+2:]
	}
	return raw, nil
}

// filterHeader keeps (or, with not, drops) the named fields, continuation
// lines included, and ends with the blank line as IMAP requires.
func filterHeader(header []byte, names []string, not bool) []byte {
	var out bytes.Buffer
	keep := false
	for _, line := range strings.SplitAfter(string(header), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			field, _, _ := strings.Cut(trimmed, ":")
			keep = containsFold(names, strings.TrimSpace(field)) != not
		}
		if keep {
			out.WriteString(trimmed + "\r\n")
		}
	}
	out.WriteString("\r\n")
	return out.Bytes()
}

// imapLiteral renders data as an IMAP literal.
func imapLiteral(data []byte) string {
	return "{" + strconv.Itoa(len(data)) + "}\r\n" + string(data)
}

// imapNString renders a string or NIL; strings that cannot be quoted go as
// literals.
func imapNString(s string) string {
	if s == "" {
		return "NIL"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c >= 0x80 || c == 0 {
			return imapLiteral([]byte(s))
		}
	}
	return `"` + quoteEscaper.Replace(s) + `"`
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// envelope builds the ENVELOPE structure of RFC 3501 §7.4.2.
func envelope(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
	}
	h := msg.Header
	from := addressList(h.Get("From"))
	sender, replyTo := addressList(h.Get("Sender")), addressList(h.Get("Reply-To"))
	if sender == "NIL" {
		sender = from
	}
	if replyTo == "NIL" {
		replyTo = from
	}
	fields := []string{
		imapNString(h.Get("Date")),
		imapNString(h.Get("Subject")),
		from, sender, replyTo,
		addressList(h.Get("To")),
		addressList(h.Get("Cc")),
		addressList(h.Get("Bcc")),
		imapNString(h.Get("In-Reply-To")),
		imapNString(h.Get("Message-Id")),
	}
	return "(" + strings.Join(fields, " ") + ")"
}

func addressList(v string) string {
	if v == "" {
		return "NIL"
	}
	list, err := mail.ParseAddressList(v)
	if err != nil || len(list) == 0 {
		return "NIL"
	}
	var b strings.Builder
	b.WriteString("(")
	for _, a := range list {
		local, domain, _ := strings.Cut(a.Address, "@")
		fmt.Fprintf(&b, "(%s NIL %s %s)", imapNString(a.Name), imapNString(local), imapNString(domain))
	}
	b.WriteString(")")
	return b.String()
}

// bodyStructure describes a single-part message. Multipart structures are
// not modelled: the command fails rather than describe them wrongly.
func bodyStructure(raw []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		mediaType, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		return "", errIMAPSyntax
	}
	typ, sub, _ := strings.Cut(mediaType, "/")
	var ps []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		ps = append(ps, imapNString(strings.ToUpper(k)), imapNString(params[k]))
	}
	paramList := "NIL"
	if len(ps) > 0 {
		paramList = "(" + strings.Join(ps, " ") + ")"
	}
	enc := msg.Header.Get("Content-Transfer-Encoding")
	if enc == "" {
		enc = "7BIT"
	}
	_, body := splitMessage(raw)
	s := fmt.Sprintf("(%s %s %s NIL NIL %s %d", imapNString(strings.ToUpper(typ)), imapNString(strings.ToUpper(sub)),
		paramList, imapNString(strings.ToUpper(enc)), len(body))
	if strings.EqualFold(typ, "text") {
		s += fmt.Sprintf(" %d", bytes.Count(body, []byte("\n")))
	}
	return s + ")", nil
}
