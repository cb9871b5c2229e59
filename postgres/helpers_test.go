package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// must stops the test on an error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// check returns v, stopping the test on an error.
func check[T any](t testing.TB) func(v T, err error) T {
	t.Helper()
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ptrTo[T any](v T) *T { return &v }

// wantCode asserts that err is a *takaro.Error with code and returns a
// copy of it (a value, which is no error to check).
func wantCode(t testing.TB, err error, code takaro.Code) takaro.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	e, ok := errors.AsType[*takaro.Error](err)
	if !ok {
		t.Fatalf("got %T %v, want a *takaro.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	return *e
}

// wantSQLState asserts that err is a PostgreSQL error with the SQLSTATE.
func wantSQLState(t testing.TB, err error, state string) {
	t.Helper()
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	if !ok {
		t.Fatalf("got %v, want a PostgreSQL error %s", err, state)
	}
	if pgErr.Code != state {
		t.Fatalf("got SQLSTATE %s (%s), want %s", pgErr.Code, pgErr.Message, state)
	}
}

// env is one test's database and the data core on it.
type env struct {
	db   *pgtest.Database
	core *postgres.DB
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db := pgtest.New(t)
	return &env{db: db, core: db.Open(t, postgres.Options{})}
}

// openWide opens another data core on the test's database with a pool
// large enough that concurrent callers really run at once. Its statement
// timeout is long: hundreds of callers queue on the same rows, and these
// tests check what survives the race, not how fast a shared machine is.
func (e *env) openWide(t testing.TB) *postgres.DB {
	t.Helper()
	cfg := e.db.Config(t)
	cfg.MaxConns = 32
	core, err := postgres.Open(context.Background(), cfg, postgres.Options{Keys: check[*postgres.Keyring](t)(postgres.NewKeyring(pgtest.Key)),
		BcryptCost: 4, StatementTimeout: 2 * time.Minute})
	must(t, err)
	t.Cleanup(core.Close)
	return core
}

// tenant is a domain created through the data core and a context bound to
// it, acting as its root user.
type tenant struct {
	ID      string
	Created *takaro.DomainCreated
	ctx     context.Context
}

func (tn *tenant) rootUserID() uuid.UUID { return tn.Created.RootUser.ID }

var nameCounter atomic.Int64

// uniqueName returns a name no other call in this process returns.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameCounter.Add(1))
}

func (e *env) newDomain(t testing.TB, limits takaro.DomainLimits) *tenant {
	t.Helper()
	created := check[*takaro.DomainCreated](t)(e.core.CreateDomain(context.Background(),
		takaro.DomainCreate{Name: uniqueName("domain"), DomainLimits: limits}))
	return &tenant{
		ID:      created.CreatedDomain.ID,
		Created: created,
		ctx: takaro.NewContext(context.Background(),
			takaro.Principal{Domain: created.CreatedDomain.ID, UserID: created.RootUser.ID}),
	}
}

// role returns the domain's role called name.
func (e *env) role(t testing.TB, tn *tenant, name string) *takaro.Role {
	t.Helper()
	page := check[*takaro.Page[takaro.Role]](t)(e.core.FindRoles(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{"name": {name}}}))
	if len(page.Items) != 1 {
		t.Fatalf("found %d roles called %q, want 1", len(page.Items), name)
	}
	return &page.Items[0]
}

func (e *env) createGameServer(t testing.TB, tn *tenant, name string) *takaro.GameServer {
	t.Helper()
	return check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{
		Name: name, Type: takaro.GameServerMock, ConnectionInfo: `{"host":"127.0.0.1","port":8080}`,
	}))
}

func (e *env) createPlayer(t testing.TB, tn *tenant, steamID string) *takaro.Player {
	t.Helper()
	return check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: ptrTo("player " + steamID), SteamID: &steamID}))
}

// fixture is what fill created in a domain.
type fixture struct {
	GameServer *takaro.GameServer
	Player     *takaro.Player
	Variable   *takaro.Variable
	Listing    *takaro.ShopListing
	APIKeyID   uuid.UUID
	Module     *takaro.Module
}

// fill gives the domain at least one row in every tenant table, through the
// data core where it has an operation and with plain SQL in the domain's
// transaction where it has none yet.
func (e *env) fill(t testing.TB, tn *tenant) *fixture {
	t.Helper()
	f := &fixture{}
	f.GameServer = e.createGameServer(t, tn, uniqueName("server"))
	f.Player = e.createPlayer(t, tn, uniqueName("steam"))
	check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{
		PlayerID: f.Player.ID, GameServerID: f.GameServer.ID, GameID: uniqueName("game"), IP: ptrTo("192.0.2.1"),
	}))
	must(t, e.core.AssignPlayerRole(tn.ctx, f.Player.ID, e.role(t, tn, takaro.RoleModerator).ID, &f.GameServer.ID, nil))
	check[[]takaro.PlayerLocation](t)(e.core.RecordLocations(tn.ctx, takaro.LocationRecord{GameServerID: f.GameServer.ID, Samples: []takaro.LocationSample{{PlayerID: f.Player.ID, X: 1, Y: 2, Z: 3}}}))
	f.Variable = check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{
		Key: "fill", Value: "value", GameServerID: &f.GameServer.ID, PlayerID: &f.Player.ID,
	}))
	check[*takaro.Setting](t)(e.core.SetSetting(tn.ctx, takaro.SettingCommandPrefix, takaro.SettingSet{Value: "!", GameServerID: &f.GameServer.ID}))
	f.Module = e.fillModule(t, tn, f.GameServer.ID)
	check[*takaro.Ban](t)(e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: f.Player.ID, GameServerID: &f.GameServer.ID}))
	check[*takaro.Item](t)(e.core.UpsertItem(tn.ctx, takaro.ItemUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: f.GameServer.ID, Code: "fill", Name: "Fill"}}))
	check[*takaro.Entity](t)(e.core.UpsertEntity(tn.ctx, takaro.EntityUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: f.GameServer.ID, Code: "fill", Name: "Fill"}}))
	category := check[*takaro.ShopCategory](t)(e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: uniqueName("Category"), Emoji: "🛡️"}))
	f.Listing = check[*takaro.ShopListing](t)(e.core.CreateShopListing(tn.ctx, takaro.ShopListingCreate{GameServerID: f.GameServer.ID,
		Name: "Fill", Price: 10, Items: []takaro.ShopListingItemInput{{Amount: 1, Code: ptrTo("fill")}}, CategoryIDs: []uuid.UUID{category.ID}}))
	check[*takaro.PlayerOnGameServer](t)(e.core.AddCurrency(tn.ctx, f.GameServer.ID, f.Player.ID, takaro.CurrencyAmount{Currency: 100}))
	check[*takaro.ShopOrder](t)(e.core.CreateShopOrder(tn.ctx, takaro.ShopOrderCreate{ListingID: f.Listing.ID, Amount: 1, PlayerID: &f.Player.ID}, true))
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		if _, err := tx.Exec(tn.ctx, "UPDATE users SET player_id = $2 WHERE domain = $1 AND id = $3",
			tx.Domain, f.Player.ID, tn.rootUserID()); err != nil {
			return err
		}
		err := tx.QueryRow(tn.ctx, `INSERT INTO api_keys (domain, user_id, name, secret_hash)
			VALUES ($1, $2, 'fill', crypt('secret', gen_salt('bf', 4))) RETURNING id`, tx.Domain, tn.rootUserID()).Scan(&f.APIKeyID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(tn.ctx, `INSERT INTO api_key_permissions (domain, api_key_id, permission_id)
			SELECT $1, $2, id FROM permissions WHERE code = 'READ_PLAYERS'`, tx.Domain, f.APIKeyID); err != nil {
			return err
		}
		_, err = tx.Exec(tn.ctx, `INSERT INTO sessions (domain, user_id, secret_hash, expires_at, login_domains)
			VALUES ($1, $2, crypt('secret', gen_salt('bf', 4)), now() + interval '1 hour', ARRAY[$1])`, tx.Domain, tn.rootUserID())
		return err
	}))
	return f
}

// fillModule creates a module whose latest version holds one of every
// part (a command with an argument, a hook, a cron job, a function and a
// permission, held by a role), and installs it on a game server.
func (e *env) fillModule(t testing.TB, tn *tenant, gameServer uuid.UUID) *takaro.Module {
	t.Helper()
	m := check[*takaro.Module](t)(e.core.CreateModule(tn.ctx, takaro.ModuleCreate{Name: uniqueName("module"),
		LatestVersion: &takaro.ModuleVersionInput{Permissions: &[]takaro.ModulePermissionInput{
			{Permission: "FILL_USE", FriendlyName: "Use", Description: "Use the module"}}}}))
	v := m.LatestVersion.ID
	check[*takaro.Command](t)(e.core.CreateCommand(tn.ctx, takaro.CommandCreate{Name: "cmd", Trigger: "cmd", VersionID: v,
		Arguments: []takaro.CommandArgumentCreate{{Name: "arg", Type: takaro.ArgumentString, Position: 0}}}))
	check[*takaro.Hook](t)(e.core.CreateHook(tn.ctx, takaro.HookCreate{Name: "hook", EventType: "chat-message", VersionID: v}))
	check[*takaro.CronJob](t)(e.core.CreateCronJob(tn.ctx, takaro.CronJobCreate{Name: "cron", TemporalValue: "* * * * *", VersionID: v}))
	name := "fn"
	check[*takaro.Function](t)(e.core.CreateFunction(tn.ctx, takaro.FunctionCreate{Name: &name, VersionID: &v}))
	check[*takaro.Installation](t)(e.core.InstallModule(tn.ctx, takaro.InstallationCreate{VersionID: v, GameServerID: gameServer}))
	m = check[*takaro.Module](t)(e.core.FindModuleByID(tn.ctx, m.ID))
	check[*takaro.Role](t)(e.core.CreateRole(tn.ctx, takaro.RoleCreate{Name: uniqueName("mrole"),
		Permissions: []takaro.PermissionInput{{PermissionID: m.LatestVersion.Permissions[0].ID}}}))
	return m
}

// superuser returns a pool on db as the server's superuser, which row-level
// security does not restrict.
func superuser(t testing.TB, db *pgtest.Database) *pgxpool.Pool {
	t.Helper()
	cfg := pgtest.Admin(t).Config().Copy()
	cfg.ConnConfig.Database = db.Name
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	must(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// tenantTableQuery lists, from the catalogue, the ordinary tables of schema
// public that no extension owns and that have a domain column.
const tenantTableQuery = `
	SELECT c.relname FROM pg_class c
	WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'domain' AND NOT a.attisdropped)
	ORDER BY c.relname`

// tenantTables returns the tenant tables of the database q reads.
func tenantTables(t testing.TB, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) []string {
	t.Helper()
	rows, err := q.Query(context.Background(), tenantTableQuery)
	must(t, err)
	tables := check[[]string](t)(pgx.CollectRows(rows, pgx.RowTo[string]))
	if len(tables) < 10 {
		t.Fatalf("the catalogue lists only %d tenant tables: %v", len(tables), tables)
	}
	return tables
}

// countByDomain counts, as a superuser, each tenant table's rows of domain.
func countByDomain(t testing.TB, super *pgxpool.Pool, tables []string, domain string) map[string]int {
	t.Helper()
	counts := make(map[string]int, len(tables))
	for _, table := range tables {
		var n int
		must(t, super.QueryRow(context.Background(),
			"SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE domain = $1", domain).Scan(&n))
		counts[table] = n
	}
	return counts
}

// requireNoEmptyTable fails unless every table has rows in counts.
func requireNoEmptyTable(t testing.TB, counts map[string]int) {
	t.Helper()
	var empty []string
	for table, n := range counts {
		if n == 0 {
			empty = append(empty, table)
		}
	}
	slices.Sort(empty)
	if len(empty) > 0 {
		t.Fatalf("tenant tables without rows after fill: %s (teach fill to add one)", strings.Join(empty, ", "))
	}
}

// atOnce runs fn(0) … fn(n-1) in goroutines released together, so they
// really race, and returns their errors by index.
func atOnce(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// uniqueViolation is the reference's message for a taken unique value,
// which its clients compare; it names no field.
const uniqueViolation = "Unique constraint violation"
