package takaro

import (
	"encoding/json"
	"math"
	"strings"
	"time"
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

// validateOptional checks the length of an optional field; absent passes.
func validateOptional(field string, s *string, lo, hi int) error {
	if s == nil {
		return nil
	}
	return validateLength(field, *s, lo, hi)
}

// validateJSONObject checks that s is the text of a JSON object.
func validateJSONObject(field, s string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
		return Invalid(field, "must be a JSON object encoded as a string")
	}
	return nil
}

// The values PostgreSQL can store and give back unchanged. Every input
// that reaches the database is checked against these rules first (the
// request decoder checks every body, the search builder every query), so
// a value the database would refuse is the caller's 400, never a 500.
const (
	// MinInt and MaxInt bound every integer of the API: each is stored in
	// a PostgreSQL integer (32 bits).
	MinInt = math.MinInt32
	MaxInt = math.MaxInt32
)

// CheckText refuses a string PostgreSQL cannot store in text or jsonb:
// one holding NUL (U+0000), or bytes that are not UTF-8.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Invalid(field, "must not contain the NUL character (U+0000)")
	}
	return nil
}

// CheckInt refuses an integer outside the range of a PostgreSQL integer.
func CheckInt(field string, n int64) error {
	if n < MinInt || n > MaxInt {
		return Invalid(field, "must be an integer between %d and %d", MinInt, MaxInt)
	}
	return nil
}

// CheckTime refuses a time that does not round-trip: PostgreSQL stores
// 4713 BC to 294276 AD, but the API writes times as RFC 3339, whose years
// are 0001 to 9999 (year 0000 would be 1 BC), in UTC.
func CheckTime(field string, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return Invalid(field, "must be a date-time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
	}
	return nil
}
