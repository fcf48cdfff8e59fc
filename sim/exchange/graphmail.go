package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"encoding/base64"

	"github.com/google/uuid"
)

// NewGraphMailHandler returns Microsoft Graph's mail endpoints for one
// mailbox at a time, under /v1.0/users/{id|upn}/ and /v1.0/me/:
// GET mailFolders/inbox, GET messages (and mailFolders/inbox/messages) with
// $top/$skip, POST sendMail. The sim's Graph router hands these paths here.
func NewGraphMailHandler(cfg Config) http.Handler { return &graphMailHandler{cfg: cfg} }

type graphMailHandler struct{ cfg Config }

const (
	graphMaxBody        = 4 << 20
	graphDefaultTop     = 10
	graphMaxTop         = 1000
	graphAccessDenied   = "Access is denied. Check credentials and try again."
	graphMailboxNotREST = "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
)

// graphError writes Graph's error shape.
func graphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	reqID := w.Header().Get("request-id")
	clientID := r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = reqID
	}
	body := map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]string{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        reqID,
			"client-request-id": clientID,
		},
	}}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// graphRoute is a parsed mail path.
type graphRoute struct {
	me       bool
	user     string // {id|upn} for /users/...
	resource string // "inbox", "messages", "sendMail"
}

// parseGraphMailPath recognises the supported paths; ok is false for others.
func parseGraphMailPath(p string) (graphRoute, bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) < 3 || segs[0] != "v1.0" {
		return graphRoute{}, false
	}
	var rt graphRoute
	var rest []string
	switch {
	case strings.EqualFold(segs[1], "me"):
		rt.me, rest = true, segs[2:]
	case strings.EqualFold(segs[1], "users") && len(segs) >= 4:
		u, err := url.PathUnescape(segs[2])
		if err != nil || u == "" {
			return graphRoute{}, false
		}
		rt.user, rest = strings.Trim(u, "'"), segs[3:]
	default:
		return graphRoute{}, false
	}
	switch {
	case len(rest) == 1 && strings.EqualFold(rest[0], "messages"):
		rt.resource = "messages"
	case len(rest) == 1 && strings.EqualFold(rest[0], "sendMail"):
		rt.resource = "sendMail"
	case len(rest) == 2 && strings.EqualFold(rest[0], "mailFolders") && strings.EqualFold(rest[1], "inbox"):
		rt.resource = "inbox"
	case len(rest) == 3 && strings.EqualFold(rest[0], "mailFolders") && strings.EqualFold(rest[1], "inbox") && strings.EqualFold(rest[2], "messages"):
		rt.resource = "messages"
	default:
		return graphRoute{}, false
	}
	return rt, true
}

func (h *graphMailHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", uuid.NewString())
	rt, ok := parseGraphMailPath(r.URL.Path)
	if !ok {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
		return
	}
	wantMethod := http.MethodGet
	if rt.resource == "sendMail" {
		wantMethod = http.MethodPost
	}
	if r.Method != wantMethod {
		graphError(w, r, http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method '"+r.Method+"' is not allowed for this resource.")
		return
	}
	if h.cfg.Backend == nil {
		graphError(w, r, http.StatusInternalServerError, "InternalServerError", "exchange: Config.Backend is nil")
		return
	}
	claims, ok := h.authenticate(w, r, rt)
	if !ok {
		return
	}
	mb, ok := h.mailbox(w, r, rt, claims)
	if !ok {
		return
	}
	switch rt.resource {
	case "inbox":
		h.inbox(w, r, mb)
	case "messages":
		h.messages(w, r, mb)
	case "sendMail":
		h.sendMail(w, r, mb)
	}
}

func lastSegment(p string) string {
	p = strings.Trim(p, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// authenticate checks the token for Graph and the permission the route
// needs; it has answered the request when ok is false.
func (h *graphMailHandler) authenticate(w http.ResponseWriter, r *http.Request, rt graphRoute) (Claims, bool) {
	b := h.cfg.Backend
	raw, ok := bearer(r)
	if !ok {
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return Claims{}, false
	}
	claims, err := b.VerifyToken(raw)
	if err != nil {
		msg := "Access token validation failure."
		if strings.Contains(strings.ToLower(err.Error()), "expired") {
			msg = "Lifetime validation failed, the token is expired."
		}
		h.cfg.logf("graph mail: %s refused: %s", r.RemoteAddr, redact(err.Error(), raw))
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return claims, false
	}
	if !b.KnownTenant(claims.TenantID) {
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer.")
		return claims, false
	}
	if !audienceIn(claims.Audience, graphAudiences) {
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return claims, false
	}
	if claims.AppOnly() || len(claims.Scopes) > 0 {
		return claims, true
	}
	graphError(w, r, http.StatusForbidden, "AccessDenied", "Either scp or roles claim need to be present in the token.")
	return claims, false
}

// mailPermissions are the permissions a route accepts: for the caller's own
// mailbox (delegated) or any mailbox (app-only, Entra roles and RBAC for
// Applications), and for another user's or a shared mailbox (delegated,
// the .Shared scopes plus the user's own FullAccess or SendAs there).
func mailPermissions(rt graphRoute) (own, shared []string) {
	if rt.resource == "sendMail" {
		return []string{"Mail.Send"}, []string{"Mail.Send.Shared"}
	}
	return []string{"Mail.Read", "Mail.ReadWrite"}, []string{"Mail.Read.Shared", "Mail.ReadWrite.Shared"}
}

func hasAny(have, want []string) bool {
	return slices.ContainsFunc(want, func(p string) bool { return slices.Contains(have, p) })
}

// mailbox resolves /me or /users/{id|upn} and applies the permission the
// route needs for that mailbox. Backend looks mailboxes up by address, UPN
// or the owner's object id.
func (h *graphMailHandler) mailbox(w http.ResponseWriter, r *http.Request, rt graphRoute, claims Claims) (Mailbox, bool) {
	b := h.cfg.Backend
	key := rt.user
	if rt.me {
		if claims.AppOnly() {
			graphError(w, r, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
			return Mailbox{}, false
		}
		key = claims.UPN
	} else if !claims.AppOnly() && claims.ObjectID != "" && strings.EqualFold(key, claims.ObjectID) {
		key = claims.UPN
	}
	own, shared := mailPermissions(rt)
	denied := func(why string) (Mailbox, bool) {
		h.cfg.logf("graph mail: %s refused: %s", r.RemoteAddr, why)
		graphError(w, r, http.StatusForbidden, "ErrorAccessDenied", graphAccessDenied)
		return Mailbox{}, false
	}
	mb, ok := b.Mailbox(key)
	if ok && !strings.EqualFold(mb.TenantID, claims.TenantID) {
		ok = false // another tenant's mailbox is not this tenant's user
	}
	if !ok {
		if !claims.AppOnly() && !hasAny(claims.Scopes, append(own, shared...)) {
			return denied("token lacks " + strings.Join(own, " or "))
		}
		graphError(w, r, http.StatusNotFound, "ErrorInvalidUser", "The requested user '"+rt.user+"' is invalid.")
		return Mailbox{}, false
	}
	switch {
	case claims.AppOnly():
		// Entra application permissions reach every mailbox; without them
		// an RBAC for Applications role in scope for this mailbox does
		// (microsoft.md §11 "RBAC for Applications").
		if !hasAny(claims.Roles, own) {
			acc := b.AppAccess(claims.AppID, mb.Address)
			if !acc.Registered || !hasAny(acc.RBAC, own) {
				return denied("app " + claims.AppID + " has no " + strings.Join(own, " or ") + " for " + mb.Address)
			}
		}
	case strings.EqualFold(mb.UPN, claims.UPN):
		if !hasAny(claims.Scopes, append(own, shared...)) {
			return denied("token lacks " + strings.Join(own, " or "))
		}
	default:
		// Another user's or a shared mailbox: Mail.Read.Shared /
		// Mail.Send.Shared and the user's own rights there (microsoft.md
		// §15.3).
		if !hasAny(claims.Scopes, shared) {
			return denied("token lacks " + strings.Join(shared, " or ") + " for another mailbox")
		}
		full, sendAs := b.UserAccess(claims.UPN, mb.Address)
		if rt.resource == "sendMail" && !sendAs || rt.resource != "sendMail" && !full {
			return denied(claims.UPN + " has no FullAccess/SendAs on " + mb.Address)
		}
	}
	if !mb.Enabled {
		graphError(w, r, http.StatusNotFound, "MailboxNotEnabledForRESTAPI", graphMailboxNotREST)
		return Mailbox{}, false
	}
	return mb, true
}

func graphContext(r *http.Request, mb Mailbox, tail string) string {
	return "https://" + r.Host + "/v1.0/$metadata#users('" + url.PathEscape(mb.Address) + "')/" + tail
}

func (h *graphMailHandler) inbox(w http.ResponseWriter, r *http.Request, mb Mailbox) {
	msgs := h.cfg.Backend.Messages(mb.Address)
	unread, size := 0, 0
	for _, m := range msgs {
		size += len(m.Raw)
		if !m.Read {
			unread++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":   graphContext(r, mb, "mailFolders/$entity"),
		"id":               graphID(mb.Address, "inbox"),
		"displayName":      "Inbox",
		"parentFolderId":   graphID(mb.Address, "msgfolderroot"),
		"childFolderCount": 0,
		"unreadItemCount":  unread,
		"totalItemCount":   len(msgs),
		"sizeInBytes":      size,
		"isHidden":         false,
	})
}

// graphID makes a stable opaque id shaped like Graph's URL-safe base64 ids.
func graphID(parts ...string) string {
	return "AAMk" + base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(strings.Join(parts, "/"))))
}

// queryInt reads a non-negative integer query option.
func queryInt(q url.Values, name string, def, max int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Errorf("invalid value '%s' for query option '%s': use a whole number from 0 to %d", v, name, max)
	}
	return n, nil
}

type graphEmail struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type graphRecipient struct {
	EmailAddress graphEmail `json:"emailAddress"`
}

// messages lists the mailbox newest first, with $top and $skip.
func (h *graphMailHandler) messages(w http.ResponseWriter, r *http.Request, mb Mailbox) {
	q := r.URL.Query()
	top, err := queryInt(q, "$top", graphDefaultTop, graphMaxTop)
	if err == nil && top == 0 {
		err = fmt.Errorf("invalid value '0' for query option '$top': use a whole number from 1 to %d", graphMaxTop)
	}
	if err != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	skip, err := queryInt(q, "$skip", 0, 1<<30)
	if err != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	msgs := h.cfg.Backend.Messages(mb.Address)
	slices.Reverse(msgs)
	start := min(skip, len(msgs))
	end := min(start+top, len(msgs))
	value := make([]map[string]any, 0, end-start)
	for _, m := range msgs[start:end] {
		value = append(value, graphMessage(mb, m))
	}
	out := map[string]any{"@odata.context": graphContext(r, mb, "messages"), "value": value}
	if end < len(msgs) {
		next := *r.URL
		nq := next.Query()
		nq.Set("$skip", strconv.Itoa(end))
		nq.Set("$top", strconv.Itoa(top))
		next.RawQuery = nq.Encode()
		out["@odata.nextLink"] = "https://" + r.Host + next.RequestURI()
	}
	writeJSON(w, http.StatusOK, out)
}

func graphMessage(mb Mailbox, m Message) map[string]any {
	var hdr mail.Header
	if msg, err := mail.ReadMessage(bytes.NewReader(m.Raw)); err == nil {
		hdr = msg.Header
	}
	from := graphEmail{Address: m.From}
	if hdr != nil {
		if a, err := mail.ParseAddress(hdr.Get("From")); err == nil {
			from = graphEmail{Name: a.Name, Address: a.Address}
		}
	}
	if from.Name == "" {
		from.Name = from.Address
	}
	// Headers win over the envelope: Message.To holds every envelope
	// recipient, Bcc included, which Graph never shows.
	subject := m.Subject
	to := []graphRecipient{}
	if hdr != nil {
		if s := hdr.Get("Subject"); s != "" {
			if dec, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
				subject = dec
			}
		}
		if list, err := hdr.AddressList("To"); err == nil {
			for _, a := range list {
				name := a.Name
				if name == "" {
					name = a.Address
				}
				to = append(to, graphRecipient{graphEmail{Name: name, Address: a.Address}})
			}
		}
	}
	if len(to) == 0 {
		for _, addr := range m.To {
			to = append(to, graphRecipient{graphEmail{Name: addr, Address: addr}})
		}
	}
	return map[string]any{
		"id":               graphID(mb.Address, m.ID),
		"receivedDateTime": m.Received.UTC().Format("2006-01-02T15:04:05Z"),
		"subject":          subject,
		"bodyPreview":      bodyPreview(m.Raw),
		"isRead":           m.Read,
		"from":             graphRecipient{from},
		"sender":           graphRecipient{from},
		"toRecipients":     to,
		"parentFolderId":   graphID(mb.Address, "inbox"),
	}
}

// bodyPreview is Graph's first 255 characters of the text body, white space
// collapsed. It decodes quoted-printable and base64 and, in multipart mail,
// reads the first text part.
func bodyPreview(raw []byte) string {
	text := textBody(raw, 0)
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > 255 {
		text = string(r[:255])
	}
	return text
}

func textBody(raw []byte, depth int) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil || depth > 5 {
		return ""
	}
	return partText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, depth)
}

func partText(contentType, encoding string, body io.Reader, depth int) string {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") && depth < 5 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if t := partText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); t != "" {
				return t
			}
		}
	}
	if !strings.HasPrefix(mediaType, "text/") {
		return ""
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	s := string(b)
	if mediaType == "text/html" {
		s = stripTags(s)
	}
	return s
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sendMailRequest is Graph's sendMail body.
type sendMailRequest struct {
	Message *struct {
		Subject string `json:"subject"`
		Body    struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
		ToRecipients  []graphRecipient `json:"toRecipients"`
		CcRecipients  []graphRecipient `json:"ccRecipients"`
		BccRecipients []graphRecipient `json:"bccRecipients"`
	} `json:"message"`
	// SaveToSentItems is accepted and ignored: Backend has one folder per
	// mailbox, so there is no Sent Items to save to.
	SaveToSentItems *bool `json:"saveToSentItems"`
}

func (h *graphMailHandler) sendMail(w http.ResponseWriter, r *http.Request, mb Mailbox) {
	var req sendMailRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, graphMaxBody))
	if err := dec.Decode(&req); err != nil {
		graphError(w, r, http.StatusBadRequest, "RequestBodyRead", "The request body is not valid JSON: "+err.Error())
		return
	}
	if req.Message == nil {
		graphError(w, r, http.StatusBadRequest, "ErrorInvalidRequest", "The request body has no 'message' object.")
		return
	}
	m := req.Message
	var to []string
	for _, list := range [][]graphRecipient{m.ToRecipients, m.CcRecipients, m.BccRecipients} {
		for _, rc := range list {
			if _, err := mail.ParseAddress(rc.EmailAddress.Address); err != nil {
				graphError(w, r, http.StatusBadRequest, "ErrorInvalidRecipients",
					"At least one recipient is not valid., Recipient '"+rc.EmailAddress.Address+"' is not resolved. All recipients must be resolved before a message can be submitted.")
				return
			}
			to = append(to, rc.EmailAddress.Address)
		}
	}
	if len(to) == 0 {
		graphError(w, r, http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is not valid.")
		return
	}
	raw := composeMessage(mb, m.Subject, m.Body.ContentType, m.Body.Content, m.ToRecipients, m.CcRecipients)
	if err := h.cfg.Backend.Deliver(mb.Address, to, raw); err != nil {
		h.cfg.logf("graph mail: delivery from %s failed: %v", mb.Address, err)
		graphError(w, r, http.StatusServiceUnavailable, "ErrorMailboxStoreUnavailable", "The mailbox database is temporarily unavailable.")
		return
	}
	h.cfg.logf("graph mail: %s sent %d bytes to %d recipient(s)", mb.Address, len(raw), len(to))
	w.WriteHeader(http.StatusAccepted)
}

// composeMessage renders a sendMail message as RFC 5322 bytes.
func composeMessage(mb Mailbox, subject, contentType, content string, to, cc []graphRecipient) []byte {
	var b bytes.Buffer
	addrList := func(list []graphRecipient) string {
		var out []string
		for _, rc := range list {
			out = append(out, (&mail.Address{Name: rc.EmailAddress.Name, Address: rc.EmailAddress.Address}).String())
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintf(&b, "From: %s\r\n", (&mail.Address{Name: mb.DisplayName, Address: mb.Address}).String())
	if len(to) > 0 {
		fmt.Fprintf(&b, "To: %s\r\n", addrList(to))
	}
	if len(cc) > 0 {
		fmt.Fprintf(&b, "Cc: %s\r\n", addrList(cc))
	}
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", uuid.NewString(), domainOf(mb.Address))
	sub := "plain"
	if strings.EqualFold(contentType, "html") {
		sub = "html"
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/%s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", sub)
	qp := quotedprintable.NewWriter(&b)
	io.WriteString(qp, strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\n", "\r\n"))
	qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
