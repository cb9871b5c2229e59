package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
	"github.com/jackc/pgx/v5"
)

// worksInAnyDomainState reports whether a route keeps working while its
// domain is disabled or in maintenance: as in the reference, the user
// endpoints (users, /me, logout) do, so that an operator can still see and
// manage who has access.
func worksInAnyDomainState(r httpapi.Route) bool {
	return r.Path == "/me" || r.Path == "/logout" || r.Path == "/user" || strings.HasPrefix(r.Path, "/user/")
}

// TestDomainLifecycle follows one domain from its creation, through use,
// DISABLED and MAINTENANCE, a soft delete and a hard delete.
func TestDomainLifecycle(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	admin := adminHeader()

	// Create: one domain, its standard roles and a root user whose
	// password is shown once.
	var created takaro.DomainCreated
	s.do(http.MethodPost, "/domain", map[string]any{"name": "lifecycle", "maxGameservers": 3}, admin).expect(t, http.StatusOK).decode(t, &created)
	id, password := created.CreatedDomain.ID, created.Password
	if !takaro.ValidDomainID(id) || created.CreatedDomain.State != takaro.DomainActive || created.CreatedDomain.MaxGameservers != 3 {
		t.Fatalf("created domain: %+v", created.CreatedDomain)
	}
	if created.RootUser.Email != "root@"+id+".com" || created.RootRole.Name != takaro.RoleRoot || !created.RootRole.System {
		t.Fatalf("root user %s, root role %+v", created.RootUser.Email, created.RootRole)
	}
	if len(password) < 20 {
		t.Fatalf("root password %q is short", password)
	}
	token := bearer(s.login(created.RootUser.Email, password, ""))
	var roles []takaro.Role
	s.do(http.MethodPost, "/role/search", map[string]any{"sortBy": "name"}, token).expect(t, http.StatusOK).decode(t, &roles)
	want := map[string][]string{
		takaro.RoleAdmin: {takaro.PermRoot}, takaro.RoleModerator: {takaro.PermReadPlayers, takaro.PermReadSettings},
		takaro.RolePlayer: nil, takaro.RoleUser: nil, takaro.RoleRoot: {takaro.PermRoot},
	}
	if len(roles) != len(want) {
		t.Fatalf("the new domain has %d roles, want %d", len(roles), len(want))
	}
	for _, r := range roles {
		var codes []string
		for _, p := range r.Permissions {
			codes = append(codes, p.Permission.Permission)
		}
		if w, ok := want[r.Name]; !ok || !slices.Equal(codes, w) {
			t.Errorf("role %s has %v, want %v", r.Name, codes, w)
		}
	}

	// Use it: rows in most tables.
	k := &kit{t: t, s: s, tn: &tenant{ID: id, Password: password, RootUserID: created.RootUser.ID.String(),
		RootRoleID: created.RootRole.ID.String(), Token: strings.TrimPrefix(token.value, "Bearer ")},
		kitState: &kitState{created: map[string]*kitUserOnce{}}}
	gs := k.gameServer(`{"host": "192.0.2.30"}`)
	player := k.player()
	s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": player, "gameServerId": gs.ID, "gameId": "p"}, token).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/player/"+player+"/role/"+k.standardRole(takaro.RoleModerator), map[string]any{}, token).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "v"}, token).expect(t, http.StatusOK)
	u := k.user(true, k.role(takaro.PermReadRoles))
	var key takaro.APIKeyCreated
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "k", "permissions": []string{takaro.PermReadRoles}}, token).expect(t, http.StatusOK).decode(t, &key)
	var jwt struct{ Token string }
	s.do(http.MethodPost, "/token", map[string]any{"domainId": id}, admin).expect(t, http.StatusOK).decode(t, &jwt)
	domainToken := header{"X-Takaro-Token", jwt.Token}
	var me struct {
		User   takaro.User
		Domain string
	}
	s.do(http.MethodGet, "/me", nil, domainToken).expect(t, http.StatusOK).decode(t, &me)
	if me.Domain != id || me.User.ID != created.RootUser.ID {
		t.Fatalf("the domain token acts as %s in %s, want the root user %s in %s", me.User.ID, me.Domain, created.RootUser.ID, id)
	}

	// The password is never shown again.
	for _, r := range []*response{
		s.do(http.MethodGet, "/domain/"+id, nil, admin),
		s.do(http.MethodPost, "/domain/search", map[string]any{}, admin),
		s.do(http.MethodGet, "/me", nil, token),
		s.do(http.MethodGet, "/user/"+created.RootUser.ID.String(), nil, token),
		s.do(http.MethodPost, "/user/search", map[string]any{}, token),
		s.do(http.MethodPost, "/event/search", map[string]any{}, token),
	} {
		r.expect(t, http.StatusOK)
		if strings.Contains(string(r.Raw), password) || strings.Contains(string(r.Raw), `"password"`) {
			t.Errorf("a response shows the root password: %s", r.Raw)
		}
	}

	userSession := k.login(u)

	// Every route but the user endpoints refuses a DISABLED or MAINTENANCE
	// domain with the reference's messages, whatever the credential.
	for _, st := range []struct {
		state   takaro.DomainState
		message string
	}{{takaro.DomainDisabled, disabledMessage}, {takaro.DomainMaintenance, maintenanceMessage}} {
		spare := bearer(s.login(created.RootUser.Email, password, id)) // for POST /logout
		var d takaro.Domain
		s.do(http.MethodPut, "/domain/"+id, map[string]any{"state": st.state}, admin).expect(t, http.StatusOK).decode(t, &d)
		if d.State != st.state {
			t.Fatalf("PUT state %s: the domain is %s", st.state, d.State)
		}
		checkDomainState(t, k, token, spare, st.message)
		for _, h := range []header{bearer(key.Secret), domainToken, userSession} {
			s.do(http.MethodPost, "/role/search", map[string]any{}, h).expectMessage(t, http.StatusBadRequest, "BadRequestError", st.message)
			s.do(http.MethodGet, "/me", nil, h).expect(t, http.StatusOK)
		}
		// Nobody can log in, so nobody gets a new session.
		s.do(http.MethodPost, "/login", map[string]any{"username": u.Email, "password": u.Password}).
			expectMessage(t, http.StatusBadRequest, "BadRequestError", st.message)

		// Back to ACTIVE: everything works again, at once.
		s.do(http.MethodPut, "/domain/"+id, map[string]any{"state": takaro.DomainActive}, admin).expect(t, http.StatusOK)
		s.do(http.MethodPost, "/role/search", map[string]any{}, userSession).expect(t, http.StatusOK)
		s.do(http.MethodPost, "/role/search", map[string]any{}, k.login(u)).expect(t, http.StatusOK)
	}

	// Soft delete: the domain is DISABLED and stays.
	s.do(http.MethodDelete, "/domain/"+id, nil, admin).expect(t, http.StatusOK)
	var d takaro.Domain
	s.do(http.MethodGet, "/domain/"+id, nil, admin).expect(t, http.StatusOK).decode(t, &d)
	if d.State != takaro.DomainDisabled {
		t.Fatalf("after a soft delete the domain is %s, want DISABLED", d.State)
	}
	s.do(http.MethodPost, "/role/search", map[string]any{}, token).expectMessage(t, http.StatusBadRequest, "BadRequestError", disabledMessage)

	// Hard delete: the domain and every row it owns are gone.
	counts := domainRowCounts(t, s, id)
	for _, table := range []string{"users", "roles", "gameservers", "players", "variables", "events", "api_keys", "sessions"} {
		if counts[table] == 0 {
			t.Errorf("before the hard delete the domain has no rows in %s: the check below would prove nothing", table)
		}
	}
	s.do(http.MethodDelete, "/domain/"+id+"?hardDelete=true", nil, admin).expect(t, http.StatusOK)
	notFound := "Not found" // the reference's words
	s.do(http.MethodGet, "/domain/"+id, nil, admin).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	s.do(http.MethodPut, "/domain/"+id, map[string]any{"name": "again"}, admin).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	s.do(http.MethodDelete, "/domain/"+id, nil, admin).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	s.do(http.MethodDelete, "/domain/"+id+"?hardDelete=true", nil, admin).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	s.do(http.MethodPost, "/token", map[string]any{"domainId": id}, admin).expect(t, http.StatusNotFound, "NotFoundError")
	for name, h := range map[string]header{"session": token, "API key": bearer(key.Secret), "domain token": domainToken} {
		if r := s.do(http.MethodGet, "/me", nil, h); r.Status != http.StatusUnauthorized {
			t.Errorf("the %s of a deleted domain: status %d, want 401: %s", name, r.Status, r.Raw)
		}
	}
	s.do(http.MethodPost, "/login", map[string]any{"username": created.RootUser.Email, "password": password}).expect(t, http.StatusUnauthorized, "UnauthorizedError")
	for table, n := range domainRowCounts(t, s, id) {
		if n != 0 {
			t.Errorf("after the hard delete %s still has %d rows of the domain", table, n)
		}
	}
	if r := s.do(http.MethodPost, "/domain/search", map[string]any{"filters": map[string]any{"id": []string{id}}}, admin); *r.Meta.Total != 0 {
		t.Errorf("domain search still finds the deleted domain: %s", r.Raw)
	}
}

// checkDomainState calls every user route with token and expects the
// state's 400 on all but the user endpoints, which must still work.
func checkDomainState(t *testing.T, k *kit, token, spare header, message string) {
	t.Helper()
	for _, route := range k.s.API.Routes() {
		if route.Public || route.Admin {
			continue
		}
		h := token
		if routeKey(route) == "POST /logout" {
			h = spare
		}
		r := k.call(route, h)
		if worksInAnyDomainState(route) {
			r.expectAuthorized(t, routeKey(route)+" in a domain that is not active")
			continue
		}
		if r.Status != http.StatusBadRequest || r.errorMessage() != message {
			t.Errorf("%s: status %d, want 400 %q: %s", routeKey(route), r.Status, message, r.Raw)
		}
	}
}

// domainRowCounts counts, in every table with a domain column, the rows of
// the domain, through a raw connection bound to it.
func domainRowCounts(t *testing.T, s *testServer, domain string) map[string]int {
	t.Helper()
	ctx := context.Background()
	counts := map[string]int{}
	s.inDomain(t, domain, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT table_name::text FROM information_schema.columns
			WHERE table_schema = 'public' AND column_name = 'domain' ORDER BY 1`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, table := range tables {
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE domain = $1", domain).Scan(&n); err != nil {
				return err
			}
			counts[table] = n
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM domains WHERE id = $1", domain).Scan(&n); err != nil {
			return err
		}
		counts["domains"] = n
		return nil
	})
	if len(counts) < 10 {
		t.Fatalf("found only %d tables with a domain column: %v", len(counts), counts)
	}
	return counts
}

// TestDomainCreateFailure checks that a refused creation leaves nothing
// behind: no domain, no root user to log in as.
func TestDomainCreateFailure(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	admin := adminHeader()
	s.do(http.MethodPost, "/domain", map[string]any{"name": "first", "externalReference": "taken-ref"}, admin).expect(t, http.StatusOK)
	total := func() int {
		return *s.do(http.MethodPost, "/domain/search", map[string]any{}, admin).expect(t, http.StatusOK).Meta.Total
	}
	before := total()
	for _, body := range []map[string]any{
		{"name": "second", "externalReference": "taken-ref"},
		{"name": "x"},
		{"name": "third", "state": "DELETED"},
		{"name": "fourth", "maxUsers": -1},
	} {
		r := s.do(http.MethodPost, "/domain", body, admin)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusConflict {
			t.Errorf("POST /domain %v: status %d, want 400 or 409: %s", body, r.Status, r.Raw)
		}
		if strings.Contains(string(r.Raw), "password") {
			t.Errorf("a refused creation shows a password: %s", r.Raw)
		}
	}
	if after := total(); after != before {
		t.Errorf("refused creations left %d domains behind", after-before)
	}
	r := s.do(http.MethodPost, "/domain/search", map[string]any{"filters": map[string]any{"name": []string{"second", "third", "fourth"}}}, admin)
	if *r.Meta.Total != 0 {
		t.Errorf("a refused domain exists: %s", r.Raw)
	}
}
