package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PgBouncer starts a PgBouncer in transaction mode on a free loopback
// port in front of the test server, for db, with serverPoolSize server
// connections per database and user (fewer than the clients' pool, so
// that consecutive transactions of one client land on different server
// connections), and returns a connection string to db through it. It is
// stopped when t ends. Without the pgbouncer program (Debian package
// pgbouncer) the test is skipped, or fails when CI is set.
func (db *Database) PgBouncer(t testing.TB, serverPoolSize int) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/pgbouncer")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pgbouncer is not installed (apt-get install pgbouncer); CI must run this test")
		}
		t.Skip("pgbouncer is not installed (apt-get install pgbouncer)")
	}
	server, err := pgconn.ParseConfig(db.ConnString)
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "takaro-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// PgBouncer refuses to run as root; it then runs as the user that
	// owns the test cluster, which may also enter its socket directory.
	var args []string
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			t.Fatalf("pgbouncer cannot run as root and there is no postgres user: %v", err)
		}
		args = append(args, "-u", "postgres")
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	auth := filepath.Join(dir, "users.txt")
	conf := filepath.Join(dir, "pgbouncer.ini")
	files := map[string]string{
		auth: fmt.Sprintf("%q %q\n", TestRole, testRolePassword),
		conf: fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
server_reset_query =
`, server.Host, server.Port, port, auth, serverPoolSize),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, append(args, conf)...)
	logFile, err := os.Create(filepath.Join(dir, "pgbouncer.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }() // the child has its own copy
	cmd.Stdout, cmd.Stderr = logFile, logFile
	log := func() string {
		b, _ := os.ReadFile(logFile.Name())
		return string(b)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("pgbouncer exited: %s", log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not listen on %s: %s", addr, log())
		}
	}
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable", port, TestRole, testRolePassword, db.Name)
}
