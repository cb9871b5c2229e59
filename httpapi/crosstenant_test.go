package httpapi_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
)

// The cross-tenant test is driven by the route table. xtRoutes says, for
// every user route of s.API.Routes(), how domain A's root user calls it with
// domain B's ids: in every path parameter and in every body field that
// takes an id. A route missing from the table, or a table entry that is no
// longer a route, fails the suite (TestCrossTenantRouteTable), so a new
// route cannot ship without a cross-tenant check.
//
// A holds ROOT, so a permission check can never hide a leak: every refusal
// seen here comes from the tenancy checks. Each refused request is sent
// again with B's ids replaced by fresh random UUIDs, and the two answers
// must be the same (status, code, message and details, ids mapped back):
// another tenant's row must look exactly like a row that does not exist.
// No answer may carry anything of B that the request did not itself
// contain (a 404 echoes the id it was asked for, as the reference does),
// and no object in an answer may have one of B's row ids as its id. Around
// all of it, B is read through its own root before and after, and must not
// have changed.

// xtWorld is one domain holding every kind of resource, each created
// through the API by the domain's root user.
type xtWorld struct {
	s  *testServer
	tn *tenant
	// tag is part of every name, e-mail address, platform id and value the
	// world creates, and of nothing else: finding it in another domain's
	// answers is a leak.
	tag string

	perms map[string]string // permission code → id (the catalogue is global)

	// Role ids: the system roles every domain is created with, and role,
	// a custom one with two permissions.
	rootRole, adminRole, moderatorRole, playerRole, userRole, role string
	// User ids: the root user, u1 (a dashboard user holding role until an
	// hour from now, with a session of their own) and u2 (holding
	// Moderator).
	root, u1, u2        string
	u1Email, u1Password string
	u1Session           string
	// Game servers: gs1 (MOCK, connection info with a secret), gs2
	// (GENERIC, with an identity token).
	gs1, gs2 string
	// Players: p1 (on gs1, holding role everywhere) and p2 (on gs2,
	// holding role on gs2 only until an hour from now, and on gs1).
	p1, p2 string
	// Presences: pog1 (p1 on gs1, holding 100), pog2 (p2 on gs2), pog3
	// (p2 on gs1, holding 50).
	pog1, pog2, pog3 string
	// Bans: ban (p1 on gs1) and globalBan (p2 everywhere).
	ban, globalBan string
	// The catalogue of gs1: one item and one entity.
	item, entity string
	// The shop of gs1: a category, a listing of the item in it, and an
	// order of p1 paid from the balance of 100 that p1 got first.
	category, listing, order string
	// Variables: global, scoped to gs1, to p1, and to both.
	vars []string
	// event was recorded through POST /event and names gs1, p1 and u1.
	event string
	// API keys: one with READ_USERS, and one with ROOT whose secret is
	// rootKey.
	apiKey, rootKeyID, rootKey string
	// jwt is an admin-issued X-Takaro-Token for the domain's root.
	jwt string
	// registrationToken is the domain's server-registration token.
	registrationToken string
	// Modules: module (with a permission) has its latest version, with a
	// command (with an argument), a hook, a cron job and a function, and
	// the tagged copy of it, installed on gs1.
	module, latest, tagged                string
	command, argument, hook, cron, helper string

	// ids is every row id of the domain, read back after setup, without
	// the permission catalogue's (global) ids.
	ids map[string]bool
}

// xtTag returns a marker unique to one world.
func xtTag() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "zq" + hex.EncodeToString(b)
}

// call sends a request as the world's root and requires 200; out, when not
// nil, receives the data.
func (w *xtWorld) call(t *testing.T, method, path string, body, out any) {
	t.Helper()
	res := w.s.do(method, path, body, w.tn.auth())
	if res.Status != http.StatusOK {
		t.Fatalf("%s %s in %s: status %d: %s", method, path, w.tn.ID, res.Status, res.Raw)
	}
	if out != nil {
		res.decode(t, out)
	}
}

// xtNewWorld creates a domain through the admin API and fills it.
func xtNewWorld(t *testing.T, s *testServer) *xtWorld {
	t.Helper()
	tn := s.newTenant(map[string]any{"maxGameservers": 50, "maxUsers": 50, "maxVariables": 1000})
	w := &xtWorld{s: s, tn: tn, tag: xtTag(), root: tn.RootUserID, rootRole: tn.RootRoleID, perms: map[string]string{}}
	var v struct {
		ID string `json:"id"`
	}

	var perms []takaro.Permission
	w.call(t, http.MethodGet, "/permissions", nil, &perms)
	for _, p := range perms {
		w.perms[p.Permission] = p.ID.String()
	}
	var roles []takaro.Role
	w.call(t, http.MethodPost, "/role/search", map[string]any{"limit": 1000}, &roles)
	for _, r := range roles {
		switch r.Name {
		case takaro.RoleAdmin:
			w.adminRole = r.ID.String()
		case takaro.RoleModerator:
			w.moderatorRole = r.ID.String()
		case takaro.RolePlayer:
			w.playerRole = r.ID.String()
		case takaro.RoleUser:
			w.userRole = r.ID.String()
		}
	}
	w.call(t, http.MethodPost, "/role", map[string]any{"name": w.tag + "-role", "permissions": []any{
		map[string]any{"permissionId": w.perms[takaro.PermReadPlayers]},
		map[string]any{"permissionId": w.perms[takaro.PermManageVariables], "count": 3},
	}}, &v)
	w.role = v.ID

	w.u1Email, w.u1Password = w.tag+"-u1@example.com", w.tag+"-password-1"
	w.call(t, http.MethodPost, "/user", map[string]any{"name": w.tag + "-u1", "email": w.u1Email,
		"password": w.u1Password, "isDashboardUser": true}, &v)
	w.u1 = v.ID
	w.call(t, http.MethodPost, "/user", map[string]any{"name": w.tag + "-u2", "email": w.tag + "-u2@example.com",
		"password": w.tag + "-password-2"}, &v)
	w.u2 = v.ID
	inAnHour := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	w.call(t, http.MethodPost, "/user/"+w.u1+"/role/"+w.role, map[string]any{"expiresAt": inAnHour}, nil)
	w.call(t, http.MethodPost, "/user/"+w.u2+"/role/"+w.moderatorRole, map[string]any{}, nil)

	w.call(t, http.MethodPost, "/gameserver", map[string]any{"name": w.tag + "-gs1", "type": "MOCK",
		"connectionInfo": `{"host":"` + w.tag + `-host","rconPassword":"` + w.tag + `-rcon"}`}, &v)
	w.gs1 = v.ID
	w.call(t, http.MethodPost, "/gameserver", map[string]any{"name": w.tag + "-gs2", "type": "GENERIC",
		"connectionInfo": `{"note":"` + w.tag + `-note"}`, "identityToken": w.tag + "-identity"}, &v)
	w.gs2 = v.ID

	w.call(t, http.MethodPost, "/player", map[string]any{"name": w.tag + "-p1", "steamId": w.tag + "-steam"}, &v)
	w.p1 = v.ID
	w.call(t, http.MethodPost, "/player", map[string]any{"name": w.tag + "-p2", "epicOnlineServicesId": w.tag + "-eos",
		"xboxLiveId": w.tag + "-xbox", "platformId": w.tag + "-platform"}, &v)
	w.p2 = v.ID
	w.call(t, http.MethodPost, "/gameserver/player", map[string]any{"playerId": w.p1, "gameServerId": w.gs1,
		"gameId": w.tag + "-game1", "online": true, "ping": 20, "ip": w.tag + "-ip", "positionX": 1, "positionY": 2,
		"positionZ": 3, "dimension": w.tag + "-dim"}, &v)
	w.pog1 = v.ID
	w.call(t, http.MethodPost, "/gameserver/player", map[string]any{"playerId": w.p2, "gameServerId": w.gs2,
		"gameId": w.tag + "-game2"}, &v)
	w.pog2 = v.ID
	w.call(t, http.MethodPost, "/gameserver/player", map[string]any{"playerId": w.p2, "gameServerId": w.gs1,
		"gameId": w.tag + "-game3"}, &v)
	w.pog3 = v.ID
	w.call(t, http.MethodPost, "/settings/economyEnabled", map[string]any{"value": "true"}, nil)
	w.call(t, http.MethodPost, "/gameserver/"+w.gs1+"/player/"+w.p1+"/currency", map[string]any{"currency": 100}, nil)
	w.call(t, http.MethodPost, "/gameserver/"+w.gs1+"/player/"+w.p2+"/currency", map[string]any{"currency": 50}, nil)
	w.call(t, http.MethodPost, "/player/ban", map[string]any{"playerId": w.p1, "gameServerId": w.gs1, "reason": w.tag + "-reason"}, &v)
	w.ban = v.ID
	w.call(t, http.MethodPost, "/player/ban", map[string]any{"playerId": w.p2, "isGlobal": true, "until": inAnHour}, &v)
	w.globalBan = v.ID
	w.call(t, http.MethodPost, "/items", map[string]any{"gameserverId": w.gs1, "code": w.tag + "-item", "name": w.tag + "-item-name",
		"description": w.tag + "-item-description", "quality": "3"}, &v)
	w.item = v.ID
	w.call(t, http.MethodPost, "/entities", map[string]any{"gameserverId": w.gs1, "code": w.tag + "-entity", "name": w.tag + "-entity-name",
		"type": "hostile", "metadata": map[string]any{"note": w.tag + "-meta"}}, &v)
	w.entity = v.ID
	// Where p1 and p2 were: one position each.
	w.call(t, http.MethodPost, "/tracking/location/record", map[string]any{"gameServerId": w.gs1,
		"samples": []map[string]any{{"playerId": w.p1, "x": 1, "y": 2, "z": 3}}}, nil)
	w.call(t, http.MethodPost, "/tracking/location/record", map[string]any{"gameServerId": w.gs2,
		"samples": []map[string]any{{"playerId": w.p2, "x": 4, "y": 5, "z": 6, "dimension": w.tag + "-dim"}}}, nil)
	// What p1 carried on gs1.
	w.call(t, http.MethodPost, "/tracking/inventory/record", map[string]any{"gameServerId": w.gs1,
		"samples": []map[string]any{{"playerId": w.p1, "items": []map[string]any{{"code": w.tag + "-item", "amount": 2, "quality": "1"}}}}}, nil)
	w.call(t, http.MethodPost, "/gameserver/"+w.gs1+"/player/"+w.p1+"/currency", map[string]any{"currency": 100}, nil)
	w.call(t, http.MethodPost, "/shop/category", map[string]any{"name": w.tag + "-category", "emoji": "📦"}, &v)
	w.category = v.ID
	w.call(t, http.MethodPost, "/shop/category", map[string]any{"name": w.tag + "-subcategory", "emoji": "📦", "parentId": w.category}, nil)
	w.call(t, http.MethodPost, "/shop/listing", map[string]any{"gameServerId": w.gs1, "name": w.tag + "-listing", "price": 10,
		"items": []map[string]any{{"amount": 1, "code": w.tag + "-item"}}, "categoryIds": []string{w.category}}, &v)
	w.listing = v.ID
	w.call(t, http.MethodPost, "/shop/order", map[string]any{"listingId": w.listing, "amount": 1, "playerId": w.p1}, &v)
	w.order = v.ID
	w.call(t, http.MethodPost, "/player/"+w.p1+"/role/"+w.role, map[string]any{}, nil)
	w.call(t, http.MethodPost, "/player/"+w.p2+"/role/"+w.role, map[string]any{"gameServerId": w.gs2, "expiresAt": inAnHour}, nil)

	for _, scope := range []map[string]any{
		{}, {"gameServerId": w.gs1}, {"playerId": w.p1}, {"gameServerId": w.gs1, "playerId": w.p1},
	} {
		body := map[string]any{"key": fmt.Sprintf("%s-key%d", w.tag, len(w.vars)), "value": fmt.Sprintf("%s-value%d", w.tag, len(w.vars))}
		for k, val := range scope {
			body[k] = val
		}
		w.call(t, http.MethodPost, "/variables", body, &v)
		w.vars = append(w.vars, v.ID)
	}

	w.call(t, http.MethodPost, "/event", map[string]any{"eventName": "chat-message", "gameserverId": w.gs1,
		"playerId": w.p1, "userId": w.u1, "meta": map[string]any{"message": w.tag + "-said"}}, &v)
	w.event = v.ID

	// Settings: a domain value and a game server's override, both marked.
	w.call(t, http.MethodPost, "/settings/currencyName", map[string]any{"value": w.tag + " coins"}, nil)
	w.call(t, http.MethodPost, "/settings/serverChatName", map[string]any{"value": w.tag + "-bot", "gameServerId": w.gs1}, nil)
	w.fillModules(t)

	var key takaro.APIKeyCreated
	w.call(t, http.MethodPost, "/apikey", map[string]any{"name": w.tag + "-key", "permissions": []string{takaro.PermReadUsers}}, &key)
	w.apiKey = key.APIKey.ID.String()
	w.call(t, http.MethodPost, "/apikey", map[string]any{"name": w.tag + "-root-key", "permissions": []string{takaro.PermRoot}}, &key)
	w.rootKeyID, w.rootKey = key.APIKey.ID.String(), key.Secret

	w.u1Session = s.login(w.u1Email, w.u1Password, tn.ID)
	var tok struct {
		Token string `json:"token"`
	}
	s.do(http.MethodPost, "/token", map[string]string{"domainId": tn.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &tok)
	w.jwt = tok.Token
	var me struct {
		Domains []takaro.Domain `json:"domains"`
	}
	w.call(t, http.MethodGet, "/me", nil, &me)
	if len(me.Domains) != 1 || me.Domains[0].ServerRegistrationToken == nil {
		t.Fatalf("GET /me shows the root user no registration token: %+v", me.Domains)
	}
	w.registrationToken = *me.Domains[0].ServerRegistrationToken
	return w
}

// fillModules gives the world a module with one of every part, a tagged
// version installed on gs1, and a recorded run of its command.
func (w *xtWorld) fillModules(t *testing.T) {
	t.Helper()
	var m takaro.Module
	w.call(t, http.MethodPost, "/module", map[string]any{"name": w.tag + "-module", "latestVersion": map[string]any{
		"permissions": []any{map[string]any{"permission": "XT_USE", "friendlyName": w.tag + "-perm", "description": "Use"}}}}, &m)
	w.module, w.latest = m.ID.String(), m.LatestVersion.ID.String()
	var cmd takaro.Command
	w.call(t, http.MethodPost, "/command", map[string]any{"name": w.tag + "-cmd", "trigger": "xt", "versionId": w.latest,
		"requiredPermissions": []string{"XT_USE"}, "arguments": []any{map[string]any{"name": "who", "type": "player", "position": 0}}}, &cmd)
	w.command, w.argument = cmd.ID.String(), cmd.Arguments[0].ID.String()
	var v struct {
		ID string `json:"id"`
	}
	w.call(t, http.MethodPost, "/hook", map[string]any{"name": "xt-hook", "eventType": "chat-message", "regex": "hi", "versionId": w.latest}, &v)
	w.hook = v.ID
	w.call(t, http.MethodPost, "/cronjob", map[string]any{"name": "xt-cron", "temporalValue": "*/5 * * * *", "versionId": w.latest}, &v)
	w.cron = v.ID
	w.call(t, http.MethodPost, "/function", map[string]any{"name": "xt-helper", "code": "// " + w.tag, "versionId": w.latest}, &v)
	w.helper = v.ID
	w.call(t, http.MethodPost, "/module/version", map[string]any{"tag": "1.0.0", "moduleId": w.module}, &v)
	w.tagged = v.ID
	w.call(t, http.MethodPost, "/module/installation", map[string]any{"versionId": w.tagged, "gameServerId": w.gs1}, nil)
	w.call(t, http.MethodPost, "/event", map[string]any{"eventName": "command-executed", "gameserverId": w.gs1, "moduleId": w.module,
		"meta": map[string]any{"command": map[string]any{"id": w.command}, "result": map[string]any{"success": false}}}, nil)
}

// collectIDs reads every row id of the domain back: from each search (its
// embedded role assignments and role permissions included) and the API key
// list.
func (w *xtWorld) collectIDs(t *testing.T) {
	t.Helper()
	w.ids = map[string]bool{}
	global := map[string]bool{}
	for _, id := range w.perms {
		global[id] = true
	}
	add := func(raw []byte) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		xtWalk(v, func(key string, val any) {
			if s, ok := val.(string); ok && key == "id" && !global[s] {
				w.ids[s] = true
			}
		})
	}
	for _, r := range w.s.API.Routes() {
		if xtIsSearch(r) && !r.Admin {
			add(w.s.do(http.MethodPost, r.Path, map[string]any{"limit": 1000}, w.tn.auth()).expect(t, http.StatusOK).Raw)
		}
	}
	add(w.s.do(http.MethodGet, "/apikey", nil, w.tn.auth()).expect(t, http.StatusOK).Raw)
	for _, id := range []string{w.root, w.u1, w.u2, w.role, w.gs1, w.gs2, w.p1, w.p2, w.event, w.apiKey, w.rootKeyID,
		w.module, w.latest, w.tagged, w.command, w.argument, w.hook, w.cron, w.helper,
		w.pog1, w.pog2, w.pog3, w.ban, w.globalBan, w.item, w.entity, w.category, w.listing, w.order} {
		if !w.ids[id] {
			t.Fatalf("id %s of %s was not found by its own searches", id, w.tn.ID)
		}
	}
}

// xtWalk calls fn for every key and value of every JSON object in v.
func xtWalk(v any, fn func(key string, val any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			fn(k, val)
			xtWalk(val, fn)
		}
	case []any:
		for _, val := range x {
			xtWalk(val, fn)
		}
	}
}

func xtIsSearch(r httpapi.Route) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/search")
}

func xtIsUserRoute(r httpapi.Route) bool { return !r.Public && !r.Admin }

// xtAttempt is one request of A's root on one route.
type xtAttempt struct {
	name string
	// params fills the route's path parameters.
	params map[string]string
	// query is appended to the path: "?gameServerId=…".
	query string
	// body is JSON-encoded; nil sends none.
	body any
	// own marks a request that acts on A's own domain only: it must
	// answer want (200 when zero), still without anything of B. The other
	// attempts carry B's ids and must be refused.
	own  bool
	want int
	// auth, when set, replaces A's root session (POST /logout must not
	// end the session the other requests use).
	auth func(t *testing.T) header
}

// xtRoute is how the test exercises one route.
type xtRoute struct {
	// attempts lists the requests of A (a) that aim at B (b).
	attempts func(a, b *xtWorld) []xtAttempt
	// search marks a POST …/search route: it is called with queries that
	// name B's ids and values in every filter and search field the server
	// allows, with every extend. extend is the extends it must allow.
	search bool
	extend []string
	// unpopulated are extends that no route can give a row to embed,
	// exempt from the check that each embeds something in A's own rows.
	unpopulated []string
}

// xtCombos returns the attempts whose path parameters take each of the
// given pairs {A's id, B's id}: every combination with at least one of B's.
func xtCombos(name string, pairs map[string][2]string, body any) []xtAttempt {
	names := make([]string, 0, len(pairs))
	for n := range pairs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []xtAttempt
	for mask := 1; mask < 1<<len(names); mask++ {
		params := map[string]string{}
		var label []string
		for i, n := range names {
			side := 0
			if mask&(1<<i) != 0 {
				side = 1
			}
			params[n] = pairs[n][side]
			label = append(label, n+"="+[]string{"A", "B"}[side])
		}
		out = append(out, xtAttempt{name: name + " " + strings.Join(label, ","), params: params, body: body})
	}
	return out
}

// xtEach returns one attempt per id for the path parameter "id".
func xtEach(body any, ids ...string) []xtAttempt {
	out := make([]xtAttempt, len(ids))
	for i, id := range ids {
		out[i] = xtAttempt{name: "B's " + id, params: map[string]string{"id": id}, body: body}
	}
	return out
}

// xtRoutes covers every user route. Keep it in step with the route table: the
// suite fails for a route it does not name and for a name that is no route.
var xtRoutes = map[string]xtRoute{
	"POST /logout": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "A's own second session", own: true, auth: func(t *testing.T) header {
				return bearer(a.s.login("root@"+a.tn.ID+".com", a.tn.Password, a.tn.ID))
			}},
			{name: "A's API key", own: true, want: http.StatusBadRequest, auth: func(*testing.T) header { return bearer(a.rootKey) }},
		}
	}},
	"GET /me": {attempts: func(*xtWorld, *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true}}
	}},
	"POST /apikey": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-new-key",
			"permissions": []string{takaro.PermReadUsers}}}}
	}},
	"GET /apikey": {attempts: func(*xtWorld, *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true}}
	}},
	"DELETE /apikey/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.apiKey, b.rootKeyID)
	}},

	// No route links a user to a player, so "player" has nothing to embed.
	"POST /user/search": {search: true, extend: []string{"player", "roles"}, unpopulated: []string{"player"}},
	"GET /user/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.root, b.u1, b.u2)
	}},
	"POST /user": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-u3",
			"email": a.tag + "-u3@example.com", "password": a.tag + "-password-3"}}}
	}},
	// An invitation names no id; B's addresses are independent of A's.
	"POST /user/invite": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"email": a.tag + "-invitee@example.com"}}}
	}},
	"PUT /user/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"name": "renamed by A", "isDashboardUser": false}, b.root, b.u1)
	}},
	"DELETE /user/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.root, b.u2)
	}},
	"POST /user/{id}/role/{roleId}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return slices.Concat(
			xtCombos("custom role", map[string][2]string{"id": {a.u2, b.u2}, "roleId": {a.role, b.role}}, map[string]any{}),
			xtCombos("root role", map[string][2]string{"id": {a.u2, b.u2}, "roleId": {a.rootRole, b.rootRole}}, map[string]any{}))
	}},
	"DELETE /user/{id}/role/{roleId}": {attempts: func(a, b *xtWorld) []xtAttempt {
		// B's u1 holds B's role; A's u1 holds A's role.
		return xtCombos("held role", map[string][2]string{"id": {a.u1, b.u1}, "roleId": {a.role, b.role}}, nil)
	}},

	"POST /role/search": {search: true, extend: []string{"permissions"}},
	"GET /role/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.rootRole, b.adminRole, b.moderatorRole, b.playerRole, b.userRole, b.role)
	}},
	"POST /role": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-r2",
			"permissions": []any{map[string]any{"permissionId": a.perms[takaro.PermReadRoles]}}}}}
	}},
	"PUT /role/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"name": "taken by A", "permissions": []any{map[string]any{"permissionId": b.perms[takaro.PermRoot]}}},
			b.role, b.adminRole, b.moderatorRole, b.rootRole)
	}},
	"DELETE /role/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.role, b.moderatorRole, b.userRole)
	}},
	"GET /permissions": {attempts: func(*xtWorld, *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "the global catalogue", own: true}}
	}},

	"GET /gameserver/types": {attempts: func(*xtWorld, *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "the global list", own: true}}
	}},
	"POST /gameserver/search": {search: true, extend: []string{"players"}},
	"GET /gameserver/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},
	"POST /gameserver": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-gs3", "type": "MOCK",
			"connectionInfo": `{"host":"` + a.tag + `-host3"}`}}}
	}},
	"PUT /gameserver/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"name": "taken by A", "connectionInfo": `{"host":"evil.example"}`, "enabled": false}, b.gs1, b.gs2)
	}},
	"DELETE /gameserver/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},

	"POST /player/search": {search: true, extend: []string{"playerOnGameServers", "roleAssignments"}},
	"GET /player/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.p1, b.p2)
	}},
	"POST /player": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-p3", "steamId": a.tag + "-steam3"}}}
	}},
	"DELETE /player/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.p1, b.p2)
	}},
	// A bulk delete answers 200 and reports B's ids as not found, as it
	// does unknown ids; B's players stay (B is compared before and after).
	// (The OpenAPI test calls the attempts with one world as both A and B;
	// there it deletes no player of its own.)
	"DELETE /player": {attempts: func(a, b *xtWorld) []xtAttempt {
		ids := []string{uuid.NewString()}
		if a != b {
			ids = append(ids, b.p1, b.p2)
		}
		return []xtAttempt{{name: "B's players and an unknown id", own: true, body: map[string]any{"playerIds": ids}}}
	}},
	"POST /player/{id}/role/{roleId}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return slices.Concat(
			xtCombos("everywhere", map[string][2]string{"id": {a.p2, b.p2}, "roleId": {a.role, b.role}}, map[string]any{}),
			xtCombos("on A's game server", map[string][2]string{"id": {a.p2, b.p2}, "roleId": {a.role, b.role}},
				map[string]any{"gameServerId": a.gs1}),
			[]xtAttempt{{name: "A's player and role on B's game server", params: map[string]string{"id": a.p2, "roleId": a.role},
				body: map[string]any{"gameServerId": b.gs1}}})
	}},
	"DELETE /player/{id}/role/{roleId}": {attempts: func(a, b *xtWorld) []xtAttempt {
		// B's p1 holds B's role everywhere, B's p2 holds it on B's gs2;
		// A's players hold A's role likewise.
		return slices.Concat(
			xtCombos("held everywhere", map[string][2]string{"id": {a.p1, b.p1}, "roleId": {a.role, b.role}}, nil),
			xtCombos("held on B's game server", map[string][2]string{"id": {a.p2, b.p2}, "roleId": {a.role, b.role}},
				map[string]any{"gameServerId": b.gs2}),
			[]xtAttempt{{name: "A's player and role on B's game server", params: map[string]string{"id": a.p2, "roleId": a.role},
				body: map[string]any{"gameServerId": b.gs2}}})
	}},
	"POST /gameserver/player/search": {search: true, extend: []string{"gameServer", "player"}},
	"GET /gameserver/{gameServerId}/player/{playerId}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return xtCombos("presence", map[string][2]string{"gameServerId": {a.gs1, b.gs1}, "playerId": {a.p1, b.p1}}, nil)
	}},
	"DELETE /gameserver/{gameServerId}/player/{playerId}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return xtCombos("presence", map[string][2]string{"gameServerId": {a.gs1, b.gs1}, "playerId": {a.p1, b.p1}}, nil)
	}},
	"DELETE /gameserver/{gameServerId}/player": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "B's players from B's game server", params: map[string]string{"gameServerId": b.gs1},
				body: map[string]any{"playerIds": []string{b.p1, b.p2}}},
			{name: "A's player from B's game server", params: map[string]string{"gameServerId": b.gs1},
				body: map[string]any{"playerIds": []string{a.p1}}},
			// B's player is simply not on A's game server: A hears that of
			// the id it sent, and nothing is deleted. (gs2 and p1, so that
			// nothing is deleted when A and B are the same world either.)
			{name: "B's player from A's game server", own: true, params: map[string]string{"gameServerId": a.gs2},
				body: map[string]any{"playerIds": []string{b.p1}}},
		}
	}},
	"POST /gameserver/{gameServerId}/player/{playerId}/currency":        {attempts: xtBalance},
	"POST /gameserver/{gameServerId}/player/{playerId}/add-currency":    {attempts: xtBalance},
	"POST /gameserver/{gameServerId}/player/{playerId}/deduct-currency": {attempts: xtBalance},
	"POST /gameserver/{gameServerId}/player/{sender}/{receiver}/transfer": {attempts: func(a, b *xtWorld) []xtAttempt {
		return xtCombos("transfer", map[string][2]string{"gameServerId": {a.gs1, b.gs1}, "sender": {a.pog1, b.pog1},
			"receiver": {a.pog3, b.pog3}}, map[string]any{"currency": 5})
	}},
	"POST /gameserver/{id}/reset-currency": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},
	"POST /player/ban/search": {search: true, extend: []string{"gameServer", "player"}},
	"GET /player/ban/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.ban, b.globalBan)
	}},
	"POST /player/ban": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "B's player everywhere", body: map[string]any{"playerId": b.p1, "isGlobal": true}},
			{name: "B's player on A's game server", body: map[string]any{"playerId": b.p1, "gameServerId": a.gs2}},
			{name: "A's player on B's game server", body: map[string]any{"playerId": a.p2, "gameServerId": b.gs2}},
		}
	}},
	"PUT /player/ban/{id}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return slices.Concat(xtEach(map[string]any{"reason": "changed by A"}, b.ban, b.globalBan), []xtAttempt{
			{name: "A's ban moved to B's player", params: map[string]string{"id": a.ban}, body: map[string]any{"playerId": b.p1}},
			{name: "A's ban moved to B's game server", params: map[string]string{"id": a.ban}, body: map[string]any{"gameServerId": b.gs2}},
		})
	}},
	"DELETE /player/ban/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.ban, b.globalBan)
	}},
	"GET /gameserver/{id}/bans": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},

	"POST /items/search": {search: true, extend: []string{"gameServer"}},
	"GET /items/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.item)
	}},
	"POST /items": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "on B's game server", body: map[string]any{"gameserverId": b.gs1, "code": b.tag + "-item", "name": "by A"}}}
	}},
	"GET /shop/category": {attempts: func(*xtWorld, *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true}, {name: "A's own, a page", own: true, query: "?page=0&limit=1"}}
	}},
	"POST /shop/category/search": {search: true, extend: []string{"parent", "children"}},
	"GET /shop/category/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.category)
	}},
	"POST /shop/category": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "under B's category", body: map[string]any{"name": a.tag + "-sub", "emoji": "📦", "parentId": b.category}}}
	}},
	"PUT /shop/category/{id}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"name": a.tag + "-renamed"}, b.category)
	}},
	"POST /shop/category/{id}/move": {attempts: func(a, b *xtWorld) []xtAttempt {
		return slices.Concat(xtEach(map[string]any{}, b.category),
			[]xtAttempt{{name: "A's category under B's", params: map[string]string{"id": a.category}, body: map[string]any{"parentId": b.category}}})
	}},
	"DELETE /shop/category/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.category)
	}},
	"POST /shop/category/bulk-assign": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "B's listing into A's category", body: map[string]any{"listingIds": []string{b.listing}, "addCategoryIds": []string{a.category}}},
			{name: "A's listing into B's category", body: map[string]any{"listingIds": []string{a.listing}, "addCategoryIds": []string{b.category}}},
			{name: "B's listing out of B's category", body: map[string]any{"listingIds": []string{b.listing}, "removeCategoryIds": []string{b.category}}},
		}
	}},
	"POST /shop/listing/search": {search: true, extend: []string{"gameServer", "items", "categories"}},
	"GET /shop/listing/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.listing)
	}},
	"POST /shop/listing/import": {attempts: func(a, b *xtWorld) []xtAttempt {
		listing := func(code, category string) string {
			return fmt.Sprintf(`[{"name": "by A", "price": 1, "items": [{"amount": 1, "item": {"code": %q}}], "categories": [%s]}]`, code, category)
		}
		options := func(gs string) string { return fmt.Sprintf(`{"gameServerId": %q, "replace": true}`, gs) }
		return []xtAttempt{
			{name: "onto B's game server", body: map[string]any{"import": listing(b.tag+"-item", ""), "options": options(b.gs1)}},
			{name: "in B's category", body: map[string]any{"import": listing(a.tag+"-item", fmt.Sprintf(`{"id": %q}`, b.category)),
				"options": options(a.gs1)}},
		}
	}},
	"POST /shop/listing": {attempts: func(a, b *xtWorld) []xtAttempt {
		items := []map[string]any{{"amount": 1, "code": b.tag + "-item"}}
		return []xtAttempt{
			{name: "on B's game server", body: map[string]any{"gameServerId": b.gs1, "name": "by A", "price": 1, "items": items}},
			{name: "of B's item by id", body: map[string]any{"gameServerId": a.gs1, "name": "by A", "price": 1,
				"items": []map[string]any{{"amount": 1, "itemId": b.item}}}},
			{name: "in B's category", body: map[string]any{"gameServerId": a.gs1, "name": "by A", "price": 1,
				"items": []map[string]any{{"amount": 1, "code": a.tag + "-item"}}, "categoryIds": []string{b.category}}},
		}
	}},
	"PUT /shop/listing/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"price": 1}, b.listing)
	}},
	"DELETE /shop/listing/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.listing)
	}},
	"POST /shop/order/search": {search: true, extend: []string{"listing"}},
	"GET /shop/order/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.order)
	}},
	"POST /shop/order": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "B's listing", body: map[string]any{"listingId": b.listing, "amount": 1, "playerId": a.p1}},
			{name: "for B's player", body: map[string]any{"listingId": a.listing, "amount": 1, "playerId": b.p1}},
		}
	}},
	"POST /shop/order/{id}/claim": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.order)
	}},
	"POST /shop/order/{id}/cancel": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.order)
	}},
	"POST /entities/search": {search: true},
	"GET /entities/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.entity)
	}},
	"POST /entities": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "on B's game server", body: map[string]any{"gameserverId": b.gs1, "code": b.tag + "-entity", "name": "by A"}}}
	}},

	// The routes that need a game connector check the game server and
	// player they name first, as every other route does.
	"POST /gameserver/{gameServerId}/player/{playerId}/giveItem": {attempts: func(a, b *xtWorld) []xtAttempt {
		// An item named by its id is looked up: B's is not found from A.
		return append(xtLive(map[string]any{"name": "wood", "amount": 1, "quality": "1"})(a, b),
			xtAttempt{name: "A's player, B's item", params: map[string]string{"gameServerId": a.gs1, "playerId": a.p1},
				body: map[string]any{"name": b.item, "amount": 1, "quality": "1"}},
			xtAttempt{name: "A's player, A's item", own: true, want: http.StatusNotImplemented,
				params: map[string]string{"gameServerId": a.gs1, "playerId": a.p1},
				body:   map[string]any{"name": a.item, "amount": 1, "quality": "1"}})
	}},
	"POST /gameserver/{gameServerId}/player/{playerId}/kick":     {attempts: xtLive(map[string]any{"reason": "by A"})},
	"POST /gameserver/{gameServerId}/player/{playerId}/teleport": {attempts: xtLive(map[string]any{"x": 1, "y": 2, "z": 3})},
	"POST /gameserver/{gameServerId}/player/{playerId}/ban":      {attempts: xtLive(map[string]any{"reason": "by A"})},
	"POST /gameserver/{gameServerId}/player/{playerId}/unban":    {attempts: xtLive(nil)},
	"POST /gameserver/{id}/command": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"command": "say hi"}, b.gs1, b.gs2)
	}},
	"POST /gameserver/{id}/message": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"message": "hi"}, b.gs1, b.gs2)
	}},
	"POST /gameserver/{id}/shutdown": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},
	"GET /gameserver/{id}/reachability": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},
	"GET /gameserver/{id}/map/info": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.gs1, b.gs2)
	}},
	"GET /gameserver/{id}/map/tile/{x}/{y}/{z}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "B's gs1", params: map[string]string{"id": b.gs1, "x": "0", "y": "0", "z": "0"}}}
	}},
	"POST /gameserver/reachability": {attempts: func(*xtWorld, *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "no game server of anyone's", own: true, want: http.StatusNotImplemented,
			body: map[string]any{"connectionInfo": "{}", "type": "MOCK"}}}
	}},
	"POST /gameserver/player": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "B's player on B's game server", body: map[string]any{"playerId": b.p1, "gameServerId": b.gs1, "gameId": b.tag + "-game1", "online": false}},
			{name: "A's player on B's game server", body: map[string]any{"playerId": a.p1, "gameServerId": b.gs1, "gameId": a.tag + "-game9"}},
			{name: "B's player on A's game server", body: map[string]any{"playerId": b.p1, "gameServerId": a.gs1, "gameId": a.tag + "-game8"}},
		}
	}},

	"POST /variables/search": {search: true, extend: []string{"gameServer", "player"}},
	// Location searches name players and servers in their bodies: B's
	// find nothing, exactly like ids that do not exist.
	"POST /tracking/location/record": {attempts: func(a, b *xtWorld) []xtAttempt {
		sample := func(gs, p string) map[string]any {
			return map[string]any{"gameServerId": gs, "samples": []map[string]any{{"playerId": p, "x": 7, "y": 8, "z": 9}}}
		}
		return []xtAttempt{
			{name: "B's player on B's game server", body: sample(b.gs1, b.p1)},
			{name: "A's player on B's game server", body: sample(b.gs1, a.p1)},
			{name: "B's player on A's game server", body: sample(a.gs1, b.p1)},
		}
	}},
	"POST /tracking/inventory/record": {attempts: func(a, b *xtWorld) []xtAttempt {
		sample := func(gs, p, tag string) map[string]any {
			return map[string]any{"gameServerId": gs, "samples": []map[string]any{{"playerId": p,
				"items": []map[string]any{{"code": tag + "-item", "amount": 1}}}}}
		}
		return []xtAttempt{
			{name: "B's player on B's game server", body: sample(b.gs1, b.p1, b.tag)},
			{name: "A's player on B's game server", body: sample(b.gs1, a.p1, b.tag)},
			{name: "B's player on A's game server", body: sample(a.gs1, b.p1, a.tag)},
		}
	}},
	"POST /tracking/inventory/player": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "B's player", own: true, body: map[string]any{"playerId": b.p1}}}
	}},
	"POST /tracking/inventory/item": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "B's item", own: true, body: map[string]any{"itemId": b.item}}}
	}},
	"POST /tracking/location": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "B's players", own: true, body: map[string]any{"playerId": []string{b.p1, b.p2}}}}
	}},
	"POST /tracking/location/box": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "on B's game server", own: true, body: map[string]any{"gameserverId": b.gs1,
			"minX": -1e6, "maxX": 1e6, "minY": -1e6, "maxY": 1e6, "minZ": -1e6, "maxZ": 1e6}}}
	}},
	"POST /tracking/location/radius": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "on B's game server", own: true, body: map[string]any{"gameserverId": b.gs1,
			"x": 0, "y": 0, "z": 0, "radius": 1e6}}}
	}},
	"GET /variables/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.vars...)
	}},
	"POST /variables": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "on B's game server", body: map[string]any{"key": a.tag + "-kx", "value": "v", "gameServerId": b.gs1}},
			{name: "on B's player", body: map[string]any{"key": a.tag + "-kx", "value": "v", "playerId": b.p1}},
			{name: "on B's player on B's game server", body: map[string]any{"key": a.tag + "-kx", "value": "v", "gameServerId": b.gs1, "playerId": b.p1}},
			{name: "on A's player on B's game server", body: map[string]any{"key": a.tag + "-kx", "value": "v", "gameServerId": b.gs1, "playerId": a.p1}},
		}
	}},
	"PUT /variables/{id}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return slices.Concat(xtEach(map[string]any{"value": "overwritten by A"}, b.vars...), []xtAttempt{
			{name: "A's variable moved to B's game server", params: map[string]string{"id": a.vars[0]},
				body: map[string]any{"value": "v", "gameServerId": b.gs1}},
			{name: "A's variable moved to B's player", params: map[string]string{"id": a.vars[0]},
				body: map[string]any{"value": "v", "playerId": b.p1}},
		})
	}},
	"DELETE /variables/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.vars...)
	}},

	"DELETE /gameserver/registrationToken": {attempts: func(_, _ *xtWorld) []xtAttempt {
		// It takes no id: A can only replace its own token (B's is one of
		// the secrets no answer may hold).
		return []xtAttempt{{name: "A's own", own: true}}
	}},
	"GET /settings": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "A's own", own: true},
			{name: "for B's game server", query: "?gameServerId=" + b.gs1},
			{name: "some keys for B's game server", query: "?keys=serverChatName&keys=currencyName&gameServerId=" + b.gs1},
		}
	}},
	"GET /settings/{key}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "A's own", own: true, params: map[string]string{"key": "currencyName"}},
			{name: "for B's game server", params: map[string]string{"key": "serverChatName"}, query: "?gameServerId=" + b.gs1},
		}
	}},
	"POST /settings/{key}": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "an override for B's game server", params: map[string]string{"key": "serverChatName"},
			body: map[string]any{"value": a.tag + "-bot", "gameServerId": b.gs1}}}
	}},
	"DELETE /settings/{key}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "B's game server's override", params: map[string]string{"key": "serverChatName"}, query: "?gameServerId=" + b.gs1}}
	}},

	"POST /event/search": {search: true, extend: []string{"gameServer", "player", "user"}},
	"GET /event/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.event)
	}},
	// An export filtered by B's ids finds nothing: B's events, which hold
	// B's tag, never show.
	"GET /event/export": {attempts: func(_, b *xtWorld) []xtAttempt {
		out := []xtAttempt{{name: "A's own", own: true}}
		for _, f := range []string{"gameserverId=" + b.gs1, "playerId=" + b.p1, "userId=" + b.u1, "id=" + b.event} {
			out = append(out, xtAttempt{name: "filtered by B's " + f, own: true, query: "?" + f})
		}
		return out
	}},
	"POST /event/export": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{}}, {name: "filtered by B's ids", own: true,
			body: map[string]any{"filters": map[string]any{"gameserverId": []string{b.gs1}, "playerId": []string{b.p1}}}}}
	}},
	"POST /event": {attempts: func(a, b *xtWorld) []xtAttempt {
		// Event ids are no foreign keys (events outlive the rows they
		// name), but a new event may name only rows of its own domain.
		return []xtAttempt{{name: "A's event naming B's ids", body: xtForeignEvent(a, b)}}
	}},
}

// xtModuleRoutes covers the routes of modules and their parts.
var xtModuleRoutes = map[string]xtRoute{
	"POST /module/search": {search: true},
	"GET /module/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.module)
	}},
	"POST /module": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-m2"}}}
	}},
	"PUT /module/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"name": "taken by A", "latestVersion": map[string]any{"description": "A was here"}}, b.module)
	}},
	"DELETE /module/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.module)
	}},
	"POST /module/{id}/export": {attempts: func(a, b *xtWorld) []xtAttempt {
		return slices.Concat(xtEach(map[string]any{}, b.module), []xtAttempt{{name: "A's module with B's version",
			params: map[string]string{"id": a.module}, body: map[string]any{"versionIds": []string{b.tagged}}}})
	}},
	"POST /module/import": {attempts: func(a, _ *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "A's own", own: true, body: map[string]any{"name": a.tag + "-imp", "versions": []any{
			map[string]any{"tag": "latest", "description": "d", "configSchema": "", "uiSchema": ""}}}}}
	}},
	"POST /module/version/search": {search: true},
	"GET /module/version/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(nil, b.latest, b.tagged)
	}},
	"POST /module/version": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "B's module", body: map[string]any{"tag": "9.9.9", "moduleId": b.module}}}
	}},
	"POST /module/installation/search": {search: true},
	"GET /module/{moduleId}/gameserver/{gameServerId}/installation": {attempts: func(a, b *xtWorld) []xtAttempt {
		return xtCombos("installation", map[string][2]string{"moduleId": {a.module, b.module}, "gameServerId": {a.gs1, b.gs1}}, nil)
	}},
	"POST /module/installation": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "B's version on B's game server", body: map[string]any{"versionId": b.tagged, "gameServerId": b.gs1}},
			{name: "B's version on A's game server", body: map[string]any{"versionId": b.latest, "gameServerId": a.gs2}},
			{name: "A's version on B's game server", body: map[string]any{"versionId": a.latest, "gameServerId": b.gs2}},
		}
	}},
	"DELETE /module/{moduleId}/gameserver/{gameServerId}/installation": {attempts: func(a, b *xtWorld) []xtAttempt {
		return xtCombos("installation", map[string][2]string{"moduleId": {a.module, b.module}, "gameServerId": {a.gs1, b.gs1}}, nil)
	}},

	"POST /command/search": {search: true, extend: []string{"module", "permissions"}},
	"GET /command/{id}":    {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.command) }},
	"POST /command": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "in B's version", body: map[string]any{"name": a.tag + "-c", "trigger": "t", "versionId": b.latest}}}
	}},
	"PUT /command/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"trigger": "byA", "function": "// A"}, b.command)
	}},
	"DELETE /command/{id}": {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.command) }},
	"POST /command/argument": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "on B's command", body: map[string]any{"commandId": b.command, "name": "x", "type": "string", "position": 5}}}
	}},
	"PUT /command/argument/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"name": "byA"}, b.argument)
	}},
	"DELETE /command/argument/{id}": {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.argument) }},
	"POST /command/{id}/executions": {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(map[string]any{}, b.command) }},
	"POST /command/{id}/trigger": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{
			{name: "on B's game server", params: map[string]string{"id": b.gs1}, body: map[string]any{"playerId": a.p1, "msg": "/xt"}},
			{name: "by B's player", params: map[string]string{"id": a.gs1}, body: map[string]any{"playerId": b.p1, "msg": "/xt"}},
			{name: "A's own", own: true, want: http.StatusNotImplemented, params: map[string]string{"id": a.gs1},
				body: map[string]any{"playerId": a.p1, "msg": "/xt"}},
		}
	}},

	"POST /hook/search": {search: true, extend: []string{"module"}},
	"GET /hook/{id}":    {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.hook) }},
	"POST /hook": {attempts: func(a, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "in B's version", body: map[string]any{"name": "h", "eventType": "log", "versionId": b.latest}}}
	}},
	"PUT /hook/{id}":             {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(map[string]any{"regex": "byA"}, b.hook) }},
	"DELETE /hook/{id}":          {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.hook) }},
	"POST /hook/{id}/executions": {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(map[string]any{}, b.hook) }},
	"POST /hook/trigger": {attempts: func(a, b *xtWorld) []xtAttempt {
		event := func(gs string, more map[string]any) map[string]any {
			body := map[string]any{"gameServerId": gs, "eventType": "chat-message", "eventMeta": map[string]any{"msg": "hi"}}
			for k, v := range more {
				body[k] = v
			}
			return body
		}
		return []xtAttempt{
			{name: "on B's game server", body: event(b.gs1, nil)},
			{name: "for B's player", body: event(a.gs1, map[string]any{"playerId": b.p1})},
			{name: "for B's module", body: event(a.gs1, map[string]any{"moduleId": b.module})},
			{name: "A's own", own: true, want: http.StatusNotImplemented, body: event(a.gs1, map[string]any{"playerId": a.p1, "moduleId": a.module})},
		}
	}},

	"POST /cronjob/search": {search: true, extend: []string{"module"}},
	"GET /cronjob/{id}":    {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.cron) }},
	"POST /cronjob": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "in B's version", body: map[string]any{"name": "c", "temporalValue": "* * * * *", "versionId": b.latest}}}
	}},
	"PUT /cronjob/{id}": {attempts: func(_, b *xtWorld) []xtAttempt {
		return xtEach(map[string]any{"temporalValue": "0 0 * * *"}, b.cron)
	}},
	"DELETE /cronjob/{id}":          {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.cron) }},
	"POST /cronjob/{id}/executions": {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(map[string]any{}, b.cron) }},
	"POST /cronjob/trigger": {attempts: func(a, b *xtWorld) []xtAttempt {
		run := func(gs, cron, module string) map[string]any {
			return map[string]any{"gameServerId": gs, "cronjobId": cron, "moduleId": module}
		}
		return []xtAttempt{
			{name: "on B's game server", body: run(b.gs1, a.cron, a.module)},
			{name: "B's cron job", body: run(a.gs1, b.cron, a.module)},
			{name: "B's module", body: run(a.gs1, a.cron, b.module)},
			{name: "A's own", own: true, want: http.StatusNotImplemented, body: run(a.gs1, a.cron, a.module)},
		}
	}},

	"POST /function/search": {search: true, extend: []string{"command", "cronJob", "hook", "version"}},
	"GET /function/{id}":    {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.helper) }},
	"POST /function": {attempts: func(_, b *xtWorld) []xtAttempt {
		return []xtAttempt{{name: "in B's version", body: map[string]any{"name": "f", "versionId": b.latest}}}
	}},
	"PUT /function/{id}":    {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(map[string]any{"code": "// A"}, b.helper) }},
	"DELETE /function/{id}": {attempts: func(_, b *xtWorld) []xtAttempt { return xtEach(nil, b.helper) }},
}

func init() {
	for k, v := range xtModuleRoutes {
		xtRoutes[k] = v
	}
}

// xtBalance are the attempts on a balance route: every combination of
// A's and B's game server and player.
func xtBalance(a, b *xtWorld) []xtAttempt {
	return xtCombos("balance", map[string][2]string{"gameServerId": {a.gs1, b.gs1}, "playerId": {a.p1, b.p1}},
		map[string]any{"currency": 5})
}

// xtLive returns the attempts on a route that acts on a player on a live
// game server.
func xtLive(body any) func(a, b *xtWorld) []xtAttempt {
	return func(a, b *xtWorld) []xtAttempt {
		return xtCombos("player", map[string][2]string{"gameServerId": {a.gs1, b.gs1}, "playerId": {a.p1, b.p1}}, body)
	}
}

// xtForeignEvent is an event of A that names B's game server, player and
// users.
func xtForeignEvent(_, b *xtWorld) map[string]any {
	return map[string]any{"eventName": "player-connected", "gameserverId": b.gs1, "playerId": b.p1,
		"userId": b.u1, "actingUserId": b.root}
}

// xtCoverageProblems compares the table with the routes: every user route
// needs an entry of the right kind, and every entry a route.
func xtCoverageProblems(routes []httpapi.Route, table map[string]xtRoute) []string {
	var problems []string
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if !xtIsUserRoute(r) {
			if _, ok := table[key]; ok {
				problems = append(problems, key+" is not a user route (public or admin) but has a cross-tenant entry")
			}
			continue
		}
		seen[key] = true
		rc, ok := table[key]
		switch {
		case !ok:
			problems = append(problems, key+" has no entry in xtRoutes: say how domain A calls it with domain B's ids")
		case rc.search != xtIsSearch(r):
			problems = append(problems, key+": the entry's search flag does not match the route")
		case !rc.search && rc.attempts == nil:
			problems = append(problems, key+": the entry has no attempts")
		}
	}
	for key := range table {
		if !seen[key] {
			problems = append(problems, "xtRoutes names "+key+", which is not a user route")
		}
	}
	sort.Strings(problems)
	return problems
}

func TestCrossTenantRouteTable(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	routes := s.API.Routes()
	for _, p := range xtCoverageProblems(routes, xtRoutes) {
		t.Error(p)
	}

	// The check itself: a new route, or a removed one, must be reported.
	extra := append(slices.Clone(routes), httpapi.Route{Method: http.MethodGet, Path: "/shop/{id}"})
	if p := xtCoverageProblems(extra, xtRoutes); !slices.ContainsFunc(p, func(s string) bool { return strings.HasPrefix(s, "GET /shop/{id} has no entry") }) {
		t.Errorf("an uncovered route was not reported: %q", p)
	}
	i := slices.IndexFunc(routes, func(r httpapi.Route) bool { return r.Method == http.MethodGet && r.Path == "/user/{id}" })
	if i < 0 {
		t.Fatal("GET /user/{id} is not a route")
	}
	fewer := slices.Delete(slices.Clone(routes), i, i+1)
	if p := xtCoverageProblems(fewer, xtRoutes); !slices.Contains(p, "xtRoutes names GET /user/{id}, which is not a user route") {
		t.Errorf("a stale entry was not reported: %q", p)
	}
}

// xtCred is one kind of A's credentials.
type xtCred struct {
	name string
	h    header
}

// xtRun is the state of one cross-tenant run.
type xtRun struct {
	s     *testServer
	a, b  *xtWorld
	creds []xtCred
	leaks *xtLeaks
}

// xtLeaks finds B in A's answers.
type xtLeaks struct {
	b *xtWorld
	// secrets are B's strings that no answer to A may hold unless the
	// request held them: B's tag (in every name and value of B), its
	// domain id and its credentials.
	secrets []string
	// named are B's ids that A's own event names on purpose.
	named map[string]bool
}

func newXTLeaks(a, b *xtWorld) *xtLeaks {
	l := &xtLeaks{b: b, secrets: []string{b.tag, b.tn.ID, b.tn.Token, b.rootKey, b.u1Session, b.jwt, b.tn.Password, b.registrationToken}, named: map[string]bool{}}
	for _, v := range xtForeignEvent(a, b) {
		if s, ok := v.(string); ok && b.ids[s] {
			l.named[s] = true
		}
	}
	return l
}

// check reports anything of B in res that request (the path and body sent)
// did not contain.
func (l *xtLeaks) check(t *testing.T, what, request string, res *response) {
	t.Helper()
	raw := string(res.Raw)
	for _, s := range l.secrets {
		if strings.Contains(raw, s) && !strings.Contains(request, s) {
			t.Errorf("%s: the answer holds %q of domain B: %s", what, s, raw)
		}
	}
	for id := range l.b.ids {
		if strings.Contains(raw, id) && !strings.Contains(request, id) && !l.named[id] {
			t.Errorf("%s: the answer holds B's id %s, which the request did not name: %s", what, id, raw)
		}
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		return // a download: its cells were searched above
	}
	var v any
	if err := json.Unmarshal(res.Raw, &v); err != nil {
		t.Errorf("%s: the answer is not JSON: %s", what, raw)
		return
	}
	xtWalk(v, func(key string, val any) {
		if s, ok := val.(string); ok && key == "id" && l.b.ids[s] {
			t.Errorf("%s: the answer has an object of domain B (id %s): %s", what, s, raw)
		}
	})
}

func TestCrossTenant(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	a, b := xtNewWorld(t, s), xtNewWorld(t, s)
	a.collectIDs(t)
	b.collectIDs(t)
	x := &xtRun{s: s, a: a, b: b, leaks: newXTLeaks(a, b), creds: []xtCred{
		{"session", a.tn.auth()},
		{"API key", bearer(a.rootKey)},
		{"domain token", header{"X-Takaro-Token", a.jwt}},
	}}
	beforeB, beforeA := xtSnapshot(t, b, true), xtSnapshot(t, a, false)

	routes := map[string]httpapi.Route{}
	for _, r := range s.API.Routes() {
		if xtIsUserRoute(r) {
			routes[r.Method+" "+r.Path] = r
		}
	}
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	// Each phase is a group whose subtests run in parallel with each
	// other; the group returns when all of them are done, so the phases
	// stay in order. Writes first, then the searches (which compare counts
	// and so must not race with A's own writes), then B is read again.
	t.Run("writes and reads", func(t *testing.T) {
		for _, key := range keys {
			rc, ok := xtRoutes[key]
			if !ok || rc.search {
				continue // a missing entry fails TestCrossTenantRouteTable
			}
			r := routes[key]
			t.Run(key, func(t *testing.T) {
				t.Parallel()
				for _, at := range rc.attempts(a, b) {
					x.attempt(t, r, at)
				}
			})
		}
	})
	t.Run("searches", func(t *testing.T) {
		for _, key := range keys {
			rc, ok := xtRoutes[key]
			if !ok || !rc.search {
				continue
			}
			r := routes[key]
			t.Run(key, func(t *testing.T) {
				t.Parallel()
				x.searches(t, r, rc)
			})
		}
	})

	xtCompare(t, "domain B", beforeB, xtSnapshot(t, b, true))
	xtCompare(t, "domain A's rows named in refused requests", beforeA, xtSnapshot(t, a, false))
	// B's credentials still work: none of A's requests revoked them.
	for _, h := range []header{b.tn.auth(), bearer(b.rootKey), bearer(b.u1Session), {"X-Takaro-Token", b.jwt}} {
		var me struct {
			Domain string `json:"domain"`
		}
		s.do(http.MethodGet, "/me", nil, h).expect(t, http.StatusOK).decode(t, &me)
		if me.Domain != b.tn.ID {
			t.Errorf("B's credential acts in %q", me.Domain)
		}
	}
}

// xtFill puts params into a route's path pattern.
func xtFill(t *testing.T, pattern string, params map[string]string) string {
	t.Helper()
	path := pattern
	for name, v := range params {
		if !strings.Contains(path, "{"+name+"}") {
			t.Fatalf("%s has no path parameter %q", pattern, name)
		}
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	if strings.ContainsAny(path, "{}") {
		t.Fatalf("path parameters of %s left unfilled: %s", pattern, path)
	}
	return path
}

// xtRefused reports whether status is a refusal that reveals nothing.
func xtRefused(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusForbidden || status == http.StatusNotFound
}

// attempt makes one request of A on route r and judges the answer.
func (x *xtRun) attempt(t *testing.T, r httpapi.Route, at xtAttempt) {
	t.Helper()
	path := xtFill(t, r.Path, at.params) + at.query
	var body any
	bodyText := ""
	if at.body != nil {
		data, err := json.Marshal(at.body)
		if err != nil {
			t.Fatal(err)
		}
		bodyText = string(data)
		body = bodyText
	}
	what := fmt.Sprintf("%s %s (%s) %s", r.Method, path, at.name, bodyText)
	if at.own {
		h := x.a.tn.auth()
		if at.auth != nil {
			h = at.auth(t)
		}
		want := at.want
		if want == 0 {
			want = http.StatusOK
		}
		res := x.s.do(r.Method, path, body, h)
		if res.Status != want {
			t.Errorf("%s: status %d, want %d: %s", what, res.Status, want, res.Raw)
		}
		x.leaks.check(t, what, path+bodyText, res)
		return
	}
	var first *response
	for _, c := range x.creds {
		res := x.s.do(r.Method, path, body, c.h)
		if !xtRefused(res.Status) {
			t.Errorf("%s as A with its %s: status %d, want 400, 403 or 404: %s", what, c.name, res.Status, res.Raw)
		}
		x.leaks.check(t, what+" with A's "+c.name, path+bodyText, res)
		if first == nil {
			first = res
		} else if res.Status != first.Status || string(res.Raw) != string(first.Raw) {
			t.Errorf("%s: A's %s is answered %d %s, its %s %d %s", what, c.name, res.Status, res.Raw, x.creds[0].name, first.Status, first.Raw)
		}
	}
	x.twin(t, r, what, path, bodyText, first)
}

// twin sends the request again with each of B's ids replaced by a fresh
// UUID and requires the same answer, ids mapped back: B's rows must be
// indistinguishable from rows that do not exist.
func (x *xtRun) twin(t *testing.T, r httpapi.Route, what, path, bodyText string, res *response) {
	t.Helper()
	fresh := map[string]string{} // B's id → its stand-in
	for id := range x.b.ids {
		if strings.Contains(path, id) || strings.Contains(bodyText, id) {
			fresh[id] = uuid.NewString()
		}
	}
	if len(fresh) == 0 {
		t.Fatalf("%s names none of B's ids", what)
	}
	swap := func(s string, back bool) string {
		for id, stand := range fresh {
			if back {
				s = strings.ReplaceAll(s, stand, id)
			} else {
				s = strings.ReplaceAll(s, id, stand)
			}
		}
		return s
	}
	var body any
	if bodyText != "" {
		body = swap(bodyText, false)
	}
	tw := x.s.do(r.Method, swap(path, false), body, x.a.tn.auth())
	if tw.Status != res.Status || swap(string(tw.Raw), true) != string(res.Raw) {
		t.Errorf("%s: B's ids are told apart from unknown ids:\n  with B's ids:  %d %s\n  with new ids: %d %s",
			what, res.Status, res.Raw, tw.Status, swap(string(tw.Raw), true))
	}
}

// xtQuery is one search of A.
type xtQuery struct {
	name string
	body map[string]any
	// empty: nothing of A can match, so the total must be 0.
	empty bool
	// embeds: some row of A must embed this relation, or the check that
	// it holds nothing of B would prove nothing.
	embeds string
}

// searches runs A's searches on route r: plain, with each extend and all
// of them, and with B's ids and values in every filter and search field
// the server allows.
func (x *xtRun) searches(t *testing.T, r httpapi.Route, rc xtRoute) {
	t.Helper()
	a, b := x.a, x.b
	extend := x.allowed(t, r, map[string]any{"extend": []string{"zzUnknown"}})
	if !slices.Equal(extend, slices.Sorted(slices.Values(rc.extend))) {
		t.Errorf("%s allows extend %q; xtRoutes says %q: review the cross-tenant checks of the new relation and update the table",
			r.Path, extend, rc.extend)
	}
	filters := x.allowed(t, r, map[string]any{"filters": map[string]any{"zzUnknown": []any{}}})
	searchable := x.allowed(t, r, map[string]any{"search": map[string]any{"zzUnknown": []any{}}})

	var bIDs, named, bValues []any
	for id := range b.ids {
		if x.leaks.named[id] {
			named = append(named, id)
		} else {
			bIDs = append(bIDs, id)
		}
	}
	for _, v := range []string{b.tag + "-role", b.u1Email, b.tag + "-u1", b.tag + "-gs1", b.tag + "-identity",
		b.tag + "-p1", b.tag + "-steam", b.tag + "-xbox", b.tag + "-eos", b.tag + "-platform", b.tag + "-game1",
		b.tag + "-key0", b.tag + "-value0", b.tag + "-key"} {
		bValues = append(bValues, v)
	}

	queries := []xtQuery{{name: "everything", body: map[string]any{}}, {name: "every extend", body: map[string]any{"extend": extend}}}
	for _, e := range extend {
		q := xtQuery{name: "extend " + e, body: map[string]any{"extend": []string{e}}}
		if !slices.Contains(rc.unpopulated, e) {
			q.embeds = e
		}
		queries = append(queries, q)
	}
	for _, f := range filters {
		// The first list of values the field takes: B's ids, B's values,
		// numbers, booleans, or the values an enumeration allows.
		tries := []xtQuery{
			{name: "filter " + f + " by B's ids", body: map[string]any{"filters": map[string]any{f: bIDs}}, empty: true},
			{name: "filter " + f + " by B's values", body: map[string]any{"filters": map[string]any{f: bValues}}, empty: true},
			{name: "filter " + f + " by numbers", body: map[string]any{"filters": map[string]any{f: []any{0, 1, 10, 100}}}},
			{name: "filter " + f + " by booleans", body: map[string]any{"filters": map[string]any{f: []any{true, false}}}},
		}
		found := false
		for i, q := range tries {
			if found && i == len(tries)-1 {
				break // booleans only for a field that takes neither ids nor values
			}
			res := x.s.do(http.MethodPost, r.Path, q.body, a.tn.auth())
			if res.Status == http.StatusOK {
				found = true
				queries = append(queries, q)
				if i == 0 && len(named) > 0 {
					queries = append(queries, xtQuery{name: "filter " + f + " by the ids A's event names",
						body: map[string]any{"filters": map[string]any{f: named}}})
				}
				continue
			}
			if res.Meta.Error == nil {
				continue
			}
			// The list ends the constraint's message in the details.
			if _, list, ok := strings.Cut(string(res.Raw), "must be one of "); ok && !found {
				list, _, _ = strings.Cut(list, `"`)
				var values []any
				for _, v := range strings.Split(list, ", ") {
					values = append(values, v)
				}
				queries = append(queries, xtQuery{name: "filter " + f + " by every allowed value",
					body: map[string]any{"filters": map[string]any{f: values}}})
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: found no values that filter %q takes", r.Path, f)
		}
	}
	for _, f := range searchable {
		queries = append(queries,
			xtQuery{name: "search " + f + " for B's tag", body: map[string]any{"search": map[string]any{f: []any{b.tag}}}, empty: true},
			xtQuery{name: "search " + f + " for B's values", body: map[string]any{"search": map[string]any{f: bValues}}, empty: true})
	}

	for _, q := range queries {
		q.body["limit"] = 1000
		if _, ok := q.body["extend"]; !ok {
			q.body["extend"] = extend
		}
		data, err := json.Marshal(q.body)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range x.creds {
			what := fmt.Sprintf("POST %s (%s) as A with its %s", r.Path, q.name, c.name)
			res := x.s.do(http.MethodPost, r.Path, string(data), c.h)
			if res.Status != http.StatusOK {
				t.Errorf("%s: status %d: %s", what, res.Status, res.Raw)
				continue
			}
			x.leaks.check(t, what, string(data), res)
			var items []map[string]json.RawMessage
			res.decode(t, &items)
			if q.embeds != "" && !slices.ContainsFunc(items, func(item map[string]json.RawMessage) bool {
				v, ok := item[q.embeds]
				return ok && string(v) != "null" && string(v) != "[]"
			}) {
				t.Errorf("%s: no row embeds %q: %s", what, q.embeds, res.Raw)
			}
			switch {
			case res.Meta.Total == nil:
				t.Errorf("%s: no total: %s", what, res.Raw)
			case *res.Meta.Total != len(items):
				t.Errorf("%s: total %d, but %d rows (limit 1000): the count sees rows the page does not", what, *res.Meta.Total, len(items))
			case q.empty && *res.Meta.Total != 0:
				t.Errorf("%s: %d rows, want none: %s", what, *res.Meta.Total, res.Raw)
			}
		}
	}
}

// allowed asks the server which names a search takes, from the error that
// an unknown name gets ("…; allowed: a, b").
func (x *xtRun) allowed(t *testing.T, r httpapi.Route, body map[string]any) []string {
	t.Helper()
	res := x.s.do(http.MethodPost, r.Path, body, x.a.tn.auth())
	if res.Status != http.StatusBadRequest || res.Meta.Error == nil {
		t.Fatalf("POST %s %v: status %d, want 400: %s", r.Path, body, res.Status, res.Raw)
	}
	// The list ends the constraint's message in the details.
	_, list, ok := strings.Cut(string(res.Raw), "allowed: ")
	list, _, _ = strings.Cut(list, `"`)
	if !ok {
		t.Fatalf("POST %s %v: the error does not list what is allowed: %s", r.Path, body, res.Raw)
	}
	var out []string
	for _, name := range strings.Split(list, ", ") {
		if name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// xtSnapshot reads a world through its own root: each of its rows by id
// and, with searches, every search (with every extend), its API keys and
// /me. The root user's last-seen time is left out: these very reads may
// move it.
func xtSnapshot(t *testing.T, w *xtWorld, searches bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	read := func(method, path string, body any) {
		res := w.s.do(method, path, body, w.tn.auth())
		var v any
		if err := json.Unmarshal(res.Raw, &v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, res.Raw)
		}
		var drop func(v any)
		drop = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if x["id"] == w.root {
					delete(x, "lastSeen")
				}
				for _, val := range x {
					drop(val)
				}
			case []any:
				for _, val := range x {
					drop(val)
				}
			}
		}
		drop(v)
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[method+" "+path] = fmt.Sprintf("%d %s", res.Status, data)
	}
	for _, id := range []string{w.root, w.u1, w.u2} {
		read(http.MethodGet, "/user/"+id, nil)
	}
	for _, id := range []string{w.rootRole, w.adminRole, w.moderatorRole, w.playerRole, w.userRole, w.role} {
		read(http.MethodGet, "/role/"+id, nil)
	}
	for _, id := range []string{w.gs1, w.gs2} {
		read(http.MethodGet, "/gameserver/"+id, nil)
	}
	for _, id := range []string{w.p1, w.p2} {
		read(http.MethodGet, "/player/"+id, nil)
	}
	for _, id := range w.vars {
		read(http.MethodGet, "/variables/"+id, nil)
	}
	read(http.MethodGet, "/event/"+w.event, nil)
	read(http.MethodGet, "/gameserver/"+w.gs1+"/player/"+w.p1, nil)
	read(http.MethodGet, "/gameserver/"+w.gs2+"/player/"+w.p2, nil)
	read(http.MethodGet, "/gameserver/"+w.gs1+"/player/"+w.p2, nil)
	for _, id := range []string{w.ban, w.globalBan} {
		read(http.MethodGet, "/player/ban/"+id, nil)
	}
	read(http.MethodGet, "/items/"+w.item, nil)
	read(http.MethodGet, "/entities/"+w.entity, nil)
	for _, id := range []string{w.gs1, w.gs2} {
		read(http.MethodGet, "/gameserver/"+id+"/bans", nil)
	}
	if searches {
		for path, rc := range xtRoutes {
			if rc.search {
				path = strings.TrimPrefix(path, "POST ")
				read(http.MethodPost, path, map[string]any{"limit": 1000, "extend": rc.extend})
			}
		}
		read(http.MethodGet, "/apikey", nil)
		read(http.MethodGet, "/me", nil)
	}
	for k, v := range out {
		if !strings.HasPrefix(v, "200 ") {
			t.Fatalf("%s in %s: %s", k, w.tn.ID, v)
		}
	}
	return out
}

// xtCompare reports every read whose answer changed.
func xtCompare(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed: %s\n  before: %s\n  after:  %s", what, k, v, after[k])
		}
	}
}

func TestCrossTenantCredentials(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	a, b := s.newTenant(nil), s.newTenant(nil)
	tag := xtTag()
	shared := tag + "-shared@example.com"
	for _, tn := range []*tenant{a, b} {
		s.do(http.MethodPost, "/user", map[string]any{"name": "shared", "email": shared, "password": tn.ID + "-password"},
			tn.auth()).expect(t, http.StatusOK)
	}
	meDomain := func(t *testing.T, h ...header) string {
		t.Helper()
		var me struct {
			Domain string `json:"domain"`
		}
		s.do(http.MethodGet, "/me", nil, h...).expect(t, http.StatusOK).decode(t, &me)
		return me.Domain
	}

	t.Run("login", func(t *testing.T) {
		t.Parallel()
		login := func(email, password, hint string) *response {
			return s.do(http.MethodPost, "/login", map[string]string{"username": email, "password": password},
				header{"X-Takaro-Domain", hint})
		}
		// A's password with B as the domain: no session in B, and the same
		// answer as a wrong password.
		for _, c := range []struct{ email, password, hint string }{
			{shared, a.ID + "-password", b.ID},
			{shared, b.ID + "-password", a.ID},
			{"root@" + a.ID + ".com", a.Password, b.ID},
		} {
			res := login(c.email, c.password, c.hint)
			res.expect(t, http.StatusUnauthorized, string(takaro.CodeUnauthorized))
			wrong := login(c.email, "wrong-password", c.hint)
			if string(wrong.Raw) != string(res.Raw) {
				t.Errorf("%s with hint %s: %s, a wrong password %s", c.email, c.hint, res.Raw, wrong.Raw)
			}
		}
		// Without a hint, A's password opens a session in A only.
		var session struct {
			Token string `json:"token"`
		}
		login(shared, a.ID+"-password", "").expect(t, http.StatusOK).decode(t, &session)
		var me struct {
			Domain  string          `json:"domain"`
			Domains []takaro.Domain `json:"domains"`
		}
		s.do(http.MethodGet, "/me", nil, bearer(session.Token)).expect(t, http.StatusOK).decode(t, &me)
		if me.Domain != a.ID || len(me.Domains) != 1 || me.Domains[0].ID != a.ID {
			t.Errorf("a login with A's password sees domain %s and domains %v", me.Domain, me.Domains)
		}
	})

	t.Run("X-Takaro-Domain is ignored outside login", func(t *testing.T) {
		t.Parallel()
		hint := header{"X-Takaro-Domain", b.ID}
		if d := meDomain(t, a.auth(), hint); d != a.ID {
			t.Errorf("A's session with X-Takaro-Domain: %s acts in %s", b.ID, d)
		}
		s.do(http.MethodGet, "/user/"+b.RootUserID, nil, a.auth(), hint).expect(t, http.StatusNotFound)
	})

	t.Run("tokens edited to name B", func(t *testing.T) {
		t.Parallel()
		var key takaro.APIKeyCreated
		s.do(http.MethodPost, "/apikey", map[string]any{"name": "k", "permissions": []string{takaro.PermRoot}}, a.auth()).
			expect(t, http.StatusOK).decode(t, &key)
		var bKey takaro.APIKeyCreated
		s.do(http.MethodPost, "/apikey", map[string]any{"name": "k", "permissions": []string{takaro.PermRoot}}, b.auth()).
			expect(t, http.StatusOK).decode(t, &bKey)
		for name, token := range map[string]string{"session": a.Token, "API key": key.Secret} {
			if d := meDomain(t, bearer(token)); d != a.ID {
				t.Fatalf("A's %s acts in %s", name, d)
			}
			edited := xtEditToken(t, token, b.ID, nil, false)
			resigned := xtEditToken(t, token, b.ID, nil, true)
			// Even knowing the id of B's API key does not help without
			// its secret.
			withBKeyID := xtEditToken(t, token, b.ID, &bKey.APIKey.ID, true)
			for how, forged := range map[string]string{"checksum kept": edited, "checksum recomputed": resigned,
				"with B's API key id": withBKeyID} {
				if forged == token {
					t.Fatalf("%s: the token did not change", how)
				}
				for _, path := range []string{"/me", "/user/" + b.RootUserID} {
					res := s.do(http.MethodGet, path, nil, bearer(forged))
					res.expect(t, http.StatusUnauthorized, string(takaro.CodeUnauthorized))
					if res.Meta.Error.Message != "Not authorized" {
						t.Errorf("A's %s, %s, on %s: %s", name, how, path, res.Raw)
					}
				}
			}
		}
	})

	t.Run("domain tokens", func(t *testing.T) {
		t.Parallel()
		var tok struct {
			Token string `json:"token"`
		}
		s.do(http.MethodPost, "/token", map[string]string{"domainId": a.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &tok)
		jwtA := header{"X-Takaro-Token", tok.Token}
		if d := meDomain(t, jwtA); d != a.ID {
			t.Fatalf("A's domain token acts in %s", d)
		}
		for _, path := range []string{"/user/" + b.RootUserID, "/role/" + b.RootRoleID} {
			s.do(http.MethodGet, path, nil, jwtA).expect(t, http.StatusNotFound)
		}
		var users []takaro.User
		res := s.do(http.MethodPost, "/user/search", map[string]any{"filters": map[string]any{"id": []string{b.RootUserID}}}, jwtA)
		res.expect(t, http.StatusOK).decode(t, &users)
		if len(users) != 0 || *res.Meta.Total != 0 {
			t.Errorf("A's domain token finds B's root: %s", res.Raw)
		}
		sign := func(secret string, claims jwt.MapClaims) header {
			text, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			return header{"X-Takaro-Token", text}
		}
		claims := func(domain, subject string) jwt.MapClaims {
			now := time.Now()
			return jwt.MapClaims{"domainId": domain, "sub": subject, "iss": "takaro", "aud": []string{"takaro"},
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		}
		for _, h := range []header{
			// Signed with the right secret, but naming B's root in A: the
			// user is looked up in the token's domain only.
			sign(testJWTSecret, claims(a.ID, b.RootUserID)),
			// B's domain, signed with a secret that is not the server's.
			sign("not-the-secret-0123456789abcdef", claims(b.ID, b.RootUserID)),
		} {
			for _, path := range []string{"/me", "/user/" + b.RootUserID} {
				s.do(http.MethodGet, path, nil, h).expect(t, http.StatusUnauthorized, string(takaro.CodeUnauthorized))
			}
		}
		// An unsigned token naming B.
		unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(b.ID, b.RootUserID)).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		s.do(http.MethodGet, "/me", nil, header{"X-Takaro-Token", unsigned}).expect(t, http.StatusUnauthorized)
	})
}

// xtEditToken rewrites a bearer token to name domain (and, when id is set,
// that credential id), keeping its secret; with resign the checksum is
// computed anew, as a forger would, else the old one is kept.
func xtEditToken(t *testing.T, token, domain string, id *uuid.UUID, resign bool) string {
	t.Helper()
	prefix := takaro.SessionTokenPrefix
	if strings.HasPrefix(token, takaro.APIKeyTokenPrefix) {
		prefix = takaro.APIKeyTokenPrefix
	}
	rest := strings.TrimPrefix(token, prefix)
	body, sum := rest[:len(rest)-6], rest[len(rest)-6:]
	n, ok := new(big.Int).SetString(body, 62)
	if !ok {
		t.Fatalf("token body %q is not base62", body)
	}
	payload := n.Bytes()
	const domainAt = 1 + 16 + 32 // version, credential id, secret
	if len(payload) <= domainAt {
		t.Fatalf("token payload is %d bytes", len(payload))
	}
	edited := append(slices.Clone(payload[:domainAt]), domain...)
	if id != nil {
		copy(edited[1:17], id[:])
	}
	newBody := new(big.Int).SetBytes(edited).Text(62)
	if resign {
		c := big.NewInt(int64(crc32.ChecksumIEEE([]byte(prefix + newBody)))).Text(62)
		sum = strings.Repeat("0", 6-len(c)) + c
	}
	forged := prefix + newBody + sum
	if _, err := takaro.ParseToken(forged); (err == nil) != resign {
		t.Fatalf("ParseToken(edited token, resigned %v) = %v", resign, err)
	}
	return forged
}

func TestCrossTenantUniqueValues(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	limits := map[string]any{"maxGameservers": 10, "maxUsers": 10}
	a, b := s.newTenant(limits), s.newTenant(limits)
	tag := xtTag()
	var perms []takaro.Permission
	s.do(http.MethodGet, "/permissions", nil, a.auth()).expect(t, http.StatusOK).decode(t, &perms)

	// Each value is created in B first; A must be able to create it too
	// (B's values are no oracle), and a second time in A it conflicts,
	// with a message that holds nothing of B.
	for _, c := range []struct {
		name, path string
		body       map[string]any
		conflicts  bool // a second creation in A is 409 (players are upserted instead)
	}{
		{"role name", "/role", map[string]any{"name": tag + "-r", "permissions": []any{map[string]any{"permissionId": perms[0].ID}}}, true},
		{"user e-mail", "/user", map[string]any{"name": "same", "email": tag + "@example.com", "password": "password-123"}, true},
		{"game server name", "/gameserver", map[string]any{"name": tag + "-gs", "type": "MOCK", "connectionInfo": "{}"}, true},
		{"identity token", "/gameserver", map[string]any{"name": tag + "-gsi", "type": "GENERIC", "connectionInfo": "{}", "identityToken": tag + "-id"}, true},
		{"player platform ids", "/player", map[string]any{"steamId": tag + "-s", "xboxLiveId": tag + "-x", "epicOnlineServicesId": tag + "-e", "platformId": tag + "-p"}, false},
		{"variable key", "/variables", map[string]any{"key": tag + "-k", "value": "1"}, true},
	} {
		var inB, inA struct {
			ID string `json:"id"`
		}
		s.do(http.MethodPost, c.path, c.body, b.auth()).expect(t, http.StatusOK).decode(t, &inB)
		res := s.do(http.MethodPost, c.path, c.body, a.auth())
		if res.Status != http.StatusOK {
			t.Errorf("%s taken in B only: A's creation answers %d: %s", c.name, res.Status, res.Raw)
			continue
		}
		res.decode(t, &inA)
		if inA.ID == inB.ID {
			t.Errorf("%s: A was given B's row %s", c.name, inB.ID)
		}
		again := s.do(http.MethodPost, c.path, c.body, a.auth())
		switch {
		case c.conflicts && again.Status != http.StatusConflict:
			t.Errorf("%s taken in A: status %d, want 409: %s", c.name, again.Status, again.Raw)
		case !c.conflicts && again.Status != http.StatusOK:
			t.Errorf("%s in A again: status %d: %s", c.name, again.Status, again.Raw)
		}
		for _, r := range []*response{res, again} {
			for _, leak := range []string{inB.ID, b.ID, b.RootUserID} {
				if strings.Contains(string(r.Raw), leak) {
					t.Errorf("%s: A's answer holds %s of B: %s", c.name, leak, r.Raw)
				}
			}
		}
	}
}
