package takaro

import (
	"encoding/json"
	"unicode/utf8"
)

// The range of PostgreSQL's integer, the type of counters and coordinates.
const (
	MinInt32 = -1 << 31
	MaxInt32 = 1<<31 - 1
)

// validateLength checks that s has between lo and hi characters.
func validateLength(field, s string, lo, hi int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < lo || n > hi {
		return Invalid(field, "must be between %d and %d characters long", lo, hi)
	}
	return nil
}

// validateJSONObject checks that s is the text of a JSON object.
func validateJSONObject(field, s string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
		return Invalid(field, "must be a JSON object encoded as a string")
	}
	return nil
}
