package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
)

// The OpenAPI document is generated from the same endpoint values the
// router serves. These tests hold it to that: the document and
// Server.Routes() name the same operations, in both directions; it is a
// valid OpenAPI 3.1 document (checked structurally here and by
// kin-openapi's validator); and what it says about request bodies is what
// the decoder does, property by property, at every depth.

// oaDoc is a decoded OpenAPI document.
type oaDoc map[string]any

// oaObject returns v as a JSON object, or nil.
func oaObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// resolve follows a local $ref ("#/components/schemas/User"); ok is false
// when it points nowhere.
func (d oaDoc) resolve(ref string) (any, bool) {
	pointer, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	var cur any = map[string]any(d)
	if pointer == "" {
		return cur, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// schema returns s with $refs followed.
func (d oaDoc) schema(s map[string]any) map[string]any {
	for range 32 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		target, _ := d.resolve(ref)
		s = oaObject(target)
	}
	return s
}

// operation returns the operation of a route, or nil.
func (d oaDoc) operation(r httpapi.Route) map[string]any {
	return oaObject(oaObject(oaObject(d["paths"])[r.Path])[strings.ToLower(r.Method)])
}

var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

var oaPathParam = regexp.MustCompile(`\{([^{}]+)\}`)

// oaProblems lists everything wrong with the document, or with how it
// matches routes.
func oaProblems(d oaDoc, routes []httpapi.Route) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// The OpenAPI object: openapi and info are required, and a 3.1
	// document needs at least one of paths, components and webhooks.
	if d["openapi"] != "3.1.0" {
		bad("openapi is %v, want 3.1.0", d["openapi"])
	}
	info := oaObject(d["info"])
	for _, key := range []string{"title", "version"} {
		if s, _ := info[key].(string); s == "" {
			bad("info.%s is missing", key)
		}
	}
	paths := oaObject(d["paths"])
	if paths == nil {
		bad("paths is missing")
	}
	components := oaObject(d["components"])
	schemes := oaObject(components["securitySchemes"])
	for name, v := range schemes {
		s := oaObject(v)
		switch s["type"] {
		case "http":
			if s["scheme"] == nil {
				bad("security scheme %s: an http scheme needs scheme", name)
			}
		case "apiKey":
			if s["name"] == nil || !slices.Contains([]any{"query", "header", "cookie"}, s["in"]) {
				bad("security scheme %s: an apiKey scheme needs name and in", name)
			}
		default:
			bad("security scheme %s has type %v", name, s["type"])
		}
	}

	// The operations and the routes: the same set, both ways.
	documented := map[string]bool{}
	for path, v := range paths {
		if !strings.HasPrefix(path, "/") {
			bad("path %q does not start with /", path)
		}
		for key := range oaObject(v) {
			if slices.Contains(oaMethods, key) {
				documented[strings.ToUpper(key)+" "+path] = true
			} else if key != "parameters" && key != "summary" && key != "description" {
				bad("path %s has the key %q", path, key)
			}
		}
	}
	routed := map[string]httpapi.Route{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		routed[key] = r
		if !documented[key] {
			bad("route %s is not documented", key)
		}
	}
	for key := range documented {
		if _, ok := routed[key]; !ok {
			bad("the document has %s, which is not a route", key)
		}
	}

	operationIDs := map[string]string{}
	for key, r := range routed {
		op := d.operation(r)
		if op == nil {
			continue
		}
		id, _ := op["operationId"].(string)
		switch {
		case id == "":
			bad("%s has no operationId", key)
		case operationIDs[id] != "":
			bad("%s and %s share the operationId %s", operationIDs[id], key, id)
		default:
			operationIDs[id] = key
		}
		tags, _ := op["tags"].([]any)
		if len(tags) == 0 {
			bad("%s has no tag", key)
		}

		// Parameters: each declared once; the path's exactly, as required
		// path parameters.
		want := map[string]bool{}
		for _, m := range oaPathParam.FindAllStringSubmatch(r.Path, -1) {
			want[m[1]] = true
		}
		declared := map[string]bool{}
		seen := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := oaObject(p)
			name, _ := pm["name"].(string)
			in, _ := pm["in"].(string)
			if name == "" || !slices.Contains([]string{"path", "query", "header", "cookie"}, in) {
				bad("%s has a parameter without a valid name and in: %v", key, pm)
				continue
			}
			if seen[in+" "+name] {
				bad("%s declares the %s parameter %s twice", key, in, name)
			}
			seen[in+" "+name] = true
			if pm["schema"] == nil && pm["content"] == nil {
				bad("%s: parameter %s has neither schema nor content", key, name)
			}
			if in == "path" {
				declared[name] = true
				if pm["required"] != true {
					bad("%s: path parameter %s is not required", key, name)
				}
			}
		}
		if !maps.Equal(want, declared) {
			bad("%s declares the path parameters %v, its path has %v", key, slices.Sorted(maps.Keys(declared)), slices.Sorted(maps.Keys(want)))
		}

		// A request body exactly for the routes that decode one.
		body := oaObject(op["requestBody"])
		switch {
		case r.HasBody && body == nil:
			bad("%s takes a body, but the document has no requestBody", key)
		case !r.HasBody && body != nil:
			bad("%s takes no body, but the document has a requestBody", key)
		case body != nil:
			if body["required"] != true {
				bad("%s: the request body is not marked required", key)
			}
			content := oaObject(body["content"])
			if len(content) != 1 || oaObject(content["application/json"])["schema"] == nil {
				bad("%s: the request body is not exactly an application/json schema: %v", key, content)
			}
		}

		// Responses: 200 with the envelope, and every error status the
		// route can answer; each with a description (or a $ref to one)
		// and JSON content.
		responses := oaObject(op["responses"])
		if responses["200"] == nil {
			bad("%s documents no 200 response", key)
		}
		for code, v := range responses {
			resp := oaObject(v)
			if ref, ok := resp["$ref"].(string); ok {
				target, _ := d.resolve(ref)
				resp = oaObject(target)
			}
			if n, err := strconv.Atoi(code); (err != nil || n < 100 || n > 599) && code != "default" {
				bad("%s: response key %q is not a status", key, code)
			}
			if s, _ := resp["description"].(string); s == "" {
				bad("%s: response %s has no description", key, code)
			}
			for media, mv := range oaObject(resp["content"]) {
				if media != "application/json" || oaObject(mv)["schema"] == nil {
					bad("%s: response %s has content %s without a JSON schema", key, code, media)
				}
			}
		}
		needs := []string{"400"}
		if !r.Public {
			needs = append(needs, "401")
		}
		if len(r.Permissions) > 0 {
			needs = append(needs, "403")
		}
		if strings.Contains(r.Path, "{") {
			needs = append(needs, "404")
		}
		for _, code := range needs {
			if responses[code] == nil {
				bad("%s does not document its %s response", key, code)
			}
		}

		// Security follows the route's access.
		var names []string
		security, _ := op["security"].([]any)
		for _, req := range security {
			for name := range oaObject(req) {
				if schemes[name] == nil {
					bad("%s requires the undefined security scheme %s", key, name)
				}
				names = append(names, name)
			}
		}
		sort.Strings(names)
		var wantNames []string
		switch {
		case r.Admin:
			wantNames = []string{"adminToken"}
		case !r.Public:
			wantNames = []string{"bearer", "domainToken"}
		}
		if !slices.Equal(names, wantNames) {
			bad("%s accepts the security schemes %v, want %v", key, names, wantNames)
		}
	}

	// Every $ref resolves.
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, found := d.resolve(ref); !found {
					bad("%s: $ref %s resolves to nothing", at, ref)
				}
			}
			for k, val := range x {
				walk(val, at+"/"+k)
			}
		case []any:
			for i, val := range x {
				walk(val, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(map[string]any(d), "#")
	sort.Strings(problems)
	return problems
}

// oaFetch reads the server's document.
func oaFetch(t *testing.T, s *testServer) (oaDoc, []byte) {
	t.Helper()
	res := s.do(http.MethodGet, "/openapi.json", nil)
	res.expect(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	var d oaDoc
	if err := json.Unmarshal(res.Raw, &d); err != nil {
		t.Fatal(err)
	}
	return d, res.Raw
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	d, raw := oaFetch(t, s)
	routes := s.API.Routes()
	for _, p := range oaProblems(d, routes) {
		t.Error(p)
	}

	// The checks themselves: a route the document lacks, an operation no
	// route serves, and a body the document does not mention must each
	// be reported.
	i := slices.IndexFunc(routes, func(r httpapi.Route) bool { return r.Method == http.MethodPut && r.Path == "/user/{id}" })
	if i < 0 {
		t.Fatal("PUT /user/{id} is not a route")
	}
	for name, c := range map[string]struct {
		routes []httpapi.Route
		want   string
	}{
		"undocumented route": {append(slices.Clone(routes), httpapi.Route{Method: http.MethodGet, Path: "/shop/{id}"}),
			"route GET /shop/{id} is not documented"},
		"operation without a route": {slices.Delete(slices.Clone(routes), i, i+1),
			"the document has PUT /user/{id}, which is not a route"},
		"undocumented body": {slices.Concat(routes[:i], []httpapi.Route{{Method: http.MethodPut, Path: "/user/{id}"}}, routes[i+1:]),
			"PUT /user/{id} takes no body, but the document has a requestBody"},
	} {
		if p := oaProblems(d, c.routes); !slices.Contains(p, c.want) {
			t.Errorf("%s: %q was not reported; got %q", name, c.want, p)
		}
	}

	// A real validator: kin-openapi checks the document against OpenAPI
	// 3.1 (operation ids, path parameters, security requirements, schema
	// types, $refs, descriptions).
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("kin-openapi reads version %s", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Errorf("kin-openapi: %v", err)
	}
}

// oaSample builds a JSON value that decodes as schema s: with every
// property when all is set, else with the required ones only (lists get
// one item, so that their items are exercised too).
func (d oaDoc) sample(s map[string]any, all bool, depth int) any {
	s = d.schema(s)
	if depth > 8 || s == nil {
		return nil
	}
	if alts, ok := s["oneOf"].([]any); ok {
		for _, alt := range alts {
			if a := oaObject(alt); a["type"] != "null" {
				return d.sample(a, all, depth+1)
			}
		}
	}
	typ := s["type"]
	if list, ok := typ.([]any); ok {
		typ = nil
		for _, t := range list {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	switch typ {
	case "string":
		switch s["format"] {
		case "uuid":
			return uuid.NewString()
		case "date-time":
			return time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		}
		return "sample"
	case "integer", "number":
		return 1
	case "boolean":
		return false
	case "array":
		return []any{d.sample(oaObject(s["items"]), all, depth+1)}
	case "object":
		out := map[string]any{}
		props := oaObject(s["properties"])
		required, _ := s["required"].([]any)
		for name, ps := range props {
			if all || slices.Contains(required, any(name)) {
				out[name] = d.sample(oaObject(ps), all, depth+1)
			}
		}
		return out
	}
	return map[string]any{} // any JSON value
}

// oaSpot is a place in a request body: the steps from the top (property
// names and list indexes) to an object, and that object's schema.
type oaSpot struct {
	steps  []any
	schema map[string]any
}

// name is the spot's path as the decoder names it: permissions[0].count.
func (p oaSpot) name(property string) string {
	var b strings.Builder
	for _, s := range p.steps {
		switch v := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		}
	}
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(property)
	return b.String()
}

// objects lists the object schemas (with properties) inside a body shaped
// like sample, at every depth.
func (d oaDoc) objects(s map[string]any, steps []any, depth int) []oaSpot {
	s = d.schema(s)
	if depth > 8 || s == nil {
		return nil
	}
	if alts, ok := s["oneOf"].([]any); ok {
		for _, alt := range alts {
			if a := oaObject(alt); a["type"] != "null" {
				return d.objects(a, steps, depth+1)
			}
		}
	}
	var out []oaSpot
	if items := oaObject(s["items"]); items != nil {
		out = append(out, d.objects(items, append(slices.Clone(steps), 0), depth+1)...)
	}
	props := oaObject(s["properties"])
	if props == nil {
		return out
	}
	out = append(out, oaSpot{steps: steps, schema: s})
	for _, name := range slices.Sorted(maps.Keys(props)) {
		out = append(out, d.objects(oaObject(props[name]), append(slices.Clone(steps), name), depth+1)...)
	}
	return out
}

// oaAt returns the object at steps inside body.
func oaAt(body any, steps []any) map[string]any {
	cur := body
	for _, s := range steps {
		switch v := s.(type) {
		case string:
			cur = oaObject(cur)[v]
		case int:
			list, _ := cur.([]any)
			if v >= len(list) {
				return nil
			}
			cur = list[v]
		}
	}
	return oaObject(cur)
}

// oaClone deep-copies a JSON value.
func oaClone(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// oaDecodeComplaint matches the messages of the decoder (not of the
// handlers' own validation): unknown, missing or mistyped properties.
var oaDecodeComplaint = regexp.MustCompile(`(should not exist|is required|must be (a|an) (string|integer|number|boolean|array|object|UUID|ISO 8601 date-time))$`)

func TestOpenAPIRequestBodiesMatchTheDecoder(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tn := s.newTenant(nil)
	d, _ := oaFetch(t, s)

	// Every property name the document knows, and names a client might
	// try to smuggle in: each must be refused where it is not documented.
	candidates := map[string]bool{"domain": true, "zzUndocumented": true}
	for _, v := range oaObject(oaObject(d["components"])["schemas"]) {
		for name := range oaObject(oaObject(v)["properties"]) {
			candidates[name] = true
		}
	}

	for _, r := range s.API.Routes() {
		if !r.HasBody {
			continue
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			t.Parallel()
			op := d.operation(r)
			if op == nil {
				t.Fatal("not documented")
			}
			root := oaObject(oaObject(oaObject(oaObject(op["requestBody"])["content"])["application/json"])["schema"])
			if d.schema(root)["type"] != "object" {
				t.Fatalf("the body's schema is not an object: %v", root)
			}
			var auth []header
			switch {
			case r.Admin:
				auth = []header{adminHeader()}
			case !r.Public:
				auth = []header{tn.auth()}
			}
			// Path parameters as documented: a UUID, or text (a domain id).
			path := r.Path
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := oaObject(p)
				if pm["in"] != "path" {
					continue
				}
				value := "zz-no-such-domain"
				if oaObject(pm["schema"])["format"] == "uuid" {
					value = uuid.NewString()
				}
				path = strings.ReplaceAll(path, "{"+pm["name"].(string)+"}", value)
			}
			send := func(body any) *response {
				t.Helper()
				data, err := json.Marshal(body)
				if err != nil {
					t.Fatal(err)
				}
				return s.do(r.Method, path, string(data), auth...)
			}
			refused := func(what string, res *response, property string) {
				t.Helper()
				if res.Status != http.StatusBadRequest || res.Meta.Error == nil {
					t.Errorf("%s: status %d, want 400: %s", what, res.Status, res.Raw)
					return
				}
				if !res.namesField(property) {
					t.Errorf("%s: the error does not name %s: %s", what, property, res.Raw)
				}
			}

			full := d.sample(root, true, 0)
			minimal := d.sample(root, false, 0)

			// Everything the document describes, at every depth, gets
			// past the decoder.
			if res := send(full); slices.ContainsFunc(res.complaints(), oaDecodeComplaint.MatchString) {
				t.Errorf("a body with every documented property is refused by the decoder: %s", res.Raw)
			}

			for _, spot := range d.objects(root, nil, 0) {
				props := oaObject(spot.schema["properties"])
				// Each required property, left out, is named.
				required, _ := spot.schema["required"].([]any)
				for _, p := range required {
					name := p.(string)
					body := oaClone(t, full)
					obj := oaAt(body, spot.steps)
					if obj == nil {
						t.Fatalf("no object at %v in %v", spot.steps, body)
					}
					delete(obj, name)
					refused("without "+spot.name(name), send(body), spot.name(name))
					obj[name] = nil
					refused(spot.name(name)+" null", send(body), spot.name(name))
				}
				// Each property the schema does not have is refused, if
				// the schema says so.
				if spot.schema["additionalProperties"] != false {
					t.Errorf("the object at %v allows additional properties, but the decoder refuses them", spot.steps)
					continue
				}
				base := full
				if len(spot.steps) == 0 {
					base = minimal
				}
				for name := range candidates {
					if _, ok := props[name]; ok {
						continue
					}
					body := oaClone(t, base)
					oaAt(body, spot.steps)[name] = "x"
					res := send(body)
					refused("with "+spot.name(name), res, spot.name(name))
				}
			}
		})
	}
}

// TestOpenAPIResponsesMatchTheDocument validates real answers against the
// schemas the document gives them: every read and search (with every
// extend), the writes of a domain's own rows, and an error.
func TestOpenAPIResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	w := xtNewWorld(t, s)
	w.collectIDs(t)
	_, raw := oaFetch(t, s)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, r httpapi.Route, path string, res *response) {
		t.Helper()
		op := doc.Paths.Find(r.Path).GetOperation(r.Method)
		ref := op.Responses.Status(res.Status)
		if ref == nil || ref.Value == nil {
			t.Errorf("%s %s answered %d, which the document does not list: %s", r.Method, path, res.Status, res.Raw)
			return
		}
		media := ref.Value.Content.Get("application/json")
		if media == nil || media.Schema == nil {
			t.Errorf("%s %s: no JSON schema for %d", r.Method, path, res.Status)
			return
		}
		var v any
		if err := json.Unmarshal(res.Raw, &v); err != nil {
			t.Fatalf("%s %s: %v", r.Method, path, err)
		}
		if err := media.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			msg := err.Error() // it quotes whole schemas: the first lines say what is wrong
			if i := strings.Index(msg, "\nSchema:"); i > 0 {
				msg = msg[:i]
			}
			t.Errorf("%s %s: the %d answer does not match its documented schema: %s\n%s", r.Method, path, res.Status, msg, res.Raw)
		}
	}

	for _, r := range s.API.Routes() {
		key := r.Method + " " + r.Path
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			switch {
			case key == "GET /domain/{id}":
				check(t, r, r.Path, s.do(r.Method, "/domain/"+w.tn.ID, nil, adminHeader()))
			case key == "POST /domain/search":
				check(t, r, r.Path, s.do(r.Method, r.Path, map[string]any{}, adminHeader()))
			case r.Public || r.Admin:
				// Writes of the admin API and login: covered by their own tests.
			case xtRoutes[key].search:
				check(t, r, r.Path, s.do(r.Method, r.Path, map[string]any{"extend": xtRoutes[key].extend}, w.tn.auth()))
			case xtRoutes[key].attempts != nil:
				for _, at := range xtRoutes[key].attempts(w, w) {
					// With the world as both sides, the attempts read or
					// write the world's own rows: the reads answer 200, and
					// so do the writes that act on the caller's own domain.
					if r.Method != http.MethodGet && !at.own {
						continue
					}
					h := w.tn.auth()
					if at.auth != nil {
						h = at.auth(t)
					}
					path := xtFill(t, r.Path, at.params)
					var body any
					if at.body != nil {
						body = at.body
					}
					res := s.do(r.Method, path, body, h)
					if r.Method == http.MethodGet && res.Status != http.StatusOK && !r.NotImplemented {
						t.Errorf("%s %s: status %d: %s", r.Method, path, res.Status, res.Raw)
					}
					check(t, r, path, res)
				}
			}
		})
	}
	t.Run("an error", func(t *testing.T) {
		t.Parallel()
		r := httpapi.Route{Method: http.MethodGet, Path: "/user/{id}"}
		path := "/user/" + uuid.NewString()
		check(t, r, path, s.do(r.Method, path, nil, w.tn.auth()).expect(t, http.StatusNotFound))
	})
}

// TestOpenAPIDocumentsAccessAndFields checks what a reader needs besides
// shapes: each operation's credentials and permissions (as the route table
// has them), a description of every path parameter, the enums of domain
// states, game-server types and event names, and the fields each search
// allows.
func TestOpenAPIDocumentsAccessAndFields(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	d, _ := oaFetch(t, s)
	for _, r := range s.API.Routes() {
		op := d.operation(r)
		want := []any{"bearer session or API key", "domain token"}
		switch {
		case r.Public:
			want = []any{}
		case r.Admin:
			want = []any{"admin token"}
		}
		if got, _ := op["x-takaro-credentials"].([]any); !slices.Equal(got, want) {
			t.Errorf("%s: x-takaro-credentials %v, want %v", routeKey(r), got, want)
		}
		perms, _ := op["x-takaro-permissions"].([]any)
		if len(perms) != len(r.Permissions) {
			t.Errorf("%s: x-takaro-permissions %v, want %v", routeKey(r), perms, r.Permissions)
		}
		desc, _ := op["description"].(string)
		for _, p := range r.Permissions {
			if !strings.Contains(desc, p) {
				t.Errorf("%s: the description does not name %s: %q", routeKey(r), p, desc)
			}
		}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			if pd, _ := oaObject(p)["description"].(string); pd == "" {
				t.Errorf("%s: parameter %v has no description", routeKey(r), oaObject(p)["name"])
			}
		}
		if strings.HasSuffix(r.Path, "/search") {
			search := oaObject(op["x-takaro-search"])
			if filters, _ := search["filters"].([]any); !slices.Contains(filters, any("id")) {
				t.Errorf("%s: x-takaro-search lists no filters: %v", routeKey(r), op["x-takaro-search"])
			}
			if !strings.Contains(desc, "Filters: ") || !strings.Contains(desc, "sortBy: ") {
				t.Errorf("%s: the description lists no search fields: %q", routeKey(r), desc)
			}
		}
	}
	enumOf := func(component, property string) []any {
		s := d.schema(oaObject(oaObject(oaObject(oaObject(d["components"])["schemas"])[component])["properties"])[property].(map[string]any))
		e, _ := s["enum"].([]any)
		return e
	}
	for _, c := range []struct {
		component, property string
		want                []string
	}{
		{"Domain", "state", takaro.DomainState("").EnumValues()},
		{"GameServer", "type", takaro.GameServerType("").EnumValues()},
		{"EventCreate", "eventName", takaro.EventName("").EnumValues()},
		{"Setting", "key", takaro.SettingKey("").EnumValues()},
	} {
		got := enumOf(c.component, c.property)
		if len(got) != len(c.want) || len(got) == 0 || got[0] != c.want[0] {
			t.Errorf("%s.%s: enum %v, want %v", c.component, c.property, got, c.want)
		}
	}
	if intro, _ := oaObject(d["info"])["description"].(string); !strings.Contains(intro, "X-Takaro-Admin-Token") || !strings.Contains(intro, "Bearer") {
		t.Errorf("the introduction does not explain authentication: %q", intro)
	}
}
