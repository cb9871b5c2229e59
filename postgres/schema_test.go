package postgres_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// globalTables are the only tables without a domain column.
var globalTables = []string{"domains", "goose_db_version", "permissions"}

// extraPolicies are the only permissive policies besides tenant_isolation,
// as "table.policy" and the one command each may apply to.
var extraPolicies = map[string]string{"users.login_lookup": "SELECT"}

// schemaPool returns a pool on a freshly migrated database.
func schemaPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return pgtest.New(t).Pool(t)
}

func queryStrings(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql, args...)
	must(t, err)
	return check[[]string](t)(pgx.CollectRows(rows, pgx.RowTo[string]))
}

func TestSchemaEveryTableIsTenantOrKnownGlobal(t *testing.T) {
	t.Parallel()
	pool := schemaPool(t)
	tenants := tenantTables(t, pool)
	globals := queryStrings(t, pool, `
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'domain' AND NOT a.attisdropped)
		ORDER BY c.relname`)
	if !slices.Equal(globals, globalTables) {
		t.Errorf("tables without a domain column: %v, want exactly %v", globals, globalTables)
	}
	// Other kinds of relation could expose rows without row-level security.
	others := queryStrings(t, pool, `SELECT c.relname || ' (' || c.relkind::text || ')' FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm', 'f')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`)
	if len(others) > 0 {
		t.Errorf("views or foreign tables in schema public bypass the tenant policies: %v", others)
	}
	for _, table := range tenants {
		var notNull bool
		var cascades int
		err := pool.QueryRow(context.Background(), `
			SELECT a.attnotnull,
				(SELECT count(*) FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'f'
					AND k.confrelid = 'domains'::regclass AND k.conkey = ARRAY[a.attnum] AND k.confdeltype = 'c')
			FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = 'domain'`, table).Scan(&notNull, &cascades)
		must(t, err)
		if !notNull || cascades != 1 {
			t.Errorf("%s.domain: NOT NULL %v, %d references to domains with ON DELETE CASCADE; want NOT NULL and one", table, notNull, cascades)
		}
	}
}

// normalizeExpr strips the casts, spaces and parentheses that PostgreSQL
// adds when it prints an expression.
func normalizeExpr(s string) string {
	s = strings.ReplaceAll(s, "::text", "")
	return strings.NewReplacer(" ", "", "\n", "", "\t", "", "(", "", ")", "").Replace(s)
}

func TestSchemaTenantTablesHaveForcedRowLevelSecurity(t *testing.T) {
	t.Parallel()
	pool := schemaPool(t)
	tenants := tenantTables(t, pool)
	ctx := context.Background()
	want := normalizeExpr("domain = NULLIF(current_setting('takaro.domain', true), '')")
	for _, table := range tenants {
		var enabled, forced bool
		must(t, pool.QueryRow(ctx, "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass", table).Scan(&enabled, &forced))
		if !enabled || !forced {
			t.Errorf("%s: row-level security enabled %v, forced %v; want both", table, enabled, forced)
		}
		rows, err := pool.Query(ctx, `SELECT policyname, permissive, cmd, roles::text[], coalesce(qual, ''), coalesce(with_check, '')
			FROM pg_policies WHERE schemaname = 'public' AND tablename = $1 ORDER BY policyname`, table)
		must(t, err)
		var found bool
		for rows.Next() {
			var name, permissive, cmd, qual, withCheck string
			var roles []string
			must(t, rows.Scan(&name, &permissive, &cmd, &roles, &qual, &withCheck))
			switch {
			case name == "tenant_isolation":
				found = true
				if permissive != "PERMISSIVE" || cmd != "ALL" || !slices.Equal(roles, []string{"public"}) {
					t.Errorf("%s.tenant_isolation: %s, for %s, to %v; want PERMISSIVE, ALL, public", table, permissive, cmd, roles)
				}
				if normalizeExpr(qual) != want || normalizeExpr(withCheck) != want {
					t.Errorf("%s.tenant_isolation: USING %s WITH CHECK %s; want both to be %s", table, qual, withCheck, want)
				}
				if !strings.Contains(qual, "NULLIF") || !strings.Contains(withCheck, "NULLIF") {
					t.Errorf("%s.tenant_isolation does not fail closed through NULLIF", table)
				}
			case permissive == "RESTRICTIVE":
				// A restrictive policy can only narrow what is visible.
			default:
				if allowed, ok := extraPolicies[table+"."+name]; !ok || allowed != cmd {
					t.Errorf("%s: unexpected permissive policy %s for %s USING %s", table, name, cmd, qual)
				}
			}
		}
		must(t, rows.Err())
		if !found {
			t.Errorf("%s has no tenant_isolation policy", table)
		}
	}
	// Every allowed extra policy still exists: the allowlist is not stale.
	for key := range extraPolicies {
		table, name, _ := strings.Cut(key, ".")
		var n int
		must(t, pool.QueryRow(ctx, "SELECT count(*) FROM pg_policies WHERE schemaname = 'public' AND tablename = $1 AND policyname = $2", table, name).Scan(&n))
		if n != 1 {
			t.Errorf("allowed policy %s does not exist", key)
		}
	}
}

func TestSchemaKeysStartWithDomain(t *testing.T) {
	t.Parallel()
	pool := schemaPool(t)
	tenants := tenantTables(t, pool)
	ctx := context.Background()

	// Every unique index, including those behind primary key and unique
	// constraints, and partial ones.
	rows, err := pool.Query(ctx, `
		SELECT c.relname, i.relname, x.indisprimary,
			coalesce((SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = x.indkey[0]), '<expression>')
		FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
		WHERE x.indisunique AND c.relname = ANY($1)`, tenants)
	must(t, err)
	seenPK := map[string]bool{}
	var unique int
	for rows.Next() {
		var table, index, first string
		var primary bool
		must(t, rows.Scan(&table, &index, &primary, &first))
		unique++
		if primary {
			seenPK[table] = true
		}
		if first != "domain" {
			t.Errorf("%s: unique index %s starts with %s, not domain: it would be a cross-tenant oracle", table, index, first)
		}
	}
	must(t, rows.Err())
	for _, table := range tenants {
		if !seenPK[table] {
			t.Errorf("%s has no primary key", table)
		}
	}
	if unique <= len(tenants) {
		t.Fatalf("only %d unique indexes on %d tenant tables: the catalogue query is wrong", unique, len(tenants))
	}

	rows, err = pool.Query(ctx, `
		SELECT k.conname, k.conrelid::regclass::text, k.confrelid::regclass::text,
			(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = k.conkey[1]),
			(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = k.confrelid AND a.attnum = k.confkey[1])
		FROM pg_constraint k
		WHERE k.contype = 'f' AND k.conrelid::regclass::text = ANY($1) AND k.confrelid::regclass::text = ANY($1)`, tenants)
	must(t, err)
	var fks int
	for rows.Next() {
		var name, from, to, fromFirst, toFirst string
		must(t, rows.Scan(&name, &from, &to, &fromFirst, &toFirst))
		fks++
		if fromFirst != "domain" || toFirst != "domain" {
			t.Errorf("foreign key %s from %s (%s, ...) to %s (%s, ...): both sides must start with domain", name, from, fromFirst, to, toFirst)
		}
	}
	must(t, rows.Err())
	if fks < 10 {
		t.Fatalf("only %d foreign keys between tenant tables: the catalogue query is wrong", fks)
	}
}

func TestSchemaConstraintFieldsExist(t *testing.T) {
	t.Parallel()
	pool := schemaPool(t)
	names := postgres.ConstraintFieldNamesForTest()
	if len(names) == 0 {
		t.Fatal("no constraint names exported")
	}
	for _, name := range names {
		// translateError meets a foreign key by its constraint name and a
		// unique violation by the name of the index behind it.
		var sql string
		if strings.HasSuffix(name, "_fkey") {
			sql = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conname = $1 AND connamespace = 'public'::regnamespace"
		} else {
			sql = `SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
				WHERE x.indisunique AND NOT x.indisprimary AND i.relname = $1 AND i.relnamespace = 'public'::regnamespace`
		}
		var n int
		must(t, pool.QueryRow(context.Background(), sql, name).Scan(&n))
		if n != 1 {
			t.Errorf("constraintFields names %s, which is not a %s in the schema", name,
				map[bool]string{true: "foreign key", false: "unique index"}[strings.HasSuffix(name, "_fkey")])
		}
	}
}

func TestSchemaEventNamesMatchTheCheckConstraint(t *testing.T) {
	t.Parallel()
	pool := schemaPool(t)
	var def string
	must(t, pool.QueryRow(context.Background(), `SELECT pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conname = 'events_event_name_known' AND conrelid = 'events'::regclass`).Scan(&def))
	var inDB []string
	for _, m := range regexp.MustCompile(`'((?:[^']|'')*)'`).FindAllStringSubmatch(def, -1) {
		inDB = append(inDB, strings.ReplaceAll(m[1], "''", "'"))
	}
	var inGo []string
	for _, n := range takaro.EventNames {
		inGo = append(inGo, string(n))
	}
	if len(inDB) != len(inGo) {
		t.Errorf("the CHECK constraint lists %d names, takaro.EventNames %d", len(inDB), len(inGo))
	}
	slices.Sort(inDB)
	slices.Sort(inGo)
	if len(slices.Compact(slices.Clone(inGo))) != len(inGo) {
		t.Errorf("takaro.EventNames lists a name twice")
	}
	if !slices.Equal(inDB, inGo) {
		for _, n := range inGo {
			if !slices.Contains(inDB, n) {
				t.Errorf("event name %q is in takaro.EventNames but not in the CHECK constraint", n)
			}
		}
		for _, n := range inDB {
			if !slices.Contains(inGo, n) {
				t.Errorf("event name %q is in the CHECK constraint but not in takaro.EventNames", n)
			}
		}
		t.Fatalf("constraint: %s", def)
	}
}

func TestSchemaPermissionCatalogueMatchesTheCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	perms := check[[]takaro.Permission](t)(e.core.ListPermissions(context.Background()))
	var codes []string
	for _, p := range perms {
		codes = append(codes, p.Permission)
	}
	want := slices.Clone(takaro.PermissionCodes)
	slices.Sort(want)
	if !slices.Equal(codes, want) {
		t.Errorf("permission catalogue %v, want %v", codes, want)
	}
}
