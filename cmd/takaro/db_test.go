package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// appliedFile returns the migration a line of `db migrate` reports as
// applied ("applied 00001_x.sql (12ms)").
func appliedFile(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "applied ")
	if !ok {
		return "", false
	}
	file, _, ok := strings.Cut(rest, " (")
	return file, ok && strings.HasSuffix(rest, ")")
}

// requireApplied fails unless stdout reports exactly ms applied, in order.
func requireApplied(t *testing.T, o output, ms []migration) {
	t.Helper()
	var got []string
	for line := range strings.Lines(o.stdout) {
		file, ok := appliedFile(strings.TrimSpace(line))
		if !ok {
			t.Fatalf("unexpected line %q in:\n%s", line, o)
		}
		got = append(got, file)
	}
	var want []string
	for _, m := range ms {
		want = append(want, m.file)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("applied %v, want %v:\n%s", got, want, o)
	}
}

// TestMigrateConcurrentProcesses starts eight `takaro db migrate`
// processes at once on an empty database: every migration is applied once,
// by one of them, and the others find the schema up to date.
func TestMigrateConcurrentProcesses(t *testing.T) {
	t.Parallel()
	const n = 8
	db := pgtest.NewEmpty(t, true)
	env := dbEnv(t, db)
	ms := realMigrations(t)
	type process struct {
		cmd            *exec.Cmd
		stdout, stderr *bytes.Buffer
	}
	var procs []process
	for range n {
		cmd, stdout, stderr := takaroProcess(t, env, "db", "migrate")
		procs = append(procs, process{cmd, stdout, stderr})
	}
	for _, p := range procs {
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	applied := map[string]int{}
	upToDate, applying := 0, 0
	for i, p := range procs {
		o := waitOutput(t, p.cmd, p.stdout, p.stderr)
		if o.code != 0 || o.stderr != "" {
			t.Errorf("process %d: want exit status 0 and nothing on stderr, got:\n%s", i, o)
			continue
		}
		if o.stdout == "the schema is up to date\n" {
			upToDate++
			continue
		}
		applying++
		for line := range strings.Lines(o.stdout) {
			file, ok := appliedFile(strings.TrimSpace(line))
			if !ok {
				t.Errorf("process %d: unexpected line %q:\n%s", i, line, o)
			}
			applied[file]++
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, m := range ms {
		if applied[m.file] != 1 {
			t.Errorf("%s was reported applied %d times, want once", m.file, applied[m.file])
		}
	}
	if len(applied) != len(ms) || applying < 1 || upToDate != n-applying {
		t.Errorf("reported applied: %v; %d run(s) applied migrations, %d found the schema up to date", applied, applying, upToDate)
	}
	pool := db.Pool(t)
	requireRecorded(t, pool, ms)
	var pgcrypto int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_extension WHERE extname = 'pgcrypto'").Scan(&pgcrypto); err != nil {
		t.Fatal(err)
	}
	if pgcrypto != 1 {
		t.Errorf("pgcrypto is installed %d times", pgcrypto)
	}
	pgtest.RequireSameSchema(t, "after concurrent migrations", pgtest.SchemaFingerprint(t, pgtest.New(t).Pool(t)), pgtest.SchemaFingerprint(t, pool))
}

// requireNoTable fails when the table exists.
func requireNoTable(t *testing.T, pool *pgxpool.Pool, table string) {
	t.Helper()
	var exists bool
	if err := pool.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("table %s exists", table)
	}
}

// TestMigrateFailingMigration runs, as a separate process, a takaro whose
// migrations end with one that creates a table and then fails: it exits
// non-zero naming the file and the cause, the migrations before it are
// applied, and the failing one left nothing behind.
func TestMigrateFailingMigration(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	pool := db.Pool(t)
	env := dbEnv(t, db)
	env[envMigrations] = "failing-up"
	ms := realMigrations(t)

	o := takaroChild(t, env, "db", "migrate")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, "takaro db migrate: migration 99999_fails.sql failed",
		`function takaro_no_such_function() does not exist`, "rolled back")
	requireApplied(t, o, ms)
	requireRecorded(t, pool, ms)
	requireNoTable(t, pool, "takaro_failing_probe")
	pgtest.RequireSameSchema(t, "after the failing migration", pgtest.SchemaFingerprint(t, pgtest.New(t).Pool(t)), pgtest.SchemaFingerprint(t, pool))

	// Again, with only the failing one pending: nothing changes at all.
	before := pgtest.SchemaFingerprint(t, pool)
	o = takaroChild(t, env, "db:migrate")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, "99999_fails.sql", "takaro_no_such_function")
	if o.stdout != "" {
		t.Fatalf("nothing was applied, but stdout says:\n%s", o)
	}
	pgtest.RequireSameSchema(t, "after the failing migration, again", before, pgtest.SchemaFingerprint(t, pool))
	requireRecorded(t, pool, ms)

	// Status shows it pending.
	o = takaroChild(t, env, "db", "status")
	requireExit(t, o, 0)
	requireContains(t, "status", o.stdout, fmt.Sprintf("%d applied, 1 pending", len(ms)))
}

// TestRollbackFailingMigration rolls back, in a separate process, a
// migration whose down step drops a table and then fails: it exits
// non-zero naming the file and the cause, and the schema is unchanged.
func TestRollbackFailingMigration(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pool := db.Pool(t)
	env := dbEnv(t, db)
	env[envMigrations] = "failing-down"
	ms := realMigrations(t)

	o := takaroChild(t, env, "db", "migrate")
	requireExit(t, o, 0)
	requireApplied(t, o, []migration{{99999, "99999_bad_down.sql"}})
	before := pgtest.SchemaFingerprint(t, pool)
	if !slices.Contains(before, "relation takaro_bad_down_probe kind=r rls=f force_rls=f acl=- def=-") {
		t.Fatalf("the probe table is missing:\n%s", strings.Join(before, "\n"))
	}
	for _, args := range [][]string{{"db", "rollback"}, {"db:rollback"}} {
		o = takaroChild(t, env, args...)
		requireExit(t, o, 1)
		requireContains(t, "stderr", o.stderr, "takaro db rollback: migration 99999_bad_down.sql failed",
			`relation "takaro_no_such_table" does not exist`, "rolled back")
		if o.stdout != "" {
			t.Fatalf("nothing was rolled back, but stdout says:\n%s", o)
		}
		pgtest.RequireSameSchema(t, "after the failing rollback", before, pgtest.SchemaFingerprint(t, pool))
		requireRecorded(t, pool, append(slices.Clone(ms), migration{99999, "99999_bad_down.sql"}))
	}
}

// TestNewerReleaseIsRefused records a migration this binary does not know,
// as a newer release would: migrate, rollback and status refuse to work,
// and change nothing.
func TestNewerReleaseIsRefused(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pool := db.Pool(t)
	env := dbEnv(t, db)
	// Leave one migration pending, so that migrate would have work to do.
	requireExit(t, takaro(t, env, "db", "rollback"), 0)
	if _, err := pool.Exec(context.Background(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)"); err != nil {
		t.Fatal(err)
	}
	schema, recorded := pgtest.SchemaFingerprint(t, pool), recordedVersions(t, pool)
	for _, args := range [][]string{{"db", "migrate"}, {"db:migrate"}, {"db", "rollback"}, {"db:rollback"}, {"db", "status"}} {
		o := takaro(t, env, args...)
		requireExit(t, o, 1)
		requireContains(t, "stderr", o.stderr, "migration version(s) 99999", "newer release of takaro")
		if o.stdout != "" {
			t.Fatalf("takaro %v printed something:\n%s", args, o)
		}
		pgtest.RequireSameSchema(t, fmt.Sprintf("after takaro %v", args), schema, pgtest.SchemaFingerprint(t, pool))
		if got := recordedVersions(t, pool); fmt.Sprint(got) != fmt.Sprint(recorded) {
			t.Fatalf("takaro %v changed goose_db_version from %v to %v", args, recorded, got)
		}
	}
}

// statusRow is one migration in the output of `takaro db status`.
type statusRow struct {
	version   int64
	state     string
	appliedAt time.Time
	file      string
}

// dbStatus runs `takaro db status` and parses its table and summary.
func dbStatus(t *testing.T, env map[string]string, ms []migration) ([]statusRow, string) {
	t.Helper()
	o := takaro(t, env, "db", "status")
	requireExit(t, o, 0)
	lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
	if len(lines) != len(ms)+2 || strings.Join(strings.Fields(lines[0]), " ") != "VERSION STATE APPLIED AT MIGRATION" {
		t.Fatalf("want a header, %d migrations and a summary:\n%s", len(ms), o)
	}
	var rows []statusRow
	for i, line := range lines[1 : len(lines)-1] {
		f := strings.Fields(line)
		var r statusRow
		var err error
		switch {
		case len(f) == 4 && f[1] == "pending" && f[2] == "-":
			r.state, r.file = f[1], f[3]
		case len(f) == 6 && f[1] == "applied" && f[4] == "UTC":
			r.state, r.file = f[1], f[5]
			if r.appliedAt, err = time.Parse(time.DateTime, f[2]+" "+f[3]); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
		default:
			t.Fatalf("unexpected status line %q:\n%s", line, o)
		}
		if r.version, err = strconv.ParseInt(f[0], 10, 64); err != nil || r.version != ms[i].version || r.file != ms[i].file {
			t.Fatalf("line %q: want version %d, %s:\n%s", line, ms[i].version, ms[i].file, o)
		}
		rows = append(rows, r)
	}
	return rows, lines[len(lines)-1]
}

// requireStates fails unless the status rows are applied, except the
// last `pending` ones; applied ones must have been applied after since.
func requireStates(t *testing.T, rows []statusRow, summary string, pending int, since time.Time) {
	t.Helper()
	for i, r := range rows {
		wantState := "applied"
		if i >= len(rows)-pending {
			wantState = "pending"
		}
		if r.state != wantState {
			t.Fatalf("%s is %s, want %s", r.file, r.state, wantState)
		}
		if wantState == "applied" && (r.appliedAt.Before(since.Add(-time.Minute)) || r.appliedAt.After(time.Now().Add(time.Minute))) {
			t.Fatalf("%s was applied at %s UTC, want between %s and now", r.file, r.appliedAt.Format(time.DateTime), since.UTC())
		}
	}
	if want := fmt.Sprintf("%d applied, %d pending", len(rows)-pending, pending); summary != want {
		t.Fatalf("summary %q, want %q", summary, want)
	}
}

// TestStatusRollbackAndAliases walks a database through migrate, status
// and rollback (and their db: aliases). The database's sessions default to
// a time zone far from UTC, which must not skew the applied times.
func TestStatusRollbackAndAliases(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	if _, err := pgtest.Admin(t).Exec(context.Background(),
		"ALTER DATABASE "+pgx.Identifier{db.Name}.Sanitize()+" SET timezone = 'Pacific/Kiritimati'"); err != nil {
		t.Fatal(err)
	}
	env := dbEnv(t, db)
	ms := realMigrations(t)
	last, secondLast := ms[len(ms)-1], ms[len(ms)-2]

	rows, summary := dbStatus(t, env, ms)
	requireStates(t, rows, summary, len(ms), time.Time{})

	start := time.Now()
	o := takaro(t, env, "db:migrate")
	requireExit(t, o, 0)
	requireApplied(t, o, ms)
	o = takaro(t, env, "db", "migrate")
	requireExit(t, o, 0)
	if o.stdout != "the schema is up to date\n" {
		t.Fatalf("a second migrate:\n%s", o)
	}
	rows, summary = dbStatus(t, env, ms)
	requireStates(t, rows, summary, 0, start)

	o = takaro(t, env, "db", "rollback")
	requireExit(t, o, 0)
	requireContains(t, "rollback", o.stdout, "rolled back "+last.file+" (")
	rows, summary = dbStatus(t, env, ms)
	requireStates(t, rows, summary, 1, start)

	o = takaro(t, env, "db:rollback")
	requireExit(t, o, 0)
	requireContains(t, "rollback", o.stdout, "rolled back "+secondLast.file+" (")
	rows, summary = dbStatus(t, env, ms)
	requireStates(t, rows, summary, 2, start)

	o = takaro(t, env, "db", "migrate")
	requireExit(t, o, 0)
	requireApplied(t, o, []migration{secondLast, last})
	rows, summary = dbStatus(t, env, ms)
	requireStates(t, rows, summary, 0, start)
}

// TestRollbackWithNothingApplied rolls back on a new database, and again
// after rolling back every migration one by one.
func TestRollbackWithNothingApplied(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	env := dbEnv(t, db)
	ms := realMigrations(t)
	const nothing = "no migration is applied; nothing to roll back\n"

	o := takaro(t, env, "db", "rollback")
	requireExit(t, o, 0)
	if o.stdout != nothing {
		t.Fatalf("rollback on a new database:\n%s", o)
	}
	requireExit(t, takaro(t, env, "db", "migrate"), 0)
	for i := len(ms) - 1; i >= 0; i-- {
		o := takaro(t, env, "db:rollback")
		requireExit(t, o, 0)
		requireContains(t, "rollback", o.stdout, "rolled back "+ms[i].file+" (")
	}
	o = takaro(t, env, "db", "rollback")
	requireExit(t, o, 0)
	if o.stdout != nothing {
		t.Fatalf("rollback after rolling back everything:\n%s", o)
	}
	requireRecorded(t, db.Pool(t), nil)
}

// TestSuperuserIsRefused connects as the server's superuser, which
// row-level security does not apply to: every database command refuses,
// before it changes anything.
func TestSuperuserIsRefused(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	admin := pgtest.Admin(t).Config().ConnConfig
	superConnString := db.ConnStringAs(t, admin.User, admin.Password)
	env := map[string]string{"POSTGRES_CONNECTION_STRING": superConnString, "TAKARO_DATA_DIR": t.TempDir()}
	for _, args := range [][]string{{"db", "migrate"}, {"db", "rollback"}, {"db", "status"}} {
		o := takaro(t, env, args...)
		requireExit(t, o, 1)
		requireContains(t, "stderr", o.stderr, fmt.Sprintf("the database role %q is a superuser", admin.User),
			"so PostgreSQL would not apply row-level security", "NOSUPERUSER NOBYPASSRLS")
	}
	super, err := pgxpool.New(context.Background(), superConnString)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close()
	if got := recordedVersions(t, super); got != nil {
		t.Fatalf("goose_db_version was created: %v", got)
	}
	var pgcrypto bool
	if err := super.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto')").Scan(&pgcrypto); err != nil {
		t.Fatal(err)
	}
	if pgcrypto {
		t.Fatal("pgcrypto was installed for a refused superuser")
	}
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestCreateMigration creates migrations in a directory given by -dir,
// before or after the name.
func TestCreateMigration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"00001_first.sql", "00007_AddThing.sql", "00012_notes.md", "README"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"TAKARO_DATA_DIR": t.TempDir()}

	// The highest migration is 00007 even though its name is not a slug.
	o := takaro(t, env, "db", "create", "Add Bans!", "-dir", dir)
	requireExit(t, o, 0)
	want := filepath.Join(dir, "00008_add_bans.sql")
	if o.stdout != "created "+want+"\n" {
		t.Fatalf("want %s created:\n%s", want, o)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	content := string(b)
	up, down := strings.Index(content, "\n-- +goose Up\n"), strings.Index(content, "\n-- +goose Down\n")
	if !strings.HasPrefix(content, "-- Add Bans!\n") || up < 0 || down < up {
		t.Fatalf("the new migration lacks its title or its Up and Down sections, in order:\n%s", content)
	}

	o = takaro(t, env, "db", "create", "-dir", dir, "  kick  idle   players ")
	requireExit(t, o, 0)
	requireContains(t, "stdout", o.stdout, filepath.Join(dir, "00009_kick_idle_players.sql"))

	before := listDir(t, dir)
	for _, name := range []string{"123", "!!!", "-- 42 --", ""} {
		o := takaro(t, env, "db", "create", "-dir", dir, "--", name)
		requireExit(t, o, 2)
		requireContains(t, "stderr", o.stderr, "must contain a letter")
	}
	if after := listDir(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a refused name created a file: %v, then %v", before, after)
	}

	long := strings.Repeat("very long name ", 30)
	o = takaro(t, env, "db", "create", "-dir", dir, long)
	requireExit(t, o, 0)
	if name := filepath.Base(strings.TrimSpace(strings.TrimPrefix(o.stdout, "created "))); len(name) > 100 ||
		!strings.HasPrefix(name, "00010_very_long_name_") || strings.Contains(name, "__") || strings.HasSuffix(name, "_.sql") {
		t.Fatalf("the file name of a long migration name: %q", name)
	}

	o = takaro(t, env, "db", "create", "-dir", filepath.Join(dir, "missing"), "x")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, "read the migrations directory")
}

// TestCreatedMigrationApplies creates a migration next to copies of the
// real ones, then applies and rolls it back: the template is valid goose.
func TestCreatedMigrationApplies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ms := realMigrations(t)
	for _, m := range ms {
		b, err := os.ReadFile(filepath.Join("..", "..", "postgres", "migrations", m.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m.file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := dbEnv(t, pgtest.NewEmpty(t, true))
	o := takaro(t, env, "db", "create", "add bans", "-dir", dir)
	requireExit(t, o, 0)
	next := migration{ms[len(ms)-1].version + 1, fmt.Sprintf("%05d_add_bans.sql", ms[len(ms)-1].version+1)}
	requireContains(t, "stdout", o.stdout, next.file)

	o = takaroWith(t, env, os.DirFS(dir), "db", "migrate")
	requireExit(t, o, 0)
	requireApplied(t, o, append(slices.Clone(ms), next))
	o = takaroWith(t, env, os.DirFS(dir), "db", "rollback")
	requireExit(t, o, 0)
	requireContains(t, "stdout", o.stdout, "rolled back "+next.file)
}

// writeTree creates files (path: content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for path, content := range files {
		p := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSourceMigrationsDir finds postgres/migrations from anywhere in a
// source tree of the takaro module, and nowhere else.
func TestSourceMigrationsDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"plain/go.mod":      "module github.com/gotakaro/takaro\n\ngo 1.26\n",
		"plain/a/b/c/.keep": "",
		// A nested module of another name is skipped on the way up.
		"plain/tools/go.mod":      "module github.com/gotakaro/takaro/tools\n",
		"plain/tools/lint/.keep":  "",
		"commented/go.mod":        "// The takaro module.\r\n\r\nmodule   \"github.com/gotakaro/takaro\" // the Go rewrite\r\n\r\ngo 1.26\r\n",
		"commented/cmd/.keep":     "",
		"fork/go.mod":             "module github.com/gotakaro/takaro-fork\n",
		"fork/cmd/.keep":          "",
		"mentions/go.mod":         "module example.com/other\n\n// replaces module github.com/gotakaro/takaro\n",
		"mentions/postgres/.keep": "",
	})
	for start, want := range map[string]string{
		"plain":            "plain",
		"plain/a/b/c":      "plain",
		"plain/tools/lint": "plain",
		"commented/cmd":    "commented",
	} {
		got, err := sourceMigrationsDir(filepath.Join(root, start))
		if err != nil || got != filepath.Join(root, want, "postgres", "migrations") {
			t.Errorf("from %s: got %q, %v; want %s/postgres/migrations", start, got, err, want)
		}
	}
	for _, start := range []string{"fork/cmd", "mentions/postgres", "."} {
		if got, err := sourceMigrationsDir(filepath.Join(root, start)); err == nil || !strings.Contains(err.Error(), "pass -dir") {
			t.Errorf("from %s (outside the takaro module): got %q, %v; want an error saying to pass -dir", start, got, err)
		}
	}
}

// TestCreateMigrationDefaultDir runs `takaro db create` without -dir in a
// subdirectory of a source tree: the migration lands in its
// postgres/migrations.
func TestCreateMigrationDefaultDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"go.mod":                              "module github.com/gotakaro/takaro\n\ngo 1.26\n",
		"postgres/migrations/00001_first.sql": "-- +goose Up\n-- +goose Down\n",
		"cmd/takaro/.keep":                    "",
	})
	cmd, stdout, stderr := takaroProcess(t, map[string]string{"TAKARO_DATA_DIR": t.TempDir()}, "db", "create", "add bans")
	cmd.Dir = filepath.Join(root, "cmd", "takaro")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o := waitOutput(t, cmd, stdout, stderr)
	requireExit(t, o, 0)
	want := filepath.Join(root, "postgres", "migrations", "00002_add_bans.sql")
	if o.stdout != "created "+want+"\n" {
		t.Fatalf("want %s created:\n%s", want, o)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatal(err)
	}

	// Outside any source tree it asks for -dir.
	cmd, stdout, stderr = takaroProcess(t, map[string]string{"TAKARO_DATA_DIR": t.TempDir()}, "db", "create", "add bans")
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o = waitOutput(t, cmd, stdout, stderr)
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, "not inside the takaro source tree", "-dir")
}
