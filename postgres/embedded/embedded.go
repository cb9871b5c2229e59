// Package embedded runs a private PostgreSQL cluster from the server
// binaries installed on the machine, so that takaro (and its tests) work
// with no database configured at all.
//
// The cluster lives in one directory: data/ is PGDATA, the server listens
// only on a Unix socket in a directory that only the cluster's owner can
// enter, and postgres.log is its log. Because nobody else can reach the
// socket, local connections use trust authentication. The cluster keeps
// running when the process that started it exits, and the next Ensure
// reuses it.
//
// PostgreSQL refuses to run as root; when the process is root, the server
// runs as the "postgres" system user instead.
package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the name of the cluster's bootstrap superuser.
const Superuser = "postgres"

// port only names the socket file (.s.PGSQL.<port>); no TCP port is opened.
const port = 5432

// Options describe where the cluster lives and how it is tuned.
type Options struct {
	// Dir holds the whole cluster. It is created when missing.
	Dir string
	// Settings are extra postgresql.conf settings, such as fsync=off for
	// throwaway test clusters. They are rewritten on every start.
	Settings map[string]string
	// HBA are extra pg_hba.conf lines, placed after initdb's (which trust
	// local connections), for example to let a test role connect over TCP
	// from another address. They are rewritten on every start.
	HBA []string
}

// Cluster is a running embedded PostgreSQL server.
type Cluster struct {
	dir       string
	socketDir string
}

// DefaultBaseDir returns the directory where takaro keeps its local state:
// $XDG_DATA_HOME/takaro, else ~/.local/share/takaro. For root it is
// /var/lib/takaro: the server then runs as the postgres user, which cannot
// enter /root.
func DefaultBaseDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/lib/takaro", nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "takaro"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("embedded postgres: cannot find a data directory (set TAKARO_DATA_DIR): %w", err)
	}
	return filepath.Join(home, ".local", "share", "takaro"), nil
}

// Ensure creates the cluster in opts.Dir if it does not exist yet, starts it
// if it is not running, and returns it. Concurrent calls (from any process)
// are serialised by a lock file, so the cluster is created and started once.
func Ensure(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	owner, err := clusterOwner()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := makeOwnedDir(dir, owner); err != nil {
		return nil, err
	}
	if err := checkReachable(dir, owner); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	c := &Cluster{dir: dir, socketDir: socketDir(dir)}
	if err := makeOwnedDir(c.socketDir, owner); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := os.RemoveAll(data); err != nil { // a half-finished earlier initdb
			return nil, err
		}
		if err := run(ctx, owner, dir, filepath.Join(bin, "initdb"),
			"-D", data, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions"); err != nil {
			return nil, fmt.Errorf("embedded postgres: initdb: %w", err)
		}
		if err := appendLine(filepath.Join(data, "postgresql.conf"), "include_if_exists = 'takaro.conf'"); err != nil {
			return nil, err
		}
	}
	if err := c.writeSettings(owner, opts.Settings); err != nil {
		return nil, err
	}
	if err := c.writeHBA(opts.HBA); err != nil {
		return nil, err
	}
	if c.running(ctx, bin, owner) {
		return c, nil
	}
	err = run(ctx, owner, dir, filepath.Join(bin, "pg_ctl"),
		"start", "-D", data, "-l", filepath.Join(dir, "postgres.log"), "-w", "-t", "120", "-s")
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: pg_ctl start (see %s): %w", filepath.Join(dir, "postgres.log"), err)
	}
	return c, nil
}

// ConnString returns a libpq connection string for role and database over
// the cluster's socket.
func (c *Cluster) ConnString(role, database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteConnValue(c.socketDir), port, quoteConnValue(role), quoteConnValue(database))
}

// Address returns the host (the socket directory) and the port at which
// libpq reaches the cluster, for servers that connect to it themselves,
// such as the nodes of a Citus cluster.
func (c *Cluster) Address() (host string, p int) { return c.socketDir, port }

// Stop shuts the cluster down (fast mode: open sessions are ended).
func (c *Cluster) Stop(ctx context.Context) error {
	bin, err := FindBinDir()
	if err != nil {
		return err
	}
	owner, err := clusterOwner()
	if err != nil {
		return err
	}
	return run(ctx, owner, c.dir, filepath.Join(bin, "pg_ctl"), "stop", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "-s")
}

// EnsureRoleAndDatabase creates a login role without superuser or
// BYPASSRLS rights (so row-level security applies to it) and a database
// that it owns, unless they exist.
func (c *Cluster) EnsureRoleAndDatabase(ctx context.Context, role, database string) error {
	conn, err := pgx.Connect(ctx, c.ConnString(Superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	// Another process may be doing the same; the advisory lock makes the
	// check-then-create atomic across processes.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('takaro embedded provisioning'))"); err != nil {
		return err
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"); err != nil {
			return fmt.Errorf("embedded postgres: create role %s: %w", role, err)
		}
	}
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize()+" OWNER "+pgx.Identifier{role}.Sanitize())
		if err != nil {
			return fmt.Errorf("embedded postgres: create database %s: %w", database, err)
		}
	}
	return nil
}

// ErrNoBinaries is returned when no PostgreSQL server binaries are found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found " +
	"in PATH, through pg_config --bindir, or under /usr/lib/postgresql/*/bin. " +
	"Install them (Debian/Ubuntu: apt-get install postgresql), " +
	"or point takaro at an existing server with POSTGRES_CONNECTION_STRING or POSTGRES_HOST")

// FindBinDir returns the directory holding initdb, pg_ctl and postgres: the
// one of initdb in PATH, else pg_config --bindir, else the newest
// /usr/lib/postgresql/<version>/bin.
func FindBinDir() (string, error) {
	return findBinDir(os.Getenv("PATH"), "/usr/lib/postgresql/*/bin")
}

// findBinDir is FindBinDir with its search inputs: the PATH-style list of
// directories searched for initdb and pg_config, and the glob of versioned
// bin directories.
func findBinDir(path, versionedGlob string) (string, error) {
	var candidates []string
	if p, ok := lookPath(path, "initdb"); ok {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
	}
	if p, ok := lookPath(path, "pg_config"); ok {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	versioned, _ := filepath.Glob(versionedGlob)
	slices.SortFunc(versioned, func(a, b string) int { return versionOf(b) - versionOf(a) })
	candidates = append(candidates, versioned...)
	for _, dir := range candidates {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

// lookPath finds the executable file name in the directories of path.
func lookPath(path, name string) (string, bool) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // like exec.LookPath, never run a program from a relative directory
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// owner is the OS account the server runs as; nil means this process's.
type owner struct {
	name     string
	uid, gid uint32
	groups   []uint32 // every group it belongs to, gid included
}

func clusterOwner() (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("embedded postgres: this process runs as root, which PostgreSQL refuses to run as, " +
			"and there is no 'postgres' system user to run it as instead; " +
			"create one (useradd --system postgres), or run takaro as an unprivileged user")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	o := &owner{name: u.Username, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				o.groups = append(o.groups, uint32(g))
			}
		}
	}
	return o, nil
}

// checkReachable makes sure that o can enter every directory above dir
// (dir itself is o's own). Without that, initdb fails with a bare
// "permission denied"; this error names the directory and the fix.
func checkReachable(dir string, o *owner) error {
	if o == nil {
		return nil // the server runs as this process, which created dir
	}
	var above []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		above = append(above, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for _, p := range slices.Backward(above) { // from / down, so the first obstacle is named
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
		if !o.canSearch(st) {
			return fmt.Errorf("embedded postgres: PostgreSQL runs as the %q system user (takaro runs as root), "+
				"which cannot enter %s (mode %#o), on the way to the cluster in %s. "+
				"Let it in with `chmod o+x %s`, or choose a data directory it can reach with TAKARO_DATA_DIR",
				o.name, p, uint32(st.Mode().Perm()), dir, p)
		}
	}
	return nil
}

// canSearch reports whether o may enter the directory st describes,
// judged by its mode bits as the kernel does (ACLs aside).
func (o *owner) canSearch(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true // not a Unix file system: let the server try
	}
	perm := st.Mode().Perm()
	switch {
	case sys.Uid == o.uid:
		return perm&0o100 != 0
	case slices.Contains(o.groups, sys.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// makeOwnedDir creates dir (and its parents, traversable by everyone) and
// gives dir itself to the cluster owner with mode 0700.
func makeOwnedDir(dir string, o *owner) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if o != nil {
		if err := os.Chown(dir, int(o.uid), int(o.gid)); err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
	}
	return os.Chmod(dir, 0o700)
}

// socketDir returns dir/sock, or a directory in the system temp dir when
// that path is too long for a Unix socket address (108 bytes on Linux).
func socketDir(dir string) string {
	d := filepath.Join(dir, "sock")
	if len(d)+len("/.s.PGSQL.5432") < 100 {
		return d
	}
	var h uint32 = 2166136261 // FNV-1a of dir, so the same cluster gets the same path
	for i := 0; i < len(dir); i++ {
		h = (h ^ uint32(dir[i])) * 16777619
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("takaro-pg-%08x", h))
}

// writeSettings rewrites takaro.conf, which postgresql.conf includes.
func (c *Cluster) writeSettings(o *owner, extra map[string]string) error {
	settings := map[string]string{
		"listen_addresses":        "",
		"port":                    strconv.Itoa(port),
		"unix_socket_directories": c.socketDir,
		"unix_socket_permissions": "0700",
		// Statements carry the encryption key and secrets as bind
		// parameters; keep them out of the server log.
		"log_parameter_max_length":          "0",
		"log_parameter_max_length_on_error": "0",
	}
	for k, v := range extra {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.WriteString("# Written by takaro on every start; edit Options.Settings instead.\n")
	for _, k := range keys {
		fmt.Fprintf(&buf, "%s = '%s'\n", k, strings.ReplaceAll(settings[k], "'", "''"))
	}
	path := filepath.Join(c.dir, "data", "takaro.conf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if o != nil {
		return os.Chown(path, int(o.uid), int(o.gid))
	}
	return nil
}

// hbaMarker starts the lines of Options.HBA in pg_hba.conf.
const hbaMarker = "# Added by takaro from embedded.Options.HBA; rewritten on every start.\n"

// writeHBA replaces the lines that follow hbaMarker in pg_hba.conf (none
// at first) with lines.
func (c *Cluster) writeHBA(lines []string) error {
	path := filepath.Join(c.dir, "data", "pg_hba.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	conf, _, _ := strings.Cut(string(b), hbaMarker)
	if len(lines) > 0 {
		conf += hbaMarker + strings.Join(lines, "\n") + "\n"
	}
	if conf == string(b) {
		return nil
	}
	// The file keeps its owner (the cluster's) and mode.
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	return nil
}

func (c *Cluster) running(ctx context.Context, bin string, o *owner) bool {
	return run(ctx, o, c.dir, filepath.Join(bin, "pg_ctl"), "status", "-D", filepath.Join(c.dir, "data")) == nil
}

// run executes a PostgreSQL program as the cluster owner and returns its
// output in the error when it fails.
func run(ctx context.Context, o *owner, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if o != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: o.uid, Gid: o.gid}}
	}
	// Only a short-lived pg_ctl is waited for; the server it starts detaches
	// and must not hold our output pipes open.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(name), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("\n" + line + "\n"); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// lockFile takes an exclusive lock on path, waiting for other holders.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("embedded postgres: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// quoteConnValue quotes a value for a libpq key=value connection string.
func quoteConnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
