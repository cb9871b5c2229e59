package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// The JSON Schemas of request and response bodies are derived from the Go
// types the handlers decode into and encode from, so the OpenAPI document
// and the validation of bodies cannot drift from the code. The rules:
//   - a struct field's JSON name comes from its json tag;
//   - a field is required unless it is a pointer, a slice, a map or
//     json.RawMessage, or is tagged omitempty;
//   - pointers are nullable;
//   - time.Time and takaro.Time are date-time strings, uuid.UUID a uuid string,
//     json.RawMessage any JSON value;
//   - embedded structs contribute their fields.

// enumerated is a string type with a fixed set of values (domain states,
// game-server types, event names, setting keys), documented as an enum.
type enumerated interface{ EnumValues() []string }

// schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses it).
type schema map[string]any

var (
	timeType       = reflect.TypeFor[time.Time]()
	apiTimeType    = reflect.TypeFor[takaro.Time]()
	uuidType       = reflect.TypeFor[uuid.UUID]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
)

// schemaSet collects the named schemas of one document.
type schemaSet struct {
	components map[string]schema
}

func newSchemaSet() *schemaSet { return &schemaSet{components: map[string]schema{}} }

// of returns the schema of t, registering named struct types as components
// and referring to them.
func (s *schemaSet) of(t reflect.Type) schema {
	switch t {
	case timeType, apiTimeType:
		return schema{"type": "string", "format": "date-time"}
	case uuidType:
		return schema{"type": "string", "format": "uuid"}
	case rawMessageType:
		return schema{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := s.of(t.Elem())
		if ref, ok := inner["$ref"]; ok {
			return schema{"oneOf": []any{schema{"$ref": ref}, schema{"type": "null"}}}
		}
		if typ, ok := inner["type"].(string); ok {
			inner["type"] = []any{typ, "null"}
		}
		return inner
	case reflect.String:
		if e, ok := reflect.Zero(t).Interface().(enumerated); ok {
			return schema{"type": "string", "enum": e.EnumValues()}
		}
		return schema{"type": "string"}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		return schema{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		return schema{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Interface:
		return schema{}
	case reflect.Struct:
		name := componentName(t)
		if _, done := s.components[name]; !done {
			s.components[name] = schema{} // placeholder against recursion
			s.components[name] = s.object(t)
		}
		return schema{"$ref": "#/components/schemas/" + name}
	}
	return schema{}
}

// object is the schema of a struct's fields.
func (s *schemaSet) object(t reflect.Type) schema {
	props := map[string]any{}
	required := []string{}
	for _, f := range jsonFields(t) {
		props[f.name] = s.of(f.typ)
		if f.required {
			required = append(required, f.name)
		}
	}
	out := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// componentName names a struct type in the document: its Go name, with
// type arguments flattened (Page[GameServer] → PageGameServer).
func componentName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		arg := name[i+1 : len(name)-1]
		arg = arg[strings.LastIndexByte(arg, '.')+1:]
		name = name[:i] + arg
	}
	return name
}

// jsonField is one JSON property of a struct type.
type jsonField struct {
	name     string
	typ      reflect.Type
	required bool
	index    []int // for reflect.Value.FieldByIndex
}

// jsonFields lists the JSON properties of struct type t, as encoding/json
// sees them (embedded structs flattened, "-" skipped).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for _, inner := range jsonFields(f.Type) {
				inner.index = append([]int{i}, inner.index...)
				out = append(out, inner)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			optional = true
		}
		out = append(out, jsonField{name: name, typ: f.Type, required: !optional, index: []int{i}})
	}
	return out
}
