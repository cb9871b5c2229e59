package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// eventsOf returns the events of a name that match the filters (pairs of
// field and value), oldest first.
func (k *kit) eventsOf(name string, filter ...string) []takaro.Event {
	k.t.Helper()
	filters := map[string]any{"eventName": []string{name}}
	for i := 0; i+1 < len(filter); i += 2 {
		filters[filter[i]] = []string{filter[i+1]}
	}
	var events []takaro.Event
	k.s.do(http.MethodPost, "/event/search", map[string]any{"filters": filters, "sortBy": "createdAt"}, k.root()).
		expect(k.t, http.StatusOK).decode(k.t, &events)
	return events
}

// metaOf decodes an event's meta.
func metaOf(t testing.TB, e takaro.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Meta, &m); err != nil {
		t.Fatalf("event meta %s: %v", e.Meta, err)
	}
	return m
}

// TestAuditEvents checks that mutations write their audit events with the
// acting user, whatever the credential, and what they are about.
func TestAuditEvents(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 5})
	actor := k.user(true, k.role(takaro.PermManageRoles, takaro.PermManageGameservers, takaro.PermManageUsers,
		takaro.PermManageVariables, takaro.PermManagePlayers))
	target := k.user(false)
	var key takaro.APIKeyCreated
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "actor", "permissions": []string{takaro.PermManageRoles}}, k.login(actor)).
		expect(t, http.StatusOK).decode(t, &key)
	var jwt struct{ Token string }
	s.do(http.MethodPost, "/token", map[string]any{"domainId": k.tn.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &jwt)

	for _, cred := range []struct {
		name   string
		h      header
		acting string
	}{
		{"session", k.login(actor), actor.ID},
		{"API key", bearer(key.Secret), actor.ID},
		{"domain token", header{"X-Takaro-Token", jwt.Token}, k.tn.RootUserID},
	} {
		t.Run(cred.name, func(t *testing.T) {
			t.Parallel()
			k := k.forTest(t)
			check := func(events []takaro.Event, what string) takaro.Event {
				t.Helper()
				if len(events) != 1 {
					t.Fatalf("%s: %d events, want 1: %+v", what, len(events), events)
				}
				e := events[0]
				if e.ActingUserID == nil || e.ActingUserID.String() != cred.acting {
					t.Errorf("%s: actingUserId %v, want %s", what, e.ActingUserID, cred.acting)
				}
				return e
			}

			var role takaro.Role
			k.s.do(http.MethodPost, "/role", map[string]any{"name": unique("audit"), "permissions": []any{}}, cred.h).expect(t, http.StatusOK).decode(t, &role)
			var created *takaro.Event
			for _, e := range k.eventsOf("role-created", "actingUserId", cred.acting) {
				if metaOf(t, e)["roleId"] == role.ID.String() {
					created = &e
				}
			}
			if created == nil {
				t.Fatalf("no role-created event by %s for role %s", cred.acting, role.ID)
			}

			if cred.name == "API key" {
				return // the key holds MANAGE_ROLES only
			}
			k.s.do(http.MethodPost, "/user/"+target.ID+"/role/"+role.ID.String(), map[string]any{}, cred.h).expect(t, http.StatusOK)
			e := check(k.eventsOf("role-assigned", "actingUserId", cred.acting, "userId", target.ID), "role-assigned")
			if e.UserID == nil || e.UserID.String() != target.ID || metaOf(t, e)["roleId"] != role.ID.String() {
				t.Errorf("role-assigned: userId %v, meta %s; want user %s and role %s", e.UserID, e.Meta, target.ID, role.ID)
			}
			k.s.do(http.MethodDelete, "/user/"+target.ID+"/role/"+role.ID.String(), nil, cred.h).expect(t, http.StatusOK)
			check(k.eventsOf("role-removed", "actingUserId", cred.acting, "userId", target.ID), "role-removed")

			var gs takaro.GameServer
			k.s.do(http.MethodPost, "/gameserver", map[string]any{"name": unique("audit"), "type": "MOCK", "connectionInfo": `{"password": "p"}`}, cred.h).
				expect(t, http.StatusOK).decode(t, &gs)
			e = check(k.eventsOf("gameserver-created", "gameserverId", gs.ID.String()), "gameserver-created")
			if string(e.Meta) != "{}" {
				t.Errorf("gameserver-created meta %s: the audit log must not hold connection info", e.Meta)
			}
			k.s.do(http.MethodPut, "/gameserver/"+gs.ID.String(), map[string]any{"name": unique("audit")}, cred.h).expect(t, http.StatusOK)
			check(k.eventsOf("gameserver-updated", "gameserverId", gs.ID.String()), "gameserver-updated")
			k.s.do(http.MethodDelete, "/gameserver/"+gs.ID.String(), nil, cred.h).expect(t, http.StatusOK)
			check(k.eventsOf("gameserver-deleted", "gameserverId", gs.ID.String()), "gameserver-deleted")

			k.s.do(http.MethodPut, "/role/"+role.ID.String(), map[string]any{"name": unique("audit")}, cred.h).expect(t, http.StatusOK)
			k.s.do(http.MethodDelete, "/role/"+role.ID.String(), nil, cred.h).expect(t, http.StatusOK)
			for _, name := range []string{"role-updated", "role-deleted"} {
				found := false
				for _, e := range k.eventsOf(name, "actingUserId", cred.acting) {
					found = found || metaOf(t, e)["roleId"] == role.ID.String()
				}
				if !found {
					t.Errorf("no %s event by %s for role %s", name, cred.acting, role.ID)
				}
			}
		})
	}

	// POST /event defaults the acting user to the caller; events cannot be
	// changed or deleted through the API.
	var ev takaro.Event
	s.do(http.MethodPost, "/event", map[string]any{"eventName": "chat-message"}, k.root()).expect(t, http.StatusOK).decode(t, &ev)
	if ev.ActingUserID == nil || ev.ActingUserID.String() != k.tn.RootUserID {
		t.Errorf("POST /event: actingUserId %v, want the caller %s", ev.ActingUserID, k.tn.RootUserID)
	}
	s.do(http.MethodPost, "/event", map[string]any{"eventName": "no-such-event"}, k.root()).
		expectMessage(t, http.StatusBadRequest, "BadRequestError", "Event no-such-event is not supported")
	for _, r := range s.API.Routes() {
		if (r.Method == http.MethodPut || r.Method == http.MethodDelete) && strings.HasPrefix(r.Path, "/event") {
			t.Errorf("the audit log has a route that changes it: %s", routeKey(r))
		}
	}
}

// TestAssignRoleAcrossDomains checks that a role of one domain cannot be
// given to a user or player of another, from either side (404, nothing
// assigned).
func TestAssignRoleAcrossDomains(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	a, b := newKit(t, s, nil), newKit(t, s, nil)
	roleA := a.role(takaro.PermManageRoles)
	userB, playerB := b.user(true), b.player()
	for _, tc := range []struct {
		name         string
		path         string
		body         map[string]any
		caller       header
		wantNotFound string
	}{
		{"A's role to B's user, as B", "/user/" + userB.ID + "/role/" + roleA, map[string]any{}, b.root(), "Role"},
		{"A's role to B's user, as A", "/user/" + userB.ID + "/role/" + roleA, map[string]any{}, a.root(), "User"},
		{"A's role to B's player, as B", "/player/" + playerB + "/role/" + roleA, map[string]any{}, b.root(), "Role"},
		{"A's role to B's player, as A", "/player/" + playerB + "/role/" + roleA, map[string]any{}, a.root(), "Player"},
	} {
		r := s.do(http.MethodPost, tc.path, tc.body, tc.caller)
		if r.Status != http.StatusNotFound || r.Meta.Error == nil || r.Meta.Error.Code != "NotFoundError" || !strings.HasPrefix(r.errorMessage(), tc.wantNotFound) {
			t.Errorf("%s: status %d, want 404 (%s not found): %s", tc.name, r.Status, tc.wantNotFound, r.Raw)
		}
	}
	// B's user gained nothing.
	s.do(http.MethodPost, "/role/search", map[string]any{}, b.login(userB)).expect(t, http.StatusForbidden, "ForbiddenError")
	var u takaro.User
	s.do(http.MethodGet, "/user/"+userB.ID, nil, b.root()).expect(t, http.StatusOK).decode(t, &u)
	if len(u.Roles) != 1 || u.Roles[0].ID != uuid.Nil || u.Roles[0].Role.Name != takaro.RoleUser {
		t.Errorf("B's user has roles beyond the implicit User: %+v", u.Roles)
	}
}
