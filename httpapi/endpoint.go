package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// access says who may call an endpoint.
type access int

const (
	public access = iota // anyone
	admin                // the platform operator (X-Takaro-Admin-Token)
	user                 // an authenticated user of a domain
)

// endpoint is one route of the API and everything the router, the
// authenticator, the validator and the OpenAPI document know about it.
// Every route is declared once, in its resource's file (see routes.go).
type endpoint struct {
	method, path string // path in net/http pattern syntax: /gameserver/{id}
	summary, tag string
	access       access
	// permissions are all required (ROOT satisfies any).
	permissions []string
	// anyDomainState lets the endpoint work while the caller's domain is
	// disabled or in maintenance, as the reference's user endpoints do.
	anyDomainState bool
	// textParams are path parameters that are not UUIDs.
	textParams []string
	// query documents the query parameters the handler reads.
	query []queryParam
	body  reflect.Type // nil: no request body
	out   reflect.Type // the response's data
	page  bool         // out is a list, with meta.page, meta.limit, meta.total
	// searches names the resource a search endpoint searches, whose
	// fields the document lists (Config.SearchFields).
	searches string
	// notImplemented marks a route that answers 501 once its request is
	// checked (see answering501).
	notImplemented bool
	// handle runs the endpoint; its result is the response's data.
	handle func(r *request) (any, error)
}

// queryParam is a documented query string parameter.
type queryParam struct {
	name, typ, description string
}

// request is what a handler works with: the HTTP request, its decoded body,
// and (for user endpoints) the authenticated identity. Its context carries
// the identity's Principal, which binds every unit of work to the domain.
type request struct {
	*http.Request
	identity *takaro.Identity
	body     any
}

// idParam returns a UUID path parameter. The router has validated it.
func (r *request) idParam(name string) uuid.UUID {
	return uuid.MustParse(r.PathValue(name))
}

// handler returns an endpoint that takes no body.
func handler[Out any](method, path, summary, tag string, fn func(r *request) (Out, error)) endpoint {
	return endpoint{
		method: method, path: path, summary: summary, tag: tag, access: user,
		out:    reflect.TypeFor[Out](),
		handle: func(r *request) (any, error) { return fn(r) },
	}
}

// bodyHandler returns an endpoint that decodes a JSON body of type In.
func bodyHandler[In, Out any](method, path, summary, tag string, fn func(r *request, in *In) (Out, error)) endpoint {
	e := handler(method, path, summary, tag, func(r *request) (Out, error) { return fn(r, r.body.(*In)) })
	e.body = reflect.TypeFor[In]()
	return e
}

// searchHandler returns a POST …/search endpoint over a page of T.
func searchHandler[T any](path, summary, tag string, fn func(ctx context.Context, q takaro.Query) (*takaro.Page[T], error)) endpoint {
	return pageHandler(path, summary, tag, func(r *request, q takaro.Query) (*takaro.Page[T], error) {
		return fn(r.Context(), q)
	})
}

// pageHandler returns a POST endpoint that takes a search query and
// answers a page of T.
func pageHandler[T any](path, summary, tag string, fn func(r *request, q takaro.Query) (*takaro.Page[T], error)) endpoint {
	e := bodyHandler(http.MethodPost, path, summary, tag, func(r *request, q *takaro.Query) (*takaro.Page[T], error) {
		if err := pagingFromQueryString(r.Request, q); err != nil {
			return nil, err
		}
		return fn(r, *q)
	})
	e.out = reflect.TypeFor[[]T]()
	e.page = true
	e.query = append(e.query,
		queryParam{"page", "integer", "zero-based page (also accepted in the body)"},
		queryParam{"limit", "integer", "page size, 1–1000, default 100 (also accepted in the body)"})
	return e
}

// Builders for the attributes of an endpoint.

func (e endpoint) as(a access) endpoint { e.access = a; return e }

func (e endpoint) need(perms ...string) endpoint {
	e.permissions = append(e.permissions, perms...)
	return e
}

func (e endpoint) searchOf(resource string) endpoint { e.searches = resource; return e }

func (e endpoint) inAnyDomainState() endpoint { e.anyDomainState = true; return e }

func (e endpoint) text(params ...string) endpoint {
	e.textParams = append(e.textParams, params...)
	return e
}

// answering501 makes a route that would act outside the data core (run
// module code, talk to a live game server) answer 501 with answer once its
// handler has checked the request and what it names, which it does as
// every route does (400, 404).
func (e endpoint) answering501(answer error) endpoint {
	check := e.handle
	e.handle = func(r *request) (any, error) {
		if _, err := check(r); err != nil {
			return nil, err
		}
		return nil, answer
	}
	e.notImplemented = true
	return e
}

// found keeps only the error of a lookup.
func found[T any](_ T, err error) error { return err }

func (e endpoint) withQuery(name, typ, description string) endpoint {
	e.query = append(e.query, queryParam{name, typ, description})
	return e
}

var pathParamPattern = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// pathParams lists the names of the path's parameters in order.
func (e endpoint) pathParams() []string {
	var names []string
	for _, m := range pathParamPattern.FindAllStringSubmatch(e.path, -1) {
		names = append(names, m[1])
	}
	return names
}

// isText reports whether path parameter name is free text, not a UUID.
func (e endpoint) isText(name string) bool {
	for _, p := range e.textParams {
		if p == name {
			return true
		}
	}
	return false
}

// checkPathParams validates the path parameters: UUIDs must be UUIDs, and
// no text parameter can name a row when it is not UTF-8 or holds NUL, which
// no stored id does (and PostgreSQL could not even compare).
func (e endpoint) checkPathParams(r *http.Request) error {
	for _, name := range e.pathParams() {
		v := r.PathValue(name)
		if e.isText(name) {
			if takaro.CheckText(name, v) != nil {
				return takaro.Errorf(takaro.CodeNotFound, "%s not found", name)
			}
			continue
		}
		if _, err := uuid.Parse(v); err != nil || len(v) != 36 {
			return takaro.Invalid(name, "must be a UUID")
		}
	}
	return nil
}

// pathInput is the request's path parameters, what a validation error
// about one of them describes.
func (e endpoint) pathInput(r *http.Request) map[string]any {
	in := map[string]any{}
	for _, name := range e.pathParams() {
		in[name] = r.PathValue(name)
	}
	return in
}

// pagingFromQueryString lets page and limit come from the query string, as
// the reference API allows; the body wins when both are given.
func pagingFromQueryString(r *http.Request, q *takaro.Query) error {
	for _, p := range []struct {
		name string
		dst  **int
	}{{"page", &q.Page}, {"limit", &q.Limit}} {
		v := r.URL.Query().Get(p.name)
		if v == "" || *p.dst != nil {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return takaro.Invalid(p.name, "must be an integer")
		}
		*p.dst = &n
	}
	return nil
}

// maxBodyBytes is the largest request body accepted (as the reference).
const maxBodyBytes = 1 << 20

// errBodyTooLarge becomes 413.
var errBodyTooLarge = takaro.Errorf(takaro.CodeBadRequest, "Request body is larger than 1 MB")

// decodeBody reads the JSON body into a new value of t, and also returns
// it as plain JSON values (nil when it is not JSON) for the details of
// validation errors. Unknown properties, missing required properties and
// values of the wrong type are validation errors that name the property,
// at every depth; malformed JSON is a bad request.
func decodeBody(r *http.Request, t reflect.Type) (v, raw any, err error) {
	data, err := io.ReadAll(r.Body) // limited to maxBodyBytes by the middleware
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, nil, errBodyTooLarge
	}
	if err != nil {
		return nil, nil, takaro.Errorf(takaro.CodeBadRequest, "Could not read the request body")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		data = []byte("{}")
	} else if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, nil, err
	}
	if json.Unmarshal(data, &raw) != nil {
		raw = nil
	}
	v, err = decodeInto(data, t)
	return v, raw, err
}

// decodeInto decodes data, a JSON body, into a new value of t.
func decodeInto(data []byte, t reflect.Type) (any, error) {
	// Property names must match exactly: encoding/json would also take
	// "GAMESERVERID" for gameServerId, which the document does not allow.
	objects := bodyObjects(data, t, "", nil)
	if err := checkNames(objects); err != nil {
		return nil, err
	}
	v := reflect.New(t)
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, decodeError(err, data, t)
	}
	if dec.More() {
		return nil, takaro.Errorf(takaro.CodeBadRequest, "Invalid JSON")
	}
	if err := checkRequired(objects); err != nil {
		return nil, err
	}
	if err := checkStorable(v.Elem(), ""); err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// checkContentType accepts a JSON body: application/json or a +json type,
// with any parameters. A body without a Content-Type is read as JSON too,
// as clients that send JSON by default (and the reference's own) may omit
// it; any other declared type is refused rather than guessed at.
func checkContentType(header string) error {
	if header == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err == nil && (mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")) {
		return nil
	}
	return takaro.Errorf(takaro.CodeUnsupportedMediaType, "Content-Type must be application/json")
}

// checkStorable walks a decoded body and refuses, naming the property, any
// value the database would refuse or could not give back unchanged (see
// takaro.CheckText, CheckInt, CheckTime): a string with NUL, an integer
// beyond 32 bits, a time outside years 1 to 9999. Raw JSON (event meta,
// connection info) is walked too, its member names included, because
// jsonb refuses NUL as well. Checking here, once for every body, keeps
// such values from reaching any handler.
func checkStorable(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkStorable(v.Elem(), path)
	case reflect.String:
		return takaro.CheckText(cmp.Or(path, "body"), v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return takaro.CheckInt(cmp.Or(path, "body"), v.Int())
	case reflect.Struct:
		switch v.Type() {
		case timeType:
			return takaro.CheckTime(path, v.Interface().(time.Time))
		case uuidType:
			return nil
		}
		for _, f := range jsonFields(v.Type()) {
			if err := checkStorable(v.FieldByIndex(f.index), joinPath(path, f.name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == rawMessageType {
			// The decoder has checked that it is JSON.
			var doc any
			if v.Len() > 0 && json.Unmarshal(v.Bytes(), &doc) == nil {
				return checkStorable(reflect.ValueOf(&doc).Elem(), path)
			}
			return nil
		}
		for i := range v.Len() {
			if err := checkStorable(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
		for _, k := range keys {
			// A bad name is blamed on its object: echoing it would not help.
			if err := takaro.CheckText(cmp.Or(path, "body"), k.String()); err != nil {
				return err
			}
			if err := checkStorable(v.MapIndex(k), joinPath(path, k.String())); err != nil {
				return err
			}
		}
	}
	return nil
}

// unknownProperty is the reference's error for a property a body may not
// have.
func unknownProperty(path string) error {
	e := takaro.Invalid(path, "should not exist")
	e.Message = "property " + e.Message
	return e
}

// checkNames refuses a member of a body's objects whose name is not
// exactly one of its struct's JSON names.
func checkNames(objects []bodyObject) error {
	for _, o := range objects {
		for _, key := range o.keys {
			if !slices.ContainsFunc(o.fields, func(f jsonField) bool { return f.name == key }) {
				return unknownProperty(joinPath(o.path, key))
			}
		}
	}
	return nil
}

var unknownFieldPattern = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// decodeError explains why data, a body of type t, could not be decoded,
// naming the field.
func decodeError(err error, data []byte, t reflect.Type) error {
	if m := unknownFieldPattern.FindStringSubmatch(err.Error()); m != nil {
		return unknownProperty(m[1])
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok || errors.Is(err, io.ErrUnexpectedEOF) {
		return takaro.Errorf(takaro.CodeBadRequest, "Invalid JSON")
	}
	// json names the field of a type error in Go's terms (an embedded
	// struct's Go name, no index), and not at all for the errors of a
	// type's own UnmarshalJSON or UnmarshalText (a UUID, a time, a filter's
	// values), so the field is found by decoding the body's properties one
	// by one.
	field, ft := invalidField(data, t, "")
	if typeErr, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if field == "" {
			field = cmp.Or(typeErr.Field, "body")
		}
		return takaro.Invalid(field, "must be %s", jsonKind(typeErr.Type))
	}
	if field == "" {
		return takaro.Invalid("body", "is invalid: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if ft == uuidType || ft == timeType {
		return takaro.Invalid(field, "must be %s", jsonKind(ft))
	}
	return takaro.Invalid(field, "is invalid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// invalidField returns the path and type of the first property of data, a
// JSON value of type t, whose value does not decode: "playerId",
// "permissions[0].permissionId", "filters.name". It returns "" when no
// single property is to blame.
func invalidField(data []byte, t reflect.Type, path string) (string, reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType || t == uuidType || t == rawMessageType {
		return "", nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return "", nil
		}
		for _, f := range jsonFields(t) {
			for name, raw := range obj {
				if name == f.name { // checkNames allowed no other
					if p, pt := invalidValue(raw, f.typ, joinPath(path, f.name)); p != "" {
						return p, pt
					}
				}
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return "", nil
		}
		for i, raw := range items {
			if p, pt := invalidValue(raw, t.Elem(), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p, pt
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return "", nil
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, pt := invalidValue(obj[k], t.Elem(), joinPath(path, k)); p != "" {
				return p, pt
			}
		}
	}
	return "", nil
}

// invalidValue returns path and t when raw does not decode as t, or the
// deeper property that is to blame; "" when it decodes.
func invalidValue(raw json.RawMessage, t reflect.Type, path string) (string, reflect.Type) {
	if json.Unmarshal(raw, reflect.New(t).Interface()) == nil {
		return "", nil
	}
	if p, pt := invalidField(raw, t, path); p != "" {
		return p, pt
	}
	return path, t
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkRequired reports the first required property missing (or null),
// at the top level first and then inside nested objects, named by its
// path: "name", "permissions[0].permissionId".
func checkRequired(objects []bodyObject) error {
	for _, o := range objects {
		for _, f := range o.fields {
			if v, ok := o.values[f.name]; f.required && (!ok || string(bytes.TrimSpace(v)) == "null") {
				return takaro.Invalid(joinPath(o.path, f.name), "is required")
			}
		}
	}
	return nil
}

// bodyObject is one JSON object of a request body that decodes into a
// struct: its path from the top ("" for the body), its members, and the
// struct's JSON fields.
type bodyObject struct {
	path   string
	keys   []string // in the order of each name's last appearance
	values map[string]json.RawMessage
	fields []jsonField
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

// bodyObjects appends to out the objects of data, a JSON value of type t,
// that decode into structs, at every depth, each before those inside it.
// Types that decode themselves (times, UUIDs, filter values, raw JSON)
// are leaves.
func bodyObjects(data []byte, t reflect.Type, path string, out []bodyObject) []bodyObject {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) {
		return out
	}
	switch t.Kind() {
	case reflect.Struct:
		keys, values, ok := objectMembers(data)
		if !ok {
			return out
		}
		o := bodyObject{path: path, keys: keys, values: values, fields: jsonFields(t)}
		out = append(out, o)
		for _, f := range o.fields {
			if raw, ok := o.values[f.name]; ok {
				out = bodyObjects(raw, f.typ, joinPath(path, f.name), out)
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return out
		}
		for i, raw := range items {
			out = bodyObjects(raw, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		keys, values, ok := objectMembers(data)
		if !ok {
			return out
		}
		for _, k := range keys {
			out = bodyObjects(values[k], t.Elem(), joinPath(path, k), out)
		}
	}
	return out
}

// objectMembers reads a JSON object's members, the names in the order of
// their last appearance (a repeated name's last value is the one decoded);
// ok is false when data is not an object.
func objectMembers(data []byte) (keys []string, values map[string]json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	values = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, false
		}
		if _, dup := values[key]; dup {
			keys = slices.DeleteFunc(keys, func(k string) bool { return k == key })
		}
		keys = append(keys, key)
		values[key] = raw
	}
	return keys, values, true
}

// jsonKind names the JSON type that Go type t decodes from.
func jsonKind(t reflect.Type) string {
	switch t {
	case uuidType:
		return "a UUID"
	case timeType:
		return "an ISO 8601 date-time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a valid value"
}
