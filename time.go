package takaro

import (
	"time"
)

// TimeLayout is how the API writes every instant: UTC with exactly three
// fractional digits, "2024-01-31T08:58:36.000Z", the form of JavaScript's
// Date.toISOString that the reference platform writes. Clients compare these
// strings, so neither a shorter form ("…36Z") nor microseconds will do.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time is an instant in an API response. It marshals with TimeLayout (in
// UTC, truncated to the millisecond) and unmarshals any RFC 3339 time,
// which is also how PostgreSQL's json functions write timestamptz values.
// The embedded time.Time gives it all of time.Time's methods.
type Time struct{ time.Time }

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t} }

// MarshalJSON writes t with TimeLayout, in UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// MarshalText writes t with TimeLayout, in UTC, for map keys and text encoders.
func (t Time) MarshalText() ([]byte, error) {
	return t.UTC().AppendFormat(nil, TimeLayout), nil
}
