package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/gotakaro/takaro"
)

// shapes records the success response of each route in a golden file and
// remembers which routes it has seen.
type shapes struct {
	t        *testing.T
	literals []literal
	seen     map[string]bool
}

// check expects 200 and compares the response with the route's golden file.
func (sh *shapes) check(route string, r *response) *response {
	sh.t.Helper()
	r.expect(sh.t, http.StatusOK)
	assertGolden(sh.t, route, r, sh.literals...)
	sh.seen[route] = true
	return r
}

// TestShapes walks one domain through every route of the API, from its
// creation to its deletion, and compares each success response with its
// golden file. A route that the walk does not reach fails the test, so a
// new route cannot go without a golden success shape.
func TestShapes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	sh := &shapes{t: t, seen: map[string]bool{}}
	admin := adminHeader()

	// Domains and the admin API.
	var created takaro.DomainCreated
	r := s.do(http.MethodPost, "/domain", map[string]any{"name": "shapes tenant", "externalReference": "shapes-ref", "maxGameservers": 5, "maxUsers": 5}, admin)
	r.expect(t, http.StatusOK).decode(t, &created)
	domain := created.CreatedDomain.ID
	sh.literals = []literal{{domain, "<domain-id>"}, {created.Password, "<password>"}}
	sh.check("POST /domain", r)

	var session struct{ Token string }
	sh.check("POST /login", s.do(http.MethodPost, "/login", map[string]any{"username": "root@" + domain + ".com", "password": created.Password})).decode(t, &session)
	root := bearer(session.Token)
	sh.check("GET /me", s.do(http.MethodGet, "/me", nil, root))
	sh.check("GET /domain/{id}", s.do(http.MethodGet, "/domain/"+domain, nil, admin))
	sh.check("POST /domain/search", s.do(http.MethodPost, "/domain/search", map[string]any{"filters": map[string]any{"id": []string{domain}}}, admin))
	sh.check("PUT /domain/{id}", s.do(http.MethodPut, "/domain/"+domain, map[string]any{"maxVariables": 500}, admin))
	sh.check("POST /token", s.do(http.MethodPost, "/token", map[string]any{"domainId": domain}, admin))

	// Roles and permissions.
	var perms []takaro.Permission
	sh.check("GET /permissions", s.do(http.MethodGet, "/permissions", nil, root)).decode(t, &perms)
	permID := map[string]string{}
	for _, p := range perms {
		permID[p.Permission] = p.ID.String()
	}
	var role takaro.Role
	sh.check("POST /role", s.do(http.MethodPost, "/role", map[string]any{"name": "Shaper", "permissions": []any{
		map[string]any{"permissionId": permID[takaro.PermReadPlayers]},
		map[string]any{"permissionId": permID[takaro.PermManageGameservers], "count": 2},
	}}, root)).decode(t, &role)
	roleID := role.ID.String()
	sh.check("GET /role/{id}", s.do(http.MethodGet, "/role/"+roleID, nil, root))
	sh.check("PUT /role/{id}", s.do(http.MethodPut, "/role/"+roleID, map[string]any{"name": "Shaper2", "permissions": []any{
		map[string]any{"permissionId": permID[takaro.PermReadPlayers]},
	}}, root))
	sh.check("POST /role/search", s.do(http.MethodPost, "/role/search", map[string]any{"filters": map[string]any{"name": []string{"Shaper2"}}}, root))

	// Users.
	var user takaro.User
	sh.check("POST /user", s.do(http.MethodPost, "/user", map[string]any{"name": "Shapes User", "email": "shapes-user@example.com",
		"password": testPassword, "isDashboardUser": true}, root)).decode(t, &user)
	userID := user.ID.String()
	sh.check("GET /user/{id}", s.do(http.MethodGet, "/user/"+userID, nil, root))
	sh.check("PUT /user/{id}", s.do(http.MethodPut, "/user/"+userID, map[string]any{"name": "Shapes User 2"}, root))
	sh.check("POST /user/{id}/role/{roleId}", s.do(http.MethodPost, "/user/"+userID+"/role/"+roleID, map[string]any{}, root))
	sh.check("POST /user/search", s.do(http.MethodPost, "/user/search", map[string]any{"filters": map[string]any{"id": []string{userID}}}, root))
	sh.check("DELETE /user/{id}/role/{roleId}", s.do(http.MethodDelete, "/user/"+userID+"/role/"+roleID, nil, root))

	// API keys: the key is used once before the listing, so lastUsedAt is set.
	var key takaro.APIKeyCreated
	sh.check("POST /apikey", s.do(http.MethodPost, "/apikey", map[string]any{"name": "ci", "permissions": []string{takaro.PermReadRoles},
		"expiresAt": "2099-01-01T00:00:00Z"}, root)).decode(t, &key)
	s.do(http.MethodGet, "/role/"+roleID, nil, bearer(key.Secret)).expect(t, http.StatusOK)
	sh.check("GET /apikey", s.do(http.MethodGet, "/apikey", nil, root))
	sh.check("DELETE /apikey/{id}", s.do(http.MethodDelete, "/apikey/"+key.APIKey.ID.String(), nil, root))

	// Game servers.
	var gs takaro.GameServer
	sh.check("POST /gameserver", s.do(http.MethodPost, "/gameserver", map[string]any{"name": "shapes server", "type": "MOCK",
		"connectionInfo": `{"host": "127.0.0.1", "port": 28016, "password": "rcon-secret"}`}, root)).decode(t, &gs)
	gsID := gs.ID.String()
	sh.check("GET /gameserver/{id}", s.do(http.MethodGet, "/gameserver/"+gsID, nil, root))
	sh.check("PUT /gameserver/{id}", s.do(http.MethodPut, "/gameserver/"+gsID, map[string]any{"name": "shapes server 2", "enabled": false,
		"connectionInfo": `{"host": "127.0.0.2", "port": 28016, "password": "rcon-secret-2"}`}, root))
	sh.check("POST /gameserver/search", s.do(http.MethodPost, "/gameserver/search", map[string]any{"filters": map[string]any{"id": []string{gsID}}}, root))

	// Players, their roles and where they were seen.
	var player takaro.Player
	sh.check("POST /player", s.do(http.MethodPost, "/player", map[string]any{"name": "Shapes Player", "steamId": "76561198000000001"}, root)).decode(t, &player)
	playerID := player.ID.String()
	sh.check("POST /player/{id}/role/{roleId}", s.do(http.MethodPost, "/player/"+playerID+"/role/"+roleID,
		map[string]any{"gameServerId": gsID, "expiresAt": "2099-01-01T00:00:00Z"}, root))
	sh.check("GET /player/{id}", s.do(http.MethodGet, "/player/"+playerID, nil, root))
	sh.check("POST /player/search", s.do(http.MethodPost, "/player/search", map[string]any{"filters": map[string]any{"id": []string{playerID}}}, root))
	sh.check("DELETE /player/{id}/role/{roleId}", s.do(http.MethodDelete, "/player/"+playerID+"/role/"+roleID, map[string]any{"gameServerId": gsID}, root))
	sh.check("POST /gameserver/player", s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": playerID, "gameServerId": gsID,
		"gameId": "game-1", "online": true, "ping": 42, "ip": "192.0.2.7"}, root))
	sh.check("GET /gameserver/{gameServerId}/player/{playerId}", s.do(http.MethodGet, "/gameserver/"+gsID+"/player/"+playerID, nil, root))
	sh.check("POST /gameserver/player/search", s.do(http.MethodPost, "/gameserver/player/search", map[string]any{"filters": map[string]any{"playerId": []string{playerID}}}, root))

	// Location history.
	sh.check("POST /tracking/location/record", s.do(http.MethodPost, "/tracking/location/record", map[string]any{"gameServerId": gsID,
		"samples": []map[string]any{{"playerId": playerID, "x": 10.5, "y": -3, "z": 64.125, "dimension": "overworld"}}}, root))
	sh.check("POST /tracking/location", s.do(http.MethodPost, "/tracking/location", map[string]any{"playerId": []string{playerID}}, root))
	sh.check("POST /tracking/location/box", s.do(http.MethodPost, "/tracking/location/box", map[string]any{"gameserverId": gsID,
		"minX": 0, "maxX": 20, "minY": -5, "maxY": 0, "minZ": 0, "maxZ": 100}, root))
	sh.check("POST /tracking/location/radius", s.do(http.MethodPost, "/tracking/location/radius", map[string]any{"gameserverId": gsID,
		"x": 10, "y": -3, "z": 64, "radius": 1}, root))

	// Variables.
	var variable takaro.Variable
	sh.check("POST /variables", s.do(http.MethodPost, "/variables", map[string]any{"key": "greeting", "value": "hello", "gameServerId": gsID,
		"playerId": playerID}, root)).decode(t, &variable)
	varID := variable.ID.String()
	sh.check("GET /variables/{id}", s.do(http.MethodGet, "/variables/"+varID, nil, root))
	sh.check("PUT /variables/{id}", s.do(http.MethodPut, "/variables/"+varID, map[string]any{"value": "hi", "expiresAt": "2099-01-01T00:00:00Z"}, root))
	sh.check("POST /variables/search", s.do(http.MethodPost, "/variables/search", map[string]any{"filters": map[string]any{"key": []string{"greeting"}}}, root))

	// Events.
	var event takaro.Event
	sh.check("POST /event", s.do(http.MethodPost, "/event", map[string]any{"eventName": "chat-message", "playerId": playerID, "gameserverId": gsID,
		"meta": map[string]any{"message": "hello there"}}, root)).decode(t, &event)
	sh.check("GET /event/{id}", s.do(http.MethodGet, "/event/"+event.ID.String(), nil, root))
	sh.check("POST /event/search", s.do(http.MethodPost, "/event/search", map[string]any{"filters": map[string]any{"eventName": []string{"gameserver-created"}}}, root))

	// Deletions, the session and the domain itself.
	sh.check("DELETE /variables/{id}", s.do(http.MethodDelete, "/variables/"+varID, nil, root))
	sh.check("DELETE /player/{id}", s.do(http.MethodDelete, "/player/"+playerID, nil, root))
	sh.check("DELETE /gameserver/{id}", s.do(http.MethodDelete, "/gameserver/"+gsID, nil, root))
	sh.check("DELETE /role/{id}", s.do(http.MethodDelete, "/role/"+roleID, nil, root))
	sh.check("DELETE /user/{id}", s.do(http.MethodDelete, "/user/"+userID, nil, root))
	sh.check("POST /logout", s.do(http.MethodPost, "/logout", nil, root))
	sh.check("DELETE /domain/{id}", s.do(http.MethodDelete, "/domain/"+domain, nil, admin))

	for _, route := range s.API.Routes() {
		if !sh.seen[routeKey(route)] {
			t.Errorf("route %s has no golden success shape: add it to TestShapes", routeKey(route))
		}
	}
}
