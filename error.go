package takaro

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for every layer above the data core. The values
// are the error class names of the reference API, so the HTTP layer can put
// them on the wire as they are.
type Code string

// Error codes. Each maps to exactly one HTTP status in httpapi.
const (
	CodeValidation      Code = "ValidationError"      // malformed input: a field is missing, too long, of the wrong type or unknown
	CodeBadRequest      Code = "BadRequestError"      // well-formed input that a business rule refuses
	CodeUnauthorized    Code = "UnauthorizedError"    // no valid credentials
	CodeForbidden       Code = "ForbiddenError"       // valid credentials without the permission
	CodeNotFound        Code = "NotFoundError"        // no such row in the caller's domain
	CodeConflict        Code = "ConflictError"        // a unique key is already taken
	CodeTooManyRequests Code = "TooManyRequestsError" // too many failed attempts lately; RetryAfter says when to try again
	CodeInternal        Code = "InternalServerError"  // a bug or an outage; never shown in detail
	// CodeUnavailable: the database is unreachable or did not answer within
	// the statement timeout. The request may be retried.
	CodeUnavailable Code = "ServiceUnavailableError"
	// CodeUnsupportedMediaType: a request body that is not JSON.
	CodeUnsupportedMediaType Code = "UnsupportedMediaTypeError"
	// CodeNotImplemented answers what this data core deliberately does not
	// do: running module code or talking to a game server.
	CodeNotImplemented Code = "NotImplementedError"
)

// Error is an error meant to be shown to the caller. Message is written for
// a client and must never contain SQL, keys, secrets or another tenant's
// data; Err, when set, is the underlying cause for logs and errors.Is.
type Error struct {
	Code    Code
	Message string
	// Details names the offending fields of a validation error.
	Details []FieldError
	// RetryAfter, with CodeTooManyRequests, is how long the caller should
	// wait before trying again.
	RetryAfter time.Duration
	Err        error
}

// FieldError names one invalid input field, by its path
// ("permissions[0].permissionId"), and why it is invalid.
type FieldError struct {
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error about one field. The message is the
// field's name followed by format: Invalid("name", "is required").
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{
		Code:    CodeValidation,
		Message: field + " " + msg,
		Details: []FieldError{{Field: field, Message: msg}},
	}
}

// NotFound returns the error for a row that does not exist in the caller's
// domain. It is the same whether the row is absent or belongs to another
// domain, so it reveals nothing about other tenants.
func NotFound(resource string, id any) *Error {
	return Errorf(CodeNotFound, "%s with id %v not found", resource, id)
}

// ErrorCode returns the code of err, or CodeInternal when err is not an
// *Error (anything unexpected is an internal error).
func ErrorCode(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-facing message of err. Errors that are not
// an *Error are internal and get a fixed message, never their own text.
func ErrorMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Internal server error"
}
