package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// Behaviours of the reference platform that its own clients and tests
// depend on, pinned here because CI cannot run the reference's tests.

// millisecondTime is the only form of a time the API may write.
var millisecondTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// Every time in every response has exactly three fractional digits, in
// UTC; an expiry comes back exactly as the client sent it.
func TestFidelityTimestamps(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	u := k.user(false)
	role := k.role(takaro.PermReadUsers)
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second).Add(780 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	s.do(http.MethodPost, "/user/"+u.ID+"/role/"+role, map[string]any{"expiresAt": expires}, k.root()).expect(t, http.StatusOK)
	res := s.do(http.MethodGet, "/user/"+u.ID, nil, k.root()).expect(t, http.StatusOK)
	if !strings.Contains(string(res.Raw), `"expiresAt":"`+expires+`"`) {
		t.Errorf("expiresAt %s not written back as sent: %s", expires, res.Raw)
	}
	var body any
	if err := json.Unmarshal(res.Raw, &body); err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if strings.HasSuffix(key, "At") || key == "lastSeen" {
				n++
				if !millisecondTime.MatchString(v) {
					t.Errorf("%s is %q, not in the form 2024-01-31T08:58:36.000Z", key, v)
				}
			}
		}
	}
	walk("", body)
	if n < 5 {
		t.Errorf("only %d times checked in %s", n, res.Raw)
	}
}

// Names sort linguistically (ICU's root collation), not bytewise.
func TestFidelityNameOrder(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	k.s.do(http.MethodPost, "/role", map[string]any{"name": "Test role", "permissions": []any{}}, k.root()).expect(t, http.StatusOK)
	var roles []takaro.Role
	s.do(http.MethodPost, "/role/search", map[string]any{"sortBy": "name", "sortDirection": "desc"}, k.root()).
		expect(t, http.StatusOK).decode(t, &roles)
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if want := "User,Test role,root,Player,Moderator,Admin"; strings.Join(names, ",") != want {
		t.Errorf("roles by name, descending: %s; want %s", strings.Join(names, ","), want)
	}
}

// Every user holds the system role User and every player the system role
// Player without an assignment: reads list it last, with only the holder,
// the role id and the role, and filtering by either system role finds
// everyone; it cannot be assigned.
func TestFidelityImplicitSystemRoles(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	custom := k.role(takaro.PermReadPlayers)
	u := k.user(false, custom)
	p := k.player()
	k.player()
	s.do(http.MethodPost, "/player/"+p+"/role/"+custom, map[string]any{}, k.root()).expect(t, http.StatusOK)

	implicit := func(raw json.RawMessage, holderKey, holder, roleName string) {
		t.Helper()
		var got map[string]json.RawMessage
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		var role takaro.Role
		if err := json.Unmarshal(got["role"], &role); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || string(got[holderKey]) != `"`+holder+`"` || string(got["roleId"]) != `"`+role.ID.String()+`"` ||
			role.Name != roleName || !role.System {
			t.Errorf("implicit assignment %s, want only %s, roleId and the %s role", raw, holderKey, roleName)
		}
	}
	var user struct {
		Roles []json.RawMessage `json:"roles"`
	}
	s.do(http.MethodGet, "/user/"+u.ID, nil, k.root()).expect(t, http.StatusOK).decode(t, &user)
	if len(user.Roles) != 2 || !strings.Contains(string(user.Roles[0]), `"expiresAt":null`) {
		t.Fatalf("user roles %s, want the custom role and then User", user.Roles)
	}
	implicit(user.Roles[1], "userId", u.ID, takaro.RoleUser)
	var player struct {
		RoleAssignments []json.RawMessage `json:"roleAssignments"`
	}
	s.do(http.MethodGet, "/player/"+p, nil, k.root()).expect(t, http.StatusOK).decode(t, &player)
	if len(player.RoleAssignments) != 2 {
		t.Fatalf("player roles %s, want the custom role and then Player", player.RoleAssignments)
	}
	implicit(player.RoleAssignments[1], "playerId", p, takaro.RolePlayer)

	var users struct {
		Roles []json.RawMessage `json:"roles"`
	}
	var found []json.RawMessage
	s.do(http.MethodPost, "/user/search", map[string]any{"filters": map[string]any{"id": []string{u.ID}}}, k.root()).
		expect(t, http.StatusOK).decode(t, &found)
	if len(found) != 1 || json.Unmarshal(found[0], &users) != nil || len(users.Roles) != 2 {
		t.Fatalf("user search lists %s", found)
	}

	for _, system := range []string{takaro.RoleUser, takaro.RolePlayer} {
		id := k.standardRole(system)
		filter := map[string]any{"filters": map[string]any{"roleId": []string{id}}}
		if r := s.do(http.MethodPost, "/user/search", filter, k.root()).expect(t, http.StatusOK); *r.Meta.Total != 2 {
			t.Errorf("users with %s: %d, want both (root and the one created)", system, *r.Meta.Total)
		}
		if r := s.do(http.MethodPost, "/player/search", filter, k.root()).expect(t, http.StatusOK); *r.Meta.Total != 2 {
			t.Errorf("players with %s: %d, want both", system, *r.Meta.Total)
		}
		s.do(http.MethodPost, "/player/"+p+"/role/"+id, map[string]any{}, k.root()).
			expectMessage(t, http.StatusBadRequest, "BadRequestError", "Cannot assign Player or User role, everyone has these by default")
	}
	if r := s.do(http.MethodPost, "/player/search", map[string]any{"filters": map[string]any{"roleId": []string{custom}}}, k.root()).
		expect(t, http.StatusOK); *r.Meta.Total != 1 {
		t.Errorf("players with the custom role: %d, want 1", *r.Meta.Total)
	}
}

// A player's read has the Steam fields (null until a Steam sync) and the
// latest names and IP addresses seen, newest first; a new name or address
// is recorded once, with its event.
func TestFidelityPlayerHistory(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	gs := k.gameServer("{}")
	steam := unique("steam")
	var p takaro.Player
	for _, name := range []string{"Alice", "Alice", "Alicia"} {
		s.do(http.MethodPost, "/player", map[string]any{"name": name, "steamId": steam}, k.root()).expect(t, http.StatusOK).decode(t, &p)
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2"} {
		s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": p.ID, "gameServerId": gs.ID, "gameId": "g1", "ip": ip},
			k.root()).expect(t, http.StatusOK)
	}
	res := s.do(http.MethodGet, "/player/"+p.ID.String(), nil, k.root()).expect(t, http.StatusOK)
	var got takaro.Player
	res.decode(t, &got)
	for _, key := range []string{"steamAvatar", "steamLastFetch", "steamAccountCreated", "steamCommunityBanned", "steamEconomyBan",
		"steamVacBanned", "steamsDaysSinceLastBan", "steamNumberOfVACBans", "steamLevel"} {
		if !strings.Contains(string(res.Data), `"`+key+`":null`) {
			t.Errorf("%s is not null in %s", key, res.Data)
		}
	}
	if len(got.NameHistory) != 2 || got.NameHistory[0].Name != "Alicia" || got.NameHistory[1].Name != "Alice" {
		t.Errorf("name history %+v, want Alicia, Alice", got.NameHistory)
	}
	if len(got.IPHistory) != 2 || got.IPHistory[0].IP != "10.0.0.2" || got.IPHistory[1].IP != "10.0.0.1" || got.IPHistory[0].Country != nil {
		t.Errorf("IP history %+v, want 10.0.0.2, 10.0.0.1", got.IPHistory)
	}
	for name, want := range map[string]int{"player-new-name-detected": 2, "player-new-ip-detected": 2} {
		r := s.do(http.MethodPost, "/event/search", map[string]any{"filters": map[string]any{"eventName": []string{name},
			"playerId": []string{p.ID.String()}}}, k.root()).expect(t, http.StatusOK)
		if *r.Meta.Total != want {
			t.Errorf("%d %s events, want %d", *r.Meta.Total, name, want)
		}
	}
	// Searches do not carry the history.
	found := s.do(http.MethodPost, "/player/search", map[string]any{"filters": map[string]any{"id": []string{p.ID.String()}}}, k.root()).
		expect(t, http.StatusOK)
	if strings.Contains(string(found.Data), "History") || !strings.Contains(string(found.Data), `"steamLevel":null`) {
		t.Errorf("search result %s", found.Data)
	}
}

// DELETE /player deletes the listed players and reports unknown ids.
func TestFidelityBulkDeletePlayers(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	a, b, keep := k.player(), k.player(), k.player()
	unknown := uuid.NewString()
	var res takaro.PlayerBulkDeleteResult
	s.do(http.MethodDelete, "/player", map[string]any{"playerIds": []string{a, unknown, b}}, k.root()).expect(t, http.StatusOK).decode(t, &res)
	if res.Deleted != 2 || res.Failed != 1 || len(res.Errors) != 1 || res.Errors[0].PlayerID.String() != unknown ||
		res.Errors[0].Reason != "Player not found" {
		t.Errorf("bulk delete: %+v", res)
	}
	s.do(http.MethodGet, "/player/"+a, nil, k.root()).expect(t, http.StatusNotFound)
	s.do(http.MethodGet, "/player/"+keep, nil, k.root()).expect(t, http.StatusOK)
	r := s.do(http.MethodPost, "/event/search", map[string]any{"filters": map[string]any{"eventName": []string{"player-deleted"}}}, k.root())
	if *r.expect(t, http.StatusOK).Meta.Total != 2 {
		t.Errorf("%d player-deleted events, want 2", *r.Meta.Total)
	}
	s.do(http.MethodDelete, "/player", map[string]any{"playerIds": []string{}}, k.root()).expect(t, http.StatusBadRequest, "ValidationError")
	s.do(http.MethodDelete, "/player", map[string]any{"playerIds": []string{keep}}, bearer(k.s.login(k.userWith(false, takaro.PermReadPlayers).Email, testPassword, k.tn.ID))).
		expect(t, http.StatusForbidden)
}

// POST /user/invite creates a dashboard user named after the address, once.
func TestFidelityInviteUser(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxUsers": 1})
	email := unique("invitee") + "@example.com"
	var first, again takaro.User
	s.do(http.MethodPost, "/user/invite", map[string]any{"email": email}, k.root()).expect(t, http.StatusOK).decode(t, &first)
	s.do(http.MethodPost, "/user/invite", map[string]any{"email": email}, k.root()).expect(t, http.StatusOK).decode(t, &again)
	if first.ID != again.ID || first.Name != email || first.Email != email || !first.IsDashboardUser || len(first.Roles) != 1 {
		t.Errorf("invited %+v, then %+v", first, again)
	}
	s.do(http.MethodPost, "/user/invite", map[string]any{"email": unique("other") + "@example.com"}, k.root()).
		expectMessage(t, http.StatusBadRequest, "BadRequestError", "Max users (1) limit reached")
	s.do(http.MethodPost, "/user/invite", map[string]any{"email": "not an address"}, k.root()).expect(t, http.StatusBadRequest, "ValidationError")
}

// GET /gameserver/types lists the types (and is not taken for an id).
func TestFidelityGameServerTypes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	var types []takaro.GameServerTypeInfo
	s.do(http.MethodGet, "/gameserver/types", nil, k.root()).expect(t, http.StatusOK).decode(t, &types)
	var names []string
	for _, ty := range types {
		names = append(names, string(ty.Type))
		var schema map[string]any
		if err := json.Unmarshal([]byte(ty.ConnectionInfoSchema), &schema); err != nil || schema["type"] != "object" {
			t.Errorf("%s: connection info schema %q", ty.Type, ty.ConnectionInfoSchema)
		}
	}
	if strings.Join(names, ",") != "SEVENDAYSTODIE,RUST,GENERIC,MOCK" {
		t.Errorf("types %v", names)
	}
}

// Error messages the reference's clients compare.
func TestFidelityErrorMessages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	s.do(http.MethodPost, "/role", map[string]any{"name": "root", "permissions": []any{}}, k.root()).
		expectMessage(t, http.StatusConflict, "ConflictError", "Unique constraint violation")
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "v"}, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "w"}, k.root()).
		expectMessage(t, http.StatusConflict, "ConflictError", "Unique constraint violation")
	s.do(http.MethodPost, "/variables", map[string]any{"key": "big", "value": strings.Repeat("a", 128*1024+1)}, k.root()).
		expectMessage(t, http.StatusBadRequest, "BadRequestError", "Invalid data provided")
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		var body any
		if method == http.MethodPut {
			body = map[string]any{"name": "New name"}
		}
		s.do(method, "/domain/invalid-id", body, adminHeader()).expectMessage(t, http.StatusNotFound, "NotFoundError", "Not found")
	}
}

// Validation errors carry the reference's details (target, value,
// property, children, constraints) and never echo a secret.
func TestFidelityValidationDetails(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	r := s.do(http.MethodGet, "/role/invalid-id", nil, k.root()).expect(t, http.StatusBadRequest, "ValidationError")
	want := `{"code":"ValidationError","message":"Validation error","details":[{"target":{"id":"invalid-id"},"value":"invalid-id",` +
		`"property":"id","children":[],"constraints":{"isUuid":"id must be a UUID"}}]}`
	var got struct {
		Meta struct {
			Error json.RawMessage `json:"error"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(r.Raw, &got); err != nil || string(got.Meta.Error) != want {
		t.Errorf("error %s\nwant  %s", got.Meta.Error, want)
	}
	secret := "do not echo this password"
	r = s.do(http.MethodPost, "/user", map[string]any{"name": "abc", "email": "nope", "password": secret}, k.root()).
		expect(t, http.StatusBadRequest, "ValidationError")
	if strings.Contains(string(r.Raw), secret) || !r.namesField("email") {
		t.Errorf("details %s", r.Raw)
	}
	r = s.do(http.MethodPost, "/gameserver", map[string]any{"name": "a", "type": "MOCK", "connectionInfo": `{"password":"rcon"}`}, k.root()).
		expect(t, http.StatusBadRequest, "ValidationError")
	if strings.Contains(string(r.Raw), "rcon") {
		t.Errorf("details echo the connection info: %s", r.Raw)
	}
}
