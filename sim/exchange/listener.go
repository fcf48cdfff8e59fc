package exchange

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// errNoTLS is returned by Serve of an implicit-TLS server without a certificate.
var errNoTLS = errors.New("exchange: Config.TLS is nil; IMAP and POP3 use implicit TLS and need the sim's server certificate")

// connServer is the accept loop and connection bookkeeping shared by the
// IMAP, POP3 and SMTP servers.
type connServer struct {
	cfg         Config
	name        string // "imap", "pop3", "smtp": log prefix
	implicitTLS bool
	handle      func(c *lineConn)

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

func newConnServer(cfg Config, name string, implicitTLS bool, handle func(*lineConn)) *connServer {
	return &connServer{
		cfg: cfg, name: name, implicitTLS: implicitTLS, handle: handle,
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
}

// serve accepts connections on ln until close. It returns nil after close.
func (s *connServer) serve(ln net.Listener) error {
	if s.cfg.Backend == nil {
		return errors.New("exchange: Config.Backend is nil")
	}
	if s.implicitTLS {
		if s.cfg.TLS == nil {
			return errNoTLS
		}
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("exchange %s: accept: %w", s.name, err)
		}
		backoff = 0
		if !s.track(nc) {
			nc.Close()
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(nc)
			// The implicit-TLS handshake runs inside the first write and reads
			// the ClientHello: bound it too, or a silent client pins a goroutine.
			nc.SetDeadline(time.Now().Add(s.cfg.timeout()))
			c := newLineConn(nc, s.cfg.timeout())
			c.latency = s.cfg.Latency
			defer c.Close()
			s.handle(c)
		}()
	}
}

func (s *connServer) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *connServer) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
}

// close stops every listener and connection and waits for the handlers.
func (s *connServer) close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *connServer) logf(format string, args ...any) {
	s.cfg.logf(s.name+": "+format, args...)
}

// errLineTooLong is returned by readLine for a line over its limit; the rest
// of the line has been read and dropped, so the session can go on.
var errLineTooLong = errors.New("line too long")

// lineConn is one client connection read line by line, with an idle
// deadline renewed before every read and write.
type lineConn struct {
	net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
	latency time.Duration // added before each flush
}

func newLineConn(nc net.Conn, timeout time.Duration) *lineConn {
	return &lineConn{Conn: nc, r: bufio.NewReaderSize(nc, 4096), w: bufio.NewWriterSize(nc, 4096), timeout: timeout}
}

// replace swaps the transport (after STARTTLS).
func (c *lineConn) replace(nc net.Conn) {
	c.Conn = nc
	c.r.Reset(nc)
	c.w.Reset(nc)
}

// readLine reads one line of at most max bytes without its CRLF (or bare LF).
func (c *lineConn) readLine(max int) (string, error) {
	c.SetReadDeadline(time.Now().Add(c.timeout))
	return readLine(c.r, max)
}

func readLine(r *bufio.Reader, max int) (string, error) {
	var line []byte
	tooLong := false
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong = true
				line = nil
			} else {
				line = append(line, chunk...)
			}
		}
		if !isPrefix {
			break
		}
	}
	if tooLong {
		return "", errLineTooLong
	}
	return string(line), nil
}

// readFull reads exactly n bytes (an IMAP literal).
func (c *lineConn) readFull(n int) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(c.timeout))
	buf := make([]byte, n)
	_, err := io.ReadFull(c.r, buf)
	return buf, err
}

// reply writes one or more lines, each followed by CRLF, and flushes.
func (c *lineConn) reply(lines ...string) error {
	for _, l := range lines {
		c.w.WriteString(l)
		c.w.WriteString("\r\n")
	}
	return c.flush()
}

func (c *lineConn) flush() error {
	if c.latency > 0 {
		time.Sleep(c.latency)
	}
	c.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.w.Flush()
}

// isTimeout reports whether err is the idle deadline firing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
