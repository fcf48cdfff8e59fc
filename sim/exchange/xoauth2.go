package exchange

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
)

// maxSASLLine bounds a base64 SASL response: access tokens run to a few
// kilobytes; 64 KiB leaves room for the largest real ones.
const maxSASLLine = 64 << 10

var errXOAUTH2Format = errors.New(`XOAUTH2 response is not base64("user=<mailbox>\x01auth=Bearer <token>\x01\x01")`)

// parseXOAUTH2 decodes a SASL XOAUTH2 initial response (microsoft.md §10):
// base64("user=" + mailbox + "\x01auth=Bearer " + token + "\x01\x01").
// It accepts unpadded base64 and a missing final \x01, as lenient servers do,
// and never panics on any input.
func parseXOAUTH2(b64 string) (user, token string, err error) {
	b64 = strings.TrimSpace(b64)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
		if err != nil {
			return "", "", errXOAUTH2Format
		}
	}
	for _, field := range bytes.Split(raw, []byte{0x01}) {
		f := string(field)
		switch {
		case f == "":
		case strings.HasPrefix(f, "user="):
			user = f[len("user="):]
		case strings.HasPrefix(f, "auth="):
			v := f[len("auth="):]
			if len(v) < 7 || !strings.EqualFold(v[:7], "Bearer ") {
				return "", "", errXOAUTH2Format
			}
			token = strings.TrimSpace(v[7:])
		default:
			// Other key=value fields (host=, port= of some clients) are ignored.
			if !strings.Contains(f, "=") {
				return "", "", errXOAUTH2Format
			}
		}
	}
	if user == "" || token == "" {
		return "", "", errXOAUTH2Format
	}
	return user, token, nil
}
