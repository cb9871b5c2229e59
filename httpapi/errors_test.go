package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// TestErrorShapes compares one response of each kind of error with its
// golden file (testdata/golden/error_*.json): the status, the code, the
// message and the details that name the offending field, with data {}.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	root := k.root()
	noPerms := k.login(k.userWith(true))
	nonDashboard := k.login(k.userWith(false, takaro.PermManageRoles))
	missing := "0b6f2b62-1b0f-4b7e-8d43-1f2a3b4c5d6e"
	k.role() // a role to collide with below
	var taken takaro.Role
	s.do(http.MethodPost, "/role", map[string]any{"name": "Taken", "permissions": []any{}}, root).expect(t, http.StatusOK).decode(t, &taken)
	big := `{"name": "abc", "permissions": [], "linkedDiscordRoleId": "` + strings.Repeat("x", 1<<20) + `"}`

	for _, tc := range []struct {
		name         string
		method, path string
		body         any
		headers      []header
		status       int
		code         string
	}{
		// Validation: the field is named in the message and in details.
		{"validation length", http.MethodPost, "/role", map[string]any{"name": "x", "permissions": []any{}}, []header{root}, 400, "ValidationError"},
		{"validation required", http.MethodPost, "/role", map[string]any{"permissions": []any{}}, []header{root}, 400, "ValidationError"},
		{"validation null", http.MethodPost, "/role", map[string]any{"name": nil, "permissions": []any{}}, []header{root}, 400, "ValidationError"},
		{"validation type", http.MethodPost, "/role", map[string]any{"name": 5, "permissions": []any{}}, []header{root}, 400, "ValidationError"},
		{"validation nested type", http.MethodPost, "/role", `{"name": "abc", "permissions": [{"permissionId": "` + missing + `", "count": "two"}]}`, []header{root}, 400, "ValidationError"},
		{"validation enum", http.MethodPost, "/gameserver", map[string]any{"name": "abc", "type": "QUAKE", "connectionInfo": "{}"}, []header{root}, 400, "ValidationError"},
		{"validation email", http.MethodPost, "/user", map[string]any{"name": "abc", "email": "not-an-address", "password": testPassword}, []header{root}, 400, "ValidationError"},
		{"unknown property", http.MethodPost, "/role", map[string]any{"name": "abc", "permissions": []any{}, "bogus": 1}, []header{root}, 400, "ValidationError"},
		{"unknown nested property", http.MethodPost, "/role", `{"name": "abc", "permissions": [{"permissionId": "` + missing + `", "bogus": 1}]}`, []header{root}, 400, "ValidationError"},
		{"malformed uuid in path", http.MethodGet, "/role/not-a-uuid", nil, []header{root}, 400, "ValidationError"},
		{"malformed uuid in second path parameter", http.MethodPost, "/user/" + missing + "/role/123", map[string]any{}, []header{root}, 400, "ValidationError"},
		{"malformed uuid in body", http.MethodPost, "/gameserver/player", map[string]any{"playerId": "nope", "gameServerId": missing, "gameId": "g"}, []header{root}, 400, "ValidationError"},
		{"malformed uuid in nested body", http.MethodPost, "/role", `{"name": "abc", "permissions": [{"permissionId": "` + missing + `"}, {"permissionId": "nope"}]}`, []header{root}, 400, "ValidationError"},
		{"malformed uuid in filter", http.MethodPost, "/role/search", map[string]any{"filters": map[string]any{"id": []string{"nope"}}}, []header{root}, 400, "ValidationError"},
		{"malformed date in body", http.MethodPost, "/variables", map[string]any{"key": "a", "value": "b", "expiresAt": "yesterday"}, []header{root}, 400, "ValidationError"},
		{"filter values not a list", http.MethodPost, "/role/search", map[string]any{"filters": map[string]any{"name": "x"}}, []header{root}, 400, "ValidationError"},
		{"unknown filter field", http.MethodPost, "/role/search", map[string]any{"filters": map[string]any{"bogus": []string{"x"}}}, []header{root}, 400, "ValidationError"},
		{"unknown search field", http.MethodPost, "/gameserver/search", map[string]any{"search": map[string]any{"connectionInfo": []string{"x"}}}, []header{root}, 400, "ValidationError"},
		{"unknown range field", http.MethodPost, "/user/search", map[string]any{"greaterThan": map[string]any{"password": "x"}}, []header{root}, 400, "ValidationError"},
		{"unknown sort field", http.MethodPost, "/role/search", map[string]any{"sortBy": "bogus"}, []header{root}, 400, "ValidationError"},
		{"unknown extend", http.MethodPost, "/role/search", map[string]any{"extend": []string{"bogus"}}, []header{root}, 400, "ValidationError"},
		{"unknown search property", http.MethodPost, "/role/search", map[string]any{"where": map[string]any{}}, []header{root}, 400, "ValidationError"},
		{"limit too large", http.MethodPost, "/role/search", map[string]any{"limit": 1001}, []header{root}, 400, "ValidationError"},
		{"page not an integer", http.MethodPost, "/role/search?page=first", map[string]any{}, []header{root}, 400, "ValidationError"},
		// Malformed bodies.
		{"malformed json", http.MethodPost, "/role", `{"name": "abc",`, []header{root}, 400, "BadRequestError"},
		{"trailing json", http.MethodPost, "/role", `{"name": "abc", "permissions": []} {}`, []header{root}, 400, "BadRequestError"},
		{"body not an object", http.MethodPost, "/role", `["abc"]`, []header{root}, 400, "ValidationError"},
		{"body too large", http.MethodPost, "/role", big, []header{root}, 413, "BadRequestError"},
		// Business rules.
		{"business rule", http.MethodDelete, "/role/" + k.standardRole(takaro.RoleUser), nil, []header{root}, 400, "BadRequestError"},
		{"dashboard user only", http.MethodPost, "/role", map[string]any{"name": "abc", "permissions": []any{}}, []header{nonDashboard}, 400, "BadRequestError"},
		// Credentials and permissions.
		{"unauthenticated", http.MethodGet, "/me", nil, nil, 401, "UnauthorizedError"},
		{"bad token", http.MethodGet, "/me", nil, []header{bearer("takaro_s_123")}, 401, "UnauthorizedError"},
		{"forbidden", http.MethodPost, "/role/search", map[string]any{}, []header{noPerms}, 403, "ForbiddenError"},
		{"admin unauthenticated", http.MethodPost, "/domain/search", map[string]any{}, nil, 401, "UnauthorizedError"},
		// Missing rows, unique values, routes.
		{"not found", http.MethodGet, "/role/" + missing, nil, []header{root}, 404, "NotFoundError"},
		{"not found domain", http.MethodGet, "/domain/no-such-domain", nil, []header{adminHeader()}, 404, "NotFoundError"},
		{"conflict", http.MethodPost, "/role", map[string]any{"name": "Taken", "permissions": []any{}}, []header{root}, 409, "ConflictError"},
		{"conflict on update", http.MethodPut, "/role/" + k.role(), map[string]any{"name": "Taken"}, []header{root}, 409, "ConflictError"},
		{"unmatched route", http.MethodGet, "/no/such/route", nil, []header{root}, 404, "NotFoundError"},
		{"unmatched method", http.MethodPatch, "/role/" + missing, map[string]any{}, []header{root}, 404, "NotFoundError"},
	} {
		r := s.do(tc.method, tc.path, tc.body, tc.headers...)
		if r.Status != tc.status || r.Meta.Error == nil || r.Meta.Error.Code != tc.code {
			t.Errorf("%s: %s %s: status %d, want %d %s: %s", tc.name, tc.method, tc.path, r.Status, tc.status, tc.code, r.Raw)
			continue
		}
		if string(r.Data) != "{}" {
			t.Errorf("%s: data is %s, want {}", tc.name, r.Data)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", tc.name, r.Header.Get("Content-Type"))
		}
		if tc.code == "ValidationError" && len(r.Meta.Error.Details) == 0 {
			t.Errorf("%s: a validation error without details: %s", tc.name, r.Raw)
		}
		assertGolden(t, "error "+tc.name, r, literal{k.tn.ID, "<domain-id>"})
	}
}

// TestValidationNamesTheField checks, beyond the golden files, that the
// details of each kind of malformed input name the property (the message
// is the reference's "Validation error").
func TestValidationNamesTheField(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	id := uuid.NewString()
	for _, tc := range []struct {
		method, path string
		body         any
		field        string
	}{
		{http.MethodPost, "/gameserver/player", map[string]any{"playerId": id, "gameServerId": "x", "gameId": "g"}, "gameServerId"},
		{http.MethodPost, "/gameserver/player", map[string]any{"playerId": 5, "gameServerId": id, "gameId": "g"}, "playerId"},
		{http.MethodPost, "/player/" + id + "/role/" + id, map[string]any{"gameServerId": "x"}, "gameServerId"},
		{http.MethodPost, "/user/" + id + "/role/" + id, map[string]any{"expiresAt": "tomorrow"}, "expiresAt"},
		{http.MethodPost, "/apikey", map[string]any{"name": "k", "permissions": []string{}, "expiresAt": "2000-01-01"}, "expiresAt"},
		{http.MethodPost, "/apikey", map[string]any{"name": "k", "permissions": []string{"NOT_A_PERMISSION"}}, "permissions"},
		{http.MethodPost, "/variables", map[string]any{"key": "k", "value": "v", "gameServerId": "x"}, "gameServerId"},
		{http.MethodPut, "/variables/" + id, map[string]any{"value": "v", "playerId": []string{}}, "playerId"},
		{http.MethodPost, "/event", map[string]any{"eventName": "chat-message", "actingUserId": "x"}, "actingUserId"},
		{http.MethodPost, "/user/search", map[string]any{"filters": map[string]any{"roleId": []string{"x"}}}, "filters.roleId"},
		{http.MethodPost, "/user/search", map[string]any{"search": map[string]any{"name": "x"}}, "search.name"},
		{http.MethodPost, "/user/search", map[string]any{"filters": map[string]any{"password": []string{"x"}}}, "filters.password"},
		{http.MethodPost, "/user/search", map[string]any{"sortBy": "password"}, "sortBy.password"},
		{http.MethodPost, "/event/search", map[string]any{"greaterThan": map[string]any{"createdAt": "soon"}}, "greaterThan.createdAt"},
		{http.MethodPost, "/role", `{"name": "abc", "permissions": [{"permissionId": "nope"}]}`, "permissions[0].permissionId"},
		{http.MethodPost, "/role", `{"name": "abc", "Permissions": [{"permissionId": "nope"}]}`, "Permissions"},
		{http.MethodPost, "/role", `{"name": "abc", "permissions": [{"PermissionId": "nope"}]}`, "permissions[0].PermissionId"},
		{http.MethodPut, "/domain/no-such-domain", map[string]any{"state": "GONE"}, "state"},
		{http.MethodPost, "/domain", map[string]any{"name": "abc", "maxUsers": "many"}, "maxUsers"},
		{http.MethodPost, "/token", map[string]any{"domain": k.tn.ID}, "domain"},
		{http.MethodPost, "/login", map[string]any{"username": "a@example.com", "password": "x", "remember": true}, "remember"},
	} {
		h := k.root()
		if strings.HasPrefix(tc.path, "/domain") || tc.path == "/token" {
			h = adminHeader()
		}
		r := s.do(tc.method, tc.path, tc.body, h)
		if r.Status != http.StatusBadRequest || r.Meta.Error == nil || r.Meta.Error.Code != "ValidationError" {
			t.Errorf("%s %s %v: status %d, want 400 ValidationError: %s", tc.method, tc.path, tc.body, r.Status, r.Raw)
			continue
		}
		if r.Meta.Error.Message != "Validation error" || len(r.Meta.Error.Details) != 1 || !r.namesField(tc.field) {
			t.Errorf("%s %s %v: the error does not name %s: %s", tc.method, tc.path, tc.body, tc.field, r.Raw)
		}
	}
}

// TestUnknownIDs checks that every route with ids in its path answers 404
// when they name nothing (GET, PUT, POST and DELETE alike), for the admin
// routes too; driven by the route table.
func TestUnknownIDs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	n := 0
	for _, route := range s.API.Routes() {
		if route.Public || !strings.Contains(route.Path, "{") {
			continue
		}
		if strings.HasPrefix(route.Path, "/settings/{key}") {
			// A setting key is one of a fixed list, not the id of a row:
			// an unknown one is the reference's 400 (TestSettingsValidation).
			continue
		}
		n++
		h := k.root()
		if route.Admin {
			h = adminHeader()
		}
		r := k.call(route, h)
		if r.Status != http.StatusNotFound || r.Meta.Error == nil || r.Meta.Error.Code != "NotFoundError" || string(r.Data) != "{}" {
			t.Errorf("%s with unknown ids: status %d, want 404 NotFoundError: %s", routeKey(route), r.Status, r.Raw)
		}
	}
	if n < 20 {
		t.Errorf("only %d routes with ids", n)
	}
}

// TestBodyLimit checks the 1 MB limit at its edge: a body of exactly 1 MB
// is read, one byte more is 413, whatever the route.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	pad := func(body string, size int) string { return body + strings.Repeat(" ", size-len(body)) }
	const limit = 1 << 20
	s.do(http.MethodPost, "/variables", pad(`{"key": "edge", "value": "v"}`, limit), k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables", pad(`{"key": "over", "value": "v"}`, limit+1), k.root()).
		expectMessage(t, http.StatusRequestEntityTooLarge, "BadRequestError", "Request body is larger than 1 MB")
	for _, route := range s.API.Routes() {
		if !route.HasBody {
			continue
		}
		h := k.root()
		if route.Admin {
			h = adminHeader()
		}
		req := k.requestFor(route)
		r := s.do(route.Method, req.path, pad("{}", 2*limit), h)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with a 2 MB body: status %d, want 413: %s", routeKey(route), r.Status, r.Raw)
		}
	}
	// The variable over the limit was not created.
	r := s.do(http.MethodPost, "/variables/search", map[string]any{"filters": map[string]any{"key": []string{"over"}}}, k.root()).expect(t, http.StatusOK)
	if *r.Meta.Total != 0 {
		t.Errorf("a request over the limit had an effect: %s", r.Raw)
	}
}

// TestConflicts checks 409 for every unique value the API exposes.
func TestConflicts(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 5})
	root := k.root()
	gs := k.gameServer("{}")
	u := k.user(false)
	for _, tc := range []struct {
		name         string
		method, path string
		body         any
		h            header
	}{
		{"role name", http.MethodPost, "/role", map[string]any{"name": "Moderator", "permissions": []any{}}, root},
		{"game server name", http.MethodPost, "/gameserver", map[string]any{"name": gs.Name, "type": "MOCK", "connectionInfo": "{}"}, root},
		{"game server rename", http.MethodPut, "/gameserver/" + k.gameServer("{}").ID.String(), map[string]any{"name": gs.Name}, root},
		{"user e-mail", http.MethodPost, "/user", map[string]any{"name": "abc", "email": u.Email, "password": testPassword}, root},
		{"role assigned twice", http.MethodPost, "/user/" + k.tn.RootUserID + "/role/" + k.tn.RootRoleID, map[string]any{}, root},
		{"domain external reference", http.MethodPost, "/domain", map[string]any{"name": "abc", "externalReference": "ext-1"}, adminHeader()},
	} {
		if tc.name == "domain external reference" {
			s.do(http.MethodPost, "/domain", map[string]any{"name": "first", "externalReference": "ext-1"}, adminHeader()).expect(t, http.StatusOK)
		}
		if r := s.do(tc.method, tc.path, tc.body, tc.h); r.Status != http.StatusConflict || r.Meta.Error == nil || r.Meta.Error.Code != "ConflictError" {
			t.Errorf("%s: status %d, want 409 ConflictError: %s", tc.name, r.Status, r.Raw)
		}
	}
	// Variables: one key per scope; the same key in another scope is fine.
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "1"}, root).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "2"}, root).expect(t, http.StatusConflict, "ConflictError")
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "3", "gameServerId": gs.ID}, root).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "4", "gameServerId": gs.ID}, root).expect(t, http.StatusConflict, "ConflictError")
}
