package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/jackc/pgx/v5"
)

// postmasterPID returns the first line of the cluster's postmaster.pid.
func postmasterPID(t *testing.T, clusterDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clusterDir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _, _ := strings.Cut(string(b), "\n")
	return pid
}

// TestEmbeddedDefault runs takaro, as a separate process with nothing in
// its environment but a fresh TAKARO_DATA_DIR: `db migrate` creates the
// cluster, its role and database, and migrates; the next run reuses the
// running cluster.
func TestEmbeddedDefault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("creates a PostgreSQL cluster")
	}
	// When the tests run as root, the cluster runs as the postgres user,
	// which must be able to reach the directory: t.TempDir()'s parent is
	// private to this user.
	dataDir, err := os.MkdirTemp("", "takaro-embedded-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	clusterDir := filepath.Join(dataDir, "postgres")
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := os.Stat(filepath.Join(clusterDir, "data", "PG_VERSION")); err == nil {
			cluster, err := embedded.Ensure(ctx, embedded.Options{Dir: clusterDir})
			if err == nil {
				err = cluster.Stop(ctx)
			}
			if err != nil {
				t.Errorf("stop the embedded cluster: %v", err)
			}
		}
		if err := os.RemoveAll(dataDir); err != nil {
			t.Error(err)
		}
	})
	env := map[string]string{"TAKARO_DATA_DIR": dataDir}
	ms := realMigrations(t)

	o := takaroChild(t, env, "db", "migrate")
	requireExit(t, o, 0)
	requireApplied(t, o, ms)
	pid := postmasterPID(t, clusterDir)

	o = takaroChild(t, env, "db:migrate")
	requireExit(t, o, 0)
	if o.stdout != "the schema is up to date\n" {
		t.Fatalf("a second migrate:\n%s", o)
	}
	if again := postmasterPID(t, clusterDir); again != pid {
		t.Fatalf("the second run started another server (pid %s, then %s)", pid, again)
	}
	o = takaroChild(t, env, "db", "status")
	requireExit(t, o, 0)
	requireContains(t, "status", o.stdout, "0 pending")

	// The data core's role is subject to row-level security and owns the
	// database.
	ctx := context.Background()
	cluster, err := embedded.Ensure(ctx, embedded.Options{Dir: clusterDir})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, cluster.ConnString(embedded.Superuser, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var super, bypass bool
	var owner string
	err = conn.QueryRow(ctx, `SELECT r.rolsuper, r.rolbypassrls, pg_get_userbyid(d.datdba)
		FROM pg_roles r, pg_database d WHERE r.rolname = 'takaro' AND d.datname = 'takaro'`).Scan(&super, &bypass, &owner)
	if err != nil {
		t.Fatal(err)
	}
	if super || bypass || owner != "takaro" {
		t.Fatalf("role takaro: superuser=%v bypassrls=%v; database takaro owned by %q", super, bypass, owner)
	}
}
