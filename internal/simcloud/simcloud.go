// Package simcloud points a cloud.Cloud at the simulated tenant: the same
// token resources as the global cloud (the simulator recognises
// Microsoft's own resource URIs), every endpoint on 127.0.0.1, and the
// simulator's CA as the only trusted root. It is the one place besides
// cli/ where the tool and the simulator meet; sim/ itself never imports
// the tool.
package simcloud

import (
	"fmt"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/sim"
)

// Cloud is the simulated tenant's cloud.
func Cloud(s *sim.Server) (cloud.Cloud, error) {
	info := s.Info()
	c := cloud.Global()
	c.Name = "custom"
	c, err := c.Apply(cloud.Overrides{
		Authority: info.AuthorityHost, GraphURL: info.GraphURL, EWSURL: info.EWSURL,
		IMAP: info.IMAP, POP: info.POP, SMTP: info.SMTP,
	})
	if err != nil {
		return cloud.Cloud{}, fmt.Errorf("simulated tenant endpoints: %w", err)
	}
	c.CAFile = info.CACertFile
	c.RootCAs = s.CertPool()
	c.PortalURL = info.AuthorityHost
	return c, nil
}

// Must is Cloud for tests and benchmarks.
func Must(tb interface{ Fatal(...any) }, s *sim.Server) cloud.Cloud {
	c, err := Cloud(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
