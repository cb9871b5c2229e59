package postgres_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// events returns the domain's events called name, oldest first.
func (e *env) events(t testing.TB, tn *tenant, name takaro.EventName) []takaro.Event {
	t.Helper()
	page := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(tn.ctx, takaro.Query{
		Filters: map[string]takaro.Values{"eventName": {string(name)}}, SortBy: "createdAt", Limit: ptrTo(1000),
	}))
	return page.Items
}

// requireEvent checks that the domain has exactly one event called name
// matching match, written by the tenant's acting user.
func (e *env) requireEvent(t testing.TB, tn *tenant, name takaro.EventName, match func(takaro.Event) bool) takaro.Event {
	t.Helper()
	var found []takaro.Event
	for _, ev := range e.events(t, tn, name) {
		if match(ev) {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d matching %s events, want 1", len(found), name)
	}
	if found[0].ActingUserID == nil || *found[0].ActingUserID != tn.rootUserID() {
		t.Errorf("%s event acted by %v, want the principal %s", name, found[0].ActingUserID, tn.rootUserID())
	}
	return found[0]
}

func metaValue(t testing.TB, ev takaro.Event, key string) string {
	t.Helper()
	var m map[string]any
	must(t, json.Unmarshal(ev.Meta, &m))
	s, _ := m[key].(string)
	return s
}

func isUser(id uuid.UUID) func(takaro.Event) bool {
	return func(ev takaro.Event) bool { return ev.UserID != nil && *ev.UserID == id }
}

func (e *env) createUser(t testing.TB, tn *tenant, email string, dashboard bool) *takaro.User {
	t.Helper()
	return check[*takaro.User](t)(e.core.CreateUser(tn.ctx, takaro.UserCreate{
		Name: "user " + email, Email: email, Password: "password-" + email, IsDashboardUser: dashboard,
	}))
}

func TestUserDashboardUsersCountTowardsMaxUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxUsers: ptrTo(2)})
	if tn.Created.RootUser.IsDashboardUser {
		t.Fatal("the root user is a dashboard user")
	}
	var plain []*takaro.User
	for _, email := range []string{"p1@example.com", "p2@example.com", "p3@example.com"} {
		plain = append(plain, e.createUser(t, tn, email, false))
	}
	d1 := e.createUser(t, tn, "d1@example.com", true)
	e.createUser(t, tn, "d2@example.com", true)
	_, err := e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "d3 user", Email: "d3@example.com", Password: "password-d3", IsDashboardUser: true})
	wantCode(t, err, takaro.CodeBadRequest)
	e.createUser(t, tn, "p4@example.com", false)

	// Making a user a dashboard user counts like creating one.
	_, err = e.core.UpdateUser(tn.ctx, plain[0].ID, takaro.UserUpdate{IsDashboardUser: ptrTo(true), Name: ptrTo("promoted")})
	wantCode(t, err, takaro.CodeBadRequest)
	if u := check[*takaro.User](t)(e.core.FindUserByID(tn.ctx, plain[0].ID)); u.IsDashboardUser || u.Name == "promoted" {
		t.Errorf("a refused update changed the user: %+v", u)
	}
	// Updating a dashboard user is no new dashboard user.
	check[*takaro.User](t)(e.core.UpdateUser(tn.ctx, d1.ID, takaro.UserUpdate{IsDashboardUser: ptrTo(true), Name: ptrTo("still d1")}))
	check[*takaro.User](t)(e.core.UpdateUser(tn.ctx, d1.ID, takaro.UserUpdate{IsDashboardUser: ptrTo(false)}))

	// One seat is free again; concurrent promotions take it once.
	wide := e.openWide(t)
	errs := atOnce(len(plain), func(i int) error {
		_, err := wide.UpdateUser(tn.ctx, plain[i].ID, takaro.UserUpdate{IsDashboardUser: ptrTo(true)})
		return err
	})
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantCode(t, err, takaro.CodeBadRequest)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent promotions succeeded for one free seat", ok)
	}
	page := check[*takaro.Page[takaro.User]](t)(e.core.FindUsers(tn.ctx, query(t, `{"filters": {"isDashboardUser": true}}`)))
	if page.Total != 2 {
		t.Errorf("%d dashboard users, limit 2", page.Total)
	}
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	u := check[*takaro.User](t)(e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "Alice", Email: "Alice@Example.COM", Password: "password-alice"}))
	if u.Email != "alice@example.com" || u.Name != "Alice" || u.IsDashboardUser || len(userRoleIDs(u)) != 0 {
		t.Errorf("created %+v", u)
	}
	e.requireEvent(t, tn, takaro.EventUserCreated, isUser(u.ID))

	_, err := e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "Alice 2", Email: "alice@example.com", Password: "password-alice"})
	if ce := wantCode(t, err, takaro.CodeConflict); ce.Message != uniqueViolation {
		t.Errorf("conflict %q, want %q", ce.Message, uniqueViolation)
	}
	for _, in := range []takaro.UserCreate{
		{Name: "Bob", Email: "not an email", Password: "password-bob"},
		{Name: "Bob", Email: "Bob <bob@example.com>", Password: "password-bob"},
		{Name: "Bo", Email: "bob@example.com", Password: "password-bob"},
		{Name: "Bob", Email: "bob@example.com", Password: "short"},
	} {
		_, err := e.core.CreateUser(tn.ctx, in)
		wantCode(t, err, takaro.CodeValidation)
	}

	upd := check[*takaro.User](t)(e.core.UpdateUser(tn.ctx, u.ID, takaro.UserUpdate{Name: ptrTo("Alice Liddell")}))
	if upd.Name != "Alice Liddell" || upd.Email != u.Email || !upd.UpdatedAt.After(u.UpdatedAt.Time) {
		t.Errorf("updated %+v", upd)
	}
	e.requireEvent(t, tn, takaro.EventUserUpdated, isUser(u.ID))
	_, err = e.core.UpdateUser(tn.ctx, uuid.New(), takaro.UserUpdate{Name: ptrTo("nobody")})
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.UpdateUser(tn.ctx, u.ID, takaro.UserUpdate{Name: ptrTo("A")})
	wantCode(t, err, takaro.CodeValidation)

	for body, want := range map[string]int{
		`{"filters": {"email": ["alice@example.com"]}}`:                        1,
		`{"search": {"name": ["liddell"]}}`:                                    1,
		`{"filters": {"roleId": ["` + tn.Created.RootRole.ID.String() + `"]}}`: 1,
		`{}`: 2,
	} {
		if page := check[*takaro.Page[takaro.User]](t)(e.core.FindUsers(tn.ctx, query(t, body))); page.Total != want {
			t.Errorf("%s: %d users, want %d", body, page.Total, want)
		}
	}

	must(t, e.core.AssignUserRole(tn.ctx, u.ID, e.role(t, tn, takaro.RoleModerator).ID, nil))
	must(t, e.core.DeleteUser(tn.ctx, u.ID))
	_, err = e.core.FindUserByID(tn.ctx, u.ID)
	wantCode(t, err, takaro.CodeNotFound)
	wantCode(t, e.core.DeleteUser(tn.ctx, u.ID), takaro.CodeNotFound)
	e.requireEvent(t, tn, takaro.EventUserDeleted, isUser(u.ID))
	// Its role assignments went with it; the email is free again.
	var left int
	must(t, superuser(t, e.db).QueryRow(tn.ctx, "SELECT count(*) FROM role_on_user WHERE user_id = $1", u.ID).Scan(&left))
	if left != 0 {
		t.Errorf("%d role assignments outlived their user", left)
	}
	check[*takaro.User](t)(e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "Alice", Email: "alice@example.com", Password: "password-alice"}))
}
