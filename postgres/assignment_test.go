package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

func (e *env) createRole(t testing.TB, tn *tenant, name string, perms ...string) *takaro.Role {
	t.Helper()
	return check[*takaro.Role](t)(e.core.CreateRole(tn.ctx, takaro.RoleCreate{Name: name, Permissions: e.permissionInputs(t, perms...)}))
}

// permissionInputs grants the permissions with the given codes.
func (e *env) permissionInputs(t testing.TB, codes ...string) []takaro.PermissionInput {
	t.Helper()
	perms := check[[]takaro.Permission](t)(e.core.ListPermissions(t.Context()))
	in := []takaro.PermissionInput{}
	for _, code := range codes {
		found := false
		for _, p := range perms {
			if p.Permission == code {
				in = append(in, takaro.PermissionInput{PermissionID: p.ID})
				found = true
			}
		}
		if !found {
			t.Fatalf("no permission %s", code)
		}
	}
	return in
}

// expire moves the expiry of every assignment of roleID in table into the
// past, as time passing would.
func (e *env) expire(t testing.TB, tn *tenant, table string, roleID uuid.UUID) {
	t.Helper()
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		tag, err := tx.Exec(tn.ctx, "UPDATE "+table+" SET expires_at = now() - interval '1 second' WHERE domain = $1 AND role_id = $2", tx.Domain, roleID)
		if err == nil && tag.RowsAffected() == 0 {
			t.Fatalf("no assignment of role %s in %s", roleID, table)
		}
		return err
	}))
}

// userRoleIDs lists the roles assigned to u; the implicit User role,
// listed last without an assignment id, is not one of them.
func userRoleIDs(u *takaro.User) []uuid.UUID {
	var ids []uuid.UUID
	for _, a := range u.Roles {
		if a.ID != uuid.Nil {
			ids = append(ids, a.RoleID)
		}
	}
	return ids
}

func TestRoleAssignmentToUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	u := e.createUser(t, a, "member@example.com", false)
	builders := e.createRole(t, a, "Builders", takaro.PermManageGameservers)
	temps := e.createRole(t, a, "Temps", takaro.PermReadPlayers)

	must(t, e.core.AssignUserRole(a.ctx, u.ID, builders.ID, nil))
	wantCode(t, e.core.AssignUserRole(a.ctx, u.ID, builders.ID, nil), takaro.CodeConflict)
	ev := e.requireEvent(t, a, takaro.EventRoleAssigned, isUser(u.ID))
	if metaValue(t, ev, "roleId") != builders.ID.String() {
		t.Errorf("role-assigned event meta %s", ev.Meta)
	}

	// An assignment with an expiry is visible until it expires.
	until := time.Now().Add(time.Hour)
	must(t, e.core.AssignUserRole(a.ctx, u.ID, temps.ID, &until))
	got := check[*takaro.User](t)(e.core.FindUserByID(a.ctx, u.ID))
	if !sameIDs(userRoleIDs(got), []uuid.UUID{builders.ID, temps.ID}) {
		t.Fatalf("roles %v, want Builders and Temps", userRoleIDs(got))
	}
	withTemps := `{"filters": {"roleId": ["` + temps.ID.String() + `"]}}`
	if n := check[*takaro.Page[takaro.User]](t)(e.core.FindUsers(a.ctx, query(t, withTemps))).Total; n != 1 {
		t.Fatalf("%d users hold Temps, want 1", n)
	}
	e.expire(t, a, "role_on_user", temps.ID)
	got = check[*takaro.User](t)(e.core.FindUserByID(a.ctx, u.ID))
	if !sameIDs(userRoleIDs(got), []uuid.UUID{builders.ID}) {
		t.Errorf("after expiry the user shows roles %v", userRoleIDs(got))
	}
	if n := check[*takaro.Page[takaro.User]](t)(e.core.FindUsers(a.ctx, query(t, withTemps))).Total; n != 0 {
		t.Errorf("%d users still hold an expired role", n)
	}
	for _, listed := range check[*takaro.Page[takaro.User]](t)(e.core.FindUsers(a.ctx, takaro.Query{})).Items {
		for _, r := range listed.Roles {
			if r.RoleID == temps.ID {
				t.Errorf("user %s lists an expired role", listed.ID)
			}
		}
	}

	// Other domains' roles and users do not exist here.
	otherRole := e.role(t, b, takaro.RoleAdmin)
	wantCode(t, e.core.AssignUserRole(a.ctx, u.ID, otherRole.ID, nil), takaro.CodeNotFound)
	wantCode(t, e.core.AssignUserRole(a.ctx, u.ID, uuid.New(), nil), takaro.CodeNotFound)
	wantCode(t, e.core.AssignUserRole(a.ctx, b.rootUserID(), builders.ID, nil), takaro.CodeNotFound)
	wantCode(t, e.core.AssignUserRole(a.ctx, uuid.New(), builders.ID, nil), takaro.CodeNotFound)
	if roles := userRoleIDs(check[*takaro.User](t)(e.core.FindUserByID(b.ctx, b.rootUserID()))); len(roles) != 1 {
		t.Errorf("the other domain's root user now has %d roles", len(roles))
	}

	// Everybody holds User and Player implicitly.
	for _, name := range []string{takaro.RoleUser, takaro.RolePlayer} {
		wantCode(t, e.core.AssignUserRole(a.ctx, u.ID, e.role(t, a, name).ID, nil), takaro.CodeBadRequest)
	}
	if got := check[*takaro.User](t)(e.core.FindUserByID(a.ctx, u.ID)); len(userRoleIDs(got)) != 1 {
		t.Errorf("refused assignments left roles %v", userRoleIDs(got))
	}

	must(t, e.core.RemoveUserRole(a.ctx, u.ID, builders.ID))
	wantCode(t, e.core.RemoveUserRole(a.ctx, u.ID, builders.ID), takaro.CodeNotFound)
	wantCode(t, e.core.RemoveUserRole(a.ctx, b.rootUserID(), b.Created.RootRole.ID), takaro.CodeNotFound)
	ev = e.requireEvent(t, a, takaro.EventRoleRemoved, isUser(u.ID))
	if metaValue(t, ev, "roleId") != builders.ID.String() {
		t.Errorf("role-removed event meta %s", ev.Meta)
	}
}

func TestRoleAssignmentToPlayers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	fa, fb := e.fill(t, a), e.fill(t, b)
	p := e.createPlayer(t, a, "steam-assign")
	vip := e.createRole(t, a, "VIP", takaro.PermReadVariables)

	must(t, e.core.AssignPlayerRole(a.ctx, p.ID, vip.ID, nil, nil))
	must(t, e.core.AssignPlayerRole(a.ctx, p.ID, vip.ID, &fa.GameServer.ID, nil))
	// Assigning again changes the expiry instead of failing.
	until := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	must(t, e.core.AssignPlayerRole(a.ctx, p.ID, vip.ID, &fa.GameServer.ID, &until))
	got := check[*takaro.Player](t)(e.core.FindPlayerByID(a.ctx, p.ID))
	// The implicit Player role comes last, without an assignment id.
	if n := len(got.RoleAssignments); n != 3 || got.RoleAssignments[2].ID != uuid.Nil || got.RoleAssignments[2].Role.Name != takaro.RolePlayer {
		t.Fatalf("%d assignments, want a global and a per-server one, then the implicit Player", n)
	}
	got.RoleAssignments = got.RoleAssignments[:2]
	for _, ra := range got.RoleAssignments {
		if ra.GameServerID != nil && (ra.ExpiresAt == nil || !ra.ExpiresAt.Equal(until)) {
			t.Errorf("per-server assignment expires %v, want %v", ra.ExpiresAt, until)
		}
	}

	// Expired assignments disappear from reads and filters.
	e.expire(t, a, "role_on_player", vip.ID)
	if got := check[*takaro.Player](t)(e.core.FindPlayerByID(a.ctx, p.ID)); len(got.RoleAssignments) != 1 || got.RoleAssignments[0].ID != uuid.Nil {
		t.Errorf("expired assignments are visible: %+v", got.RoleAssignments)
	}
	if n := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(a.ctx, query(t, `{"filters": {"roleId": ["`+vip.ID.String()+`"]}}`))).Total; n != 0 {
		t.Errorf("%d players hold an expired role", n)
	}
	must(t, e.core.AssignPlayerRole(a.ctx, p.ID, vip.ID, nil, nil))
	if n := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(a.ctx, query(t, `{"filters": {"roleId": ["`+vip.ID.String()+`"]}}`))).Total; n != 1 {
		t.Errorf("%d players hold a renewed role, want 1", n)
	}

	wantCode(t, e.core.AssignPlayerRole(a.ctx, p.ID, e.role(t, b, takaro.RoleAdmin).ID, nil, nil), takaro.CodeNotFound)
	wantCode(t, e.core.AssignPlayerRole(a.ctx, fb.Player.ID, vip.ID, nil, nil), takaro.CodeNotFound)
	wantCode(t, e.core.AssignPlayerRole(a.ctx, p.ID, vip.ID, &fb.GameServer.ID, nil), takaro.CodeValidation)
	for _, name := range []string{takaro.RoleUser, takaro.RolePlayer} {
		wantCode(t, e.core.AssignPlayerRole(a.ctx, p.ID, e.role(t, a, name).ID, nil, nil), takaro.CodeBadRequest)
	}

	// Removing the per-server assignment keeps the global one.
	must(t, e.core.AssignPlayerRole(a.ctx, p.ID, vip.ID, &fa.GameServer.ID, nil))
	must(t, e.core.RemovePlayerRole(a.ctx, p.ID, vip.ID, &fa.GameServer.ID))
	got = check[*takaro.Player](t)(e.core.FindPlayerByID(a.ctx, p.ID))
	if len(got.RoleAssignments) != 2 || got.RoleAssignments[0].GameServerID != nil || got.RoleAssignments[1].ID != uuid.Nil {
		t.Errorf("after removing the per-server role: %+v", got.RoleAssignments)
	}
	wantCode(t, e.core.RemovePlayerRole(a.ctx, p.ID, vip.ID, &fa.GameServer.ID), takaro.CodeNotFound)
	must(t, e.core.RemovePlayerRole(a.ctx, p.ID, vip.ID, nil))
	wantCode(t, e.core.RemovePlayerRole(a.ctx, fb.Player.ID, e.role(t, b, takaro.RoleModerator).ID, &fb.GameServer.ID), takaro.CodeNotFound)
	if n := len(check[*takaro.Player](t)(e.core.FindPlayerByID(b.ctx, fb.Player.ID)).RoleAssignments); n != 2 {
		t.Errorf("the other domain's player has %d assignments, want its 1 and the implicit Player", n)
	}
}
