package sim

import (
	"net"
	"net/http"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// Wiring of package exchange's front ends: IMAP, POP3 and SMTP on their own
// listeners, EWS on the "ews" host, Graph mail under the Graph mux.

func (s *Server) exchangeConfig() exchange.Config {
	return exchange.Config{Backend: s.Backend(), TLS: s.ca.serverTLS(), Hostname: "SN6PR01CA0001.outlook.office365.com", Logf: s.opts.Logf, Latency: s.opts.Latency}
}

type protoServer interface {
	Serve(net.Listener) error
	Close() error
}

func (s *Server) startExchange() error {
	cfg := s.exchangeConfig()
	servers := []struct {
		srv  protoServer
		addr *string
	}{
		{exchange.NewIMAPServer(cfg), &s.imapAddr},
		{exchange.NewPOP3Server(cfg), &s.popAddr},
		{exchange.NewSMTPServer(cfg), &s.smtpAddr},
	}
	for _, v := range servers {
		ln, err := listenLocal()
		if err != nil {
			return err
		}
		*v.addr = ln.Addr().String()
		s.closers = append(s.closers, v.srv.Close, ln.Close) // ln too: Serve may not have started yet
		go func(srv protoServer) { _ = srv.Serve(ln) }(v.srv)
	}
	return nil
}

// ewsHandler is the Exchange host (outlook.office365.com): /EWS/Exchange.asmx
// through package exchange, and the admin API (exo_rest.go) beside it.
func (s *Server) ewsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(exoAdminPrefix, s.exoAdminHandler)
	mux.Handle("/EWS/Exchange.asmx", exchange.NewEWSHandler(s.exchangeConfig()))
	mux.Handle("/ews/exchange.asmx", exchange.NewEWSHandler(s.exchangeConfig()))
	return mux
}

// graphMail serves Graph's mail routes through package exchange.
func (s *Server) graphMail(w http.ResponseWriter, r *http.Request) {
	s.mailOnce.Do(func() { s.mailHandler = exchange.NewGraphMailHandler(s.exchangeConfig()) })
	s.mailHandler.ServeHTTP(w, r)
}
