package httpapi_test

import (
	"net/http"
	"strings"
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

// checkStatus is check for a route whose answer is not 200.
func (sh *shapes) checkStatus(route string, status int, r *response) {
	sh.t.Helper()
	r.expect(sh.t, status)
	assertGolden(sh.t, route, r, sh.literals...)
	sh.seen[route] = true
}

// checkNotImplemented expects 501 NotImplementedError and compares the
// response with the route's golden file.
func (sh *shapes) checkNotImplemented(route string, r *response) {
	sh.t.Helper()
	r.expect(sh.t, http.StatusNotImplemented, "NotImplementedError")
	assertGolden(sh.t, route, r, sh.literals...)
	sh.seen[route] = true
}

// modules walks the routes of modules and their parts, installing on a
// game server and naming a player of the walk.
func (sh *shapes) modules(s *testServer, root header, gsID, playerID string) {
	t := sh.t
	var m takaro.Module
	sh.check("POST /module", s.do(http.MethodPost, "/module", map[string]any{"name": "shapes module", "author": "Shaper",
		"supportedGames": []string{"rust"}, "latestVersion": map[string]any{"description": "Greets players",
			"configSchema": `{"type":"object","properties":{"greeting":{"type":"string","default":"hi"}},"additionalProperties":false}`,
			"permissions": []any{map[string]any{"permission": "SHAPES_USE", "friendlyName": "Use shapes", "description": "May greet",
				"canHaveCount": true}}}}, root)).decode(t, &m)
	moduleID, latestID := m.ID.String(), m.LatestVersion.ID.String()
	sh.check("GET /module/{id}", s.do(http.MethodGet, "/module/"+moduleID, nil, root))
	sh.check("PUT /module/{id}", s.do(http.MethodPut, "/module/"+moduleID, map[string]any{"author": "Shaper 2"}, root))

	var v struct {
		ID string `json:"id"`
	}
	sh.check("POST /function", s.do(http.MethodPost, "/function", map[string]any{"name": "helper", "code": "export const x = 1;",
		"versionId": latestID}, root)).decode(t, &v)
	fnID := v.ID
	sh.check("GET /function/{id}", s.do(http.MethodGet, "/function/"+fnID, nil, root))
	sh.check("PUT /function/{id}", s.do(http.MethodPut, "/function/"+fnID, map[string]any{"description": "shared"}, root))
	sh.check("POST /function/search", s.do(http.MethodPost, "/function/search", map[string]any{"filters": map[string]any{"id": []string{fnID}},
		"extend": []string{"version"}}, root))

	var cmd takaro.Command
	sh.check("POST /command", s.do(http.MethodPost, "/command", map[string]any{"name": "greet", "trigger": "hi", "versionId": latestID,
		"helpText": "Greets someone", "function": "await takaro.say('hi');", "requiredPermissions": []string{"SHAPES_USE"},
		"arguments": []any{map[string]any{"name": "who", "type": "player", "position": 0, "helpText": "Whom to greet"}}}, root)).decode(t, &cmd)
	cmdID := cmd.ID.String()
	sh.check("GET /command/{id}", s.do(http.MethodGet, "/command/"+cmdID, nil, root))
	sh.check("PUT /command/{id}", s.do(http.MethodPut, "/command/"+cmdID, map[string]any{"trigger": "hello"}, root))
	sh.check("POST /command/search", s.do(http.MethodPost, "/command/search", map[string]any{"filters": map[string]any{"moduleId": []string{moduleID}}}, root))
	sh.check("POST /command/argument", s.do(http.MethodPost, "/command/argument", map[string]any{"commandId": cmdID, "name": "times",
		"type": "number", "position": 1, "defaultValue": "1"}, root)).decode(t, &v)
	argID := v.ID
	sh.check("PUT /command/argument/{id}", s.do(http.MethodPut, "/command/argument/"+argID, map[string]any{"helpText": "How often"}, root))

	sh.check("POST /hook", s.do(http.MethodPost, "/hook", map[string]any{"name": "on chat", "eventType": "chat-message", "regex": "^!hi",
		"versionId": latestID}, root)).decode(t, &v)
	hookID := v.ID
	sh.check("GET /hook/{id}", s.do(http.MethodGet, "/hook/"+hookID, nil, root))
	sh.check("PUT /hook/{id}", s.do(http.MethodPut, "/hook/"+hookID, map[string]any{"regex": "hello"}, root))
	sh.check("POST /hook/search", s.do(http.MethodPost, "/hook/search", map[string]any{"filters": map[string]any{"eventType": []string{"chat-message"}}}, root))

	sh.check("POST /cronjob", s.do(http.MethodPost, "/cronjob", map[string]any{"name": "tick", "temporalValue": "*/5 * * * *",
		"versionId": latestID}, root)).decode(t, &v)
	cronID := v.ID
	sh.check("GET /cronjob/{id}", s.do(http.MethodGet, "/cronjob/"+cronID, nil, root))
	sh.check("PUT /cronjob/{id}", s.do(http.MethodPut, "/cronjob/"+cronID, map[string]any{"temporalValue": "0 * * * *"}, root))
	sh.check("POST /cronjob/search", s.do(http.MethodPost, "/cronjob/search", map[string]any{"filters": map[string]any{"versionId": []string{latestID}}}, root))

	for kind, id := range map[string]string{"command": cmdID, "hook": hookID, "cronjob": cronID} {
		s.do(http.MethodPost, "/event", map[string]any{"eventName": kind + "-executed", "gameserverId": gsID, "moduleId": moduleID,
			"meta": map[string]any{kind: map[string]any{"id": id}, "result": map[string]any{"success": true, "logs": []any{}}}}, root).expect(t, http.StatusOK)
		sh.check("POST /"+kind+"/{id}/executions", s.do(http.MethodPost, "/"+kind+"/"+id+"/executions?success=true", map[string]any{}, root))
	}

	sh.check("GET /module/version/{id}", s.do(http.MethodGet, "/module/version/"+latestID, nil, root))
	var tagged takaro.ModuleVersion
	sh.check("POST /module/version", s.do(http.MethodPost, "/module/version/", map[string]any{"tag": "1.0.0", "moduleId": moduleID}, root)).decode(t, &tagged)
	sh.check("POST /module/version/search", s.do(http.MethodPost, "/module/version/search", map[string]any{"filters": map[string]any{"moduleId": []string{moduleID}},
		"sortBy": "tag"}, root))
	sh.check("POST /module/search", s.do(http.MethodPost, "/module/search", map[string]any{"filters": map[string]any{"id": []string{moduleID}}}, root))

	sh.check("POST /module/installation", s.do(http.MethodPost, "/module/installation/", map[string]any{"versionId": tagged.ID, "gameServerId": gsID,
		"userConfig": `{"greeting":"hello"}`, "systemConfig": `{"commands":{"greet":{"cost":5,"aliases":["hey"]}}}`}, root))
	installation := "/module/" + moduleID + "/gameserver/" + gsID + "/installation"
	sh.check("GET /module/{moduleId}/gameserver/{gameServerId}/installation", s.do(http.MethodGet, installation, nil, root))
	sh.check("POST /module/installation/search", s.do(http.MethodPost, "/module/installation/search", map[string]any{"filters": map[string]any{"moduleId": []string{moduleID}}}, root))

	var transfer map[string]any
	sh.check("POST /module/{id}/export", s.do(http.MethodPost, "/module/"+moduleID+"/export", map[string]any{}, root)).decode(t, &transfer)
	sh.check("POST /module/import", s.do(http.MethodPost, "/module/import", transfer, root))

	sh.checkStatus("POST /command/{id}/trigger", http.StatusNotImplemented,
		s.do(http.MethodPost, "/command/"+gsID+"/trigger", map[string]any{"playerId": playerID, "msg": "/hi"}, root))
	sh.checkStatus("POST /hook/trigger", http.StatusNotImplemented, s.do(http.MethodPost, "/hook/trigger", map[string]any{"gameServerId": gsID,
		"eventType": "chat-message", "eventMeta": map[string]any{"msg": "hi"}}, root))
	sh.checkStatus("POST /cronjob/trigger", http.StatusNotImplemented, s.do(http.MethodPost, "/cronjob/trigger", map[string]any{"gameServerId": gsID,
		"cronjobId": cronID, "moduleId": moduleID}, root))

	sh.check("DELETE /module/{moduleId}/gameserver/{gameServerId}/installation", s.do(http.MethodDelete, installation, nil, root))
	sh.check("DELETE /command/argument/{id}", s.do(http.MethodDelete, "/command/argument/"+argID, nil, root))
	sh.check("DELETE /command/{id}", s.do(http.MethodDelete, "/command/"+cmdID, nil, root))
	sh.check("DELETE /hook/{id}", s.do(http.MethodDelete, "/hook/"+hookID, nil, root))
	sh.check("DELETE /cronjob/{id}", s.do(http.MethodDelete, "/cronjob/"+cronID, nil, root))
	sh.check("DELETE /function/{id}", s.do(http.MethodDelete, "/function/"+fnID, nil, root))
	sh.check("DELETE /module/{id}", s.do(http.MethodDelete, "/module/"+moduleID, nil, root))
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
	sh.literals = []literal{{domain, "<domain-id>"}, {created.Password, "<password>"}, {*created.CreatedDomain.ServerRegistrationToken, "<registration-token>"}}
	sh.check("POST /domain", r)

	var session struct{ Token string }
	sh.check("POST /login", s.do(http.MethodPost, "/login", map[string]any{"username": "root@" + domain + ".com", "password": created.Password})).decode(t, &session)
	root := bearer(session.Token)
	sh.check("GET /me", s.do(http.MethodGet, "/me", nil, root))
	sh.check("GET /domain/{id}", s.do(http.MethodGet, "/domain/"+domain, nil, admin))
	sh.check("POST /domain/search", s.do(http.MethodPost, "/domain/search", map[string]any{"filters": map[string]any{"id": []string{domain}}}, admin))
	sh.check("PUT /domain/{id}", s.do(http.MethodPut, "/domain/"+domain, map[string]any{"maxVariables": 500}, admin))
	sh.check("POST /resolve-registration-token", s.do(http.MethodPost, "/resolve-registration-token",
		map[string]any{"registrationToken": *created.CreatedDomain.ServerRegistrationToken}, admin))
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
	sh.check("POST /user/invite", s.do(http.MethodPost, "/user/invite", map[string]any{"email": "shapes-invitee@example.com"}, root))
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
	sh.check("GET /gameserver/types", s.do(http.MethodGet, "/gameserver/types", nil, root))
	sh.check("POST /gameserver/search", s.do(http.MethodPost, "/gameserver/search", map[string]any{"filters": map[string]any{"id": []string{gsID}}}, root))

	// Players, their roles and where they were seen.
	var player takaro.Player
	sh.check("POST /player", s.do(http.MethodPost, "/player", map[string]any{"name": "Shapes Player", "steamId": "76561198000000001"}, root)).decode(t, &player)
	playerID := player.ID.String()
	sh.check("POST /player/{id}/role/{roleId}", s.do(http.MethodPost, "/player/"+playerID+"/role/"+roleID,
		map[string]any{"gameServerId": gsID, "expiresAt": "2099-01-01T00:00:00Z"}, root))
	sh.check("POST /player/search", s.do(http.MethodPost, "/player/search", map[string]any{"filters": map[string]any{"id": []string{playerID}}}, root))
	sh.check("DELETE /player/{id}/role/{roleId}", s.do(http.MethodDelete, "/player/"+playerID+"/role/"+roleID, map[string]any{"gameServerId": gsID}, root))
	sh.check("POST /gameserver/player", s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": playerID, "gameServerId": gsID,
		"gameId": "game-1", "online": true, "ping": 42, "ip": "192.0.2.7"}, root))
	sh.check("GET /gameserver/{gameServerId}/player/{playerId}", s.do(http.MethodGet, "/gameserver/"+gsID+"/player/"+playerID, nil, root))
	// With the name and the address seen so far.
	sh.check("GET /player/{id}", s.do(http.MethodGet, "/player/"+playerID, nil, root))
	sh.check("POST /gameserver/player/search", s.do(http.MethodPost, "/gameserver/player/search", map[string]any{"filters": map[string]any{"playerId": []string{playerID}},
		"sortBy": "gameId"}, root))

	// Currency, between two players on the game server.
	var other takaro.Player
	s.do(http.MethodPost, "/player", map[string]any{"name": "Other Player", "steamId": "76561198000000002"}, root).expect(t, http.StatusOK).decode(t, &other)
	otherID := other.ID.String()
	var pog, otherPOG takaro.PlayerOnGameServer
	s.do(http.MethodGet, "/gameserver/"+gsID+"/player/"+playerID, nil, root).expect(t, http.StatusOK).decode(t, &pog)
	s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": otherID, "gameServerId": gsID, "gameId": "game-2",
		"positionX": -10, "positionY": 64, "positionZ": 300, "dimension": "overworld", "playtimeSeconds": 3600}, root).expect(t, http.StatusOK).decode(t, &otherPOG)
	balance := "/gameserver/" + gsID + "/player/" + playerID
	sh.check("POST /gameserver/{gameServerId}/player/{playerId}/currency", s.do(http.MethodPost, balance+"/currency", map[string]any{"currency": 100}, root))
	sh.check("POST /gameserver/{gameServerId}/player/{playerId}/add-currency", s.do(http.MethodPost, balance+"/add-currency", map[string]any{"currency": 20}, root))
	sh.check("POST /gameserver/{gameServerId}/player/{playerId}/deduct-currency", s.do(http.MethodPost, balance+"/deduct-currency", map[string]any{"currency": 5}, root))
	sh.check("POST /gameserver/{gameServerId}/player/{sender}/{receiver}/transfer", s.do(http.MethodPost,
		"/gameserver/"+gsID+"/player/"+pog.ID.String()+"/"+otherPOG.ID.String()+"/transfer", map[string]any{"currency": 15}, root))
	sh.check("POST /gameserver/{id}/reset-currency", s.do(http.MethodPost, "/gameserver/"+gsID+"/reset-currency", nil, root))

	// Bans.
	var ban takaro.Ban
	sh.check("POST /player/ban", s.do(http.MethodPost, "/player/ban", map[string]any{"playerId": playerID, "gameServerId": gsID, "reason": "griefing",
		"until": "2099-01-01T00:00:00Z"}, root)).decode(t, &ban)
	banID := ban.ID.String()
	sh.check("GET /player/ban/{id}", s.do(http.MethodGet, "/player/ban/"+banID, nil, root))
	sh.check("PUT /player/ban/{id}", s.do(http.MethodPut, "/player/ban/"+banID, map[string]any{"reason": "griefing again"}, root))
	sh.check("POST /player/ban/search", s.do(http.MethodPost, "/player/ban/search", map[string]any{"filters": map[string]any{"isGlobal": false},
		"extend": []string{"player"}}, root))
	sh.check("GET /gameserver/{id}/bans", s.do(http.MethodGet, "/gameserver/"+gsID+"/bans", nil, root))
	sh.check("DELETE /player/ban/{id}", s.do(http.MethodDelete, "/player/ban/"+banID, nil, root))

	// The catalogue.
	var item takaro.Item
	sh.check("POST /items", s.do(http.MethodPost, "/items", map[string]any{"gameserverId": gsID, "code": "woodPlank", "name": "Wooden plank",
		"description": "A plank", "icon": "plank.png", "quality": "6"}, root)).decode(t, &item)
	sh.check("GET /items/{id}", s.do(http.MethodGet, "/items/"+item.ID.String(), nil, root))
	sh.check("POST /items/search", s.do(http.MethodPost, "/items/search", map[string]any{"search": map[string]any{"name": []string{"plank"}}}, root))
	var entity takaro.Entity
	sh.check("POST /entities", s.do(http.MethodPost, "/entities", map[string]any{"gameserverId": gsID, "code": "zombieBoe", "name": "Boe",
		"type": "hostile", "metadata": map[string]any{"health": 100}}, root)).decode(t, &entity)
	sh.check("GET /entities/{id}", s.do(http.MethodGet, "/entities/"+entity.ID.String(), nil, root))
	sh.check("POST /entities/search", s.do(http.MethodPost, "/entities/search", map[string]any{"filters": map[string]any{"type": []string{"hostile"}}}, root))

	// The shop: the player buys with the balance set here.
	s.do(http.MethodPost, balance+"/currency", map[string]any{"currency": 100}, root).expect(t, http.StatusOK)
	var category, child takaro.ShopCategory
	sh.check("POST /shop/category", s.do(http.MethodPost, "/shop/category", map[string]any{"name": "Weapons", "emoji": "⚔️"}, root)).decode(t, &category)
	catID := category.ID.String()
	s.do(http.MethodPost, "/shop/category", map[string]any{"name": "Guns", "emoji": "🔫", "parentId": catID}, root).expect(t, http.StatusOK).decode(t, &child)
	sh.check("GET /shop/category/{id}", s.do(http.MethodGet, "/shop/category/"+catID, nil, root))
	sh.check("PUT /shop/category/{id}", s.do(http.MethodPut, "/shop/category/"+catID, map[string]any{"emoji": "🗡️"}, root))
	sh.check("POST /shop/category/{id}/move", s.do(http.MethodPost, "/shop/category/"+child.ID.String()+"/move", map[string]any{}, root))
	sh.check("POST /shop/category/search", s.do(http.MethodPost, "/shop/category/search", map[string]any{"filters": map[string]any{"id": []string{catID}}}, root))
	var listing takaro.ShopListing
	sh.check("POST /shop/listing", s.do(http.MethodPost, "/shop/listing/", map[string]any{"gameServerId": gsID, "name": "Planks", "price": 10,
		"items": []map[string]any{{"amount": 5, "code": "woodPlank", "quality": "6"}}, "categoryIds": []string{catID}}, root)).decode(t, &listing)
	listingID := listing.ID.String()
	sh.check("GET /shop/listing/{id}", s.do(http.MethodGet, "/shop/listing/"+listingID, nil, root))
	sh.check("PUT /shop/listing/{id}", s.do(http.MethodPut, "/shop/listing/"+listingID, map[string]any{"price": 12}, root))
	sh.check("POST /shop/listing/search", s.do(http.MethodPost, "/shop/listing/search", map[string]any{"filters": map[string]any{"id": []string{listingID}}}, root))
	sh.check("POST /shop/category/bulk-assign", s.do(http.MethodPost, "/shop/category/bulk-assign", map[string]any{"listingIds": []string{listingID},
		"addCategoryIds": []string{child.ID.String()}, "removeCategoryIds": []string{catID}}, root))
	var order, second takaro.ShopOrder
	sh.check("POST /shop/order", s.do(http.MethodPost, "/shop/order", map[string]any{"listingId": listingID, "amount": 2, "playerId": playerID}, root)).decode(t, &order)
	sh.check("GET /shop/order/{id}", s.do(http.MethodGet, "/shop/order/"+order.ID.String(), nil, root))
	sh.check("POST /shop/order/search", s.do(http.MethodPost, "/shop/order/search", map[string]any{"filters": map[string]any{"id": []string{order.ID.String()}},
		"extend": []string{"listing"}}, root))
	sh.check("POST /shop/order/{id}/claim", s.do(http.MethodPost, "/shop/order/"+order.ID.String()+"/claim", nil, root))
	s.do(http.MethodPost, "/shop/order", map[string]any{"listingId": listingID, "amount": 1, "playerId": playerID}, root).expect(t, http.StatusOK).decode(t, &second)
	sh.check("POST /shop/order/{id}/cancel", s.do(http.MethodPost, "/shop/order/"+second.ID.String()+"/cancel", nil, root))
	sh.check("DELETE /shop/listing/{id}", s.do(http.MethodDelete, "/shop/listing/"+listingID, nil, root))
	sh.check("DELETE /shop/category/{id}", s.do(http.MethodDelete, "/shop/category/"+catID, nil, root))

	// What needs a game connector: 501, after the checks.
	for route, body := range map[string]any{
		"POST /gameserver/{gameServerId}/player/{playerId}/giveItem": map[string]any{"name": "woodPlank", "amount": 1, "quality": "6"},
		"POST /gameserver/{gameServerId}/player/{playerId}/kick":     map[string]any{"reason": "afk"},
		"POST /gameserver/{gameServerId}/player/{playerId}/teleport": map[string]any{"x": 1, "y": 2, "z": 3},
		"POST /gameserver/{gameServerId}/player/{playerId}/ban":      map[string]any{"reason": "griefing"},
		"POST /gameserver/{gameServerId}/player/{playerId}/unban":    nil,
		"POST /gameserver/{id}/command":                              map[string]any{"command": "help"},
		"POST /gameserver/{id}/message":                              map[string]any{"message": "hello"},
		"POST /gameserver/{id}/shutdown":                             nil,
		"GET /gameserver/{id}/reachability":                          nil,
		"GET /gameserver/{id}/map/info":                              nil,
		"GET /gameserver/{id}/map/tile/{x}/{y}/{z}":                  nil,
		"POST /gameserver/reachability":                              map[string]any{"connectionInfo": "{}", "type": "MOCK"},
	} {
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{gameServerId}", gsID, "{id}", gsID, "{playerId}", playerID, "{x}", "1", "{y}", "2", "{z}", "3").Replace(path)
		sh.checkNotImplemented(route, s.do(method, path, body, root))
	}

	// Location history.
	sh.check("POST /tracking/location/record", s.do(http.MethodPost, "/tracking/location/record", map[string]any{"gameServerId": gsID,
		"samples": []map[string]any{{"playerId": playerID, "x": 10.5, "y": -3, "z": 64.125, "dimension": "overworld"}}}, root))
	sh.check("POST /tracking/location", s.do(http.MethodPost, "/tracking/location", map[string]any{"playerId": []string{playerID}}, root))
	sh.check("POST /tracking/location/box", s.do(http.MethodPost, "/tracking/location/box", map[string]any{"gameserverId": gsID,
		"minX": 0, "maxX": 20, "minY": -5, "maxY": 0, "minZ": 0, "maxZ": 100}, root))
	sh.check("POST /tracking/location/radius", s.do(http.MethodPost, "/tracking/location/radius", map[string]any{"gameserverId": gsID,
		"x": 10, "y": -3, "z": 64, "radius": 1}, root))

	// Players leave the game server (after the location history, which
	// needs them on it).
	sh.check("DELETE /gameserver/{gameServerId}/player", s.do(http.MethodDelete, "/gameserver/"+gsID+"/player",
		map[string]any{"playerIds": []string{otherID, "00000000-0000-4000-8000-000000000000"}}, root))
	sh.check("DELETE /gameserver/{gameServerId}/player/{playerId}", s.do(http.MethodDelete, "/gameserver/"+gsID+"/player/"+playerID, nil, root))

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

	// Settings: a domain value, a game server's override, and both read
	// back from the game server (override, inherit, default).
	sh.check("POST /settings/{key}", s.do(http.MethodPost, "/settings/currencyName", map[string]any{"value": "gold"}, root))
	s.do(http.MethodPost, "/settings/commandPrefix", map[string]any{"value": "!", "gameServerId": gsID}, root).expect(t, http.StatusOK)
	sh.check("GET /settings", s.do(http.MethodGet, "/settings?keys=commandPrefix&keys=currencyName&keys=economyEnabled&gameServerId="+gsID, nil, root))
	sh.check("GET /settings/{key}", s.do(http.MethodGet, "/settings/currencyName", nil, root))
	sh.check("DELETE /settings/{key}", s.do(http.MethodDelete, "/settings/commandPrefix?gameServerId="+gsID, nil, root))
	sh.modules(s, root, gsID, playerID)

	// Deletions, the session and the domain itself.
	sh.check("DELETE /gameserver/registrationToken", s.do(http.MethodDelete, "/gameserver/registrationToken", nil, root))
	sh.check("DELETE /variables/{id}", s.do(http.MethodDelete, "/variables/"+varID, nil, root))
	sh.check("DELETE /player/{id}", s.do(http.MethodDelete, "/player/"+playerID, nil, root))
	var third takaro.Player
	s.do(http.MethodPost, "/player", map[string]any{"name": "Third Player", "steamId": "76561198000000003"}, root).expect(t, http.StatusOK).decode(t, &third)
	sh.check("DELETE /player", s.do(http.MethodDelete, "/player", map[string]any{"playerIds": []string{third.ID.String(), playerID}}, root))
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
