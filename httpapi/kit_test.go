package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
	"github.com/jackc/pgx/v5"
)

// kit builds what the API tests need inside one tenant, through the API
// itself: roles with chosen permissions, users holding them, game servers,
// players. Everything it creates has a unique name, so tests and subtests
// can share a tenant while running in parallel.

// testPassword is the password of every user a kit creates.
const testPassword = "correct horse battery staple"

// dashboardOnlyMessage, disabledMessage and maintenanceMessage are the
// reference's 400 messages.
const (
	dashboardOnlyMessage = "You must be a dashboard user to perform this action"
	disabledMessage      = "Domain is disabled. Please contact support."
	maintenanceMessage   = "Domain is in maintenance mode. Please try again later."
)

var kitCounter counter

// unique returns a short name that no other call returns.
func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, kitCounter.Add()) }

type kit struct {
	t  testing.TB
	s  *testServer
	tn *tenant
	*kitState
}

// kitState is what the kits of one tenant share (see kit.forTest).
type kitState struct {
	mu      sync.Mutex
	permIDs map[string]string       // permission code → id
	roleIDs map[string]string       // standard role name → id
	created map[string]*kitUserOnce // userWith's users, by permissions and kind
}

type kitUserOnce struct {
	once sync.Once
	user *kitUser
}

// forTest returns a kit of the same tenant that reports to t, for subtests.
func (k *kit) forTest(t testing.TB) *kit {
	return &kit{t: t, s: k.s.forTest(t), tn: k.tn, kitState: k.kitState}
}

// forTest returns a view of the server whose requests report to t.
func (s *testServer) forTest(t testing.TB) *testServer {
	c := *s
	c.t = t
	return &c
}

// kitUser is a user a kit created, with the credentials to log in.
type kitUser struct {
	ID, Email, Password string
}

// newKit creates a tenant with the given limits (maxUsers defaults to 1000
// here, so tests can create many dashboard users).
func newKit(t testing.TB, s *testServer, limits map[string]any) *kit {
	t.Helper()
	l := map[string]any{"maxUsers": 1000}
	for k, v := range limits {
		l[k] = v
	}
	return &kit{t: t, s: s, tn: s.newTenant(l), kitState: &kitState{created: map[string]*kitUserOnce{}}}
}

// root is the tenant's root user's credential.
func (k *kit) root() header { return k.tn.auth() }

// permissionID returns the catalogue id of a permission code.
func (k *kit) permissionID(code string) string {
	k.t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.permIDs == nil {
		var perms []takaro.Permission
		k.s.do(http.MethodGet, "/permissions", nil, k.root()).expect(k.t, http.StatusOK).decode(k.t, &perms)
		k.permIDs = map[string]string{}
		for _, p := range perms {
			k.permIDs[p.Permission] = p.ID.String()
		}
	}
	id, ok := k.permIDs[code]
	if !ok {
		k.t.Fatalf("permission %s is not in the catalogue", code)
	}
	return id
}

// permissionInputs is the permissions property of a role body.
func (k *kit) permissionInputs(codes ...string) []map[string]any {
	out := []map[string]any{}
	for _, c := range codes {
		out = append(out, map[string]any{"permissionId": k.permissionID(c)})
	}
	return out
}

// role creates a role with exactly the given permissions.
func (k *kit) role(codes ...string) string {
	k.t.Helper()
	var role takaro.Role
	k.s.do(http.MethodPost, "/role", map[string]any{"name": unique("role"), "permissions": k.permissionInputs(codes...)}, k.root()).
		expect(k.t, http.StatusOK).decode(k.t, &role)
	return role.ID.String()
}

// standardRole returns the id of one of the roles every domain starts with.
func (k *kit) standardRole(name string) string {
	k.t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.roleIDs == nil {
		var roles []takaro.Role
		k.s.do(http.MethodPost, "/role/search", map[string]any{"filters": map[string]any{"name": []string{
			takaro.RoleRoot, takaro.RoleAdmin, takaro.RoleModerator, takaro.RolePlayer, takaro.RoleUser}}}, k.root()).
			expect(k.t, http.StatusOK).decode(k.t, &roles)
		k.roleIDs = map[string]string{}
		for _, r := range roles {
			k.roleIDs[r.Name] = r.ID.String()
		}
	}
	id, ok := k.roleIDs[name]
	if !ok {
		k.t.Fatalf("no standard role %s", name)
	}
	return id
}

// user creates a user with the roles.
func (k *kit) user(dashboard bool, roleIDs ...string) *kitUser {
	k.t.Helper()
	u := &kitUser{Email: unique("user") + "@example.com", Password: testPassword}
	var created takaro.User
	k.s.do(http.MethodPost, "/user", map[string]any{"name": unique("user"), "email": u.Email, "password": u.Password,
		"isDashboardUser": dashboard}, k.root()).expect(k.t, http.StatusOK).decode(k.t, &created)
	u.ID = created.ID.String()
	for _, r := range roleIDs {
		k.s.do(http.MethodPost, "/user/"+u.ID+"/role/"+r, map[string]any{}, k.root()).expect(k.t, http.StatusOK)
	}
	return u
}

// login opens a new session as u in the kit's domain.
func (k *kit) login(u *kitUser) header {
	k.t.Helper()
	return bearer(k.s.login(u.Email, u.Password, k.tn.ID))
}

// userWith returns a user holding exactly the permissions (through one
// role made for them; none when codes is empty), created once per set.
func (k *kit) userWith(dashboard bool, codes ...string) *kitUser {
	k.t.Helper()
	codes = slices.Sorted(slices.Values(codes))
	key := fmt.Sprintf("%v %s", dashboard, strings.Join(codes, ","))
	k.mu.Lock()
	once := k.created[key]
	if once == nil {
		once = &kitUserOnce{}
		k.created[key] = once
	}
	k.mu.Unlock()
	once.once.Do(func() {
		var roles []string
		if len(codes) > 0 {
			roles = append(roles, k.role(codes...))
		}
		once.user = k.user(dashboard, roles...)
	})
	if once.user == nil {
		k.t.Fatalf("creating the user with %s failed in another test", key)
	}
	return once.user
}

// gameServer creates a MOCK game server with the connection info.
func (k *kit) gameServer(connectionInfo string) *takaro.GameServer {
	k.t.Helper()
	var gs takaro.GameServer
	k.s.do(http.MethodPost, "/gameserver", map[string]any{"name": unique("gs"), "type": "MOCK", "connectionInfo": connectionInfo},
		k.root()).expect(k.t, http.StatusOK).decode(k.t, &gs)
	return &gs
}

// player creates a player with a unique Steam id.
func (k *kit) player() string {
	k.t.Helper()
	var p takaro.Player
	k.s.do(http.MethodPost, "/player", map[string]any{"name": unique("player"), "steamId": unique("steam")}, k.root()).
		expect(k.t, http.StatusOK).decode(k.t, &p)
	return p.ID.String()
}

// inDomain runs fn in a transaction of a raw connection bound to domain,
// the way the data core binds its own, to read or change rows behind the
// API's back.
func (s *testServer) inDomain(t testing.TB, domain string, fn func(tx pgx.Tx) error) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, s.DB.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT takaro_set_local('takaro.domain', $1)", domain); err != nil {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

var pathParam = regexp.MustCompile(`\{[A-Za-z]+\}`)

// routeKey names a route as the router does: "GET /role/{id}".
func routeKey(r httpapi.Route) string { return r.Method + " " + r.Path }

// routeRequest is a request that exercises a route: a path with every
// parameter filled and a body the route accepts (or nil).
type routeRequest struct {
	path string
	body any
}

// requestFor builds a request for route r: UUID parameters get a fresh
// random UUID (so the request names nothing that exists), text ones a
// made-up domain id, and the body is the smallest valid one for the
// routes that need one (an empty object for the others, which then fail
// validation, after authorization).
func (k *kit) requestFor(r httpapi.Route) routeRequest {
	path := pathParam.ReplaceAllStringFunc(r.Path, func(p string) string {
		if p == "{id}" && strings.HasPrefix(r.Path, "/domain/") {
			return "no-such-domain"
		}
		return uuid.NewString()
	})
	var body any
	if r.HasBody {
		body = map[string]any{}
	}
	switch routeKey(r) {
	case "POST /login":
		u := k.userWith(false)
		body = map[string]any{"username": u.Email, "password": u.Password}
	case "POST /domain":
		body = map[string]any{"name": unique("domain")}
	case "POST /token":
		body = map[string]any{"domainId": k.tn.ID}
	case "POST /apikey":
		body = map[string]any{"name": unique("key"), "permissions": []string{}}
	case "POST /user":
		body = map[string]any{"name": unique("user"), "email": unique("user") + "@example.com", "password": testPassword}
	case "POST /role":
		body = map[string]any{"name": unique("role"), "permissions": []any{}}
	case "POST /gameserver":
		body = map[string]any{"name": unique("gs"), "type": "MOCK", "connectionInfo": "{}"}
	case "POST /player":
		body = map[string]any{"steamId": unique("steam")}
	case "POST /gameserver/player":
		body = map[string]any{"playerId": uuid.NewString(), "gameServerId": uuid.NewString(), "gameId": "g1"}
	case "POST /variables":
		body = map[string]any{"key": unique("var"), "value": "v"}
	case "PUT /variables/{id}":
		body = map[string]any{"value": "v"}
	case "POST /settings/{key}":
		body = map[string]any{"value": "!"}
	case "POST /event":
		body = map[string]any{"eventName": "chat-message"}
	case "POST /command/{id}/trigger":
		body = map[string]any{"playerId": uuid.NewString(), "msg": "/hi"}
	case "POST /gameserver/reachability":
		body = map[string]any{"connectionInfo": "{}", "type": "MOCK"}
	case "POST /gameserver/{gameServerId}/player/{playerId}/currency", "POST /gameserver/{gameServerId}/player/{playerId}/add-currency",
		"POST /gameserver/{gameServerId}/player/{playerId}/deduct-currency", "POST /gameserver/{gameServerId}/player/{sender}/{receiver}/transfer":
		body = map[string]any{"currency": 1}
	case "POST /shop/category":
		body = map[string]any{"name": unique("category"), "emoji": "📦"}
	case "POST /shop/category/bulk-assign":
		body = map[string]any{"listingIds": []string{uuid.NewString()}, "addCategoryIds": []string{uuid.NewString()}}
	case "POST /shop/listing":
		body = map[string]any{"gameServerId": uuid.NewString(), "name": "listing", "price": 1, "items": []map[string]any{{"amount": 1, "code": "x"}}}
	case "POST /shop/listing/import":
		body = map[string]any{"import": `[{"name": "listing", "price": 1, "items": [{"amount": 1, "item": {"code": "x"}}]}]`,
			"options": fmt.Sprintf(`{"gameServerId": %q}`, uuid.NewString())}
	case "POST /shop/order":
		body = map[string]any{"listingId": uuid.NewString(), "amount": 1}
	case "POST /tracking/inventory/player":
		body = map[string]any{"playerId": uuid.NewString()}
	case "POST /tracking/inventory/item":
		body = map[string]any{"itemId": uuid.NewString()}
	case "DELETE /gameserver/{gameServerId}/player":
		body = map[string]any{"playerIds": []string{uuid.NewString()}}
	case "POST /gameserver/{gameServerId}/player/{playerId}/giveItem":
		body = map[string]any{"name": "wood", "amount": 1, "quality": "1"}
	case "POST /gameserver/{gameServerId}/player/{playerId}/kick":
		body = map[string]any{"reason": "afk"}
	case "POST /gameserver/{gameServerId}/player/{playerId}/teleport":
		body = map[string]any{"x": 0, "y": 0, "z": 0}
	case "POST /gameserver/{id}/command":
		body = map[string]any{"command": "help"}
	case "POST /gameserver/{id}/message":
		body = map[string]any{"message": "hello"}
	}
	return routeRequest{path: path, body: body}
}

// call sends the request for route r with the headers.
func (k *kit) call(r httpapi.Route, headers ...header) *response {
	k.t.Helper()
	req := k.requestFor(r)
	return k.s.do(r.Method, req.path, req.body, headers...)
}

// expectMessage fails unless the response is an error with the status,
// code and message.
func (r *response) expectMessage(t testing.TB, status int, code, message string) *response {
	t.Helper()
	r.expect(t, status, code)
	if r.Meta.Error.Message != message {
		t.Fatalf("message %q, want %q: %s", r.Meta.Error.Message, message, r.Raw)
	}
	return r
}

// errorMessage is the response's error message, "" when it has none.
func (r *response) errorMessage() string {
	if r.Meta.Error == nil {
		return ""
	}
	return r.Meta.Error.Message
}

// expectAuthorized fails when the response says the caller may not use the
// route: 401, 403, a gate's 400, or a 500.
func (r *response) expectAuthorized(t testing.TB, what string) {
	t.Helper()
	switch {
	case r.Status == http.StatusNotImplemented && r.Meta.Error != nil && r.Meta.Error.Code == "NotImplementedError":
		// Past every check: what is left needs a game connector.
	case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status >= 500:
		t.Errorf("%s: status %d: %s", what, r.Status, r.Raw)
	case r.Status == http.StatusBadRequest && slices.Contains([]string{dashboardOnlyMessage, disabledMessage, maintenanceMessage}, r.errorMessage()):
		t.Errorf("%s: refused: %s", what, r.Raw)
	}
}

// revocationDelay is how soon a change made on one instance must be
// refused by every other.
const revocationDelay = 100 * time.Millisecond

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// answersWithin checks that GET path with h answers status within
// revocationDelay, and returns how long it took.
func answersWithin(t *testing.T, s *testServer, path string, h header, status int) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		r := s.do(http.MethodGet, path, nil, h)
		took := time.Since(start)
		if r.Status == status {
			return took
		}
		if took > revocationDelay {
			t.Fatalf("GET %s still answers %d %s after %v, want %d within %v", path, r.Status, r.Raw, took, status, revocationDelay)
		}
		time.Sleep(time.Millisecond)
	}
}

// namesField reports whether a validation error's details name field: an
// entry (at any depth) whose path is field, or a top-level entry whose
// property is field.
func (r *response) namesField(field string) bool {
	if r.Meta.Error == nil {
		return false
	}
	type detail struct {
		Property string            `json:"property"`
		Path     string            `json:"path"`
		Children []json.RawMessage `json:"children"`
	}
	var walk func(raw json.RawMessage, top bool) bool
	walk = func(raw json.RawMessage, top bool) bool {
		var d detail
		if json.Unmarshal(raw, &d) != nil {
			return false
		}
		if d.Path == field || (top && d.Property == field && len(d.Children) == 0) {
			return true
		}
		for _, c := range d.Children {
			if walk(c, false) {
				return true
			}
		}
		return false
	}
	for _, raw := range r.Meta.Error.Details {
		if walk(raw, true) {
			return true
		}
	}
	return false
}

// complaints lists the constraint messages of a validation error's
// details, at every depth ("name is required").
func (r *response) complaints() []string {
	if r.Meta.Error == nil {
		return nil
	}
	var out []string
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		var d struct {
			Constraints map[string]string `json:"constraints"`
			Children    []json.RawMessage `json:"children"`
		}
		if json.Unmarshal(raw, &d) != nil {
			return
		}
		for _, m := range d.Constraints {
			out = append(out, m)
		}
		for _, c := range d.Children {
			walk(c)
		}
	}
	for _, raw := range r.Meta.Error.Details {
		walk(raw)
	}
	return out
}
