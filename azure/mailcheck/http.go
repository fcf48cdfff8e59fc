package mailcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/explain"
)

const maxBody = 1 << 20

// ewsRequest is GetFolder on the inbox (microsoft.md §13); impersonation is
// added for app-only tokens.
const ewsRequest = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
   xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
   xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2013" />%s
  </soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>
      <m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>`

var (
	ewsResponseCode  = regexp.MustCompile(`<(?:\w+:)?ResponseCode>([^<]+)</`)
	ewsResponseClass = regexp.MustCompile(`ResponseClass="(\w+)"`)
	ewsMessageText   = regexp.MustCompile(`<(?:\w+:)?MessageText>([^<]*)</`)
	ewsFaultString   = regexp.MustCompile(`<faultstring[^>]*>([^<]*)</`)
	ewsTotalCount    = regexp.MustCompile(`<(?:\w+:)?TotalCount>(\d+)</`)
)

// checkEWS posts GetFolder(inbox). The reply recorded is "HTTP <status>"
// plus Exchange's diagnostics, or the SOAP ResponseCode and text.
func checkEWS(ctx context.Context, hc *http.Client, ewsURL string, timeout time.Duration, mailbox, token string, appOnly bool) result {
	header := ""
	if appOnly {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(mailbox))
		header = "\n    <t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>" + b.String() + "</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ewsURL, strings.NewReader(fmt.Sprintf(ewsRequest, header)))
	if err != nil {
		return result{step: "request", err: err}
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+token)
	if appOnly {
		req.Header.Set("X-AnchorMailbox", mailbox)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return result{step: "request", err: unwrapURL(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return result{step: "response", err: err}
	}
	text := string(body)
	code := firstMatch(ewsResponseCode, text)
	msg := firstMatch(ewsMessageText, text)
	if msg == "" {
		msg = firstMatch(ewsFaultString, text)
	}
	if resp.StatusCode != http.StatusOK {
		reply := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if d := resp.Header.Get("X-Ms-Diagnostics"); d != "" {
			reply += " x-ms-diagnostics: " + d
		}
		if code != "" {
			reply += " " + code
		}
		if msg != "" {
			reply += ": " + msg
		}
		return refused("request", reply)
	}
	if firstMatch(ewsResponseClass, text) != "Success" {
		reply := code
		if reply == "" {
			reply = "HTTP 200 without ResponseClass=\"Success\""
		}
		if msg != "" {
			reply += ": " + msg
		}
		return refused("request", reply)
	}
	detail := "GetFolder inbox: Success"
	if n := firstMatch(ewsTotalCount, text); n != "" {
		detail += ", " + n + " messages"
	}
	return result{step: "request", reply: "ResponseClass=\"Success\" " + code, detail: detail}
}

func firstMatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}

// graphResult is the outcome of one Graph call.
func graphCall(ctx context.Context, hc *http.Client, method, u string, body []byte, timeout time.Duration, token string) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, unwrapURL(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, b, err
}

// graphReply is the recorded reply of a failed Graph call.
func graphReply(status int, body []byte) (string, *explain.GraphError) {
	ge, _ := explain.ParseGraphBody(status, body)
	reply := fmt.Sprintf("HTTP %d %s", status, ge.Code)
	if ge.Message != "" {
		reply += ": " + ge.Message
	}
	return reply, ge
}

// checkGraphRead reads the inbox folder and the newest message.
func checkGraphRead(ctx context.Context, hc *http.Client, graphV1 string, timeout time.Duration, mailbox, token string) (result, *explain.GraphError) {
	base := strings.TrimRight(graphV1, "/") + "/users/" + url.PathEscape(mailbox)
	status, body, err := graphCall(ctx, hc, http.MethodGet, base+"/mailFolders/inbox", nil, timeout, token)
	if err != nil {
		return result{step: "inbox", err: err}, nil
	}
	if status != http.StatusOK {
		reply, ge := graphReply(status, body)
		return refused("inbox", reply), ge
	}
	var folder struct {
		TotalItemCount int `json:"totalItemCount"`
	}
	_ = json.Unmarshal(body, &folder)
	status, body, err = graphCall(ctx, hc, http.MethodGet, base+"/messages?$top=1&$select=id,subject,receivedDateTime", nil, timeout, token)
	if err != nil {
		return result{step: "messages", err: err}, nil
	}
	if status != http.StatusOK {
		reply, ge := graphReply(status, body)
		return refused("messages", reply), ge
	}
	return result{step: "messages", reply: "HTTP 200", detail: fmt.Sprintf("inbox read: %d items", folder.TotalItemCount)}, nil
}

// checkGraphSend sends a real test message with sendMail (202 Accepted).
func checkGraphSend(ctx context.Context, hc *http.Client, graphV1 string, timeout time.Duration, mailbox, token, sendTo string) (result, *explain.GraphError) {
	msg := map[string]any{
		"message": map[string]any{
			"subject":      "mailoauth login test",
			"body":         map[string]string{"contentType": "Text", "content": "This message was sent by mailoauth to prove that " + mailbox + " can send through Microsoft Graph."},
			"toRecipients": []any{map[string]any{"emailAddress": map[string]string{"address": sendTo}}},
		},
		"saveToSentItems": false,
	}
	b, _ := json.Marshal(msg)
	u := strings.TrimRight(graphV1, "/") + "/users/" + url.PathEscape(mailbox) + "/sendMail"
	status, body, err := graphCall(ctx, hc, http.MethodPost, u, b, timeout, token)
	if err != nil {
		return result{step: "sendMail", err: err}, nil
	}
	if status != http.StatusAccepted {
		reply, ge := graphReply(status, body)
		return refused("sendMail", reply), ge
	}
	return result{step: "sendMail", reply: "HTTP 202", detail: "test message to " + sendTo + " accepted (202; not proof of delivery)"}, nil
}

// unwrapURL drops net/http's *url.Error wrapper so the cause is classified.
func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
