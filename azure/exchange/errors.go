package exchange

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what an Exchange refusal means for the caller. The admin API's
// error shapes are undocumented and vary by source and date
// (docs/exchange-admin-api.md §4), so a kind is decided on the exception
// type and text first and on the HTTP status second; whatever matches no
// rule is Unknown, with Exchange's exact words, never a guess.
type Kind string

const (
	// NotFound: the object (mailbox, service principal, scope, role...)
	// does not exist; ManagementObjectNotFoundException, 404 or 400.
	NotFound Kind = "not-found"
	// AlreadyExists: a New-* for an object that exists
	// (ADObjectAlreadyExistsException).
	AlreadyExists Kind = "already-exists"
	// AccessDenied: the signed-in user lacks the Exchange role the cmdlet
	// needs (a bodyless 403 for a token that is otherwise right, or
	// CmdletAccessDeniedException).
	AccessDenied Kind = "access-denied"
	// Unauthorized: the token itself is refused: expired, for another
	// resource (a Graph token), from another client than the module's, or
	// app-only.
	Unauthorized Kind = "unauthorized"
	// Throttled: 429 (or the concurrency message) still refused after the
	// retries.
	Throttled Kind = "throttled"
	// Unavailable: 503/504, a transient Exchange exception, a network
	// failure or no answer in time, still so after the retries. For a
	// write the change may or may not have been made.
	Unavailable Kind = "unavailable"
	// Unknown: any other refusal; Message holds Exchange's exact text.
	Unknown Kind = "unknown"
)

// Error is one refused cmdlet.
type Error struct {
	Kind   Kind
	Cmdlet string
	// Status is the HTTP status (0 for a network failure).
	Status int
	// Code is error.code ("NotFound", "BadRequest"); Type the exception's
	// .NET type ("Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException");
	// StringID Exchange's localized string id ("Ex6F9304") when given.
	Code     string
	Type     string
	StringID string
	// Message is the cmdlet's own words (details[0].message unwrapped,
	// else innererror.internalexception.message, else the body as text).
	Message string
	// RequestID, Diagnostics (x-ms-diagnostics) and Server
	// (X-CalculatedBETarget) identify the request for Microsoft support.
	RequestID   string
	Diagnostics string
	Server      string
	RetryAfter  time.Duration
	// User is the signed-in admin (for AccessDenied).
	User string
	// Token says what was wrong with the token (Unauthorized), or why a
	// bodyless 403 is taken for a missing role (AccessDenied).
	Token string
	// Warnings came with the refusal.
	Warnings []string
	// Err is the underlying network error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Exchange Online %s: ", e.Cmdlet)
	switch e.Kind {
	case AccessDenied:
		who := e.User
		if who == "" {
			who = "the signed-in account"
		}
		fmt.Fprintf(&b, "%s has no Exchange Online admin role that allows %s", who, e.Cmdlet)
		if e.Message != "" {
			fmt.Fprintf(&b, " (%s)", e.Message)
		}
		b.WriteString(". " + RoleFix)
	case Unauthorized:
		b.WriteString("the token was refused")
		if e.Token != "" {
			b.WriteString(": " + e.Token)
		}
		if e.Diagnostics != "" {
			fmt.Fprintf(&b, " (x-ms-diagnostics: %s)", e.Diagnostics)
		}
	case Throttled:
		b.WriteString("throttled")
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	default:
		msg := e.Message
		if msg == "" && e.Err != nil {
			msg = e.Err.Error()
		}
		if msg == "" {
			msg = "no error text"
		}
		if e.Kind == Unknown {
			b.WriteString("unrecognised refusal: ")
		}
		b.WriteString(msg)
	}
	var ids []string
	if e.Status != 0 {
		ids = append(ids, "HTTP "+strconv.Itoa(e.Status))
	}
	if t := shortType(e.Type); t != "" {
		ids = append(ids, t)
	}
	if e.RequestID != "" {
		ids = append(ids, "request-id "+e.RequestID)
	}
	if len(ids) > 0 {
		b.WriteString(" [" + strings.Join(ids, ", ") + "]")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// RoleFix says which roles allow the cmdlets mailoauth runs and who can
// grant them (microsoft.md §5, §11; docs/exchange-admin-api.md §1).
const RoleFix = "Sign in to Exchange Online as a user with the Exchange Administrator or Global Administrator role in Entra ID, " +
	"or a member of the Organization Management role group in Exchange. " +
	"A Global Administrator or Privileged Role Administrator can assign Exchange Administrator (Entra admin center → Roles and administrators); " +
	"a member of Organization Management can add the user to that role group (Exchange admin center → Roles → Admin roles)."

// KindOf is the Kind of an Exchange error, "" for any other error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Is reports whether err is an Exchange error of that kind.
func Is(err error, k Kind) bool { return KindOf(err) == k }

func shortType(t string) string {
	if i := strings.LastIndex(t, "."); i >= 0 {
		return t[i+1:]
	}
	return t
}

// wireError is the OData error body (docs/exchange-admin-api.md §4).
type wireError struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code    any    `json:"code"`
			Target  string `json:"target"`
			Message string `json:"message"`
		} `json:"details"`
		InnerError *struct {
			Message           string `json:"message"`
			Type              string `json:"type"`
			InternalException *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"internalexception"`
		} `json:"innererror"`
	} `json:"error"`
	Warnings []string `json:"@adminapi.warnings"`
}

// serializedException is details[0].message in its JSON form: a .NET
// exception serialized into a string (TMPEXO Get-ExceptionObject; GXS).
type serializedException struct {
	Message         string `json:"Message"`
	ClassName       string `json:"ClassName"`
	TypeName        string `json:"TypeName"`
	LocalizedString *struct {
		StringID string `json:"stringId"`
	} `json:"localizedString"`
}

// parseDetail unwraps details[0].message: the JSON-serialized exception,
// else the pipe form "<stringId>|<type>|<text>", else the text as is.
func parseDetail(s string) (stringID, typ, msg string) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		var ex serializedException
		if json.Unmarshal([]byte(t), &ex) == nil && (ex.Message != "" || ex.ClassName != "" || ex.TypeName != "") {
			typ = ex.ClassName
			if typ == "" {
				typ = ex.TypeName
			}
			if ex.LocalizedString != nil {
				stringID = ex.LocalizedString.StringID
			}
			return stringID, typ, ex.Message
		}
	}
	if parts := strings.SplitN(t, "|", 3); len(parts) == 3 && strings.Contains(parts[1], ".") && !strings.ContainsAny(parts[1], " \t") {
		return strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
	}
	return "", "", t
}

// transientExceptions are the exception names the module and others retry
// (TMPEXO $RetryableExceptions; MPV2).
var transientExceptions = []string{
	"DCOverloadedException", "SuitabilityDirectoryException", "ServerInMMException", "ADServerSettingsChangedException",
	"StorageTransientException", "CmdletProxyNotAvailableFailure", "ServerBusyException", "TransientException", "BackendCommunicationException",
}

// concurrencyText is the concurrency-limit refusal EXH retries.
const concurrencyText = "maximum number of concurrent requests"

// parseError turns a refused response into an *Error. token is what the
// client knows of the token it sent, for a bodyless 403.
func parseError(cmdlet string, status int, h http.Header, body []byte, tok tokenFacts) *Error {
	e := &Error{Cmdlet: cmdlet, Status: status, RequestID: h.Get("request-id"), Diagnostics: h.Get("x-ms-diagnostics"),
		Server: h.Get("X-CalculatedBETarget"), User: tok.upn}
	if ra := parseRetryAfter(h.Get("Retry-After")); ra > 0 {
		e.RetryAfter = ra
	}
	body = decodeBody(body)
	if len(body) > 0 {
		var w wireError
		if json.Unmarshal(body, &w) == nil && w.Error != nil {
			e.Code = w.Error.Code
			e.Warnings = w.Warnings
			if len(w.Error.Details) > 0 && strings.TrimSpace(w.Error.Details[0].Message) != "" {
				e.StringID, e.Type, e.Message = parseDetail(w.Error.Details[0].Message)
			}
			if ie := w.Error.InnerError; ie != nil && ie.InternalException != nil {
				if e.Message == "" {
					e.Message = strings.TrimSpace(ie.InternalException.Message)
				}
				if e.Type == "" {
					e.Type = ie.InternalException.Type
				}
			}
			if e.Message == "" {
				e.Message = strings.TrimSpace(w.Error.Message)
			}
		} else {
			e.Message = printable(body)
		}
	}
	if e.Type == "" {
		e.Type = h.Get("x-ExceptionType")
	}
	e.Kind = classify(e, len(body) == 0, tok)
	return e
}

func classify(e *Error, noBody bool, tok tokenFacts) Kind {
	typ, msg := e.Type, strings.ToLower(e.Message)
	has := func(name string) bool { return strings.Contains(typ, name) }
	switch {
	case has("ManagementObjectNotFoundException"), strings.Contains(msg, "couldn't be found"), strings.Contains(msg, "wasn't found"):
		return NotFound
	case has("ADObjectAlreadyExistsException"), strings.Contains(msg, "already exists"):
		return AlreadyExists
	case has("CmdletAccessDeniedException"), strings.Contains(msg, "aren't present in the role definition"):
		return AccessDenied
	case strings.Contains(msg, concurrencyText):
		return Throttled
	}
	for _, name := range transientExceptions {
		if has(name) || strings.Contains(e.Message, name) {
			return Unavailable
		}
	}
	switch e.Status {
	case http.StatusTooManyRequests:
		return Throttled
	case http.StatusUnauthorized:
		e.Token = tok.describe()
		if reason := diagnosticsReason(e.Diagnostics); reason != "" {
			e.Token = strings.TrimSpace(reason + " " + e.Token)
		}
		return Unauthorized
	case http.StatusForbidden:
		if noBody {
			// Exchange answers a cmdlet outside the caller's roles, an
			// unknown cmdlet and a token it will not use alike: a bodyless
			// 403 (§4). Only the token we sent tells them apart.
			if !tok.decoded {
				e.Message = "HTTP 403 without a body: either the account has no Exchange admin role, or Exchange will not use this token (it could not be read to tell which)"
				return Unknown
			}
			if problem := tok.problem(); problem != "" {
				e.Token = problem
				return Unauthorized
			}
			e.Token = "the token is the ExchangeOnlineManagement module's delegated admin token, so Exchange refused the account's role"
			return AccessDenied
		}
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return Unavailable
	case http.StatusNotFound:
		if e.Code == "NotFound" {
			return NotFound
		}
	}
	return Unknown
}

// diagnosticsReason is the reason="..." of x-ms-diagnostics.
func diagnosticsReason(d string) string {
	_, rest, ok := strings.Cut(d, `reason="`)
	if !ok {
		return ""
	}
	reason, _, _ := strings.Cut(rest, `"`)
	return reason
}

// parseRetryAfter reads Retry-After as (decimal) seconds or an HTTP date;
// the wait is capped at two minutes (DRB caps at 120 s).
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
		d = time.Duration(f * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d > 2*time.Minute {
		d = 2 * time.Minute
	}
	if d < 0 {
		return 0
	}
	return d
}

// printable is a body shown as text: NUL bytes (the admin API pads bodyless
// refusals with them) and invalid UTF-8 dropped, at most 500 characters.
func printable(b []byte) string {
	b = bytes.ReplaceAll(b, []byte{0}, nil)
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), ""))
	if utf8.RuneCountInString(s) > 500 {
		s = string([]rune(s)[:500]) + "…"
	}
	return s
}
