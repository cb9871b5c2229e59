package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The test binary doubles as the takaro command. With envChild=1 in its
// environment, TestMain runs takaro with the binary's arguments instead of
// the tests, so tests can start real, separate takaro processes: several
// at once, with an empty environment, or with a migration that fails.
// envMigrations names an extra migration (see testMigrations) added to the
// real ones; only this test binary reads it.
//
// This is the package's only TestMain: tests added to package main share it.
const (
	envChild      = "TAKARO_TEST_MAIN"
	envMigrations = "TAKARO_TEST_MIGRATIONS"
)

// testMigrations are the extra migrations a child process can be given.
var testMigrations = map[string]struct{ file, content string }{
	// The Up creates a table and fills it, then fails.
	"failing-up": {"00099_fails.sql", `-- +goose Up
CREATE TABLE takaro_failing_probe (id int PRIMARY KEY);
INSERT INTO takaro_failing_probe VALUES (1);
SELECT takaro_no_such_function();

-- +goose Down
DROP TABLE takaro_failing_probe;
`},
	// The Up works; the Down drops the table, then fails.
	"failing-down": {"00099_bad_down.sql", `-- +goose Up
CREATE TABLE takaro_bad_down_probe (id int);

-- +goose Down
DROP TABLE takaro_bad_down_probe;
ALTER TABLE takaro_no_such_table ADD COLUMN x int;
`},
}

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(runAsTakaro())
	}
	os.Exit(m.Run())
}

// runAsTakaro is main() with the test's choice of migrations.
func runAsTakaro() int {
	migrations := postgres.Migrations()
	if name := os.Getenv(envMigrations); name != "" {
		extra, ok := testMigrations[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "takaro test binary: unknown %s=%q\n", envMigrations, name)
			return 3
		}
		migrations = withMigration(migrations, extra.file, extra.content)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, migrations: migrations}
	return a.run(ctx, os.Args[1:])
}

// withMigration returns the migrations of fsys plus one more.
func withMigration(fsys fs.FS, file, content string) fs.FS {
	out := fstest.MapFS{file: &fstest.MapFile{Data: []byte(content)}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			panic(err)
		}
		out[e.Name()] = &fstest.MapFile{Data: b}
	}
	return out
}

// output is what one takaro invocation did.
type output struct {
	code           int
	stdout, stderr string
}

func (o output) String() string {
	return fmt.Sprintf("exit status %d\n--- stdout:\n%s--- stderr:\n%s", o.code, o.stdout, o.stderr)
}

// takaro runs the command in this process, with exactly env as its
// environment and the real migrations.
func takaro(t *testing.T, env map[string]string, args ...string) output {
	t.Helper()
	return takaroWith(t, env, postgres.Migrations(), args...)
}

// takaroWith is takaro with other migrations.
func takaroWith(t *testing.T, env map[string]string, migrations fs.FS, args ...string) output {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{getenv: func(k string) string { return env[k] }, stdout: &stdout, stderr: &stderr, migrations: migrations}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := a.run(ctx, args)
	return output{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// testApp returns the app of a command run in this process with exactly
// env as its environment, its configuration loaded, logging nowhere.
func testApp(t *testing.T, env map[string]string) *app {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return &app{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: io.Discard,
		cfg: cfg, log: slog.New(slog.DiscardHandler), migrations: postgres.Migrations()}
}

// takaroProcess returns takaro as a separate process (this test binary)
// with exactly env as its environment, ready to start.
func takaroProcess(t *testing.T, env map[string]string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	// A safety net against a hung child, generous for slow shared machines:
	// tests stop the processes they start themselves.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = []string{envChild + "=1"}
	if dir := os.Getenv("GOCOVERDIR"); dir != "" {
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+dir)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// waitOutput waits for a started process and returns what it did.
func waitOutput(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) output {
	t.Helper()
	var exitErr *exec.ExitError
	if err := cmd.Wait(); err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("takaro %v: %v", cmd.Args[1:], err)
	}
	return output{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// takaroChild runs takaro as a separate process and waits for it.
func takaroChild(t *testing.T, env map[string]string, args ...string) output {
	t.Helper()
	cmd, stdout, stderr := takaroProcess(t, env, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return waitOutput(t, cmd, stdout, stderr)
}

// dbEnv is the environment of a takaro that uses db (as the test role).
func dbEnv(t *testing.T, db *pgtest.Database) map[string]string {
	t.Helper()
	return map[string]string{"POSTGRES_CONNECTION_STRING": db.ConnString, "TAKARO_DATA_DIR": t.TempDir()}
}

// requireExit fails the test unless o exited with code.
func requireExit(t *testing.T, o output, code int) {
	t.Helper()
	if o.code != code {
		t.Fatalf("want exit status %d, got:\n%s", code, o)
	}
}

// requireContains fails the test unless s contains every one of want.
func requireContains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Fatalf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// migration is one of the binary's migrations.
type migration struct {
	version int64
	file    string
}

// realMigrations lists the binary's migrations in order.
func realMigrations(t *testing.T) []migration {
	t.Helper()
	entries, err := fs.ReadDir(postgres.Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			t.Fatalf("unexpected file among the migrations: %s", e.Name())
		}
		out = append(out, migration{v, e.Name()})
	}
	if len(out) < 2 {
		t.Fatalf("the tests need at least two migrations, found %d", len(out))
	}
	return out
}

// recordedVersions returns how many times goose_db_version records each
// version (0 is goose's own first row), or nil when the table is missing.
func recordedVersions(t *testing.T, pool *pgxpool.Pool) map[int64]int {
	t.Helper()
	ctx := context.Background()
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		return nil
	}
	rows, err := pool.Query(ctx, "SELECT version_id FROM goose_db_version")
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int64]int{}
	for _, v := range versions {
		counts[v]++
	}
	return counts
}

// requireRecorded fails unless goose_db_version records version 0 and
// exactly the given migrations, each once.
func requireRecorded(t *testing.T, pool *pgxpool.Pool, ms []migration) {
	t.Helper()
	want := map[int64]int{0: 1}
	for _, m := range ms {
		want[m.version] = 1
	}
	got := recordedVersions(t, pool)
	if len(got) != len(want) {
		t.Fatalf("goose_db_version records %v, want each of %v once", got, want)
	}
	for v, n := range want {
		if got[v] != n {
			t.Fatalf("goose_db_version records %v, want each of %v once", got, want)
		}
	}
}

// TestCommandLine checks help, version and the exit statuses of
// invocations that are wrong before any database work (the database
// configured here does not exist: reaching it would fail differently).
func TestCommandLine(t *testing.T) {
	t.Parallel()
	env := map[string]string{"POSTGRES_HOST": "/nonexistent", "TAKARO_DATA_DIR": t.TempDir()}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // "" if stdout must be empty
		stderr string
	}{
		{nil, 0, "usage: takaro", ""},
		{[]string{"help"}, 0, "db rollback", ""},
		{[]string{"--help"}, 0, "db migrate", ""},
		{[]string{"-h"}, 0, "db verify-encryption", ""},
		{[]string{"help", "serve"}, 0, "-port", ""},
		{[]string{"help", "db", "migrate"}, 0, "-database-url", ""},
		{[]string{"help", "nonsense"}, 2, "", `unknown command "nonsense"`},
		{[]string{"nonsense"}, 2, "", `unknown command "nonsense"`},
		{[]string{"db"}, 2, "", `unknown command "db"`},
		{[]string{"db", "nonsense"}, 2, "", `unknown command "db nonsense"`},
		{[]string{"db:nonsense"}, 2, "", `unknown command "db:nonsense"`},
		{[]string{"db", "migrate", "-h"}, 0, "-database-url", ""},
		{[]string{"db", "migrate", "-no-such-flag"}, 2, "", "no-such-flag"},
		{[]string{"db", "migrate", "now"}, 2, "", `takes no arguments, not "now"`},
		{[]string{"db:migrate", "now"}, 2, "", `takes no arguments, not "now"`},
		// Not "roll back three": rollback takes the latest only.
		{[]string{"db", "rollback", "3"}, 2, "", `takes no arguments, not "3"`},
		{[]string{"db:rollback", "3"}, 2, "", `takes no arguments, not "3"`},
		{[]string{"db", "status", "all"}, 2, "", "takes no arguments"},
		{[]string{"db", "doctor", "now"}, 2, "", "takes no arguments"},
		{[]string{"db", "rotate-key", "x"}, 2, "", "takes no arguments"},
		{[]string{"db", "rotate-key", "-batch-size", "0"}, 2, "", "-batch-size must be at least 1"},
		{[]string{"serve", "extra"}, 2, "", `takes no arguments, not "extra"`},
		{[]string{"bench", "extra"}, 2, "", `takes no arguments, not "extra"`},
		{[]string{"config", "extra"}, 2, "", "takes no arguments"},
		{[]string{"version", "extra"}, 2, "", "takes no arguments"},
		{[]string{"config", "-encryption-key-file", "/nonexistent/key"}, 2, "", "encryption-key-file"},
		{[]string{"db", "create"}, 2, "", "db create NAME"},
		{[]string{"db", "create", "a", "b", "-dir", t.TempDir()}, 2, "", "db create NAME"},
		// Flags are checked before any database work.
		{[]string{"serve", "-port", "0"}, 2, "", "port 0: not a port number"},
		{[]string{"serve", "-port", "70000"}, 2, "", "port 70000: not a port number"},
		{[]string{"serve", "-port", "http"}, 2, "", "-port"},
		{[]string{"db", "status", "-bcrypt-cost", "99"}, 2, "", "bcrypt cost 99"},
		{[]string{"db", "status", "-connect-timeout", "0s"}, 2, "", "connect timeout 0s"},
		{[]string{"db", "status", "-pool-size", "0"}, 2, "", "not a pool size"},
	} {
		o := takaro(t, env, tc.args...)
		if o.code != tc.code || !strings.Contains(o.stderr, tc.stderr) || !strings.Contains(o.stdout, tc.stdout) ||
			(tc.stdout == "" && o.stdout != "") {
			t.Errorf("takaro %q: want exit status %d, %q on stdout and %q on stderr, got:\n%s", tc.args, tc.code, tc.stdout, tc.stderr, o)
		}
	}
}

// TestHelp: help lists every command with its summary, and each command's
// help its flags and the environment variables it reads, on stdout.
func TestHelp(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TAKARO_DATA_DIR": t.TempDir()}
	o := takaro(t, env, "help")
	requireExit(t, o, 0)
	for _, c := range commands {
		requireContains(t, "help", o.stdout, c.name, c.summary)
	}
	for _, args := range [][]string{{"help", "serve"}, {"serve", "-h"}, {"serve", "--help"}} {
		o := takaro(t, env, args...)
		requireExit(t, o, 0)
		requireContains(t, strings.Join(args, " "), o.stdout, "usage: takaro serve", "run the REST API server",
			"-port", "-migrate", "-database-url", "-pool-size", "-connect-timeout",
			"PORT", "ADMIN_CLIENT_SECRET", "POSTGRES_ENCRYPTION_KEY", "POSTGRES_CONNECTION_STRING", "POSTGRES_POOL_SIZE", "_FILE")
		if o.stderr != "" {
			t.Errorf("takaro %q writes to stderr:\n%s", args, o)
		}
	}
	o = takaro(t, env, "help", "db", "create")
	requireExit(t, o, 0)
	requireContains(t, "help db create", o.stdout, "usage: takaro db create [flags] NAME", "-dir")
	if strings.Contains(o.stdout, "POSTGRES_HOST") {
		t.Errorf("db create reads no database variable, but its help lists them:\n%s", o)
	}
	// Even with a configuration that every other command refuses.
	o = takaro(t, map[string]string{"PORT": "nonsense"}, "help", "serve")
	requireExit(t, o, 0)
}

// TestVersion prints the version, the commit and the Go version.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		o := takaro(t, nil, args...)
		requireExit(t, o, 0)
		requireContains(t, strings.Join(args, " "), o.stdout, "takaro ", "\ncommit ", runtime.Version())
	}
}

// TestLoggingLevelErrorListsTheLevels names the valid values.
func TestLoggingLevelErrorListsTheLevels(t *testing.T) {
	t.Parallel()
	o := takaro(t, map[string]string{"LOGGING_LEVEL": "verbose", "TAKARO_DATA_DIR": t.TempDir()}, "config")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, `LOGGING_LEVEL="verbose"`, "debug, info, warn or error")
	o = takaro(t, map[string]string{"LOGGING_LEVEL": "DEBUG", "TAKARO_DATA_DIR": t.TempDir()}, "config")
	requireExit(t, o, 0)
}
