package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"

	gojson "github.com/goccy/go-json"
	"github.com/gotakaro/takaro"
)

// The response envelope of the reference API: {"data": ..., "meta": {...}}.
// Searches put page, limit and total in meta, and our additions for big
// results: totalIsLowerBound when the total is a lower bound, and
// nextCursor when there is a next page.
// Errors put {code, message, details?} in meta.error, with data {}.

type envelope struct {
	Data any  `json:"data"`
	Meta meta `json:"meta"`
}

type meta struct {
	Page  *int `json:"page,omitempty"`
	Limit *int `json:"limit,omitempty"`
	Total *int `json:"total,omitempty"`
	// TotalIsLowerBound: the search stopped counting at total, and there
	// are more matches. Absent when the total is exact, so that a page of
	// a small result has the reference's meta, which its clients compare.
	TotalIsLowerBound bool       `json:"totalIsLowerBound,omitempty"`
	NextCursor        string     `json:"nextCursor,omitempty"`
	Error             *errorBody `json:"error,omitempty"`
}

type errorBody struct {
	Code    takaro.Code        `json:"code"`
	Message string             `json:"message"`
	Details []validationDetail `json:"details,omitempty"`
}

// statusOf is the only table from error codes to HTTP statuses.
var statusOf = map[takaro.Code]int{
	takaro.CodeValidation:      http.StatusBadRequest,
	takaro.CodeBadRequest:      http.StatusBadRequest,
	takaro.CodeUnauthorized:    http.StatusUnauthorized,
	takaro.CodeForbidden:       http.StatusForbidden,
	takaro.CodeNotFound:        http.StatusNotFound,
	takaro.CodeConflict:        http.StatusConflict,
	takaro.CodeTooManyRequests: http.StatusTooManyRequests,
	takaro.CodeInternal:        http.StatusInternalServerError,
	takaro.CodeUnavailable:     http.StatusServiceUnavailable,

	takaro.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	takaro.CodeNotImplemented:       http.StatusNotImplemented,
}

// pager is implemented by every *takaro.Page[T].
type pager interface {
	Parts() (items any, info takaro.PageInfo)
}

// writeData writes a successful response. Pages become a list in data and
// their numbers in meta; no data becomes {}.
func writeData(w http.ResponseWriter, status int, data any) {
	env := envelope{Data: data}
	if p, ok := data.(pager); ok {
		items, info := p.Parts()
		env.Data, env.Meta.Page, env.Meta.Limit, env.Meta.Total = items, &info.Page, &info.Limit, &info.Total
		env.Meta.TotalIsLowerBound, env.Meta.NextCursor = info.TotalIsLowerBound, info.NextCursor
	} else if v := reflect.ValueOf(data); data == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		env.Data = struct{}{}
	}
	writeJSON(w, status, env)
}

// writeError writes err in the envelope. Anything that is not a
// *takaro.Error is a bug or an outage: it is logged with the request id and
// the client gets only a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	writeInputError(w, r, log, err, nil)
}

// writeInputError writes err, describing a validation error's fields
// against input: the request's path parameters or decoded body.
func writeInputError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, input any) {
	code := takaro.ErrorCode(err)
	status := statusOf[code]
	if errors.Is(err, errBodyTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	body := &errorBody{Code: code, Message: takaro.ErrorMessage(err)}
	if e, ok := errors.AsType[*takaro.Error](err); ok {
		if len(e.Details) > 0 {
			body.Details = validationDetails(e.Details, input)
			if code == takaro.CodeValidation {
				body.Message = validationMessage
			}
		}
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
		}
	}
	if status == http.StatusServiceUnavailable {
		// The client may retry; so may an operator's load balancer.
		w.Header().Set("Retry-After", "1")
		log.WarnContext(r.Context(), "request failed", "request_id", requestID(r.Context()), "error", err.Error())
	} else if status >= 500 && code != takaro.CodeNotImplemented {
		log.ErrorContext(r.Context(), "request failed", "request_id", requestID(r.Context()), "error", err.Error())
	} else {
		noteRefusal(r.Context(), code, body.Message)
	}
	writeJSON(w, status, envelope{Data: struct{}{}, Meta: meta{Error: body}})
}

// writeJSON encodes v with goccy/go-json, which writes the same bytes as
// encoding/json (HTML-safe escaping, omitempty and omitzero, Marshaler and
// TextMarshaler) two to four times faster: encoding the response was a
// quarter of the API's CPU time per request. The body goes out in one
// write with its length, not chunked.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := gojson.Marshal(v)
	if err != nil {
		// Only a value a handler should never return (a channel, a NaN)
		// gets here; the client learns nothing of it.
		status = http.StatusInternalServerError
		body, _ = gojson.Marshal(envelope{Data: struct{}{}, Meta: meta{Error: &errorBody{
			Code: takaro.CodeInternal, Message: takaro.ErrorMessage(err)}}})
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}
