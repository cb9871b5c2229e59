package main

import (
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// configRows runs `takaro config` and returns its values by name.
func configRows(t *testing.T, env map[string]string, args ...string) (map[string]string, output) {
	t.Helper()
	rows, _, o := configTable(t, env, args...)
	return rows, o
}

// configTable runs `takaro config` and returns its values and where each
// came from, by name.
func configTable(t *testing.T, env map[string]string, args ...string) (values, sources map[string]string, o output) {
	t.Helper()
	o = takaro(t, env, append([]string{"config"}, args...)...)
	requireExit(t, o, 0)
	values, sources = map[string]string{}, map[string]string{}
	for line := range strings.Lines(o.stdout) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		value = strings.TrimSpace(value)
		if i := strings.LastIndex(value, " ["); i >= 0 && strings.HasSuffix(value, "]") {
			sources[name] = value[i+2 : len(value)-1]
			value = strings.TrimSpace(value[:i])
		}
		values[name] = value
	}
	return values, sources, o
}

// TestConfigSources: takaro config shows the effective value of every
// setting, defaults included, and where each came from.
func TestConfigSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"TAKARO_DATA_DIR": dir, "PORT": "8080", "POSTGRES_POOL_SIZE": "12",
		"JWT_SECRET_FILE": writeFile(t, "jwt", "a-jwt-secret-from-a-file\n"),
	}
	values, sources, o := configTable(t, env, "-connect-timeout", "3s", "-bcrypt-cost", "12")
	for name, want := range map[string][2]string{
		"PORT":                     {"8080", "env"},
		"POSTGRES_POOL_SIZE":       {"12", "env"},
		"POSTGRES_CONNECT_TIMEOUT": {"3s", "flag -connect-timeout"},
		"TAKARO_BCRYPT_COST":       {"12", "flag -bcrypt-cost"},
		"TAKARO_DATA_DIR":          {dir, "env"},
		"JWT_SECRET":               {"(set)", "file JWT_SECRET_FILE"},
		"LOGGING_LEVEL":            {"info", "default"},
		"TAKARO_MIGRATE":           {"false", "default"},
		"POSTGRES_HOST":            {"localhost", "not used: embedded database"},
		"POSTGRES_ENCRYPTION_KEY":  {"(not set)", "embedded default: " + filepath.Join(dir, "secrets", "encryption-key")},
		"ADMIN_CLIENT_SECRET":      {"(not set)", "embedded default: " + filepath.Join(dir, "secrets", "admin-token")},
	} {
		if values[name] != want[0] || sources[name] != want[1] {
			t.Errorf("%s: %q from %q, want %q from %q:\n%s", name, values[name], sources[name], want[0], want[1], o)
		}
	}
	// The defaults of an external database are shown as such.
	values, sources, o = configTable(t, map[string]string{"POSTGRES_HOST": "db.internal", "TAKARO_DATA_DIR": dir})
	for name, want := range map[string][2]string{
		"POSTGRES_HOST": {"db.internal", "env"}, "POSTGRES_PORT": {"5432", "default"}, "POSTGRES_DB": {"postgres", "default"},
		"POSTGRES_CONNECT_TIMEOUT": {"10s", "default"}, "POSTGRES_ENCRYPTION_KEY": {"(not set)", "default"},
	} {
		if values[name] != want[0] || sources[name] != want[1] {
			t.Errorf("%s: %q from %q, want %q from %q:\n%s", name, values[name], sources[name], want[0], want[1], o)
		}
	}
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigNeverPrintsSecrets sets every secret, from the environment
// and from files, and checks that `takaro config` says they are set
// without printing any of them.
func TestConfigNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{
		"POSTGRES_PASSWORD":                 "pw-S3CR3T-6f1c",
		"POSTGRES_ENCRYPTION_KEY":           "key-S3CR3T-0123456789abcdef-current",
		"POSTGRES_ENCRYPTION_KEY_PREVIOUS":  "key-S3CR3T-previous-one,key-S3CR3T-previous-two",
		"ADMIN_CLIENT_SECRET":               "admin-S3CR3T-77aa",
		"JWT_SECRET":                        "jwt-S3CR3T-9d0e",
		"POSTGRES_CONNECTION_STRING":        "postgres://takaro:conn-S3CR3T-5b2@db.example.com:5432/takaro",
		"POSTGRES_LISTEN_CONNECTION_STRING": "postgres://takaro:listen-S3CR3T-c41@direct.example.com:5432/takaro",
	}
	parts := []string{"S3CR3T", "6f1c", "0123456789abcdef", "previous-one", "previous-two", "77aa", "9d0e", "5b2", "db.example.com",
		"c41", "direct.example.com"}
	fromEnv := map[string]string{"TAKARO_DATA_DIR": t.TempDir()}
	fromFiles := map[string]string{"TAKARO_DATA_DIR": t.TempDir()}
	for name, value := range secrets {
		fromEnv[name] = value
		fromFiles[name+"_FILE"] = writeFile(t, name, value+"\n")
	}
	for what, env := range map[string]map[string]string{"environment": fromEnv, "files": fromFiles} {
		rows, o := configRows(t, env)
		for _, part := range parts {
			if strings.Contains(o.stdout+o.stderr, part) {
				t.Errorf("secrets from %s: `takaro config` prints %q:\n%s", what, part, o)
			}
		}
		for _, name := range []string{"POSTGRES_PASSWORD", "POSTGRES_ENCRYPTION_KEY", "ADMIN_CLIENT_SECRET", "JWT_SECRET",
			"POSTGRES_LISTEN_CONNECTION_STRING"} {
			if rows[name] != "(set)" {
				t.Errorf("secrets from %s: %s is %q, want (set)", what, name, rows[name])
			}
		}
		if !strings.HasPrefix(rows["POSTGRES_CONNECTION_STRING"], "(set") {
			t.Errorf("secrets from %s: POSTGRES_CONNECTION_STRING is %q, want (set…)", what, rows["POSTGRES_CONNECTION_STRING"])
		}
		if rows["POSTGRES_ENCRYPTION_KEY_PREVIOUS"] != "2 key(s)" {
			t.Errorf("secrets from %s: POSTGRES_ENCRYPTION_KEY_PREVIOUS is %q, want 2 key(s)", what, rows["POSTGRES_ENCRYPTION_KEY_PREVIOUS"])
		}
		if rows["database"] != "external" {
			t.Errorf("secrets from %s: database is %q, want external", what, rows["database"])
		}
	}

	// Unset, they say so.
	rows, _ := configRows(t, map[string]string{"TAKARO_DATA_DIR": t.TempDir()})
	for _, name := range []string{"POSTGRES_PASSWORD", "POSTGRES_ENCRYPTION_KEY", "ADMIN_CLIENT_SECRET", "JWT_SECRET"} {
		if rows[name] != "(not set)" {
			t.Errorf("unset %s is %q, want (not set)", name, rows[name])
		}
	}

	// Nor through a flag.
	rows, o := configRows(t, map[string]string{"TAKARO_DATA_DIR": t.TempDir()},
		"-encryption-key-file", writeFile(t, "key", "flag-S3CR3T-key-0123456789abcdef\n"))
	if rows["POSTGRES_ENCRYPTION_KEY"] != "(set)" || strings.Contains(o.stdout+o.stderr, "S3CR3T") {
		t.Errorf("a key from -encryption-key-file:\n%s", o)
	}
}

// TestConfigSecretFiles reads secrets from NAME_FILE, and refuses NAME
// and NAME_FILE together, a missing file and an empty one.
func TestConfigSecretFiles(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "secret", "  from-a-file\n\n")
	for _, name := range []string{"POSTGRES_ENCRYPTION_KEY", "POSTGRES_ENCRYPTION_KEY_PREVIOUS", "ADMIN_CLIENT_SECRET", "JWT_SECRET",
		"POSTGRES_PASSWORD", "POSTGRES_CONNECTION_STRING"} {
		env := map[string]string{name + "_FILE": file, "TAKARO_DATA_DIR": "/data"}
		cfg, err := loadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%s_FILE: %v", name, err)
		}
		got := map[string]string{
			"POSTGRES_ENCRYPTION_KEY": string(cfg.EncryptionKey), "ADMIN_CLIENT_SECRET": string(cfg.AdminSecret),
			"JWT_SECRET": string(cfg.JWTSecret), "POSTGRES_PASSWORD": cfg.DB.Password, "POSTGRES_CONNECTION_STRING": cfg.DB.URL,
		}
		if len(cfg.PreviousKeys) == 1 {
			got["POSTGRES_ENCRYPTION_KEY_PREVIOUS"] = string(cfg.PreviousKeys[0])
		}
		if got[name] != "from-a-file" {
			t.Errorf("%s_FILE: read %q, want from-a-file", name, got[name])
		}
		if strings.HasPrefix(name, "POSTGRES_PASSWORD") || strings.HasPrefix(name, "POSTGRES_CONNECTION_STRING") {
			if cfg.Embedded {
				t.Errorf("%s_FILE is set, but the configuration is of the embedded database", name)
			}
		}

		for what, env := range map[string]map[string]string{
			"both set":     {name: "x", name + "_FILE": file},
			"missing file": {name + "_FILE": filepath.Join(t.TempDir(), "missing")},
			"empty file":   {name + "_FILE": writeFile(t, "empty", " \n")},
		} {
			env["TAKARO_DATA_DIR"] = "/data"
			o := takaro(t, env, "config")
			requireExit(t, o, 1)
			requireContains(t, what, o.stderr, "takaro: configuration: ", name+"_FILE")
			if what == "both set" {
				requireContains(t, what, o.stderr, "both "+name+" and "+name+"_FILE are set")
			}
			if o.stdout != "" {
				t.Errorf("%s %s: a refused configuration was printed:\n%s", name, what, o)
			}
		}
	}
}

// TestConfigBadPort refuses ports that are not numbers or out of range,
// naming the variable.
func TestConfigBadPort(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"POSTGRES_PORT", "PORT"} {
		for _, value := range []string{"abc", "5432x", "0", "-1", "65536", "99999"} {
			o := takaro(t, map[string]string{name: value, "TAKARO_DATA_DIR": t.TempDir()}, "db", "status")
			requireExit(t, o, 1)
			requireContains(t, name+"="+value, o.stderr, "takaro: configuration: "+name+`="`+value+`"`, "not a port number")
		}
	}
	rows, _ := configRows(t, map[string]string{"POSTGRES_PORT": "6543", "PORT": "8080", "TAKARO_DATA_DIR": t.TempDir()})
	if rows["POSTGRES_PORT"] != "6543" || rows["PORT"] != "8080" {
		t.Fatalf("valid ports: %v", rows)
	}
}

func TestConfigStatementTimeout(t *testing.T) {
	t.Parallel()
	rows, _ := configRows(t, map[string]string{"TAKARO_DATA_DIR": t.TempDir()})
	if rows["TAKARO_STATEMENT_TIMEOUT"] != "5s" {
		t.Fatalf("default: %v", rows)
	}
	rows, _ = configRows(t, map[string]string{"TAKARO_STATEMENT_TIMEOUT": "250ms", "TAKARO_DATA_DIR": t.TempDir()})
	if rows["TAKARO_STATEMENT_TIMEOUT"] != "250ms" {
		t.Fatalf("from the environment: %v", rows)
	}
	rows, _ = configRows(t, map[string]string{"TAKARO_STATEMENT_TIMEOUT": "5", "TAKARO_DATA_DIR": t.TempDir()})
	if rows["TAKARO_STATEMENT_TIMEOUT"] != "5s" {
		t.Fatalf("whole seconds: %v", rows)
	}
	for _, value := range []string{"0s", "-1s", "soon"} {
		o := takaro(t, map[string]string{"TAKARO_STATEMENT_TIMEOUT": value, "TAKARO_DATA_DIR": t.TempDir()}, "db", "status")
		requireExit(t, o, 1)
		requireContains(t, value, o.stderr, `TAKARO_STATEMENT_TIMEOUT="`+value+`"`, "not a positive duration")
	}
}

// TestConnectionStringWinsOverDiscreteSettings points the discrete
// variables nowhere and the connection string at a real database.
func TestConnectionStringWinsOverDiscreteSettings(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := dbEnv(t, db)
	for k, v := range map[string]string{"POSTGRES_HOST": "/nonexistent", "POSTGRES_PORT": "1", "POSTGRES_USER": "nobody",
		"POSTGRES_PASSWORD": "wrong", "POSTGRES_DB": "nowhere"} {
		env[k] = v
	}
	o := takaro(t, env, "db", "status")
	requireExit(t, o, 0)
	requireContains(t, "status", o.stdout, "0 pending")

	// Without it, the discrete settings are used (and fail here).
	delete(env, "POSTGRES_CONNECTION_STRING")
	o = takaro(t, env, "db", "status")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, "/nonexistent")
	if strings.Contains(o.stderr, "wrong") {
		t.Fatalf("the password is in the error:\n%s", o)
	}
}

// TestConfigEmbeddedByDefault reports the embedded database when no
// database variable is set, and an external one when any is.
func TestConfigEmbeddedByDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows, _ := configRows(t, map[string]string{"TAKARO_DATA_DIR": dir})
	if rows["database"] != "embedded ("+dir+")" {
		t.Fatalf("with no database configured: database is %q, want embedded (%s)", rows["database"], dir)
	}
	for _, name := range dbEnvNames {
		value := "x"
		if name == "POSTGRES_PORT" {
			value = "5432"
		}
		rows, _ := configRows(t, map[string]string{name: value, "TAKARO_DATA_DIR": dir})
		if rows["database"] != "external" {
			t.Errorf("with %s set: database is %q, want external", name, rows["database"])
		}
	}
	rows, _ = configRows(t, map[string]string{"TAKARO_DATA_DIR": dir}, "-database-url", "host=/nonexistent")
	if rows["database"] != "external" {
		t.Errorf("with -database-url: database is %q, want external", rows["database"])
	}
}

// TestOpenDatabaseNeedsKey opens an external database for a command that
// needs the encryption key, without one: it refuses, naming the variable.
func TestOpenDatabaseNeedsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	open := func(env map[string]string, needKey bool) error {
		d, err := testApp(t, env).openDatabase(ctx, needKey)
		if err == nil {
			d.Close()
		}
		return err
	}
	env := dbEnv(t, db)
	err := open(env, true)
	if err == nil || !strings.Contains(err.Error(), "POSTGRES_ENCRYPTION_KEY is not set") {
		t.Fatalf("without a key: got %v, want an error naming POSTGRES_ENCRYPTION_KEY", err)
	}
	// A command that does not need the key works without one.
	if err := open(env, false); err != nil {
		t.Fatalf("a command that needs no key: %v", err)
	}
	// Previous keys alone are not enough.
	env["POSTGRES_ENCRYPTION_KEY_PREVIOUS"] = pgtest.OtherKey
	if err := open(env, true); err == nil || !strings.Contains(err.Error(), "POSTGRES_ENCRYPTION_KEY") {
		t.Fatalf("with only a previous key: got %v, want an error naming POSTGRES_ENCRYPTION_KEY", err)
	}
	env["POSTGRES_ENCRYPTION_KEY"] = pgtest.Key
	if err := open(env, true); err != nil {
		t.Fatalf("with a key: %v", err)
	}
}

// TestConnectTimeout points takaro at a server that accepts TCP
// connections and never answers: the command fails within the connect
// timeout, saying so, instead of hanging. A connect_timeout in the
// connection string wins over the setting.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn // accepted and never answered
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	host, port, _ := net.SplitHostPort(l.Addr().String())
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"variable", map[string]string{"POSTGRES_HOST": host, "POSTGRES_PORT": port, "POSTGRES_CONNECT_TIMEOUT": "1"}, nil, "1s"},
		{"flag", map[string]string{"POSTGRES_HOST": host, "POSTGRES_PORT": port}, []string{"-connect-timeout", "1s"}, "1s"},
		{"connection string wins", map[string]string{
			"POSTGRES_CONNECTION_STRING": "host=" + host + " port=" + port + " user=x dbname=x sslmode=disable connect_timeout=1",
			"POSTGRES_CONNECT_TIMEOUT":   "1h",
		}, nil, "1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["TAKARO_DATA_DIR"] = t.TempDir()
			start := time.Now()
			o := takaro(t, tc.env, append([]string{"db", "status"}, tc.args...)...)
			took := time.Since(start)
			requireExit(t, o, 1)
			requireContains(t, "stderr", o.stderr, "did not answer within the connect timeout of "+tc.want,
				net.JoinHostPort(host, port), "POSTGRES_CONNECT_TIMEOUT")
			if took > 20*time.Second {
				t.Fatalf("took %s to give up, with a timeout of %s", took, tc.want)
			}
		})
	}
}

// TestPoolSize: the pool follows the CPU count unless configured.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	if got, want := postgres.DefaultPoolSize(), int32(max(4, runtime.NumCPU())); got != want {
		t.Fatalf("default pool size %d, want %d", got, want)
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want int32
	}{
		{nil, nil, postgres.DefaultPoolSize()},
		{map[string]string{"POSTGRES_POOL_SIZE": "17"}, nil, 17},
		{map[string]string{"POSTGRES_POOL_SIZE": "17"}, []string{"-pool-size", "3"}, 3},
	} {
		env := map[string]string{"POSTGRES_HOST": "db.internal", "TAKARO_DATA_DIR": t.TempDir()}
		maps.Copy(env, tc.env)
		values, _, _ := configTable(t, env, tc.args...)
		if values["POSTGRES_POOL_SIZE"] != strconv.Itoa(int(tc.want)) {
			t.Errorf("%v %v: config shows pool size %s, want %d", tc.env, tc.args, values["POSTGRES_POOL_SIZE"], tc.want)
		}
		if len(tc.args) > 0 {
			continue // a flag reaches the pool like the variable
		}
		cfg, err := loadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		pool, err := cfg.DB.PoolConfig()
		if err != nil {
			t.Fatal(err)
		}
		if pool.MaxConns != tc.want || pool.ConnConfig.ConnectTimeout != postgres.DefaultConnectTimeout {
			t.Errorf("%v: pool of %d connections, connect timeout %s; want %d and %s",
				tc.env, pool.MaxConns, pool.ConnConfig.ConnectTimeout, tc.want, postgres.DefaultConnectTimeout)
		}
	}
	o := takaro(t, map[string]string{"POSTGRES_POOL_SIZE": "0", "TAKARO_DATA_DIR": t.TempDir()}, "config")
	requireExit(t, o, 1)
	requireContains(t, "stderr", o.stderr, `POSTGRES_POOL_SIZE="0"`, "not a pool size")
}
