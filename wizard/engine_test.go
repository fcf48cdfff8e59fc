package wizard

import (
	"time"

	"github.com/mailoauth/mailoauth/steps/stepstest"
)

// newTestEngine is the shared test double (steps/stepstest) as the drives
// use it: SignIn waits for "a" (Approve), and each login test takes long
// enough for the replication countdown to be seen.
func newTestEngine() *stepstest.Engine {
	e := stepstest.New()
	e.TestDelay = 400 * time.Millisecond
	return e
}

var testTenant = stepstest.Tenant
