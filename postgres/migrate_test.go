package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migPublicTables returns the tables in the public schema.
func migPublicTables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT relname::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func migNewMigrator(t *testing.T, db *postgres.DB, fsys fs.FS) *postgres.Migrator {
	t.Helper()
	m, err := postgres.NewMigrator(db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// migOpenEmpty returns the data core on a new empty database, with pgcrypto
// installed as the binary's boot does.
func migOpenEmpty(t *testing.T) (*pgtest.Database, *postgres.DB) {
	t.Helper()
	db := pgtest.NewEmpty(t, true)
	d := db.Open(t, postgres.Options{})
	if err := d.EnsurePgcrypto(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, d
}

func migVersions(t *testing.T, m *postgres.Migrator) []int64 {
	t.Helper()
	states, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, s := range states {
		versions = append(versions, s.Version)
	}
	if len(versions) == 0 {
		t.Fatal("no migrations")
	}
	return versions
}

func migResultVersions(rs []postgres.MigrationResult) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.Version)
	}
	return out
}

// migUpTo migrates to version and requires that exactly that one migration ran.
func migUpTo(t *testing.T, m *postgres.Migrator, version int64) {
	t.Helper()
	rs, err := m.UpTo(context.Background(), version)
	if err != nil {
		t.Fatalf("up to %d: %v", version, err)
	}
	if got := migResultVersions(rs); !slices.Equal(got, []int64{version}) {
		t.Fatalf("up to %d applied %v, want exactly [%d]", version, got, version)
	}
}

// migRollback rolls back one migration and requires that it was version.
func migRollback(t *testing.T, m *postgres.Migrator, version int64) {
	t.Helper()
	r, err := m.Rollback(context.Background())
	if err != nil {
		t.Fatalf("roll back %d: %v", version, err)
	}
	if r == nil || r.Version != version {
		t.Fatalf("roll back: got %+v, want version %d", r, version)
	}
}

// migRollbackAll rolls back every applied migration, latest first, and
// requires that they were exactly versions (in descending order).
func migRollbackAll(t *testing.T, m *postgres.Migrator, versions []int64) {
	t.Helper()
	var rolledBack []int64
	for {
		r, err := m.Rollback(context.Background())
		if err != nil {
			t.Fatalf("roll back after %v: %v", rolledBack, err)
		}
		if r == nil {
			break
		}
		rolledBack = append(rolledBack, r.Version)
		if len(rolledBack) > len(versions) {
			t.Fatalf("rolled back more migrations than exist: %v", rolledBack)
		}
	}
	want := slices.Clone(versions)
	slices.Reverse(want)
	if !slices.Equal(rolledBack, want) {
		t.Fatalf("rolled back %v, want %v", rolledBack, want)
	}
}

// migRequireOnlyVersionTable checks the state after every migration is rolled
// back: goose's table and nothing else of the migrations'.
func migRequireOnlyVersionTable(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if got := migPublicTables(t, pool); !slices.Equal(got, []string{"goose_db_version"}) {
		t.Fatalf("tables after rolling back everything: %v, want only goose_db_version", got)
	}
	var applied int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 0 {
		t.Fatalf("goose_db_version still records %d migration(s)", applied)
	}
	for _, l := range pgtest.SchemaFingerprint(t, pool) {
		if strings.HasPrefix(l, "function ") || strings.HasPrefix(l, "policy ") || strings.HasPrefix(l, "trigger ") {
			t.Fatalf("left behind after rolling back everything: %s", l)
		}
	}
}

// migSuperuser returns a pool on db as the server's admin role, for whom
// row-level security hides nothing.
func migSuperuser(t *testing.T, db *pgtest.Database) *pgxpool.Pool {
	t.Helper()
	admin := pgtest.Admin(t).Config().ConnConfig
	pool, err := pgxpool.New(context.Background(), db.ConnStringAs(t, admin.User, admin.Password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// migRequireForeignKeysHold checks every foreign key of the public schema
// against the rows of every domain: PostgreSQL validates a foreign key that
// a migration adds with a query that row-level security filters, so a
// constraint can be in place while rows violate it.
func migRequireForeignKeysHold(t *testing.T, what string, super *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	rows, err := super.Query(ctx, `
		SELECT con.conname::text, con.conrelid::regclass::text, con.confrelid::regclass::text,
		       array(SELECT quote_ident(a.attname) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
		             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
		       array(SELECT quote_ident(a.attname) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
		             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
		FROM pg_constraint con WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	type foreignKey struct {
		name, table, refTable string
		cols, refCols         []string
	}
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (foreignKey, error) {
		var fk foreignKey
		return fk, r.Scan(&fk.name, &fk.table, &fk.refTable, &fk.cols, &fk.refCols)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, fk := range fks {
		var notNull, match []string
		for i, c := range fk.cols {
			notNull = append(notNull, "f."+c+" IS NOT NULL")
			match = append(match, "r."+fk.refCols[i]+" = f."+c)
		}
		var n int
		q := fmt.Sprintf("SELECT count(*) FROM ONLY %s f WHERE %s AND NOT EXISTS (SELECT 1 FROM ONLY %s r WHERE %s)",
			fk.table, strings.Join(notNull, " AND "), fk.refTable, strings.Join(match, " AND "))
		if err := super.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			t.Errorf("%s: %d row(s) of %s violate foreign key %s", what, n, fk.table, fk.name)
		}
	}
}

// migStepFingerprints migrates a new empty database one version at a time and
// returns the fingerprint at every version (index 0: nothing applied) and
// the versions. On the way, every migration is rolled back right after it
// was applied, and then applied again, and both must land on the same
// schema as before.
func migStepFingerprints(t *testing.T) ([][]string, []int64) {
	t.Helper()
	db, d := migOpenEmpty(t)
	pool := db.Pool(t)
	m := migNewMigrator(t, d, postgres.Migrations())
	versions := migVersions(t, m) // creates goose_db_version
	fps := [][]string{pgtest.SchemaFingerprint(t, pool)}
	for i, v := range versions {
		migUpTo(t, m, v)
		applied := pgtest.SchemaFingerprint(t, pool)
		if slices.Equal(applied, fps[i]) {
			t.Fatalf("migration %d changed nothing in the schema", v)
		}
		migRollback(t, m, v)
		pgtest.RequireSameSchema(t, fmt.Sprintf("after %d up and down", v), fps[i], pgtest.SchemaFingerprint(t, pool))
		migUpTo(t, m, v)
		pgtest.RequireSameSchema(t, fmt.Sprintf("after %d up, down and up", v), applied, pgtest.SchemaFingerprint(t, pool))
		fps = append(fps, applied)
	}
	return fps, versions
}

// TestMigrationsUpDownUp applies, rolls back and reapplies every migration
// in turn on an empty database, then rolls everything back to nothing and
// migrates up again, requiring the same schema each way.
func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fps, versions := migStepFingerprints(t)

	db, d := migOpenEmpty(t)
	pool := db.Pool(t)
	m := migNewMigrator(t, d, postgres.Migrations())
	migVersions(t, m) // creates goose_db_version, which stays
	zero := pgtest.SchemaFingerprint(t, pool)
	pgtest.RequireSameSchema(t, "nothing applied", fps[0], zero)
	rs, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := migResultVersions(rs); !slices.Equal(got, versions) {
		t.Fatalf("up applied %v, want %v", got, versions)
	}
	full := pgtest.SchemaFingerprint(t, pool)
	pgtest.RequireSameSchema(t, "one up against step by step", fps[len(fps)-1], full)
	pgtest.RequireSameSchema(t, "fresh database against the test template", full, pgtest.SchemaFingerprint(t, pgtest.New(t).Pool(t)))
	if rs, err := m.Up(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("a second up: %v, %v; want nothing applied", migResultVersions(rs), err)
	}

	migRollbackAll(t, m, versions)
	migRequireOnlyVersionTable(t, pool)
	pgtest.RequireSameSchema(t, "after rolling back everything", zero, pgtest.SchemaFingerprint(t, pool))
	if r, err := m.Rollback(ctx); err != nil || r != nil {
		t.Fatalf("rollback with nothing applied: %+v, %v; want nil, nil", r, err)
	}

	if rs, err = m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := migResultVersions(rs); !slices.Equal(got, versions) {
		t.Fatalf("up again applied %v, want %v", got, versions)
	}
	pgtest.RequireSameSchema(t, "up, down to zero, up", full, pgtest.SchemaFingerprint(t, pool))
}

func migPtr[T any](v T) *T { return &v }

// migFillDomain creates a domain with a row in every tenant table through the
// data core, and returns its id. With linkUser, a user is linked to a player.
// migFillModules creates a module with one of every part, a permission
// held by a role and a module-scoped variable, tags it and installs the tag.
func migFillModules(ctx context.Context, t *testing.T, d *postgres.DB, server, role uuid.UUID) {
	t.Helper()
	m, err := d.CreateModule(ctx, takaro.ModuleCreate{Name: "economy", LatestVersion: &takaro.ModuleVersionInput{
		Permissions: &[]takaro.ModulePermissionInput{{Permission: "ECONOMY_USE", FriendlyName: "Use", Description: "Use it"}}}})
	if err != nil {
		t.Fatal(err)
	}
	v := m.LatestVersion.ID
	name := "helper"
	for _, err := range []error{
		migErr(d.CreateCommand(ctx, takaro.CommandCreate{Name: "balance", Trigger: "balance", VersionID: v,
			Arguments: []takaro.CommandArgumentCreate{{Name: "who", Type: takaro.ArgumentPlayer, Position: 0}}})),
		migErr(d.CreateHook(ctx, takaro.HookCreate{Name: "greet", EventType: "player-connected", VersionID: v})),
		migErr(d.CreateCronJob(ctx, takaro.CronJobCreate{Name: "payday", TemporalValue: "0 * * * *", VersionID: v})),
		migErr(d.CreateFunction(ctx, takaro.FunctionCreate{Name: &name, VersionID: &v})),
		migErr(d.CreateVariable(ctx, takaro.VariableCreate{Key: "module", Value: "1", ModuleID: &m.ID})),
		migErr(d.UpdateRole(ctx, role, takaro.RoleUpdate{Permissions: &[]takaro.PermissionInput{{PermissionID: m.LatestVersion.Permissions[0].ID}}})),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	tagged, err := d.TagModuleVersion(ctx, takaro.ModuleVersionTag{ModuleID: m.ID, Tag: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.InstallModule(ctx, takaro.InstallationCreate{VersionID: tagged.ID, GameServerID: server}); err != nil {
		t.Fatal(err)
	}
}

// migErr keeps only the error of a call.
func migErr[T any](_ T, err error) error { return err }

func migFillDomain(t *testing.T, d *postgres.DB, name string, linkUser bool) string {
	t.Helper()
	ctx := context.Background()
	created, err := d.CreateDomain(ctx, takaro.DomainCreate{Name: name,
		DomainLimits: takaro.DomainLimits{MaxGameservers: migPtr(5), MaxUsers: migPtr(5)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx = takaro.NewContext(ctx, takaro.Principal{Domain: created.CreatedDomain.ID, UserID: created.RootUser.ID})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var servers []*takaro.GameServer
	for i := range 2 {
		gs, err := d.CreateGameServer(ctx, takaro.GameServerCreate{Name: fmt.Sprintf("server %d", i), Type: takaro.GameServerMock,
			ConnectionInfo: `{"host":"127.0.0.1","port":7000}`})
		must(err)
		servers = append(servers, gs)
	}
	var players []*takaro.Player
	for i := range 3 {
		p, err := d.UpsertPlayer(ctx, takaro.PlayerUpsert{Name: migPtr(fmt.Sprintf("player %d", i)), SteamID: migPtr(fmt.Sprintf("7656119000000000%d", i))})
		must(err)
		players = append(players, p)
		_, err = d.UpsertPlayerOnGameServer(ctx, takaro.PlayerOnGameServerUpsert{PlayerID: p.ID, GameServerID: servers[i%2].ID,
			GameID: fmt.Sprint(100 + i), Online: migPtr(true), IP: migPtr("192.0.2.1")})
		must(err)
	}
	_, err = d.RecordLocations(ctx, takaro.LocationRecord{GameServerID: servers[0].ID,
		Samples: []takaro.LocationSample{{PlayerID: players[0].ID, X: 1, Y: 2, Z: 3}}})
	must(err)
	perms, err := d.ListPermissions(ctx)
	must(err)
	var inputs []takaro.PermissionInput
	for _, p := range perms {
		if p.Permission == takaro.PermReadPlayers || p.Permission == takaro.PermManageGameservers {
			inputs = append(inputs, takaro.PermissionInput{PermissionID: p.ID})
		}
	}
	role, err := d.CreateRole(ctx, takaro.RoleCreate{Name: "vip", Permissions: inputs})
	must(err)
	must(d.AssignPlayerRole(ctx, players[0].ID, role.ID, nil, nil))
	must(d.AssignPlayerRole(ctx, players[1].ID, role.ID, &servers[0].ID, migPtr(time.Now().Add(time.Hour))))
	user, err := d.CreateUser(ctx, takaro.UserCreate{Name: "moderator", Email: "moderator@example.com", Password: "correct horse battery staple"})
	must(err)
	must(d.AssignUserRole(ctx, user.ID, role.ID, nil))
	_, err = d.CreateVariable(ctx, takaro.VariableCreate{Key: "global", Value: "1"})
	must(err)
	migFillModules(ctx, t, d, servers[0].ID, role.ID)
	_, err = d.CreateVariable(ctx, takaro.VariableCreate{Key: "scoped", Value: `{"points":5}`, GameServerID: &servers[0].ID, PlayerID: &players[0].ID})
	must(err)
	_, err = d.SetSetting(ctx, takaro.SettingCurrencyName, takaro.SettingSet{Value: "gold"})
	must(err)
	_, err = d.SetSetting(ctx, takaro.SettingCommandPrefix, takaro.SettingSet{Value: "!", GameServerID: &servers[0].ID})
	must(err)
	_, err = d.CreateEvent(ctx, takaro.EventCreate{EventName: takaro.EventPlayerLinked, PlayerID: &players[0].ID, UserID: &user.ID,
		Meta: json.RawMessage(`{"source":"migration test"}`)})
	must(err)
	_, err = d.CreateBan(ctx, takaro.BanCreate{PlayerID: players[2].ID, IsGlobal: migPtr(true), Reason: migPtr("griefing")})
	must(err)
	_, err = d.UpsertItem(ctx, takaro.ItemUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: servers[0].ID, Code: "wood", Name: "Wood"}})
	must(err)
	_, err = d.UpsertEntity(ctx, takaro.EntityUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: servers[0].ID, Code: "zombie", Name: "Zombie"}})
	must(err)
	category, err := d.CreateShopCategory(ctx, takaro.ShopCategoryCreate{Name: "Resources", Emoji: "📦"})
	must(err)
	listing, err := d.CreateShopListing(ctx, takaro.ShopListingCreate{GameServerID: servers[0].ID, Name: "Wood", Price: 5,
		Items: []takaro.ShopListingItemInput{{Amount: 1, Code: migPtr("wood")}}, CategoryIDs: []uuid.UUID{category.ID}})
	must(err)
	_, err = d.AddCurrency(ctx, servers[0].ID, players[0].ID, takaro.CurrencyAmount{Currency: 10})
	must(err)
	_, err = d.CreateShopOrder(ctx, takaro.ShopOrderCreate{ListingID: listing.ID, Amount: 1, PlayerID: &players[0].ID}, true)
	must(err)
	// What the data core has no method for yet: a user linked to a player,
	// an API key with a permission, and a session.
	must(d.InDomainForTest(ctx, func(tx *postgres.Tx) error {
		if linkUser {
			tag, err := tx.Exec(ctx, "UPDATE users SET player_id = $3 WHERE domain = $1 AND id = $2", tx.Domain, user.ID, players[2].ID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("linking the user to a player updated %d row(s)", tag.RowsAffected())
			}
		}
		if _, err := tx.Exec(ctx, `WITH k AS (
				INSERT INTO api_keys (domain, user_id, name, secret_hash) VALUES ($1, $2, 'ci', crypt('secret', gen_salt('bf', 4)))
				RETURNING domain, id)
			INSERT INTO api_key_permissions (domain, api_key_id, permission_id) SELECT k.domain, k.id, $3 FROM k`,
			tx.Domain, user.ID, inputs[0].PermissionID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (domain, user_id, secret_hash, expires_at, login_domains)
			VALUES ($1, $2, crypt('secret', gen_salt('bf', 4)), now() + interval '1 day', ARRAY[$1])`, tx.Domain, user.ID)
		return err
	}))
	return created.CreatedDomain.ID
}

// migRequireEveryTableFilled checks, as the domain, that every table but
// goose's holds at least one row.
func migRequireEveryTableFilled(t *testing.T, d *postgres.DB, pool *pgxpool.Pool, domain string) {
	t.Helper()
	ctx := takaro.NewContext(context.Background(), takaro.Principal{Domain: domain})
	for _, table := range migPublicTables(t, pool) {
		if table == "goose_db_version" {
			continue
		}
		var n int
		err := d.InDomainForTest(ctx, func(tx *postgres.Tx) error {
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("table %s has no rows: the data-filled test does not exercise its down step", table)
		}
	}
}

// TestMigrationsRollBackWithData fills every table through the data core,
// then rolls each migration back and forward again from the top with the
// data in place, and finally rolls everything back to nothing and up again.
func TestMigrationsRollBackWithData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fps, versions := migStepFingerprints(t)

	db := pgtest.New(t)
	d := db.Open(t, postgres.Options{})
	pool := db.Pool(t)
	m := migNewMigrator(t, d, postgres.Migrations())
	pgtest.RequireSameSchema(t, "the test template", fps[len(fps)-1], pgtest.SchemaFingerprint(t, pool))
	first := migFillDomain(t, d, "first tenant", false)
	migFillDomain(t, d, "second tenant", false)
	migRequireEveryTableFilled(t, d, pool, first)
	super := migSuperuser(t, db)
	migRequireForeignKeysHold(t, "filled", super)

	// From the top: roll back the latest, forward again over the data that
	// the earlier migrations' tables still hold, back again, and so on down.
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		migRollback(t, m, v)
		pgtest.RequireSameSchema(t, fmt.Sprintf("with data, after rolling back %d", v), fps[i], pgtest.SchemaFingerprint(t, pool))
		migUpTo(t, m, v)
		pgtest.RequireSameSchema(t, fmt.Sprintf("with data, after rolling back and reapplying %d", v), fps[i+1], pgtest.SchemaFingerprint(t, pool))
		migRequireForeignKeysHold(t, fmt.Sprintf("with data, after rolling back and reapplying %d", v), super)
		migRollback(t, m, v)
	}
	migRequireOnlyVersionTable(t, pool)
	pgtest.RequireSameSchema(t, "with data, after rolling back everything", fps[0], pgtest.SchemaFingerprint(t, pool))

	rs, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := migResultVersions(rs); !slices.Equal(got, versions) {
		t.Fatalf("up applied %v, want %v", got, versions)
	}
	pgtest.RequireSameSchema(t, "with data, up, down to zero, up", fps[len(fps)-1], pgtest.SchemaFingerprint(t, pool))
	var domains int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM domains").Scan(&domains); err != nil {
		t.Fatal(err)
	}
	if domains != 0 {
		t.Fatalf("%d domains survived rolling back every migration", domains)
	}
	// The data core works on the rebuilt schema.
	migFillDomain(t, d, "after rebuild", true)
}

// TestMigration00003RoundTripWithLinkedUser rolls back and reapplies
// 00003 while a user is linked to a player.
func TestMigration00003RoundTripWithLinkedUser(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	d := db.Open(t, postgres.Options{})
	m := migNewMigrator(t, d, postgres.Migrations())
	migFillDomain(t, d, "linked user", true)
	super := migSuperuser(t, db)
	versions := migVersions(t, m)
	for i := len(versions) - 1; versions[i] >= 3; i-- {
		migRollback(t, m, versions[i])
	}
	migUpTo(t, m, 3)
	migRequireForeignKeysHold(t, "after rolling back and reapplying 3 with a linked user", super)
}

// TestMigrationsRollBackFullWithData is the plain variant the operator
// runs: everything applied and filled, then roll back to zero in one go.
func TestMigrationsRollBackFullWithData(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	d := db.Open(t, postgres.Options{})
	pool := db.Pool(t)
	m := migNewMigrator(t, d, postgres.Migrations())
	full := pgtest.SchemaFingerprint(t, pool)
	domain := migFillDomain(t, d, "full rollback", true)
	migRequireEveryTableFilled(t, d, pool, domain)
	versions := migVersions(t, m)
	migRollbackAll(t, m, versions)
	migRequireOnlyVersionTable(t, pool)
	rs, err := m.Up(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := migResultVersions(rs); !slices.Equal(got, versions) {
		t.Fatalf("up applied %v, want %v", got, versions)
	}
	pgtest.RequireSameSchema(t, "up, fill, down to zero, up", full, pgtest.SchemaFingerprint(t, pool))
}

// migWithExtraMigration returns the real migrations plus one more.
func migWithExtraMigration(name, content string) fs.FS {
	fsys := fstest.MapFS{}
	real := postgres.Migrations()
	entries, err := fs.ReadDir(real, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(real, e.Name())
		if err != nil {
			panic(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	fsys[name] = &fstest.MapFile{Data: []byte(content)}
	return fsys
}

// TestMigrationFailureLeavesNothing applies a migration that fails after
// creating a table, with Up and with UpTo, and a rollback that fails after
// dropping one: each reports the file and the cause, and the schema and
// the bookkeeping are as before.
func TestMigrationFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	failingUp := migWithExtraMigration("00099_fails.sql", `-- +goose Up
CREATE TABLE takaro_failing_probe (id int PRIMARY KEY);
INSERT INTO takaro_failing_probe VALUES (1);
SELECT takaro_no_such_function();

-- +goose Down
DROP TABLE takaro_failing_probe;
`)
	realVersions := migVersions(t, migNewMigrator(t, pgtest.New(t).Open(t, postgres.Options{}), postgres.Migrations()))
	for _, viaUpTo := range []bool{false, true} {
		db, d := migOpenEmpty(t)
		pool := db.Pool(t)
		m := migNewMigrator(t, d, failingUp)
		var rs []postgres.MigrationResult
		var err error
		if viaUpTo {
			rs, err = m.UpTo(ctx, 99)
		} else {
			rs, err = m.Up(ctx)
		}
		migErr, ok := errors.AsType[*postgres.MigrationError](err)
		if !ok {
			t.Fatalf("UpTo=%v: got %v, %v; want a *MigrationError", viaUpTo, rs, err)
		}
		if migErr.Failed != "00099_fails.sql" || !strings.Contains(err.Error(), "00099_fails.sql") ||
			!strings.Contains(err.Error(), "takaro_no_such_function") {
			t.Fatalf("UpTo=%v: the error does not name the file and the cause: %v", viaUpTo, err)
		}
		if got := migResultVersions(migErr.Applied); !slices.Equal(got, realVersions) {
			t.Fatalf("UpTo=%v: applied before the failure: %v", viaUpTo, got)
		}
		pgtest.RequireSameSchema(t, "after the failing migration", pgtest.SchemaFingerprint(t, pgtest.New(t).Pool(t)), pgtest.SchemaFingerprint(t, pool))
		var recorded bool
		if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM goose_db_version WHERE version_id = 99)").Scan(&recorded); err != nil {
			t.Fatal(err)
		}
		if recorded {
			t.Fatalf("UpTo=%v: goose_db_version records the failed migration", viaUpTo)
		}
	}

	failingDown := migWithExtraMigration("00099_bad_down.sql", `-- +goose Up
CREATE TABLE takaro_bad_down_probe (id int);

-- +goose Down
DROP TABLE takaro_bad_down_probe;
ALTER TABLE takaro_no_such_table ADD COLUMN x int;
`)
	db := pgtest.New(t)
	pool := db.Pool(t)
	m := migNewMigrator(t, db.Open(t, postgres.Options{}), failingDown)
	if rs, err := m.Up(ctx); err != nil || !slices.Equal(migResultVersions(rs), []int64{99}) {
		t.Fatalf("up: %v, %v", migResultVersions(rs), err)
	}
	before := pgtest.SchemaFingerprint(t, pool)
	r, err := m.Rollback(ctx)
	migErr, ok := errors.AsType[*postgres.MigrationError](err)
	if !ok {
		t.Fatalf("rollback: got %+v, %v; want a *MigrationError", r, err)
	}
	if migErr.Failed != "00099_bad_down.sql" || !strings.Contains(err.Error(), "takaro_no_such_table") {
		t.Fatalf("the error does not name the file and the cause: %v", err)
	}
	pgtest.RequireSameSchema(t, "after the failing rollback", before, pgtest.SchemaFingerprint(t, pool))
	states, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := states[len(states)-1]; last.Version != 99 || !last.Applied {
		t.Fatalf("after the failing rollback, the latest migration's state is %+v; want 99 applied", last)
	}
}

// TestMigrationStatusAppliedAtIsRightInEveryTimeZone migrates a database
// whose sessions default to a time zone far from UTC: the applied times
// that Status reports must still be the real instants.
func TestMigrationStatusAppliedAtIsRightInEveryTimeZone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewEmpty(t, true)
	if _, err := pgtest.Admin(t).Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db.Name}.Sanitize()+" SET timezone = 'Pacific/Kiritimati'"); err != nil {
		t.Fatal(err)
	}
	d := db.Open(t, postgres.Options{})
	if err := d.EnsurePgcrypto(ctx); err != nil {
		t.Fatal(err)
	}
	m := migNewMigrator(t, d, postgres.Migrations())
	start := time.Now()
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	states, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if !s.Applied || s.AppliedAt.Before(start.Add(-time.Minute)) || s.AppliedAt.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: applied=%v at %s; want applied between %s and now", s.Name, s.Applied, s.AppliedAt.UTC(), start.UTC())
		}
	}
}
