package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
)

// Input that PostgreSQL cannot store, or could not give back unchanged, is
// the caller's 400 naming the property (404 for a path id), never a 500:
// NUL in any string, integers beyond 32 bits, times outside RFC 3339's
// years; and a body that is not JSON is a 415.
func TestBadInputIsNeverAServerError(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	root := k.root()
	player := k.player()

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, property           string
		headers                  []header
	}{
		{name: "NUL in a body string", method: "POST", path: "/variables", body: `{"key":"a\u0000b","value":"v"}`,
			status: 400, code: "ValidationError", property: "key"},
		{name: "NUL in an optional body string", method: "POST", path: "/role",
			body: `{"name":"r","permissions":[],"linkedDiscordRoleId":"\u0000"}`, status: 400, code: "ValidationError", property: "linkedDiscordRoleId"},
		{name: "integer beyond 32 bits nested in a body", method: "POST", path: "/role",
			body:   `{"name":"r","permissions":[{"permissionId":"` + k.permissionID(takaro.PermReadPlayers) + `","count":4294967296}]}`,
			status: 400, code: "ValidationError", property: "permissions[0].count"},
		{name: "NUL in a filter", method: "POST", path: "/player/search", body: `{"filters":{"name":["x\u0000"]}}`,
			status: 400, code: "ValidationError", property: "filters.name[0]"},
		{name: "NUL in a search term", method: "POST", path: "/player/search", body: `{"search":{"name":["\u0000"]}}`,
			status: 400, code: "ValidationError", property: "search.name[0]"},
		{name: "NUL in event meta", method: "POST", path: "/event",
			body:   `{"eventName":"chat-message","playerId":"` + player + `","meta":{"msg":"hi\u0000"}}`,
			status: 400, code: "ValidationError", property: "meta.msg"},
		{name: "NUL in a name of event meta", method: "POST", path: "/event",
			body:   `{"eventName":"chat-message","meta":{"deep":{"a\u0000":1}}}`,
			status: 400, code: "ValidationError", property: "meta.deep"},
		{name: "integer beyond 32 bits in greaterThan", method: "POST", path: "/player/search",
			body: `{"greaterThan":{"playtimeSeconds":2147483648}}`, status: 400, code: "ValidationError", property: "greaterThan.playtimeSeconds"},
		{name: "integer beyond 32 bits in lessThan", method: "POST", path: "/gameserver/player/search",
			body: `{"lessThan":{"currency":-2147483649}}`, status: 400, code: "ValidationError", property: "lessThan.currency"},
		{name: "integer beyond 32 bits in a body", method: "POST", path: "/domain", headers: []header{adminHeader()},
			body: `{"name":"big","maxUsers":2147483648}`, status: 400, code: "ValidationError", property: "maxUsers"},
		{name: "page beyond 32 bits", method: "POST", path: "/player/search", body: `{"page":9223372036854775807}`,
			status: 400, code: "ValidationError", property: "page"},
		{name: "year 0000 in a range", method: "POST", path: "/player/search",
			body: `{"greaterThan":{"createdAt":"0000-01-01T00:00:00Z"}}`, status: 400, code: "ValidationError", property: "greaterThan.createdAt"},
		{name: "year 10000 in UTC in a range", method: "POST", path: "/player/search",
			body: `{"lessThan":{"updatedAt":"9999-12-31T23:59:59-23:00"}}`, status: 400, code: "ValidationError", property: "lessThan.updatedAt"},
		{name: "year 10000 in UTC in a body", method: "POST", path: "/variables",
			body: `{"key":"far","value":"v","expiresAt":"9999-12-31T23:59:59-23:00"}`, status: 400, code: "ValidationError", property: "expiresAt"},
		{name: "1 BC in UTC in a body", method: "POST", path: "/apikey",
			body: `{"name":"k","permissions":[],"expiresAt":"0001-01-01T00:00:00+01:00"}`, status: 400, code: "ValidationError", property: "expiresAt"},
		{name: "bytes that are not UTF-8 in a path id", method: "GET", path: "/domain/%ff%fe", headers: []header{adminHeader()},
			status: 404, code: "NotFoundError"},
		{name: "NUL in a path id", method: "GET", path: "/domain/a%00b", headers: []header{adminHeader()},
			status: 404, code: "NotFoundError"},
		{name: "NUL in a path UUID", method: "GET", path: "/player/%00", status: 400, code: "ValidationError", property: "id"},
		{name: "a form body", method: "POST", path: "/variables", body: "key=a&value=b",
			headers: []header{{"Content-Type", "application/x-www-form-urlencoded"}}, status: 415, code: "UnsupportedMediaTypeError"},
		{name: "a text body", method: "POST", path: "/variables", body: `{"key":"a","value":"b"}`,
			headers: []header{{"Content-Type", "text/plain; charset=utf-8"}}, status: 415, code: "UnsupportedMediaTypeError"},
		{name: "a malformed Content-Type", method: "POST", path: "/variables", body: `{"key":"a","value":"b"}`,
			headers: []header{{"Content-Type", "application/json; ="}}, status: 415, code: "UnsupportedMediaTypeError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := s.forTest(t).do(tc.method, tc.path, body, append([]header{root}, tc.headers...)...)
			r.expect(t, tc.status, tc.code)
			if tc.property == "" {
				return
			}
			if len(r.Meta.Error.Details) != 1 || !r.namesField(tc.property) || slices.ContainsFunc(r.complaints(), func(c string) bool {
				return strings.Contains(c, "should not exist")
			}) {
				t.Fatalf("details %s, want property %s", r.Raw, tc.property)
			}
		})
	}

	// JSON under any JSON media type, or with no Content-Type at all, is
	// read as JSON; an empty body needs none.
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/vnd.api+json", ""} {
		key := unique("ct")
		s.do(http.MethodPost, "/variables", fmt.Sprintf(`{"key":%q,"value":"v"}`, key), root, header{"Content-Type", ct}).
			expect(t, http.StatusOK)
	}
	s.do(http.MethodPost, "/player/search", "", root, header{"Content-Type", "text/plain"}).expect(t, http.StatusOK)
}

// A search holds at most takaro.MaxSearchTerms values across its filters
// and search terms, and takaro.MaxExtend extensions.
func TestSearchCostIsBounded(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	terms := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("t", i)
		}
		return out
	}
	half := takaro.MaxSearchTerms / 2
	s.do(http.MethodPost, "/player/search", map[string]any{
		"filters": map[string]any{"name": terms(half)}, "search": map[string]any{"steamId": terms(takaro.MaxSearchTerms - half)},
	}, k.root()).expect(t, http.StatusOK)
	r := s.do(http.MethodPost, "/player/search", map[string]any{
		"filters": map[string]any{"name": terms(half)}, "search": map[string]any{"steamId": terms(takaro.MaxSearchTerms - half + 1)},
	}, k.root()).expect(t, http.StatusBadRequest, "ValidationError")
	if !slices.ContainsFunc(r.complaints(), func(c string) bool { return strings.Contains(c, fmt.Sprint("at most ", takaro.MaxSearchTerms)) }) {
		t.Errorf("complaints %q", r.complaints())
	}
	extend := make([]string, takaro.MaxExtend+1)
	for i := range extend {
		extend[i] = "roleAssignments"
	}
	s.do(http.MethodPost, "/player/search", map[string]any{"extend": extend[:takaro.MaxExtend]}, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/player/search", map[string]any{"extend": extend}, k.root()).expect(t, http.StatusBadRequest, "ValidationError")
}

// FuzzRequestBody sends one body to a create, a search and the event log:
// no body may lead to a 500, and whatever a create accepts reads back
// unchanged. Without -fuzz it runs the seeds.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"key":"k","value":"v"}`, `{"key":"a\u0000b","value":"v"}`, `{"key":"k","value":"\ud800"}`,
		`{"key":"k","value":"v","expiresAt":"9999-12-31T23:59:59-23:00"}`, `{"key":"k","value":"v","expiresAt":"0000-01-01T00:00:00Z"}`,
		`{"filters":{"name":["x\u0000"]}}`, `{"search":{"name":["\u0000"]}}`, `{"greaterThan":{"playtimeSeconds":2147483648}}`,
		`{"lessThan":{"createdAt":"0000-01-01T00:00:00Z"}}`, `{"filters":{"playtimeSeconds":[1e400]}}`, `{"page":-1,"limit":1e9}`,
		`{"eventName":"chat-message","meta":{"msg":"hi\u0000"}}`, `{"eventName":"chat-message","meta":{"a\u0000":[1,{"b":"\u0000"}]}}`,
		`{"eventName":"chat-message","meta":{"n":1e999,"s":"\\u0000"}}`, "{\"key\":\"\xff\xfe\",\"value\":\"v\"}", `[`, ``, `null`,
	} {
		f.Add(seed)
	}
	s := newTestServer(f)
	root := newKit(f, s, map[string]any{"maxVariables": 1_000_000}).root()
	f.Fuzz(func(t *testing.T, body string) {
		s := s.forTest(t)
		for _, path := range []string{"/variables", "/player/search", "/event"} {
			r := s.do(http.MethodPost, path, body, root)
			if r.Status >= 500 {
				t.Fatalf("POST %s %q: %d %s", path, body, r.Status, r.Raw)
			}
			if r.Status != http.StatusOK || path == "/player/search" {
				continue
			}
			var id struct{ ID string }
			r.decode(t, &id)
			sent, ok := canonicalJSON(t, []byte(body)).(map[string]any)
			if !ok {
				t.Fatalf("POST %s accepted %q, which is not an object", path, body)
			}
			stored := canonicalJSON(t, s.do(http.MethodGet, path+"/"+id.ID, nil, root).expect(t, http.StatusOK).Data).(map[string]any)
			for name, v := range sent {
				if name == "eventName" || name == "expiresAt" { // checked by their own tests
					continue
				}
				if !reflect.DeepEqual(stored[name], v) {
					t.Errorf("POST %s %q: %s reads back as %v", path, body, name, stored[name])
				}
			}
		}
	})
}

// canonicalJSON decodes data with every number as a big.Float's text, so
// that values compare by meaning: jsonb keeps numbers exactly but writes
// 1e999 out in digits.
func canonicalJSON(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			f, ok := new(big.Float).SetString(string(x))
			if !ok {
				t.Fatalf("number %s", x)
			}
			return f.Text('g', -1)
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	return walk(v)
}
