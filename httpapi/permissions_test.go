package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
)

// The permission matrix is driven by the route table (s.API.Routes()), so
// a new route is covered as soon as it is declared.

// TestPermissionMatrix checks every user route against users that hold
// exactly its permissions, all but one of them, the same permissions
// without being dashboard users, and ROOT.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 1000})
	// A user whose only role grants ROOT: ROOT stands for every permission
	// and lifts the dashboard-user gate too.
	rootHolder := k.user(false, k.role(takaro.PermRoot))

	for _, route := range s.API.Routes() {
		if route.Public || route.Admin {
			continue
		}
		t.Run(routeKey(route), func(t *testing.T) {
			t.Parallel()
			k := k.forTest(t)

			exact := k.userWith(true, route.Permissions...)
			k.call(route, k.login(exact)).expectAuthorized(t, "a dashboard user with exactly "+describePerms(route.Permissions))

			for i, missing := range route.Permissions {
				others := slices.Delete(slices.Clone(route.Permissions), i, i+1)
				u := k.userWith(true, others...)
				r := k.call(route, k.login(u))
				if r.Status != http.StatusForbidden || r.Meta.Error == nil || r.Meta.Error.Code != "ForbiddenError" {
					t.Errorf("a user without %s: status %d, want 403 ForbiddenError: %s", missing, r.Status, r.Raw)
				}
			}

			if slices.ContainsFunc(route.Permissions, func(p string) bool { return strings.HasPrefix(p, "MANAGE_") }) {
				u := k.userWith(false, route.Permissions...)
				k.call(route, k.login(u)).expectMessage(t, http.StatusBadRequest, "BadRequestError", dashboardOnlyMessage)
			}

			k.call(route, k.login(rootHolder)).expectAuthorized(t, "a user with a ROOT role")
			k.call(route, bearer(k.s.login("root@"+k.tn.ID+".com", k.tn.Password, k.tn.ID))).expectAuthorized(t, "the domain's root user")
		})
	}
}

// newToken returns a well-formed bearer token for a credential that does
// not exist.
func newToken(kind takaro.CredentialKind, domain string) string {
	_, text := takaro.NewToken(kind, domain, uuid.New())
	return text
}

func describePerms(perms []string) string {
	if len(perms) == 0 {
		return "no permissions"
	}
	return strings.Join(perms, "+")
}

// TestUnauthenticated checks that every user route answers 401 without a
// credential, with a malformed or unknown one, and with an admin token.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	badCredentials := map[string][]header{
		"no credential":      nil,
		"not a token":        {bearer("nonsense")},
		"empty bearer":       {bearer("")},
		"basic auth":         {{"Authorization", "Basic cm9vdDpyb290"}},
		"unknown session":    {bearer(newToken(takaro.CredentialSession, k.tn.ID))},
		"unknown API key":    {bearer(newToken(takaro.CredentialAPIKey, k.tn.ID))},
		"the admin token":    {adminHeader()},
		"a garbage JWT":      {{"X-Takaro-Token", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}},
		"a session as token": {{"X-Takaro-Token", k.tn.Token}},
	}
	for _, route := range s.API.Routes() {
		if route.Public || route.Admin {
			continue
		}
		for name, headers := range badCredentials {
			r := k.call(route, headers...)
			if r.Status != http.StatusUnauthorized || r.Meta.Error == nil || r.Meta.Error.Code != "UnauthorizedError" || r.Meta.Error.Message != "Not authorized" {
				t.Errorf("%s with %s: status %d, want 401 UnauthorizedError \"Not authorized\": %s", routeKey(route), name, r.Status, r.Raw)
			}
		}
	}
}

// TestPublicRoutes checks that the public routes need no credential.
func TestPublicRoutes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	n := 0
	for _, route := range s.API.Routes() {
		if !route.Public {
			continue
		}
		n++
		if r := k.call(route); r.Status != http.StatusOK {
			t.Errorf("%s without a credential: status %d, want 200: %s", routeKey(route), r.Status, r.Raw)
		}
	}
	if n == 0 {
		t.Error("no public route (POST /login should be one)")
	}
}

// TestAdminRoutes checks that the admin routes take the admin token and
// nothing else, and are off when no admin secret is configured.
func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	var jwt struct{ Token string }
	s.do(http.MethodPost, "/token", map[string]any{"domainId": k.tn.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &jwt)
	refused := map[string][]header{
		"no credential":             nil,
		"a wrong admin token":       {{"X-Takaro-Admin-Token", testAdminSecret + "x"}},
		"a prefix of the token":     {{"X-Takaro-Admin-Token", testAdminSecret[:len(testAdminSecret)-1]}},
		"the root user's session":   {k.root()},
		"a domain token":            {{"X-Takaro-Token", jwt.Token}},
		"the token as bearer":       {bearer(testAdminSecret)},
		"the token in another case": {{"X-Takaro-Admin-Token", strings.ToUpper(testAdminSecret)}},
	}
	n := 0
	for _, route := range s.API.Routes() {
		if !route.Admin {
			continue
		}
		n++
		for name, headers := range refused {
			r := k.call(route, headers...)
			if r.Status != http.StatusUnauthorized || r.errorMessage() != "Not authorized" {
				t.Errorf("%s with %s: status %d, want 401 \"Not authorized\": %s", routeKey(route), name, r.Status, r.Raw)
			}
		}
		k.call(route, adminHeader()).expectAuthorized(t, routeKey(route)+" with the admin token")
	}
	if n == 0 {
		t.Fatal("no admin route")
	}

	// With no secret configured the admin API is off, whatever is sent.
	off := newTestServer(t, func(c *httpapi.Config) { c.AdminSecret = "" })
	for _, route := range off.API.Routes() {
		if !route.Admin {
			continue
		}
		for _, h := range []header{adminHeader(), {"X-Takaro-Admin-Token", ""}} {
			req := k.requestFor(route)
			off.do(route.Method, req.path, req.body, h).expectMessage(t, http.StatusUnauthorized, "UnauthorizedError",
				"The admin API is disabled (ADMIN_CLIENT_SECRET is not set)")
		}
	}
}

// TestImplicitUserRole gives the system role User a permission and sees a
// user without any role of their own gain it at once, and lose it again.
func TestImplicitUserRole(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	plain := k.login(k.user(false))
	search := func() *response { return s.do(http.MethodPost, "/role/search", map[string]any{}, plain) }
	search().expect(t, http.StatusForbidden, "ForbiddenError")

	userRole := k.standardRole(takaro.RoleUser)
	s.do(http.MethodPut, "/role/"+userRole, map[string]any{"permissions": k.permissionInputs(takaro.PermReadRoles)}, k.root()).expect(t, http.StatusOK)
	search().expect(t, http.StatusOK)
	// Only what the User role grants: not the other READ_ permissions.
	s.do(http.MethodPost, "/user/search", map[string]any{}, plain).expect(t, http.StatusForbidden, "ForbiddenError")

	s.do(http.MethodPut, "/role/"+userRole, map[string]any{"permissions": []any{}}, k.root()).expect(t, http.StatusOK)
	search().expect(t, http.StatusForbidden, "ForbiddenError")

	// Nobody can be given the implicit roles explicitly.
	u := k.user(false)
	for _, name := range []string{takaro.RoleUser, takaro.RolePlayer} {
		s.do(http.MethodPost, "/user/"+u.ID+"/role/"+k.standardRole(name), map[string]any{}, k.root()).
			expectMessage(t, http.StatusBadRequest, "BadRequestError", "Cannot assign Player or User role, everyone has these by default")
	}
}

// TestPermissionUnion checks that a user's permissions are the union of
// their roles, that a removed role takes its permissions at once, and that
// an expired assignment grants nothing.
func TestPermissionUnion(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	readRoles, readUsers := k.role(takaro.PermReadRoles), k.role(takaro.PermReadUsers)
	u := k.user(true, readRoles, readUsers)
	token := k.login(u)
	s.do(http.MethodPost, "/role/search", map[string]any{}, token).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/user/search", map[string]any{}, token).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables/search", map[string]any{}, token).expect(t, http.StatusForbidden, "ForbiddenError")

	s.do(http.MethodDelete, "/user/"+u.ID+"/role/"+readUsers, nil, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/user/search", map[string]any{}, token).expect(t, http.StatusForbidden, "ForbiddenError")
	s.do(http.MethodPost, "/role/search", map[string]any{}, token).expect(t, http.StatusOK)

	// An assignment that has expired grants nothing.
	s.do(http.MethodPost, "/user/"+u.ID+"/role/"+readUsers, map[string]any{"expiresAt": "2000-01-01T00:00:00Z"}, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/user/search", map[string]any{}, token).expect(t, http.StatusForbidden, "ForbiddenError")
}
