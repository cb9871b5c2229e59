package pgtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// fingerprintQueries describe the schema from the catalog, one text line
// per object, with nothing that depends on the database (no OIDs, no
// database name), so fingerprints of two databases can be compared.
// Extension members (pgcrypto's functions) are left out: they are not the
// migrations' business; so are partitions with what belongs to them: the
// data core makes the day partitions of the history tables as time goes
// by (their isolation is tested on its own).
var fingerprintQueries = []string{
	`SELECT 'schema ' || nspname FROM pg_namespace
	 WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'`,
	`SELECT 'extension ' || extname FROM pg_extension`,
	`SELECT format('relation %s kind=%s rls=%s force_rls=%s acl=%s def=%s', c.relname, c.relkind,
	        c.relrowsecurity, c.relforcerowsecurity, coalesce(c.relacl::text, '-'),
	        CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) ELSE '-' END)
	 FROM pg_class c
	 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
	// The position counts live columns only: a column dropped by a down
	// step and added again by the up step gets a new attnum.
	`SELECT format('column %s.%s position=%s type=%s not_null=%s default=%s identity=%s generated=%s', c.relname, a.attname,
	        row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
	        a.attnotnull, coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-'), a.attidentity, a.attgenerated)
	 FROM pg_attribute a
	 JOIN pg_class c ON c.oid = a.attrelid
	 LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	   AND a.attnum > 0 AND NOT a.attisdropped AND NOT c.relispartition`,
	`SELECT format('constraint %s.%s %s', CASE WHEN con.conrelid <> 0 THEN con.conrelid::regclass::text ELSE con.contypid::regtype::text END,
	        con.conname, pg_get_constraintdef(con.oid))
	 FROM pg_constraint con WHERE con.connamespace = 'public'::regnamespace
	   AND NOT EXISTS (SELECT 1 FROM pg_class p WHERE p.oid = con.conrelid AND p.relispartition)`,
	`SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	 WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition`,
	`SELECT format('policy %s.%s %s %s roles=%s using=%s check=%s', tablename, policyname, permissive, cmd,
	        roles::text, coalesce(qual, '-'), coalesce(with_check, '-'))
	 FROM pg_policies WHERE schemaname = 'public'
	   AND NOT EXISTS (SELECT 1 FROM pg_class p WHERE p.relnamespace = 'public'::regnamespace AND p.relname = tablename AND p.relispartition)`,
	`SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
	 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	 WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal AND NOT c.relispartition`,
	`SELECT 'function ' || CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.oid::regprocedure::text END
	 FROM pg_proc p
	 WHERE p.pronamespace = 'public'::regnamespace
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
	`SELECT format('type %s kind=%s %s', t.typname, t.typtype, CASE t.typtype
	        WHEN 'e' THEN (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid)
	        WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '' END)
	 FROM pg_type t
	 WHERE t.typnamespace = 'public'::regnamespace
	   AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')`,
}

// SchemaFingerprint returns the sorted catalog description of the database's
// schema: relations with their row-level security flags and grants,
// columns with types, defaults and nullability, constraints, indexes,
// policies, triggers, functions and types.
func SchemaFingerprint(t testing.TB, pool *pgxpool.Pool) []string {
	t.Helper()
	var lines []string
	for _, q := range fingerprintQueries {
		rows, err := pool.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("fingerprint: %v\n%s", err, q)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("fingerprint: %v\n%s", err, q)
		}
		lines = append(lines, got...)
	}
	slices.Sort(lines)
	return lines
}

// RequireSameSchema fails the test when two fingerprints differ, listing
// the lines that only one of them has.
func RequireSameSchema(t testing.TB, what string, want, got []string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "\n  - %s", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "\n  + %s", l)
		}
	}
	t.Fatalf("%s: the schema differs (- expected, + got):%s", what, b.String())
}
