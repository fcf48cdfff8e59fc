package exchange

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// NewEWSHandler returns Exchange Web Services for POST /EWS/Exchange.asmx:
// GetFolder and FindItem on the inbox, with Exchange's bearer-token,
// impersonation and switch checks (microsoft.md §13). TLS is the caller's.
func NewEWSHandler(cfg Config) http.Handler { return &ewsHandler{cfg: cfg} }

type ewsHandler struct{ cfg Config }

const (
	ewsPath            = "/EWS/Exchange.asmx"
	ewsMaxBody         = 1 << 20
	nsSOAP             = "http://schemas.xmlsoap.org/soap/envelope/"
	nsTypes            = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsMessages         = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsErrors           = "http://schemas.microsoft.com/exchange/services/2006/errors"
	ewsWWWAuthenticate = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1"`
	msgNoMailbox       = "The SMTP address has no mailbox associated with it."
	msgAccessDenied    = "Access is denied. Check credentials and try again."
)

// ewsRequest is what the handler reads from a SOAP request.
type ewsRequest struct {
	operation     string // local name of the Body's first element: GetFolder, FindItem, ...
	impersonate   string // ExchangeImpersonation/ConnectingSID/{SmtpAddress|PrimarySmtpAddress|PrincipalName}
	folderID      string // DistinguishedFolderId/@Id
	folderMailbox string // DistinguishedFolderId/Mailbox/EmailAddress
	otherFolderID bool   // a FolderId (not distinguished) was named
	maxEntries    int    // FindItem IndexedPageItemView/@MaxEntriesReturned; 0 = all
	offset        int    // FindItem IndexedPageItemView/@Offset
}

// parseEWSRequest walks the SOAP envelope. It is deliberately tolerant of
// prefixes and namespaces (clients differ) but requires an Envelope/Body.
func parseEWSRequest(body []byte) (ewsRequest, error) {
	var req ewsRequest
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []string
	sawEnvelope, inBody := false, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return req, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			stack = append(stack, name)
			if len(stack) > 64 {
				return req, fmt.Errorf("elements nested too deeply")
			}
			switch {
			case len(stack) == 1:
				if name != "Envelope" {
					return req, fmt.Errorf("the root element is %s, not a SOAP Envelope", name)
				}
				sawEnvelope = true
			case len(stack) == 2 && name == "Body":
				inBody = true
			case len(stack) == 3 && inBody && req.operation == "":
				req.operation = name
			case name == "DistinguishedFolderId" && req.folderID == "":
				req.folderID = attr(t, "Id")
			case name == "FolderId" && (parent == "FolderIds" || parent == "ParentFolderIds"):
				req.otherFolderID = true
			case name == "IndexedPageItemView":
				req.maxEntries, _ = strconv.Atoi(attr(t, "MaxEntriesReturned"))
				req.offset, _ = strconv.Atoi(attr(t, "Offset"))
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			text := strings.TrimSpace(string(t))
			if text == "" || len(stack) < 2 {
				continue
			}
			name, parent := stack[len(stack)-1], stack[len(stack)-2]
			switch {
			case parent == "ConnectingSID" && (name == "SmtpAddress" || name == "PrimarySmtpAddress" || name == "PrincipalName"):
				req.impersonate = text
			case name == "EmailAddress" && parent == "Mailbox" && len(stack) >= 3 && stack[len(stack)-3] == "DistinguishedFolderId":
				req.folderMailbox = text
			}
		}
	}
	if !sawEnvelope || req.operation == "" {
		return req, fmt.Errorf("no SOAP Envelope with an operation in its Body")
	}
	return req, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (h *ewsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", uuid.NewString())
	if !strings.EqualFold(r.URL.Path, ewsPath) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "EWS accepts POST only", http.StatusMethodNotAllowed)
		return
	}
	if h.cfg.Backend == nil {
		http.Error(w, "exchange: Config.Backend is nil", http.StatusInternalServerError)
		return
	}
	b := h.cfg.Backend
	raw, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", ewsWWWAuthenticate)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	claims, rbac, d := checkToken(b, raw, serviceEWS)
	if d != nil {
		h.cfg.logf("ews: %s refused: %s", r.RemoteAddr, d.reason)
		w.Header().Set("WWW-Authenticate", ewsWWWAuthenticate+`, error="invalid_token"`)
		w.Header().Set("x-ms-diagnostics", ewsDiagnostics(d.kind, claims, r))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	// Set-OrganizationConfig -EwsEnabled / -EwsAllowedAppIDs applies before
	// any mailbox is looked at.
	if !b.EWSAllowed(claims.TenantID, claims.AppID) {
		h.cfg.logf("ews: %s refused: app %s is not allowed to use EWS in this organization", r.RemoteAddr, claims.AppID)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ewsMaxBody))
	if err != nil {
		soapFault(w, "ErrorSchemaValidation", "The request failed schema validation: the request body is too large or unreadable.")
		return
	}
	req, err := parseEWSRequest(body)
	if err != nil {
		soapFault(w, "ErrorSchemaValidation", "The request failed schema validation: "+err.Error())
		return
	}

	var own Mailbox
	var ownOK bool
	var target string
	if claims.AppOnly() {
		if req.impersonate == "" && rbac {
			// No EWS permission in the token and no mailbox whose RBAC
			// could stand in for it.
			w.Header().Set("WWW-Authenticate", ewsWWWAuthenticate+`, error="invalid_token"`)
			w.Header().Set("x-ms-diagnostics", ewsDiagnostics(denyPermission, claims, r))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if req.impersonate == "" {
			h.cfg.logf("ews: %s app %s sent no ExchangeImpersonation header", r.RemoteAddr, claims.AppID)
			soapFault(w, "ErrorInvalidExchangeImpersonationHeaderData", "ExchangeImpersonation SOAP header must be present for this type of OAuth token.")
			return
		}
		own, ownOK = b.Mailbox(req.impersonate)
		if !ownOK || !own.Enabled || !strings.EqualFold(own.TenantID, claims.TenantID) {
			soapFault(w, "ErrorNonExistentMailbox", msgNoMailbox)
			return
		}
		target = own.Address
		// Without full_access_as_app in the token, an RBAC for
		// Applications assignment ('Application EWS.AccessAsApp') in scope
		// for the impersonated mailbox is the only way in; full_access_as_app
		// itself is tenant-wide (microsoft.md §11, §15.2).
		if rbac {
			acc := b.AppAccess(claims.AppID, own.Address)
			if !acc.Registered || !slices.Contains(acc.RBAC, serviceEWS.rbacPermission()) {
				h.cfg.logf("ews: %s refused: app %s has neither full_access_as_app nor an EWS role assignment in scope for %s", r.RemoteAddr, claims.AppID, own.Address)
				w.Header().Set("WWW-Authenticate", ewsWWWAuthenticate+`, error="invalid_token"`)
				w.Header().Set("x-ms-diagnostics", ewsDiagnostics(denyPermission, claims, r))
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		// Microsoft requires X-AnchorMailbox with impersonation; without it
		// real calls are slower or fail with 500/503 at random. The sim
		// serves the call and notes the omission for whoever reads the log.
		if a := r.Header.Get("X-AnchorMailbox"); !strings.EqualFold(a, req.impersonate) {
			h.cfg.logf("ews: %s impersonates %s without a matching X-AnchorMailbox header", r.RemoteAddr, req.impersonate)
		}
	} else {
		own, ownOK = b.Mailbox(claims.UPN)
		if req.impersonate != "" && (!ownOK || !strings.EqualFold(req.impersonate, own.Address) && !strings.EqualFold(req.impersonate, own.UPN)) {
			soapFault(w, "ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.")
			return
		}
		target = claims.UPN
	}
	if req.folderMailbox != "" {
		target = req.folderMailbox
	}
	h.operation(w, r, req, claims, target)
}

// operation runs GetFolder or FindItem on target's inbox.
func (h *ewsHandler) operation(w http.ResponseWriter, r *http.Request, req ewsRequest, claims Claims, target string) {
	b := h.cfg.Backend
	op := req.operation
	if op != "GetFolder" && op != "FindItem" {
		soapFault(w, "ErrorInvalidRequest", "The request is invalid: the simulated EWS supports GetFolder and FindItem only.")
		return
	}
	if req.otherFolderID || !strings.EqualFold(req.folderID, "inbox") {
		soapResponse(w, op, errorMessage(op, "ErrorFolderNotFound", "The specified folder could not be found in the store."))
		return
	}
	mb, ok := b.Mailbox(target)
	if !ok || !mb.Enabled || !strings.EqualFold(mb.TenantID, claims.TenantID) {
		soapResponse(w, op, errorMessage(op, "ErrorNonExistentMailbox", msgNoMailbox))
		return
	}
	if !mb.EWSEnabled {
		h.cfg.logf("ews: %s refused: EWS disabled on %s", r.RemoteAddr, mb.Address)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	// A delegated token opens its own user's mailbox, or one the user holds
	// FullAccess on.
	if !claims.AppOnly() && !strings.EqualFold(mb.UPN, claims.UPN) {
		if full, _ := b.UserAccess(claims.UPN, mb.Address); !full {
			soapResponse(w, op, errorMessage(op, "ErrorAccessDenied", msgAccessDenied))
			return
		}
	}
	msgs := b.Messages(mb.Address)
	if op == "GetFolder" {
		soapResponse(w, op, getFolderMessage(mb, msgs))
		return
	}
	soapResponse(w, op, findItemMessage(mb, msgs, req.offset, req.maxEntries))
}

// ewsDiagnostics renders x-ms-diagnostics for a refused token. Exchange
// uses other numbers too (2000003 for the audience, 2000008 for
// permissions); the sim keeps 2000001 as architecture.md's table says.
func ewsDiagnostics(kind denialKind, c Claims, r *http.Request) string {
	reason, category := "The token is invalid.", "invalid_token"
	switch kind {
	case denyExpired:
		reason, category = "The token has expired.", "invalid_lifetime"
	case denyAudience:
		reason = fmt.Sprintf("The audience claim value is invalid for current resource. Audience claim is '%s', request url is 'https://%s%s' and resource type is 'Exchange'.",
			c.Audience, r.Host, r.URL.Path)
		category = "invalid_resource"
	case denyPermission:
		reason, category = "The token contains no permissions, or permissions can not be understood.", "invalid_grant"
	case denyToken:
		if c.TenantID != "" {
			reason, category = fmt.Sprintf("The tenant for tenant guid '%s' does not exist.", c.TenantID), "invalid_tenant"
		}
	}
	reason = strings.ReplaceAll(reason, `"`, `'`)
	return fmt.Sprintf(`2000001;reason="%s";error_category="%s"`, reason, category)
}

// bearer extracts the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

const soapHeader = `<?xml version="1.0" encoding="utf-8"?>` +
	`<s:Envelope xmlns:s="` + nsSOAP + `"><s:Header>` +
	`<h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="8769" MinorBuildNumber="21" Version="V2018_01_08" ` +
	`xmlns:h="` + nsTypes + `" xmlns="` + nsTypes + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>` +
	`</s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`

func soapResponse(w http.ResponseWriter, op, message string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, soapHeader+
		`<m:`+op+`Response xmlns:m="`+nsMessages+`" xmlns:t="`+nsTypes+`"><m:ResponseMessages>`+
		message+`</m:ResponseMessages></m:`+op+`Response></s:Body></s:Envelope>`)
}

// soapFault answers HTTP 500 with an EWS SOAP fault.
func soapFault(w http.ResponseWriter, code, text string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	t := xmlText(text)
	io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="`+nsSOAP+`"><s:Body><s:Fault>`+
		`<faultcode xmlns:a="`+nsTypes+`">a:`+code+`</faultcode>`+
		`<faultstring xml:lang="en-US">`+t+`</faultstring>`+
		`<detail><e:ResponseCode xmlns:e="`+nsErrors+`">`+code+`</e:ResponseCode>`+
		`<e:Message xmlns:e="`+nsErrors+`">`+t+`</e:Message></detail>`+
		`</s:Fault></s:Body></s:Envelope>`)
}

func errorMessage(op, code, text string) string {
	empty := "<m:Folders/>"
	if op == "FindItem" {
		empty = ""
	}
	return `<m:` + op + `ResponseMessage ResponseClass="Error"><m:MessageText>` + xmlText(text) + `</m:MessageText>` +
		`<m:ResponseCode>` + code + `</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>` + empty +
		`</m:` + op + `ResponseMessage>`
}

// ewsID makes a stable opaque id, shaped like Exchange's base64 ids.
func ewsID(parts ...string) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.ToLower(strings.Join(parts, "/"))))
}

func getFolderMessage(mb Mailbox, msgs []Message) string {
	unread := 0
	for _, m := range msgs {
		if !m.Read {
			unread++
		}
	}
	return fmt.Sprintf(`<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders><t:Folder>`+
		`<t:FolderId Id="%s" ChangeKey="AQAAABYAAAA="/><t:DisplayName>Inbox</t:DisplayName>`+
		`<t:TotalCount>%d</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount><t:UnreadCount>%d</t:UnreadCount>`+
		`</t:Folder></m:Folders></m:GetFolderResponseMessage>`, ewsID(mb.Address, "inbox"), len(msgs), unread)
}

// findItemMessage lists the inbox newest first, paged by Offset and
// MaxEntriesReturned.
func findItemMessage(mb Mailbox, msgs []Message, offset, max int) string {
	total := len(msgs)
	offset = min(max0(offset), total)
	end := total
	if max > 0 {
		end = min(total, offset+max)
	}
	var items strings.Builder
	for i := offset; i < end; i++ {
		m := msgs[total-1-i]
		fmt.Fprintf(&items, `<t:Message><t:ItemId Id="%s" ChangeKey="CQAAABYAAAA="/><t:Subject>%s</t:Subject>`+
			`<t:DateTimeReceived>%s</t:DateTimeReceived><t:IsRead>%t</t:IsRead>`+
			`<t:From><t:Mailbox><t:EmailAddress>%s</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:From></t:Message>`,
			ewsID(mb.Address, m.ID), xmlText(m.Subject), m.Received.UTC().Format(time.RFC3339), m.Read, xmlText(m.From))
	}
	return fmt.Sprintf(`<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`+
		`<m:RootFolder IndexedPagingOffset="%d" TotalItemsInView="%d" IncludesLastItemInRange="%t"><t:Items>%s</t:Items></m:RootFolder>`+
		`</m:FindItemResponseMessage>`, end, total, end == total, items.String())
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}
