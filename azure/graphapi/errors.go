package graphapi

import (
	"errors"
	"net/http"

	abs "github.com/microsoft/kiota-abstractions-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
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

// errorFromBody maps an error reply through msgraph-sdk-go's odataerrors
// model, the SDK's own error mapping, read nil-safely by GraphError. A body
// the model cannot read (not JSON, an HTML page from a proxy) keeps its
// status with the status text as its code.
func errorFromBody(status int, body []byte) *explain.GraphError {
	raw, _ := explain.ParseGraphBody(status, body)
	node, err := jsonserialization.NewJsonParseNode(body)
	if err != nil {
		return raw
	}
	v, err := node.GetObjectValue(odataerrors.CreateODataErrorFromDiscriminatorValue)
	od, ok := v.(*odataerrors.ODataError)
	if err != nil || !ok || od == nil {
		return raw
	}
	od.ResponseStatusCode = status
	ge, _ := GraphError(od)
	// Graph writes innerError.date without a zone and the model reads it in
	// local time: the text as Graph sent it is the one to show.
	ge.Date = raw.Date
	return ge
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
