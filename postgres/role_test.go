package postgres_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

func roleEvent(id uuid.UUID) func(takaro.Event) bool {
	return func(ev takaro.Event) bool { return strings.Contains(string(ev.Meta), id.String()) }
}

// grants returns a role's permissions as code → count.
func grants(r *takaro.Role) map[string]int {
	out := map[string]int{}
	for _, p := range r.Permissions {
		out[p.Permission.Permission] = p.Count
	}
	return out
}

func TestRoleRootRoleCannotChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	root := tn.Created.RootRole
	before := check[*takaro.Role](t)(e.core.FindRoleByID(tn.ctx, root.ID))
	for _, upd := range []takaro.RoleUpdate{
		{Permissions: &[]takaro.PermissionInput{}},
		{Permissions: ptrTo(e.permissionInputs(t, takaro.PermReadPlayers))},
		{Name: ptrTo("superuser")},
		{LinkedDiscordRoleID: ptrTo("123456789012345678")},
	} {
		_, err := e.core.UpdateRole(tn.ctx, root.ID, upd)
		wantCode(t, err, takaro.CodeBadRequest)
	}
	after := check[*takaro.Role](t)(e.core.FindRoleByID(tn.ctx, root.ID))
	if !reflect.DeepEqual(before, after) {
		t.Errorf("a refused update changed the root role:\nbefore %+v\nafter  %+v", before, after)
	}
	if n := len(e.events(t, tn, takaro.EventRoleUpdated)); n != 0 {
		t.Errorf("%d role-updated events for refused updates", n)
	}
}

func TestRoleSystemRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	for _, name := range []string{takaro.RoleRoot, takaro.RoleUser, takaro.RolePlayer} {
		r := e.role(t, tn, name)
		wantCode(t, e.core.DeleteRole(tn.ctx, r.ID), takaro.CodeBadRequest)
		if got := check[*takaro.Role](t)(e.core.FindRoleByID(tn.ctx, r.ID)); !reflect.DeepEqual(got, r) {
			t.Errorf("a refused delete changed %s: %+v", name, got)
		}
	}
	user := e.role(t, tn, takaro.RoleUser)
	_, err := e.core.UpdateRole(tn.ctx, user.ID, takaro.RoleUpdate{Name: ptrTo("Everyone")})
	wantCode(t, err, takaro.CodeBadRequest)
	// What everybody may do can change; the same name is no rename.
	upd := check[*takaro.Role](t)(e.core.UpdateRole(tn.ctx, user.ID, takaro.RoleUpdate{
		Name: ptrTo(takaro.RoleUser), Permissions: ptrTo(e.permissionInputs(t, takaro.PermReadPlayers)),
	}))
	if upd.Name != takaro.RoleUser || !reflect.DeepEqual(grants(upd), map[string]int{takaro.PermReadPlayers: 0}) {
		t.Errorf("updated User role: %+v", upd)
	}
	// Standard roles that are not system roles can go.
	must(t, e.core.DeleteRole(tn.ctx, e.role(t, tn, takaro.RoleModerator).ID))
	if n := len(e.events(t, tn, takaro.EventRoleDeleted)); n != 1 {
		t.Errorf("%d role-deleted events, want 1", n)
	}
}

func TestRolePermissionsAreReplacedExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	in := e.permissionInputs(t, takaro.PermReadPlayers, takaro.PermManagePlayers)
	in[1].Count = ptrTo(2)
	r := check[*takaro.Role](t)(e.core.CreateRole(tn.ctx, takaro.RoleCreate{Name: "Shopkeeper", Permissions: in}))
	if want := map[string]int{takaro.PermReadPlayers: 0, takaro.PermManagePlayers: 2}; !reflect.DeepEqual(grants(r), want) {
		t.Errorf("created with %v, want %v", grants(r), want)
	}

	next := e.permissionInputs(t, takaro.PermManagePlayers, takaro.PermReadEvents)
	next[0].Count = ptrTo(5)
	upd := check[*takaro.Role](t)(e.core.UpdateRole(tn.ctx, r.ID, takaro.RoleUpdate{Permissions: &next}))
	want := map[string]int{takaro.PermManagePlayers: 5, takaro.PermReadEvents: 0}
	if !reflect.DeepEqual(grants(upd), want) {
		t.Errorf("updated to %v, want %v", grants(upd), want)
	}
	var rows int
	must(t, superuser(t, e.db).QueryRow(tn.ctx, "SELECT count(*) FROM permission_on_role WHERE role_id = $1", r.ID).Scan(&rows))
	if rows != len(want) {
		t.Errorf("%d permission rows for %d permissions", rows, len(want))
	}

	// No permissions in the update: unchanged; an empty list: none.
	renamed := check[*takaro.Role](t)(e.core.UpdateRole(tn.ctx, r.ID, takaro.RoleUpdate{Name: ptrTo("Merchant")}))
	if renamed.Name != "Merchant" || !reflect.DeepEqual(grants(renamed), want) {
		t.Errorf("a rename changed the permissions: %+v", renamed)
	}
	cleared := check[*takaro.Role](t)(e.core.UpdateRole(tn.ctx, r.ID, takaro.RoleUpdate{Permissions: &[]takaro.PermissionInput{}}))
	if len(cleared.Permissions) != 0 {
		t.Errorf("an empty list left %v", grants(cleared))
	}

	// Refused inputs change nothing.
	for _, perms := range [][]takaro.PermissionInput{
		{{PermissionID: uuid.New()}},
		append(e.permissionInputs(t, takaro.PermReadPlayers), e.permissionInputs(t, takaro.PermReadPlayers)...),
		{{PermissionID: e.permissionInputs(t, takaro.PermReadPlayers)[0].PermissionID, Count: ptrTo(-1)}},
	} {
		_, err := e.core.UpdateRole(tn.ctx, r.ID, takaro.RoleUpdate{Permissions: &perms})
		wantCode(t, err, takaro.CodeValidation)
	}
	if got := check[*takaro.Role](t)(e.core.FindRoleByID(tn.ctx, r.ID)); len(got.Permissions) != 0 {
		t.Errorf("refused updates left %v", grants(got))
	}
}

func TestRoleLifecycleAndEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	r := e.createRole(t, a, "Builders", takaro.PermManageGameservers)
	e.requireEvent(t, a, takaro.EventRoleCreated, roleEvent(r.ID))

	_, err := e.core.CreateRole(a.ctx, takaro.RoleCreate{Name: "Builders"})
	if ce := wantCode(t, err, takaro.CodeConflict); ce.Message != uniqueViolation {
		t.Errorf("conflict %q, want %q", ce.Message, uniqueViolation)
	}
	e.createRole(t, a, "Diggers")
	_, err = e.core.UpdateRole(a.ctx, r.ID, takaro.RoleUpdate{Name: ptrTo("Diggers")})
	wantCode(t, err, takaro.CodeConflict)
	for _, in := range []takaro.RoleCreate{{Name: "ab"}, {Name: strings.Repeat("x", 21)}, {Name: "Discord", LinkedDiscordRoleID: ptrTo("123")}} {
		_, err := e.core.CreateRole(a.ctx, in)
		wantCode(t, err, takaro.CodeValidation)
	}

	upd := check[*takaro.Role](t)(e.core.UpdateRole(a.ctx, r.ID, takaro.RoleUpdate{LinkedDiscordRoleID: ptrTo("123456789012345678")}))
	if upd.LinkedDiscordRoleID == nil || *upd.LinkedDiscordRoleID != "123456789012345678" || !upd.UpdatedAt.After(r.UpdatedAt.Time) {
		t.Errorf("updated %+v", upd)
	}
	e.requireEvent(t, a, takaro.EventRoleUpdated, roleEvent(r.ID))

	// Another domain's role is not there.
	_, err = e.core.FindRoleByID(b.ctx, r.ID)
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.UpdateRole(b.ctx, r.ID, takaro.RoleUpdate{Name: ptrTo("Stolen")})
	wantCode(t, err, takaro.CodeNotFound)
	wantCode(t, e.core.DeleteRole(b.ctx, r.ID), takaro.CodeNotFound)

	must(t, e.core.DeleteRole(a.ctx, r.ID))
	_, err = e.core.FindRoleByID(a.ctx, r.ID)
	wantCode(t, err, takaro.CodeNotFound)
	wantCode(t, e.core.DeleteRole(a.ctx, r.ID), takaro.CodeNotFound)
	e.requireEvent(t, a, takaro.EventRoleDeleted, roleEvent(r.ID))

	names := check[*takaro.Page[takaro.Role]](t)(e.core.FindRoles(a.ctx, query(t, `{"filters": {"system": false}, "sortBy": "name"}`)))
	var got []string
	for _, role := range names.Items {
		got = append(got, role.Name)
	}
	if want := []string{takaro.RoleAdmin, "Diggers", takaro.RoleModerator}; !slices.Equal(got, want) {
		t.Errorf("non-system roles %v, want %v", got, want)
	}
}
