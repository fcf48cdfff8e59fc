package exchangesetup

import (
	"errors"
	"strings"

	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/internal/model"
)

// UnavailableError means the Exchange part cannot be done in this run: the
// Exchange sign-in was refused, or the signed-in account has no Exchange
// admin role, or Exchange will not use its token. It never fails the
// setup: the engine reports "Entra part done; run exchange-setup.ps1 for
// the rest" with Left as exactly what is left.
type UnavailableError struct {
	// Err is the refused sign-in or cmdlet (an *exchange.Error of Kind
	// AccessDenied or Unauthorized, or the sign-in's error).
	Err error
	// Done are the Exchange changes made before the refusal.
	Done []model.Change
	// Left are the Exchange changes still to make. From Inspect and a
	// refused sign-in, nothing was read, so Left is every change the setup
	// may need (OfflinePlan); from Apply, the plan's remaining changes.
	Left []model.Change
}

func (e *UnavailableError) Error() string {
	var b strings.Builder
	b.WriteString("the Exchange Online part was not done: ")
	b.WriteString(e.Err.Error())
	if len(e.Left) > 0 {
		b.WriteString(". Left to do in Exchange Online (exchange-setup.ps1 does it): ")
		parts := make([]string, len(e.Left))
		for i, c := range e.Left {
			parts[i] = c.Summary()
		}
		b.WriteString(strings.Join(parts, "; "))
	}
	return b.String()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// AsUnavailable returns the UnavailableError in err's chain.
func AsUnavailable(err error) (*UnavailableError, bool) {
	var u *UnavailableError
	ok := errors.As(err, &u)
	return u, ok
}

// Fallback is the UnavailableError for a refused Exchange sign-in (or any
// error before Exchange was read): Left is everything the setup may need
// there.
func Fallback(err error, w Want) *UnavailableError {
	return &UnavailableError{Err: err, Left: OfflinePlan(w).Changes()}
}

// refused: the session cannot do the Exchange part at all.
func refused(err error) bool {
	k := exchange.KindOf(err)
	return k == exchange.AccessDenied || k == exchange.Unauthorized
}

func fallbackIfRefused(err error, w Want) error {
	if refused(err) {
		return Fallback(err, w)
	}
	return err
}
