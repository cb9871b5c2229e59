package httpapi

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gotakaro/takaro"
)

// validationMessage is the reference's message of every validation error;
// the specifics are in the details.
const validationMessage = "Validation error"

// validationDetail is one entry of a validation error's details, in the
// shape of the class-validator errors that the reference's clients read:
// the object that was validated (target), the property, its value, the
// rules it breaks with their messages (constraints), and for a property
// inside an object or list, the error about that inner property (children)
// instead. Path is this implementation's addition: the full path of an
// inner property ("permissions[0].permissionId"), on the innermost entry.
type validationDetail struct {
	Target      any                `json:"target"`
	Value       any                `json:"value"`
	Property    string             `json:"property"`
	Children    []validationDetail `json:"children"`
	Constraints map[string]string  `json:"constraints,omitempty"`
	Path        string             `json:"path,omitempty"`
}

// pathSegment splits "permissions[0].permissionId" into its properties.
var pathSegment = regexp.MustCompile(`[^.\[\]]+`)

// validationDetails describes the field errors of a validation error
// against input, the request's parameters or decoded JSON body (nil when
// there is none).
func validationDetails(fields []takaro.FieldError, input any) []validationDetail {
	out := make([]validationDetail, 0, len(fields))
	for _, f := range fields {
		segments := pathSegment.FindAllString(f.Field, -1)
		if len(segments) == 0 {
			segments = []string{f.Field}
		}
		out = append(out, detailAt(input, segments, f))
	}
	return out
}

// detailAt is the detail of the property segments[0] of target, nesting
// the rest of the path as children.
func detailAt(target any, segments []string, f takaro.FieldError) validationDetail {
	if target == nil {
		target = map[string]any{}
	}
	value := member(target, segments[0])
	shown := value
	if secretProperties[segments[0]] {
		shown = redactedValue
	}
	d := validationDetail{Target: redact(target), Value: redact(shown), Property: segments[0], Children: []validationDetail{}}
	if len(segments) > 1 {
		d.Children = append(d.Children, detailAt(value, segments[1:], f))
		return d
	}
	d.Constraints = map[string]string{constraintName(f.Message): segments[0] + " " + f.Message}
	if f.Field != segments[0] {
		d.Path = f.Field
	}
	return d
}

// secretProperties are the body properties whose values an error never
// echoes: the reference's details repeat the whole body, and an error
// response must not carry a password or connection credentials back
// (through proxies and logs that keep error bodies).
var secretProperties = map[string]bool{"password": true, "connectionInfo": true}

const redactedValue = "<redacted>"

// redact returns v with the values of secret properties replaced, at every
// depth; v itself is left as it is.
func redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if secretProperties[k] {
				out[k] = redactedValue
			} else {
				out[k] = redact(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = redact(x)
		}
		return out
	}
	return v
}

// member is the value of property name of a decoded JSON object or list.
func member(v any, name string) any {
	switch v := v.(type) {
	case map[string]any:
		return v[name]
	case map[string]string:
		return v[name]
	case []any:
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(v) {
			return v[i]
		}
	}
	return nil
}

// constraintNames name the rule a validation message states, in
// class-validator's vocabulary; the first whose text the message contains.
var constraintNames = []struct{ text, name string }{
	{"UUID", "isUuid"},
	{"is required", "isDefined"},
	{"should not exist", "whitelistValidation"},
	{"is not a known field", "whitelistValidation"},
	{"characters long", "isLength"},
	{"bytes long", "maxLength"},
	{"e-mail address", "isEmail"},
	{"one of", "isEnum"},
	{"ISO 8601", "isIso8601"},
	{"JSON object", "isJson"},
	{"must be a string", "isString"},
	{"must be strings", "isString"},
	{"UTF-8", "isString"},
	{"integer", "isInt"},
	{"must be between", "max"},
	{"must not be less than", "min"},
	{"must not be greater than", "max"},
	{"boolean", "isBoolean"},
	{"true or false", "isBoolean"},
	{"must be an array", "isArray"},
	{"must be an object", "isObject"},
	{"does not exist", "exists"},
}

func constraintName(message string) string {
	for _, c := range constraintNames {
		if strings.Contains(message, c.text) {
			return c.name
		}
	}
	return "isValid"
}
