package graphapi

import (
	"errors"
	"net/http"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/mailoauth/mailoauth/azure/explain"
)

// GraphError turns an error from a typed msgraph-sdk-go call into an
// *explain.GraphError. It never calls ODataError.Error(), which dereferences
// the message without a nil check and panics on an error body that has none;
// every getter is checked. A non-JSON error body reaches us as a kiota
// ApiError, whose status is kept. ok is false for errors that are not Graph
// responses (network, context).
func GraphError(err error) (*explain.GraphError, bool) {
	if err == nil {
		return nil, false
	}
	var ge *explain.GraphError
	if errors.As(err, &ge) {
		return ge, true
	}
	var od *odataerrors.ODataError
	if errors.As(err, &od) && od != nil {
		out := &explain.GraphError{Status: od.ResponseStatusCode}
		if main := od.GetErrorEscaped(); main != nil {
			out.Code = deref(main.GetCode())
			out.Message = deref(main.GetMessage())
			if details := main.GetDetails(); len(details) > 0 && details[0] != nil {
				out.DetailCode = deref(details[0].GetCode())
			}
			if inner := main.GetInnerError(); inner != nil {
				out.RequestID = deref(inner.GetRequestId())
				if d := inner.GetDate(); d != nil {
					out.Date = d.UTC().Format("2006-01-02T15:04:05Z")
				}
			}
		}
		if out.Code == "" {
			out.Code = http.StatusText(out.Status)
		}
		return out, true
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) && ae != nil {
		return &explain.GraphError{Status: ae.ResponseStatusCode, Code: http.StatusText(ae.ResponseStatusCode), Message: ae.Message}, true
	}
	return nil, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
