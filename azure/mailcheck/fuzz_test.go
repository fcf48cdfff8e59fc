package mailcheck

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzServerReplies feeds arbitrary server bytes to the reply readers: they
// must return (a reply or an error) without panicking or hanging.
func FuzzServerReplies(f *testing.F) {
	f.Add([]byte("250-a\r\n250 b\r\n"))
	f.Add([]byte("* OK x\r\nA1 OK done\r\n"))
	f.Add([]byte("+ \r\n+OK 3 100\r\n"))
	f.Add([]byte("25"))
	f.Add([]byte("999 nope\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, read := range []func(*wire) error{
			func(w *wire) error { _, _, err := smtpRead(w); return err },
			func(w *wire) error { _, _, err := imapCommand(w, "A1", "NOOP"); return err },
			func(w *wire) error { _, err := popCommand(w, "STAT"); return err },
		} {
			client, server := net.Pipe()
			go func() {
				// Drain what the client sends, answer with the fuzz bytes.
				go io.Copy(io.Discard, server)
				server.Write(data)
				server.Close()
			}()
			w := &wire{conn: client, r: bufio.NewReader(client), timeout: 200 * time.Millisecond}
			done := make(chan struct{})
			go func() { _ = read(w); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("reader hung")
			}
			client.Close()
		}
	})
}
