package takaro_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
)

// The API writes every instant in UTC with exactly three fractional digits,
// as the reference does; clients compare the strings.
func TestTimeMarshalsWithMilliseconds(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("CET", 3600)
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 1, 31, 8, 58, 36, 0, time.UTC), `"2024-01-31T08:58:36.000Z"`},
		{time.Date(2024, 1, 31, 8, 58, 36, 120_000_000, time.UTC), `"2024-01-31T08:58:36.120Z"`},
		{time.Date(2024, 1, 31, 8, 58, 36, 123_999_999, time.UTC), `"2024-01-31T08:58:36.123Z"`},
		{time.Date(2024, 1, 31, 9, 58, 36, 5_000_000, cet), `"2024-01-31T08:58:36.005Z"`},
	} {
		got, err := json.Marshal(takaro.NewTime(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	// Pointers and struct fields use the same form; nil stays null.
	out, err := json.Marshal(struct {
		At  takaro.Time  `json:"at"`
		Opt *takaro.Time `json:"opt"`
	}{At: takaro.NewTime(time.Unix(0, 0))})
	if err != nil || string(out) != `{"at":"1970-01-01T00:00:00.000Z","opt":null}` {
		t.Errorf("struct = %s, %v", out, err)
	}
}

// Times come back from PostgreSQL's json functions with microseconds and an
// offset; they must decode exactly.
func TestTimeUnmarshalsPostgresJSON(t *testing.T) {
	t.Parallel()
	var got takaro.Time
	if err := json.Unmarshal([]byte(`"2024-01-31T09:58:36.123456+01:00"`), &got); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 1, 31, 8, 58, 36, 123_456_000, time.UTC)
	if !got.Equal(want) {
		t.Fatalf("got %v, want %v", got.Time, want)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &got); err == nil {
		t.Fatal("a malformed time decoded")
	}
}
