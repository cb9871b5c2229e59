package httpapi

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gotakaro/takaro"
)

// openAPIDocument describes the endpoints as an OpenAPI 3.1 document. It is
// built from the same endpoint values that the router serves and the same
// Go types that bodies are decoded into, so it cannot drift from the code.
func openAPIDocument(endpoints []endpoint, searchFields func(string) (takaro.SearchFields, bool)) map[string]any {
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
			if name == "key" && strings.HasPrefix(e.path, "/settings/") {
				p["enum"] = takaro.SettingKey("").EnumValues()
			}
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": p,
				"description": pathParamDescription(e, name)})
		}
		for _, q := range e.query {
			s := schema{"type": q.typ}
			if q.typ == "array" {
				s["items"] = schema{"type": "string"}
			}
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.description, "schema": s})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if e.body != nil {
			content := map[string]any{"application/json": map[string]any{"schema": schemas.of(e.body)}}
			if e.form {
				content["multipart/form-data"] = content["application/json"]
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		op["security"], op["x-takaro-credentials"] = credentials(e)
		op["x-takaro-permissions"] = append([]string{}, e.permissions...)
		op["description"] = accessText(e)
		if e.searches != "" && searchFields != nil {
			if f, ok := searchFields(e.searches); ok {
				op["x-takaro-search"] = searchDoc(f)
				op["description"] = op["description"].(string) + "\n\n" + searchText(f)
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
			"title":       "Takaro data core API",
			"version":     "1.0.0",
			"description": apiIntroduction,
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
		metaProps["page"] = schema{"type": "integer", "description": "the zero-based page asked for (0 when the page was reached by cursor)"}
		metaProps["limit"] = schema{"type": "integer"}
		metaProps["total"] = schema{"type": "integer", "description": fmt.Sprintf(
			"the number of matches, counted up to %d; when there are more, it is %d and totalIsLowerBound is true",
			takaro.MaxExactTotal, takaro.MaxExactTotal)}
		metaProps["totalIsLowerBound"] = schema{"type": "boolean", "description": "present, and true, only when the search stopped counting at total and there are more matches"}
		metaProps["nextCursor"] = schema{"type": "string", "description": "present when there is a next page: pass it as cursor, with the same query, to read the rows after this page"}
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
	if e.stream != nil {
		out["200"] = map[string]any{"description": "OK: the file, streamed", "content": map[string]any{
			e.mediaType: map[string]any{"schema": schema{"type": "string"}}}}
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

// apiIntroduction opens the document: the envelope and how to authenticate.
var apiIntroduction = `Multi-tenant game-server management API. Responses are wrapped as {data, meta}; errors carry meta.error.{code, message, details}.

Authentication. Every operation names the credentials it takes (x-takaro-credentials) and the permissions it needs (x-takaro-permissions):
- Bearer (Authorization: Bearer <token>): a session token from POST /login (takaro_s_…) or an API key from POST /apikey (takaro_k_…). It acts as one user of one domain; an API key holds at most the permissions it was created with.
- Domain token (X-Takaro-Token: <JWT>): issued by the admin API with POST /token, valid for an hour, acting as the domain's root user.
- Admin token (X-Takaro-Admin-Token: <ADMIN_CLIENT_SECRET>): the platform operator's secret, for the domain endpoints.
- None: POST /login and the health endpoints.
The domain a request acts on always comes from its credential, never from a path, body or header. Permissions: a user holds the union of the permissions of their roles; ROOT stands for every permission. A MANAGE_ permission works only for a dashboard user (or a ROOT holder). A missing or bad credential is 401, a missing permission 403.

Searches (POST …/search) take filters (exact values), search (substrings), greaterThan / lessThan, sortBy / sortDirection, page / limit, cursor and extend; each search lists the fields it allows, and any other field is a 400 naming it.

Paging. page and limit work as in the reference, up to page × limit = ` + strconv.Itoa(takaro.MaxOffset) + `. For deeper pages, and for pages that stay put while rows are added, use the cursor: every page that has a successor carries meta.nextCursor; send it back as cursor with the same query (filters, search, ranges, sortBy and sortDirection; limit and extend may change, page must be 0 or absent) to get the rows after that page. Each page by cursor costs what the first page costs, whatever its depth. A cursor is opaque; one from another query, or altered, is a 400. meta.total counts matches exactly up to ` + strconv.Itoa(takaro.MaxExactTotal) + `; beyond, it says so and meta.totalIsLowerBound is true.`

// credentials returns the security requirement of e and the names of the
// credentials it takes.
func credentials(e endpoint) ([]any, []string) {
	switch e.access {
	case admin:
		return []any{map[string]any{"adminToken": []string{}}}, []string{"admin token"}
	case user:
		return []any{map[string]any{"bearer": []string{}}, map[string]any{"domainToken": []string{}}},
			[]string{"bearer session or API key", "domain token"}
	}
	return []any{}, []string{}
}

// accessText says in words who may call e.
func accessText(e endpoint) string {
	_, creds := credentials(e)
	text := "Credentials: none (public)."
	if len(creds) > 0 {
		text = "Credentials: " + strings.Join(creds, " or ") + "."
	}
	if len(e.permissions) > 0 {
		text += " Permissions: " + strings.Join(e.permissions, ", ") + " (or ROOT)."
	} else if e.access == user {
		text += " Permissions: none beyond being a user of the domain."
	}
	return text
}

// searchDoc is the x-takaro-search extension of a search operation.
func searchDoc(f takaro.SearchFields) map[string]any {
	list := func(s []string) []string { return append([]string{}, s...) }
	return map[string]any{"filters": list(f.Filters), "search": list(f.Search), "greaterThan": list(f.Range),
		"lessThan": list(f.Range), "sortBy": list(f.Sort), "extend": list(f.Extend), "enums": f.Enums}
}

// searchText lists a search's fields in words.
func searchText(f takaro.SearchFields) string {
	line := func(name string, fields []string) string {
		if len(fields) == 0 {
			return name + ": none."
		}
		return name + ": " + strings.Join(fields, ", ") + "."
	}
	lines := []string{line("Filters", f.Filters), line("Search", f.Search), line("greaterThan / lessThan", f.Range),
		line("sortBy", f.Sort), line("extend", f.Extend)}
	for _, name := range sortedNames(f.Enums) {
		lines = append(lines, "Values of "+name+": "+strings.Join(f.Enums[name], ", ")+".")
	}
	return strings.Join(lines, "\n")
}

func sortedNames(m map[string][]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// pathParamDescription describes a path parameter.
func pathParamDescription(e endpoint, name string) string {
	switch name {
	case "id":
		if e.isText(name) {
			return "the domain's id"
		}
		return "the " + strings.ToLower(e.tag) + "'s id"
	case "key":
		return "a setting key"
	case "roleId":
		return "the role's id"
	case "gameServerId":
		return "the game server's id"
	case "playerId":
		return "the player's id"
	}
	return "the " + name
}
