package httpapi

import (
	"net/http"
	"reflect"
	"strings"
)

// openAPIDocument describes the endpoints as an OpenAPI 3.1 document. It is
// built from the same endpoint values that the router serves and the same
// Go types that bodies are decoded into, so it cannot drift from the code.
func openAPIDocument(endpoints []endpoint) map[string]any {
	schemas := newSchemaSet()
	paths := map[string]map[string]any{}
	for _, e := range endpoints {
		op := map[string]any{
			"summary":     e.summary,
			"tags":        []string{e.tag},
			"operationId": operationID(e),
			"responses":   responses(schemas, e),
		}
		var params []any
		for _, name := range e.pathParams() {
			p := schema{"type": "string", "format": "uuid"}
			if e.isText(name) {
				p = schema{"type": "string"}
			}
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": p})
		}
		for _, q := range e.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.description,
				"schema": schema{"type": q.typ}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if e.body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemas.of(e.body)}}}
		}
		switch e.access {
		case admin:
			op["security"] = []any{map[string]any{"adminToken": []string{}}}
		case user:
			op["security"] = []any{map[string]any{"bearer": []string{}}, map[string]any{"domainToken": []string{}}}
			if len(e.permissions) > 0 {
				op["description"] = "Requires the permissions " + strings.Join(e.permissions, ", ") + " (or ROOT)."
			}
		}
		if paths[e.path] == nil {
			paths[e.path] = map[string]any{}
		}
		paths[e.path][strings.ToLower(e.method)] = op
	}
	errorSchema := schemas.of(reflect.TypeFor[envelope]())
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Takaro data core API",
			"version": "1.0.0",
			"description": "Multi-tenant game-server management API. Responses are wrapped as {data, meta}; " +
				"errors carry meta.error.{code, message, details}.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas.components,
			"securitySchemes": map[string]any{
				"bearer":      map[string]any{"type": "http", "scheme": "bearer", "description": "A session token (POST /login) or an API key"},
				"domainToken": map[string]any{"type": "apiKey", "in": "header", "name": domainTokenHeader, "description": "A domain token issued by POST /token"},
				"adminToken":  map[string]any{"type": "apiKey", "in": "header", "name": adminTokenHeader, "description": "ADMIN_CLIENT_SECRET"},
			},
			"responses": map[string]any{
				"Error": map[string]any{"description": "An error, in meta.error", "content": map[string]any{
					"application/json": map[string]any{"schema": errorSchema}}},
			},
		},
	}
}

// responses documents the success envelope and the error statuses.
func responses(schemas *schemaSet, e endpoint) map[string]any {
	metaProps := map[string]any{}
	if e.page {
		for _, n := range []string{"page", "limit", "total"} {
			metaProps[n] = schema{"type": "integer"}
		}
	}
	data := schemas.of(e.out)
	if e.out == reflect.TypeFor[*empty]() {
		data = schema{"type": "object", "additionalProperties": false}
	}
	out := map[string]any{
		"200": map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{
			"schema": schema{"type": "object", "required": []string{"data", "meta"}, "properties": map[string]any{
				"data": data, "meta": schema{"type": "object", "properties": metaProps}}}}}},
		"400": errorRef(),
	}
	if e.access != public {
		out["401"] = errorRef()
	}
	if len(e.permissions) > 0 {
		out["403"] = errorRef()
	}
	if len(e.pathParams()) > 0 || e.method != http.MethodPost {
		out["404"] = errorRef()
	}
	if e.body != nil {
		out["413"] = errorRef()
	}
	if e.notImplemented {
		out["501"] = errorRef()
	}
	return out
}

func errorRef() map[string]any { return map[string]any{"$ref": "#/components/responses/Error"} }

// operationID names an operation after its method and path:
// "PUT /user/{id}/role/{roleId}" → "putUserIdRoleRoleId".
func operationID(e endpoint) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(e.method))
	for _, part := range strings.FieldsFunc(e.path, func(r rune) bool { return r == '/' || r == '{' || r == '}' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
