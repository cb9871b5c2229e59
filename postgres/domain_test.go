package postgres_test

import (
	"context"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// publicTableRows counts, as a superuser, the rows of every table of
// schema public.
func publicTableRows(t testing.TB, super *pgxpool.Pool) map[string]int {
	t.Helper()
	rows, err := super.Query(context.Background(),
		"SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname")
	must(t, err)
	tables := check[[]string](t)(pgx.CollectRows(rows, pgx.RowTo[string]))
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		must(t, super.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
		counts[table] = n
	}
	return counts
}

func TestDomainCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created := check[*takaro.DomainCreated](t)(e.core.CreateDomain(ctx, takaro.DomainCreate{
		Name: "My domain", ExternalReference: ptrTo("customer-42"), DomainLimits: takaro.DomainLimits{MaxVariables: ptrTo(7)},
	}))
	d := created.CreatedDomain
	if !takaro.ValidDomainID(d.ID) || d.Name != "My domain" || d.State != takaro.DomainActive ||
		d.ExternalReference == nil || *d.ExternalReference != "customer-42" {
		t.Errorf("created %+v", d)
	}
	if d.MaxVariables != 7 || d.MaxGameservers != 1 || d.MaxUsers != 1 || d.EventRetentionDays != 7 || d.MaxModules != 1000 || d.MaxFunctionsInModule != 50 {
		t.Errorf("limits %+v: want maxVariables 7 and the defaults", d)
	}
	// Reads leave the registration token out (it has its own, decrypting read).
	stored := d
	stored.ServerRegistrationToken = nil
	if got := check[*takaro.Domain](t)(e.core.FindDomainByID(ctx, d.ID)); !reflect.DeepEqual(*got, stored) {
		t.Errorf("read back %+v, want %+v", *got, stored)
	}
	if token := check[*string](t)(e.core.RegistrationToken(ctx, d.ID)); token == nil || d.ServerRegistrationToken == nil || *token != *d.ServerRegistrationToken {
		t.Errorf("the registration token reads back as %v, want the one created", token)
	}
	tn := &tenant{ID: d.ID, Created: created, ctx: takaro.NewContext(ctx, takaro.Principal{Domain: d.ID, UserID: created.RootUser.ID})}

	// The standard roles and what they grant.
	want := map[string]struct {
		system bool
		perms  []string
	}{
		takaro.RoleRoot:      {true, []string{takaro.PermRoot}},
		takaro.RoleAdmin:     {false, []string{takaro.PermRoot}},
		takaro.RoleModerator: {false, []string{takaro.PermReadPlayers, takaro.PermReadSettings}},
		takaro.RolePlayer:    {true, nil},
		takaro.RoleUser:      {true, nil},
	}
	roles := check[*takaro.Page[takaro.Role]](t)(e.core.FindRoles(tn.ctx, takaro.Query{}))
	if roles.Total != len(want) {
		t.Errorf("the domain has %d roles, want %d", roles.Total, len(want))
	}
	for _, r := range roles.Items {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected role %q", r.Name)
			continue
		}
		if r.System != w.system || !slices.Equal(permissionCodes(r), w.perms) {
			t.Errorf("role %s: system %v, permissions %v; want %v, %v", r.Name, r.System, permissionCodes(r), w.system, w.perms)
		}
		if r.Name == takaro.RoleRoot && r.ID != created.RootRole.ID {
			t.Errorf("RootRole is %s, the root role %s", created.RootRole.ID, r.ID)
		}
	}
	if !slices.Equal(permissionCodes(created.RootRole), []string{takaro.PermRoot}) {
		t.Errorf("the returned root role grants %v", permissionCodes(created.RootRole))
	}

	// The root user holds the root role; its password is shown once.
	u := created.RootUser
	if u.Email != "root@"+d.ID+".com" || u.Name != "root" || len(userRoleIDs(&u)) != 1 || u.Roles[0].RoleID != created.RootRole.ID || u.Roles[0].ExpiresAt != nil {
		t.Errorf("root user %+v", u)
	}
	if stored := check[*takaro.User](t)(e.core.FindUserByID(tn.ctx, u.ID)); len(userRoleIDs(stored)) != 1 || stored.Roles[0].Role.Name != takaro.RoleRoot {
		t.Errorf("stored root user has roles %+v", stored.Roles)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(created.Password) {
		t.Errorf("root password %q is not 40 hex characters", created.Password)
	}
	super := superuser(t, e.db)
	for table := range publicTableRows(t, super) {
		var n int
		must(t, super.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" t WHERE strpos(t::text, $1) > 0",
			created.Password).Scan(&n))
		if n != 0 {
			t.Errorf("%d rows of %s contain the root password", n, table)
		}
	}
	hash := storedPasswordHash(t, e.core, tn, u.ID)
	if !check[bool](t)(e.core.VerifyForTest(ctx, created.Password, hash)) || check[bool](t)(e.core.VerifyForTest(ctx, created.Password[1:], hash)) {
		t.Error("the stored hash does not match exactly the returned password")
	}
	events := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(tn.ctx, query(t, `{"filters": {"eventName": ["role-created"]}}`)))
	if events.Total != len(want) {
		t.Errorf("%d role-created events, want %d", events.Total, len(want))
	}

	second := check[*takaro.DomainCreated](t)(e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "Other domain"}))
	if second.CreatedDomain.ID == d.ID || second.Password == created.Password || second.RootRole.ID == created.RootRole.ID {
		t.Error("two domains share an id, a password or a role")
	}
}

func permissionCodes(r takaro.Role) []string {
	var codes []string
	for _, p := range r.Permissions {
		codes = append(codes, p.Permission.Permission)
	}
	slices.Sort(codes)
	return codes
}

func TestDomainCreateIsAtomic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	super := superuser(t, e.db)
	check[*takaro.DomainCreated](t)(e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "first", ExternalReference: ptrTo("taken-ref")}))
	before := publicTableRows(t, super)
	if before["roles"] == 0 || before["users"] == 0 {
		t.Fatalf("the first domain left no rows: %v", before)
	}

	_, err := e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "second", ExternalReference: ptrTo("taken-ref")})
	wantCode(t, err, takaro.CodeConflict)
	if after := publicTableRows(t, super); !mapsEqual(before, after) {
		t.Errorf("a refused domain left rows: before %v, after %v", before, after)
	}

	// Fail half-way, after the domain and its roles were written.
	pool := e.db.Pool(t)
	_, err = pool.Exec(ctx, `CREATE FUNCTION fail_users() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'no users today'; END $$`)
	must(t, err)
	_, err = pool.Exec(ctx, "CREATE TRIGGER fail_users BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION fail_users()")
	must(t, err)
	_, err = e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "third"})
	if err == nil || !strings.Contains(err.Error(), "no users today") {
		t.Fatalf("got %v, want the trigger's error", err)
	}
	if after := publicTableRows(t, super); !mapsEqual(before, after) {
		t.Errorf("a domain that failed half-way left rows: before %v, after %v", before, after)
	}
	_, err = pool.Exec(ctx, "DROP TRIGGER fail_users ON users")
	must(t, err)
	check[*takaro.DomainCreated](t)(e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "third"}))
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestDomainDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, a)
	fb := e.fill(t, b)
	super := superuser(t, e.db)
	tables := tenantTables(t, super)
	beforeA, beforeB := countByDomain(t, super, tables, a.ID), countByDomain(t, super, tables, b.ID)
	requireNoEmptyTable(t, beforeA)
	requireNoEmptyTable(t, beforeB)

	// Soft: disabled, and nothing removed.
	must(t, e.core.DeleteDomain(ctx, a.ID, false))
	if d := check[*takaro.Domain](t)(e.core.FindDomainByID(ctx, a.ID)); d.State != takaro.DomainDisabled {
		t.Errorf("a soft-deleted domain is %s", d.State)
	}
	if got := countByDomain(t, super, tables, a.ID); !mapsEqual(got, beforeA) {
		t.Errorf("a soft delete removed rows: %v, before %v", got, beforeA)
	}

	// Hard: every row of the domain, and nothing of the other.
	must(t, e.core.DeleteDomain(ctx, a.ID, true))
	_, err := e.core.FindDomainByID(ctx, a.ID)
	wantCode(t, err, takaro.CodeNotFound)
	for table, n := range countByDomain(t, super, tables, a.ID) {
		if n != 0 {
			t.Errorf("%s keeps %d rows of the deleted domain", table, n)
		}
	}
	if got := countByDomain(t, super, tables, b.ID); !mapsEqual(got, beforeB) {
		t.Errorf("deleting a domain changed another's rows: %v, before %v", got, beforeB)
	}
	check[*takaro.GameServer](t)(e.core.FindGameServerByID(b.ctx, fb.GameServer.ID, true))

	for _, hard := range []bool{false, true} {
		wantCode(t, e.core.DeleteDomain(ctx, a.ID, hard), takaro.CodeNotFound)
		wantCode(t, e.core.DeleteDomain(ctx, "no-such-domain", hard), takaro.CodeNotFound)
	}
}

func TestDomainUpdateAndFind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.newDomain(t, takaro.DomainLimits{})
	b := check[*takaro.DomainCreated](t)(e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "beta domain", ExternalReference: ptrTo("ref-b")}))

	upd := check[*takaro.Domain](t)(e.core.UpdateDomain(ctx, a.ID, takaro.DomainUpdate{
		Name: ptrTo("renamed domain"), State: ptrTo(takaro.DomainMaintenance),
		DomainLimits: takaro.DomainLimits{MaxGameservers: ptrTo(9), MaxUsers: ptrTo(0)},
	}))
	if upd.Name != "renamed domain" || upd.State != takaro.DomainMaintenance || upd.MaxGameservers != 9 || upd.MaxUsers != 0 ||
		upd.MaxVariables != 10000 || !upd.UpdatedAt.After(a.Created.CreatedDomain.UpdatedAt.Time) {
		t.Errorf("updated %+v", upd)
	}
	if got := check[*takaro.Domain](t)(e.core.FindDomainByID(ctx, a.ID)); !reflect.DeepEqual(got, upd) {
		t.Errorf("read back %+v, want %+v", got, upd)
	}
	_, err := e.core.UpdateDomain(ctx, a.ID, takaro.DomainUpdate{ExternalReference: ptrTo("ref-b")})
	wantCode(t, err, takaro.CodeConflict)
	_, err = e.core.UpdateDomain(ctx, a.ID, takaro.DomainUpdate{Name: ptrTo("x")})
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.UpdateDomain(ctx, a.ID, takaro.DomainUpdate{State: ptrTo(takaro.DomainState("GONE"))})
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.UpdateDomain(ctx, "no-such-domain", takaro.DomainUpdate{Name: ptrTo("whatever")})
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.CreateDomain(ctx, takaro.DomainCreate{Name: "limits", DomainLimits: takaro.DomainLimits{MaxUsers: ptrTo(-1)}})
	wantCode(t, err, takaro.CodeValidation)

	for body, want := range map[string][]string{
		`{"filters": {"state": ["MAINTENANCE"]}}`:                         {a.ID},
		`{"filters": {"id": ["` + b.CreatedDomain.ID + `"]}}`:             {b.CreatedDomain.ID},
		`{"search": {"name": ["BETA"]}}`:                                  {b.CreatedDomain.ID},
		`{"filters": {"externalReference": ["ref-b"]}}`:                   {b.CreatedDomain.ID},
		`{"filters": {"state": ["ACTIVE", "MAINTENANCE"]}}`:               sorted(a.ID, b.CreatedDomain.ID),
		`{"filters": {"externalReference": [null], "state": ["ACTIVE"]}}`: nil,
	} {
		page := check[*takaro.Page[takaro.Domain]](t)(e.core.FindDomains(ctx, query(t, body)))
		var got []string
		for _, d := range page.Items {
			got = append(got, d.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: found %v, want %v", body, got, want)
		}
	}
	_, err = e.core.FindDomains(ctx, query(t, `{"filters": {"state": ["GONE"]}}`))
	wantCode(t, err, takaro.CodeValidation)
}
