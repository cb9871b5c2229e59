package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

// The serve tests run `takaro serve` as a separate process (this test
// binary, see TestMain) against a private database and talk to it over a
// loopback port, as an operator's tools would.

const serveAdminSecret = "serve-test-admin-secret-0123456789"

// serveEnv is the environment of a takaro serve on db listening on port.
func serveEnv(t *testing.T, db *pgtest.Database, port int) map[string]string {
	t.Helper()
	env := dbEnv(t, db)
	env["POSTGRES_ENCRYPTION_KEY"] = pgtest.Key
	env["ADMIN_CLIENT_SECRET"] = serveAdminSecret
	env["JWT_SECRET"] = "serve-test-jwt-secret-0123456789abcdef"
	env["TAKARO_BCRYPT_COST"] = "4"
	env["PORT"] = strconv.Itoa(port)
	return env
}

// freePort returns a loopback TCP port that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// served is a running takaro serve.
type served struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	addr   string
	done   chan struct{} // closed when the process has exited
	out    output
}

// startServe starts takaro serve with args and waits until /healthz
// answers 200. The process is killed when the test ends, if it still runs.
func startServe(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	cmd, stdout, stderr := takaroProcess(t, env, append([]string{"serve"}, args...)...)
	return startServeCmd(t, cmd, stdout, stderr, env)
}

// startServeCmd is startServe for a prepared takaroProcess (run as another
// user, say).
func startServeCmd(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer, env map[string]string) *served {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sv := &served{t: t, cmd: cmd, stdout: stdout, stderr: stderr, addr: "127.0.0.1:" + env["PORT"], done: make(chan struct{})}
	go func() {
		var exitErr *exec.ExitError
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if err != nil && !errors.As(err, &exitErr) {
			code = -1
		}
		sv.out = output{code: code, stdout: stdout.String(), stderr: stderr.String()}
		close(sv.done)
	}()
	t.Cleanup(func() {
		select {
		case <-sv.done:
		default:
			_ = cmd.Process.Kill()
			<-sv.done
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case <-sv.done:
			t.Fatalf("takaro serve exited before it served /healthz:\n%s", sv.out)
		default:
		}
		if status, err := sv.get("/healthz"); err == nil && status == http.StatusOK {
			return sv
		}
		if time.Now().After(deadline) {
			t.Fatalf("takaro serve did not answer /healthz in time; stderr so far:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get sends a GET to the server, reads the whole response and returns its
// status.
func (sv *served) get(path string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+sv.addr+path, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = res.Body.Close() }()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// postJSON posts body, as JSON, with header, requires a 200 and decodes
// the response into out (unless out is nil).
func (sv *served) postJSON(t *testing.T, path string, header http.Header, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+sv.addr+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d: %s", path, res.StatusCode, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("POST %s: %v: %s", path, err, got)
		}
	}
}

// signal sends sig to the process.
func (sv *served) signal(sig syscall.Signal) {
	sv.t.Helper()
	if err := sv.cmd.Process.Signal(sig); err != nil {
		sv.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns what it did.
func (sv *served) wait(timeout time.Duration) output {
	sv.t.Helper()
	select {
	case <-sv.done:
		return sv.out
	case <-time.After(timeout):
		sv.t.Fatalf("takaro serve did not exit within %s; stderr so far:\n%s", timeout, sv.stderr.String())
		return output{}
	}
}

// running reports whether the process has not exited yet.
func (sv *served) running() bool {
	select {
	case <-sv.done:
		return false
	default:
		return true
	}
}

// TestServeRefusesPendingMigrations checks that serve does not start on a
// database with pending migrations unless told to apply them, says why and
// what to do, exits 1 and changes nothing.
func TestServeRefusesPendingMigrations(t *testing.T) {
	t.Parallel()
	t.Run("fresh database", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewEmpty(t, true)
		for _, env := range []map[string]string{
			serveEnv(t, db, freePort(t)),
			func() map[string]string { e := serveEnv(t, db, freePort(t)); e["TAKARO_MIGRATE"] = "false"; return e }(),
		} {
			o := runServeToExit(t, env)
			requireExit(t, o, 1)
			requireContains(t, "stderr", o.stderr, "takaro serve:", "not up to date", "pending", "--migrate", "TAKARO_MIGRATE=true")
		}
		var users *string
		if err := db.Pool(t).QueryRow(context.Background(), "SELECT to_regclass('users')::text").Scan(&users); err != nil {
			t.Fatal(err)
		}
		if users != nil {
			t.Error("serve refused to start, but the users table exists: it applied migrations")
		}
	})
	t.Run("one pending migration", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		env := serveEnv(t, db, freePort(t))
		env[envMigrations] = "failing-up"
		o := runServeToExit(t, env)
		requireExit(t, o, 1)
		requireContains(t, "stderr", o.stderr, "1 migration(s) pending", testMigrations["failing-up"].file, "--migrate")
	})
}

// runServeToExit runs takaro serve and waits for it to exit on its own,
// killing it (and failing) if it starts serving instead.
func runServeToExit(t *testing.T, env map[string]string, args ...string) output {
	t.Helper()
	cmd, stdout, stderr := takaroProcess(t, env, append([]string{"serve"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	o := waitOutput(t, cmd, stdout, stderr)
	if o.code == -1 {
		t.Fatalf("takaro serve did not exit by itself (killed):\n%s", o)
	}
	return o
}

// TestServeMigrate checks that --migrate and TAKARO_MIGRATE=true apply the
// migrations of a fresh database and then serve, and that SIGTERM and
// SIGINT stop the server with exit status 0.
func TestServeMigrate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		sig  syscall.Signal
	}{
		{"flag", nil, []string{"--migrate"}, syscall.SIGTERM},
		{"environment", map[string]string{"TAKARO_MIGRATE": "true"}, nil, syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := serveEnv(t, pgtest.NewEmpty(t, true), freePort(t))
			for k, v := range tc.env {
				env[k] = v
			}
			sv := startServe(t, env, tc.args...)
			for _, path := range []string{"/healthz", "/readyz"} {
				if status, err := sv.get(path); err != nil || status != http.StatusOK {
					t.Fatalf("GET %s: status %d, error %v", path, status, err)
				}
			}
			sv.signal(tc.sig)
			o := sv.wait(30 * time.Second)
			requireExit(t, o, 0)
			requireContains(t, "stderr", o.stderr, "applied migration", "serving the API", "stopped")
		})
	}
}

// TestServeDrainsOnSIGTERM sends SIGTERM while a request is in flight (its
// body still arriving): the server stops accepting connections, lets the
// request finish with a full response, and then exits 0.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	t.Parallel()
	sv := startServe(t, serveEnv(t, pgtest.New(t), freePort(t)))

	conn, err := net.Dial("tcp", sv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	body := `{"filters": {"state": ["ACTIVE"]}}`
	head := fmt.Sprintf("POST /domain/search HTTP/1.1\r\nHost: %s\r\nX-Takaro-Admin-Token: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		sv.addr, serveAdminSecret, len(body))
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the server reads the headers and starts the handler

	sv.signal(syscall.SIGTERM)
	// The listener closes at once; the process waits for the request.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", sv.addr, time.Second)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 10 s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if !sv.running() {
		t.Fatalf("takaro serve exited with a request in flight:\n%s", sv.out)
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no response: %v", err)
	}
	defer func() { _ = res.Body.Close() }()
	var env struct {
		Data []json.RawMessage `json:"data"`
		Meta struct {
			Total *int `json:"total"`
		} `json:"meta"`
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil || res.StatusCode != http.StatusOK || env.Meta.Total == nil {
		t.Fatalf("in-flight request: status %d, decode error %v, total %v", res.StatusCode, err, env.Meta.Total)
	}

	o := sv.wait(30 * time.Second)
	requireExit(t, o, 0)
	requireContains(t, "stderr", o.stderr, "draining in-flight requests", "stopped")
}

// TestServeTimeouts checks that a client that never finishes its request
// headers is cut off after the read-header timeout instead of holding a
// connection (and, at shutdown, the process) forever.
func TestServeTimeouts(t *testing.T) {
	t.Parallel()
	sv := startServe(t, serveEnv(t, pgtest.New(t), freePort(t)))
	conn, err := net.Dial("tcp", sv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+sv.addr+"\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(start.Add(readHeaderTimeout + 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn) // ends when the server closes the connection
	elapsed := time.Since(start)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		t.Fatalf("the connection is still open %s after the incomplete headers", elapsed.Round(time.Second))
	}
	if elapsed < readHeaderTimeout-time.Second {
		t.Errorf("the connection was closed after %s, before the read-header timeout (%s): %q", elapsed, readHeaderTimeout, got)
	}
	if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 408")) {
		t.Errorf("unexpected answer to incomplete headers: %q", got)
	}
	sv.signal(syscall.SIGTERM)
	requireExit(t, sv.wait(30*time.Second), 0)
}

// TestServeListensBeforeMigrating: with its port taken, serve stops before
// it touches the schema; and a started serve logs the database it uses
// (never the password) and its version.
func TestServeListensBeforeMigrating(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	taken, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	env := serveEnv(t, db, taken.Addr().(*net.TCPAddr).Port)
	o := runServeToExit(t, env, "--migrate")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, "address already in use")
	if versions := recordedVersions(t, db.Pool(t)); versions != nil {
		t.Fatalf("serve could not listen, but migrated: %v", versions)
	}

	env["PORT"] = strconv.Itoa(freePort(t))
	sv := startServe(t, env, "--migrate")
	sv.signal(syscall.SIGTERM)
	o = sv.wait(30 * time.Second)
	requireExit(t, o, 0)
	requireContains(t, "stderr", o.stderr, `msg="using the database"`, "server_version=", "pool_size=", "database=")
}

// TestServeWarnsAboutUnconfiguredKeys: values encrypted with a key that is
// not configured make serve warn at start, naming the key identifier.
func TestServeWarnsAboutUnconfiguredKeys(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	db.SeedGameServers(t, pgtest.OtherKey, 1, 3)
	sv := startServe(t, serveEnv(t, db, freePort(t)))
	sv.signal(syscall.SIGTERM)
	o := sv.wait(30 * time.Second)
	requireExit(t, o, 0)
	requireContains(t, "stderr", o.stderr, "level=WARN", "keys that are not configured",
		"key_ids="+keysID(t, pgtest.OtherKey), "values=3")
	keysRequireNoSecret(t, o)
}
