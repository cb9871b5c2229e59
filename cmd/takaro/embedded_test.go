package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	dataDir := publicTempDir(t)
	clusterDir := filepath.Join(dataDir, "postgres")
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

// publicTempDir returns a new directory under /tmp that everyone may
// enter, removed when the test ends after any cluster in it is stopped.
// (t.TempDir()'s parent is private to this user, and when the tests run
// as root the embedded cluster runs as the postgres user.)
func publicTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "takaro-embedded-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopClustersUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// stopClustersUnder shuts down every embedded cluster running under dir
// (fast shutdown, whichever user it runs as) and waits for each to exit.
func stopClustersUnder(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "postmaster.pid" {
			stopPostmaster(t, filepath.Dir(filepath.Dir(path)))
		}
		return nil
	})
}

// stopPostmaster shuts down the cluster in clusterDir, if it runs, and
// waits until its postmaster has exited.
func stopPostmaster(t *testing.T, clusterDir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(clusterDir, "data", "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
		return
	}
	pid, err := strconv.Atoi(postmasterPID(t, clusterDir))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil { // SIGINT: fast shutdown
		return // not running
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	t.Errorf("the postmaster of %s (pid %d) did not stop", clusterDir, pid)
}

// TestFirstRun runs the README's first command, takaro serve --migrate
// with nothing configured, as a newcomer would: as root (the server runs
// as the postgres user) and as an ordinary user, in a data directory that
// does not exist yet, that exists and is empty, and that holds a stopped
// cluster of an earlier run. Each time the generated admin token creates
// a domain, and its root user logs in.
func TestFirstRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("creates PostgreSQL clusters")
	}
	t.Run("missing, then holding a stopped cluster", func(t *testing.T) {
		t.Parallel()
		dataDir := filepath.Join(publicTempDir(t), "new", "takaro")
		firstRun(t, map[string]string{"TAKARO_DATA_DIR": dataDir}, nil)
		stopPostmaster(t, filepath.Join(dataDir, "postgres"))
		firstRun(t, map[string]string{"TAKARO_DATA_DIR": dataDir}, nil)
	})
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		dataDir := filepath.Join(publicTempDir(t), "takaro")
		if err := os.Mkdir(dataDir, 0o755); err != nil {
			t.Fatal(err)
		}
		firstRun(t, map[string]string{"TAKARO_DATA_DIR": dataDir}, nil)
	})
	t.Run("ordinary user, default directory under XDG_DATA_HOME", func(t *testing.T) {
		t.Parallel()
		base := publicTempDir(t)
		var as *user.User
		if os.Geteuid() == 0 {
			var err error
			if as, err = user.Lookup("nobody"); err != nil {
				t.Skipf("no ordinary user to run as: %v", err)
			}
			home := filepath.Join(base, "home")
			if err := os.Mkdir(home, 0o755); err != nil {
				t.Fatal(err)
			}
			uid, _ := strconv.Atoi(as.Uid)
			gid, _ := strconv.Atoi(as.Gid)
			if err := os.Chown(home, uid, gid); err != nil {
				t.Fatal(err)
			}
			base = home
		}
		xdg := filepath.Join(base, "xdg")
		firstRun(t, map[string]string{"XDG_DATA_HOME": xdg}, as)
		if _, err := os.Stat(filepath.Join(xdg, "takaro", "postgres", "data", "PG_VERSION")); err != nil {
			t.Fatalf("the cluster is not in $XDG_DATA_HOME/takaro: %v", err)
		}
	})
}

// firstRun runs takaro serve --migrate with env (and a free port), as the
// user as (nil: this process's), and checks that the admin API and login
// work with the development secrets, and that SIGTERM stops it.
func firstRun(t *testing.T, env map[string]string, as *user.User) {
	t.Helper()
	env["PORT"] = strconv.Itoa(freePort(t))
	cmd, stdout, stderr := takaroProcess(t, env, "serve", "--migrate")
	if as != nil {
		runAs(t, cmd, as)
	}
	sv := startServeCmd(t, cmd, stdout, stderr, env)
	dataDir := env["TAKARO_DATA_DIR"]
	if dataDir == "" {
		dataDir = filepath.Join(env["XDG_DATA_HOME"], "takaro")
	}
	adminToken, err := os.ReadFile(filepath.Join(dataDir, "secrets", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data struct {
			RootUser struct {
				Email string `json:"email"`
			} `json:"rootUser"`
			Password string `json:"password"`
		} `json:"data"`
	}
	sv.postJSON(t, "/domain", http.Header{"X-Takaro-Admin-Token": {strings.TrimSpace(string(adminToken))}},
		map[string]string{"name": "first run"}, &created)
	sv.postJSON(t, "/login", nil,
		map[string]string{"username": created.Data.RootUser.Email, "password": created.Data.Password}, nil)
	sv.signal(syscall.SIGTERM)
	o := sv.wait(30 * time.Second)
	requireExit(t, o, 0)
}

// runAs makes cmd run as u, from a copy of this test binary that u may
// execute (go test's build directory is private to this user).
func runAs(t *testing.T, cmd *exec.Cmd, u *user.User) {
	t.Helper()
	src, err := os.ReadFile(cmd.Path)
	if err != nil {
		t.Fatal(err)
	}
	dir := publicTempDir(t)
	bin := filepath.Join(dir, "takaro")
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cmd.Path, cmd.Args[0] = bin, bin
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}
