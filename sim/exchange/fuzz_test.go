package exchange

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below run their seed corpus (f.Add plus
// testdata/fuzz/<Name>/) on every plain `go test`; `go test -fuzz=<Name>`
// explores further. Each asserts that hostile input never panics and that
// the parsers' results are consistent.

func FuzzParseXOAUTH2(f *testing.F) {
	f.Add(xoauth2B64("helpdesk@contoso.com", "eyJ0eXAiOiJKV1QifQ.e30.sig"))
	f.Add("dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ") // unpadded
	f.Add("")
	f.Add("*")
	f.Add("====")
	f.Fuzz(func(t *testing.T, in string) {
		user, token, err := parseXOAUTH2(in)
		if err == nil && (user == "" || token == "") {
			t.Fatalf("accepted %q with empty user %q or token %q", in, user, token)
		}
		if err != nil && (user != "" || token != "") {
			t.Fatalf("rejected %q but returned values", in)
		}
	})
}

func FuzzParseIMAPArgs(f *testing.F) {
	f.Add(`1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100> UID)`)
	f.Add("\"quo\\\"ted\" {3}\r\nabc NIL")
	f.Add("((((((((((((((((((((x))))))))))))))))))))")
	f.Add("{99}\r\nshort")
	f.Add("[")
	f.Fuzz(func(t *testing.T, in string) {
		args, err := parseIMAPArgs(in)
		if err == nil {
			walkArgs(t, args, 0)
		}
		set, err := parseNumSet(in)
		if err == nil && len(set) == 0 {
			t.Fatal("empty number set accepted")
		}
		literalSize(in)
	})
}

func walkArgs(t *testing.T, args []imapArg, depth int) {
	if depth > maxIMAPDepth+1 {
		t.Fatal("nesting limit exceeded")
	}
	for _, a := range args {
		if a.isList {
			walkArgs(t, a.list, depth+1)
		}
	}
}

// FuzzReadLine checks the bounded line reader: no line it returns is over
// the limit or contains a line break.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("A01 NOOP\r\nA02 LOGOUT\r\n"), 16)
	f.Add([]byte(strings.Repeat("x", 5000)+"\nshort\n"), 100)
	f.Add([]byte("\r\r\n\n"), 1)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<16 {
			max = 64
		}
		r := bufio.NewReaderSize(strings.NewReader(string(in)), 16)
		for range 10000 {
			line, err := readLine(r, max)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			if err != nil && err != errLineTooLong {
				t.Fatal(err)
			}
			if len(line) > max || strings.ContainsAny(line, "\n") {
				t.Fatalf("line %q over %d or with a newline", line, max)
			}
		}
	})
}

// session runs handle on one end of a pipe, sends in and returns what the
// server wrote. The pipe needs no TLS: handle is what the listener runs
// after the TLS handshake.
func session(t *testing.T, handle func(*lineConn), in []byte) string {
	client, server := net.Pipe()
	// A session that outlives the server's 2 s idle deadline by far is hung.
	wd := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("session hung on input %q", in)) })
	defer wd.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := newLineConn(server, 2*time.Second)
		defer c.Close()
		handle(c)
	}()
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(client)
		out <- string(b)
	}()
	client.SetWriteDeadline(time.Now().Add(2 * time.Second))
	client.Write(in)
	// Half-close is not available on a pipe: give the server time to answer,
	// then hang up so handle sees EOF.
	time.Sleep(time.Millisecond)
	client.Close()
	<-done
	return <-out
}

func fuzzEnv(f *testing.F) *env {
	e := newEnv(f)
	e.cfg.Logf = nil
	return e
}

func FuzzIMAPSession(f *testing.F) {
	e := fuzzEnv(f)
	tok := e.delegated(f, "helpdesk@contoso.com", "IMAP.AccessAsUser.All")
	login := "a AUTHENTICATE XOAUTH2 " + xoauth2B64("helpdesk@contoso.com", tok) + "\r\n"
	f.Add([]byte(login + "b SELECT INBOX\r\nc FETCH 1:* (FLAGS ENVELOPE BODY[] BODYSTRUCTURE)\r\nd UID SEARCH UNSEEN\r\ne STORE 2 +FLAGS (\\Seen)\r\n"))
	f.Add([]byte(login + "b EXAMINE INBOX\r\nc FETCH 1 BODY[HEADER.FIELDS (SUBJECT)]<2.5>\r\nd UID FETCH 9:* RFC822\r\n"))
	f.Add([]byte("a LOGIN {5}\r\n"))
	f.Add([]byte("* * *\r\n\r\n)(\r\n"))
	srv := NewIMAPServer(e.cfg)
	f.Fuzz(func(t *testing.T, in []byte) {
		out := session(t, srv.handle, in)
		if !strings.HasPrefix(out, imapGreeting+"\r\n") {
			t.Fatalf("no greeting: %q", out)
		}
	})
}

func FuzzPOP3Session(f *testing.F) {
	e := fuzzEnv(f)
	tok := e.delegated(f, "helpdesk@contoso.com", "POP.AccessAsUser.All")
	f.Add([]byte("AUTH XOAUTH2\r\n" + xoauth2B64("helpdesk@contoso.com", tok) + "\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nTOP 2 0\r\nDELE 1\r\nRSET\r\nQUIT\r\n"))
	f.Add([]byte("USER x\r\nPASS y\r\nCAPA\r\nRETR -1\r\n"))
	f.Add([]byte("AUTH XOAUTH2 abc\r\n"))
	srv := NewPOP3Server(e.cfg)
	f.Fuzz(func(t *testing.T, in []byte) {
		out := session(t, srv.handle, in)
		if !strings.HasPrefix(out, popGreeting+"\r\n") {
			t.Fatalf("no greeting: %q", out)
		}
	})
}

func FuzzSMTPSession(f *testing.F) {
	e := fuzzEnv(f)
	f.Add([]byte("EHLO x\r\nAUTH XOAUTH2 abc\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n.\r\nQUIT\r\n"))
	f.Add([]byte("HELO\r\nRCPT TO:\r\nMAIL FROM:\r\nAUTH\r\n"))
	srv := NewSMTPServer(e.cfg)
	f.Fuzz(func(t *testing.T, in []byte) {
		out := session(t, srv.handle, in)
		if !strings.HasPrefix(out, "220 "+testHost+" Microsoft ESMTP MAIL Service ready at ") {
			t.Fatalf("no greeting: %q", out)
		}
	})
}

func FuzzParseEWSRequest(f *testing.F) {
	f.Add(ewsBody("GetFolder", "helpdesk@contoso.com", ""))
	f.Add(ewsBody("FindItem", "", "support@contoso.com"))
	f.Add("<Envelope><Body><x/></Body></Envelope>")
	f.Add("<a><a><a>")
	f.Fuzz(func(t *testing.T, in string) {
		req, err := parseEWSRequest([]byte(in))
		if err == nil && req.operation == "" {
			t.Fatal("accepted a request without an operation")
		}
	})
}

func FuzzGraphMailPath(f *testing.F) {
	f.Add("/v1.0/users/helpdesk@contoso.com/mailFolders/inbox")
	f.Add("/v1.0/me/sendMail")
	f.Add("/v1.0/users/%zz/messages")
	f.Add("//")
	f.Fuzz(func(t *testing.T, p string) {
		rt, ok := parseGraphMailPath(p)
		if ok && rt.resource == "" {
			t.Fatal("route without a resource")
		}
		bodyPreview([]byte(p))
	})
}
