package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Golden files hold the exact shape of responses: status, envelope, every
// property and its type. Values that change from run to run (ids, times,
// tokens, domain ids, passwords) are replaced with stable placeholders
// first; everything else must match byte for byte, so any added, removed,
// renamed or retyped property fails the comparison.
//
// Regenerate them with: go test ./httpapi -run 'TestShapes|TestErrorShapes' -update

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	// Only the reference's form (UTC, three fractional digits) becomes a
	// placeholder, so a time written any other way shows in the diff.
	timestampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	sessionPattern   = regexp.MustCompile(`takaro_s_[0-9A-Za-z]+`)
	apiKeyPattern    = regexp.MustCompile(`takaro_k_[0-9A-Za-z]+`)
	jwtPattern       = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

// literal is a known volatile text and its placeholder.
type literal struct{ text, placeholder string }

// normalizer replaces volatile values in one response. UUIDs are numbered
// in order of first appearance (keys in sorted order), so a golden file
// still shows which ids are the same.
type normalizer struct {
	literals []literal
	uuids    map[string]string
}

func newNormalizer(literals ...literal) *normalizer {
	ls := slices.Clone(literals)
	// Longest first, so that a text containing another is replaced whole.
	slices.SortFunc(ls, func(a, b literal) int { return len(b.text) - len(a.text) })
	return &normalizer{literals: ls, uuids: map[string]string{}}
}

func (n *normalizer) value(v any) any {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v[k] = n.value(v[k])
		}
		return v
	case []any:
		for i := range v {
			v[i] = n.value(v[i])
		}
		return v
	case string:
		return n.text(v)
	}
	return v
}

func (n *normalizer) text(s string) string {
	for _, l := range n.literals {
		if l.text != "" {
			s = strings.ReplaceAll(s, l.text, l.placeholder)
		}
	}
	s = uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		id = strings.ToLower(id)
		if p, ok := n.uuids[id]; ok {
			return p
		}
		p := fmt.Sprintf("<uuid-%d>", len(n.uuids)+1)
		n.uuids[id] = p
		return p
	})
	s = sessionPattern.ReplaceAllString(s, "<session-token>")
	s = apiKeyPattern.ReplaceAllString(s, "<api-key>")
	switch {
	case timestampPattern.MatchString(s):
		return "<timestamp>"
	case jwtPattern.MatchString(s):
		return "<jwt>"
	}
	return s
}

// normalize returns the response's status and body with the volatile
// values replaced, as indented JSON.
func normalize(t testing.TB, r *response, literals ...literal) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Raw))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.Raw)
	}
	doc := map[string]any{"status": r.Status, "body": newNormalizer(literals...).value(body)}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// goldenName turns a description such as "PUT /user/{id}" into a file name.
func goldenName(name string) string {
	name = strings.NewReplacer("{", "", "}", "", " /", "_", "/", "_", " ", "_").Replace(name)
	return strings.Trim(name, "_")
}

// assertGolden compares the normalized response with
// testdata/golden/<name>.json, or rewrites that file with -update.
func assertGolden(t testing.TB, name string, r *response, literals ...literal) {
	t.Helper()
	got := normalize(t, r, literals...)
	path := filepath.Join("testdata", "golden", goldenName(name)+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v (run the test with -update to create it)", name, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the response differs from %s (run with -update if the change is intended):\n%s", name, path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the lines of want and got from the first one that differs.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(0, i-3)
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d\n--- want\n", i+1)
	for _, l := range w[from:min(len(w), i+8)] {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("--- got\n")
	for _, l := range g[from:min(len(g), i+8)] {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// TestNormalizer checks the placeholders the golden files rely on.
func TestNormalizer(t *testing.T) {
	t.Parallel()
	id1, id2 := "0b6f2b62-1b0f-4b7e-8d43-1f2a3b4c5d6e", "9A4C2D1E-0000-4000-8000-00000000000F"
	raw := `{"b":"` + id2 + `","a":["` + id1 + `","x ` + id2 + ` y"],"at":"2026-01-02T03:04:05.123Z","micro":"2026-01-02T03:04:05.123456Z",` +
		`"s":"takaro_s_abc123","k":"key takaro_k_Zz9","j":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln","e":"root@brave-owls-sing.com",` +
		`"n":12.50,"p":"s3cr3t"}`
	got := normalize(t, &response{Status: 200, Raw: []byte(raw)},
		literal{"brave-owls-sing", "<domain-id>"}, literal{"s3cr3t", "<password>"})
	want := `{
  "body": {
    "a": [
      "<uuid-1>",
      "x <uuid-2> y"
    ],
    "at": "<timestamp>",
    "b": "<uuid-2>",
    "e": "root@<domain-id>.com",
    "j": "<jwt>",
    "k": "key <api-key>",
    "micro": "2026-01-02T03:04:05.123456Z",
    "n": 12.50,
    "p": "<password>",
    "s": "<session-token>"
  },
  "status": 200
}
`
	if string(got) != want {
		t.Errorf("normalize:\n%s", lineDiff(want, string(got)))
	}
	if lineDiff("a\nb\n", "a\nc\n") == "" {
		t.Error("lineDiff shows nothing")
	}
}
