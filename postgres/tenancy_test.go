package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// countAll counts every row of table that q can see, with no filter.
func countAll(t testing.TB, ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table string) int {
	t.Helper()
	var n int
	must(t, q.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
	return n
}

func TestTenancyUnfilteredQueriesSeeOnlyTheBoundDomain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, a)
	e.fill(t, b)
	// b gets more rows than a in some tables, so equal counts cannot be a
	// coincidence of symmetric fixtures.
	e.createPlayer(t, b, uniqueName("steam"))
	super := superuser(t, e.db)
	tables := tenantTables(t, super)
	want := map[string]map[string]int{a.ID: countByDomain(t, super, tables, a.ID), b.ID: countByDomain(t, super, tables, b.ID)}
	requireNoEmptyTable(t, want[a.ID])
	requireNoEmptyTable(t, want[b.ID])

	for _, tn := range []*tenant{a, b} {
		must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
			for _, table := range tables {
				if got := countAll(t, tn.ctx, tx, table); got != want[tn.ID][table] {
					t.Errorf("domain %s: SELECT count(*) FROM %s = %d, want %d (its own rows only)", tn.ID, table, got, want[tn.ID][table])
				}
				var others int
				must(t, tx.QueryRow(tn.ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE domain <> $1", tn.ID).Scan(&others))
				if others != 0 {
					t.Errorf("domain %s: %s shows %d rows of other domains", tn.ID, table, others)
				}
			}
			return nil
		}))
	}

	pool := e.db.Pool(t)
	ctx := context.Background()
	t.Run("no domain set", func(t *testing.T) {
		t.Parallel()
		tx, err := pool.Begin(ctx)
		must(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		for _, table := range tables {
			if n := countAll(t, ctx, tx, table); n != 0 {
				t.Errorf("a transaction bound to no domain sees %d rows of %s", n, table)
			}
			if n := countAll(t, ctx, pool, table); n != 0 {
				t.Errorf("a plain statement sees %d rows of %s", n, table)
			}
		}
	})
	for _, setting := range []string{"", "no-such-domain"} {
		t.Run("domain set to "+setting, func(t *testing.T) {
			t.Parallel()
			tx, err := pool.Begin(ctx)
			must(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = tx.Exec(ctx, "SELECT takaro_set_local('takaro.domain', $1)", setting)
			must(t, err)
			for _, table := range tables {
				if n := countAll(t, ctx, tx, table); n != 0 {
					t.Errorf("takaro.domain = %q sees %d rows of %s", setting, n, table)
				}
			}
		})
	}
}

func TestTenancyRefusesWritingAnotherDomainsRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, a)
	e.fill(t, b)
	super := superuser(t, e.db)
	tables := tenantTables(t, super)
	before := countByDomain(t, super, tables, b.ID)

	err := e.core.InDomainForTest(a.ctx, func(tx *postgres.Tx) error {
		for _, table := range tables {
			ident := pgx.Identifier{table}.Sanitize()
			// A copy of one of a's rows, relabelled as b's.
			if _, err := tx.Exec(a.ctx, "CREATE TEMP TABLE row_copy ON COMMIT DROP AS SELECT * FROM "+ident+" LIMIT 1"); err != nil {
				return err
			}
			if tag, err := tx.Exec(a.ctx, "UPDATE row_copy SET domain = $1", b.ID); err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("%s: prepare a copy of a row: %v (%d rows)", table, err, tag.RowsAffected())
			}
			insertErr := inSavepoint(a.ctx, tx, "INSERT INTO "+ident+" SELECT * FROM row_copy")
			if !isSQLState(insertErr, "42501") {
				t.Errorf("%s: inserting a row of another domain: got %v, want a row-level security violation (42501)", table, insertErr)
			}
			updateErr := inSavepoint(a.ctx, tx, "UPDATE "+ident+" SET domain = $1", b.ID)
			switch {
			case table == "events" && isSQLState(updateErr, "23514"):
				// The append-only trigger refuses every update first.
			case !isSQLState(updateErr, "42501"):
				t.Errorf("%s: moving rows to another domain: got %v, want a row-level security violation (42501)", table, updateErr)
			}
			for _, stmt := range []string{
				"UPDATE " + ident + " SET domain = domain WHERE domain = $1",
				"DELETE FROM " + ident + " WHERE domain = $1",
			} {
				tag, err := tx.Exec(a.ctx, stmt, b.ID)
				if err != nil && (table != "events" || !isSQLState(err, "23514")) {
					return err
				}
				if tag.RowsAffected() != 0 {
					t.Errorf("%s: %q reached %d rows of another domain", table, stmt, tag.RowsAffected())
				}
			}
			if _, err := tx.Exec(a.ctx, "DROP TABLE row_copy"); err != nil {
				return err
			}
		}
		return nil
	})
	must(t, err)
	after := countByDomain(t, super, tables, b.ID)
	for _, table := range tables {
		if after[table] != before[table] {
			t.Errorf("%s: domain %s had %d rows, now %d", table, b.ID, before[table], after[table])
		}
	}
}

// inSavepoint runs one statement in a savepoint of tx and rolls it back.
func inSavepoint(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	_, err = sp.Exec(ctx, sql, args...)
	if rbErr := sp.Rollback(ctx); rbErr != nil {
		return errors.Join(err, rbErr)
	}
	return err
}

func isSQLState(err error, state string) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == state
}

func TestTenancySettingDoesNotStayOnThePooledConnection(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	cfg := db.Config(t)
	cfg.MaxConns = 1
	keys, err := postgres.NewKeyring(pgtest.Key)
	must(t, err)
	core, err := postgres.Open(context.Background(), cfg, postgres.Options{Keys: keys, BcryptCost: 4})
	must(t, err)
	t.Cleanup(core.Close)
	e := &env{db: db, core: core}
	a := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	f := e.fill(t, a)
	ctx := context.Background()

	var pid int
	must(t, core.Pool().QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
	// afterwards checks, on the pool's only connection, that a plain
	// statement is bound to no domain.
	afterwards := func(what string) {
		t.Helper()
		var samePID int
		var setting *string
		var servers int
		err := core.Pool().QueryRow(ctx, `SELECT pg_backend_pid(), current_setting('takaro.domain', true),
			(SELECT count(*) FROM gameservers)`).Scan(&samePID, &setting, &servers)
		must(t, err)
		if samePID != pid {
			t.Fatalf("the pool with one connection switched connections (%d, then %d)", pid, samePID)
		}
		if servers != 0 || (setting != nil && *setting != "") {
			t.Errorf("after %s, a plain statement on the same connection sees takaro.domain = %v and %d game servers", what, deref(setting), servers)
		}
	}

	afterwards("opening the pool")
	must(t, core.InDomainForTest(a.ctx, func(tx *postgres.Tx) error {
		if n := countAll(t, a.ctx, tx, "gameservers"); n != 1 {
			t.Errorf("the domain transaction sees %d game servers, want 1", n)
		}
		return nil
	}))
	afterwards("a committed domain transaction")

	errRollback := errors.New("roll back")
	if err := core.InDomainForTest(a.ctx, func(*postgres.Tx) error { return errRollback }); !errors.Is(err, errRollback) {
		t.Fatalf("got %v, want the callback's error", err)
	}
	afterwards("a rolled-back domain transaction")

	gs := check[*takaro.GameServer](t)(core.FindGameServerByID(a.ctx, f.GameServer.ID, true))
	if len(gs.ConnectionInfo) == 0 {
		t.Fatal("the read batch returned no connection info")
	}
	afterwards("a read batch")

	page := check[*takaro.Page[takaro.User]](t)(core.FindUsers(a.ctx, takaro.Query{}))
	if page.Total != 1 {
		t.Fatalf("the search found %d users, want 1", page.Total)
	}
	afterwards("a search")

	// A read batch that fails after the binding: corrupt the ciphertext.
	_, err = superuser(t, db).Exec(ctx, "UPDATE gameservers SET connection_info = connection_info || '\\x00'::bytea WHERE id = $1", f.GameServer.ID)
	must(t, err)
	if _, err := core.FindGameServerByID(a.ctx, f.GameServer.ID, true); err == nil {
		t.Fatal("reading corrupt connection info succeeded")
	}
	afterwards("a failed read batch")
}

func TestTenancyReferencesToAnotherDomainLookMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	fa, fb := e.fill(t, a), e.fill(t, b)
	random := uuid.New()

	// same runs op with another domain's id and with a random one and
	// checks that both fail alike, as validation errors.
	same := func(t *testing.T, op func(id uuid.UUID) error, otherID uuid.UUID, code takaro.Code) {
		t.Helper()
		errOther, errRandom := op(otherID), op(random)
		eo, er := wantCode(t, errOther, code), wantCode(t, errRandom, code)
		mo := strings.ReplaceAll(eo.Message, otherID.String(), "<id>")
		mr := strings.ReplaceAll(er.Message, random.String(), "<id>")
		if mo != mr {
			t.Errorf("another domain's id gives %q, a random id %q", eo.Message, er.Message)
		}
		if len(eo.Details) != len(er.Details) || (len(eo.Details) > 0 && eo.Details[0] != er.Details[0]) {
			t.Errorf("details differ: %v and %v", eo.Details, er.Details)
		}
		// Nor may the underlying cause, which reaches the logs, differ.
		if fo, fr := strings.ReplaceAll(errOther.Error(), otherID.String(), "<id>"), strings.ReplaceAll(errRandom.Error(), random.String(), "<id>"); fo != fr {
			t.Errorf("another domain's id gives %q, a random id %q", fo, fr)
		}
	}

	t.Run("variable game server", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error {
			_, err := e.core.CreateVariable(a.ctx, takaro.VariableCreate{Key: uniqueName("k"), Value: "v", GameServerID: &id})
			return err
		}, fb.GameServer.ID, takaro.CodeValidation)
	})
	t.Run("variable player", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error {
			_, err := e.core.CreateVariable(a.ctx, takaro.VariableCreate{Key: uniqueName("k"), Value: "v", PlayerID: &id})
			return err
		}, fb.Player.ID, takaro.CodeValidation)
	})
	t.Run("variable update", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error {
			_, err := e.core.UpdateVariable(a.ctx, fa.Variable.ID, takaro.VariableUpdate{Value: "v", GameServerID: &id})
			return err
		}, fb.GameServer.ID, takaro.CodeValidation)
	})
	t.Run("presence player", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error {
			_, err := e.core.UpsertPlayerOnGameServer(a.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: id, GameServerID: fa.GameServer.ID, GameID: uniqueName("g")})
			return err
		}, fb.Player.ID, takaro.CodeValidation)
	})
	t.Run("presence game server", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error {
			_, err := e.core.UpsertPlayerOnGameServer(a.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: fa.Player.ID, GameServerID: id, GameID: uniqueName("g")})
			return err
		}, fb.GameServer.ID, takaro.CodeValidation)
	})
	t.Run("player role on game server", func(t *testing.T) {
		t.Parallel()
		admin := e.role(t, a, takaro.RoleAdmin)
		same(t, func(id uuid.UUID) error {
			return e.core.AssignPlayerRole(a.ctx, fa.Player.ID, admin.ID, &id, nil)
		}, fb.GameServer.ID, takaro.CodeValidation)
	})
	t.Run("read by id", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error {
			_, err := e.core.FindGameServerByID(a.ctx, id, false)
			return err
		}, fb.GameServer.ID, takaro.CodeNotFound)
		same(t, func(id uuid.UUID) error {
			_, err := e.core.FindVariableByID(a.ctx, id)
			return err
		}, fb.Variable.ID, takaro.CodeNotFound)
		same(t, func(id uuid.UUID) error {
			_, err := e.core.FindUserByID(a.ctx, id)
			return err
		}, b.rootUserID(), takaro.CodeNotFound)
	})
	t.Run("delete by id", func(t *testing.T) {
		t.Parallel()
		same(t, func(id uuid.UUID) error { return e.core.DeletePlayer(a.ctx, id) }, fb.Player.ID, takaro.CodeNotFound)
		same(t, func(id uuid.UUID) error { return e.core.DeleteGameServer(a.ctx, id) }, fb.GameServer.ID, takaro.CodeNotFound)
		// b's rows survived.
		check[*takaro.Player](t)(e.core.FindPlayerByID(b.ctx, fb.Player.ID))
		check[*takaro.GameServer](t)(e.core.FindGameServerByID(b.ctx, fb.GameServer.ID, false))
	})
}

func TestTenancyUniqueValuesDoNotConflictAcrossDomains(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(3)}),
		e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(3)})

	cases := []struct {
		name  string
		field string
		op    func(ctx context.Context) error
	}{
		{"role name", "name", func(ctx context.Context) error {
			_, err := e.core.CreateRole(ctx, takaro.RoleCreate{Name: "Builders"})
			return err
		}},
		{"user email", "email", func(ctx context.Context) error {
			_, err := e.core.CreateUser(ctx, takaro.UserCreate{Name: "same", Email: "same@example.com", Password: "password-1"})
			return err
		}},
		{"game server name", "name", func(ctx context.Context) error {
			_, err := e.core.CreateGameServer(ctx, takaro.GameServerCreate{Name: "same server", Type: takaro.GameServerMock, ConnectionInfo: "{}"})
			return err
		}},
		{"identity token", "identityToken", func(ctx context.Context) error {
			_, err := e.core.CreateGameServer(ctx, takaro.GameServerCreate{Name: uniqueName("generic"), Type: takaro.GameServerGeneric,
				ConnectionInfo: "{}", IdentityToken: ptrTo("same-token")})
			return err
		}},
		{"variable key", "key", func(ctx context.Context) error {
			_, err := e.core.CreateVariable(ctx, takaro.VariableCreate{Key: "same-key", Value: "v"})
			return err
		}},
	}
	for _, c := range cases {
		must(t, c.op(a.ctx))
		if err := c.op(b.ctx); err != nil {
			t.Errorf("%s taken in another domain: %v", c.name, err)
		}
		// The constraint exists: the same value twice in one domain conflicts.
		ce := wantCode(t, c.op(a.ctx), takaro.CodeConflict)
		if ce.Message != uniqueViolation {
			t.Errorf("%s (%s): conflict message %q, want %q", c.name, c.field, ce.Message, uniqueViolation)
		}
	}
	// Players are upserted, so a taken steam id in another domain must
	// create a separate player rather than find b's.
	pa := e.createPlayer(t, a, "76561190000000000")
	pb := e.createPlayer(t, b, "76561190000000000")
	if pa.ID == pb.ID {
		t.Fatal("two domains share a player")
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
