package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

// configRows runs `takaro config` and returns its rows by name.
func configRows(t *testing.T, env map[string]string, args ...string) (map[string]string, output) {
	t.Helper()
	o := takaro(t, env, append([]string{"config"}, args...)...)
	requireExit(t, o, 0)
	rows := map[string]string{}
	for line := range strings.Lines(o.stdout) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		rows[name] = strings.TrimSpace(value)
	}
	return rows, o
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
		"POSTGRES_PASSWORD":                "pw-S3CR3T-6f1c",
		"POSTGRES_ENCRYPTION_KEY":          "key-S3CR3T-0123456789abcdef-current",
		"POSTGRES_ENCRYPTION_KEY_PREVIOUS": "key-S3CR3T-previous-one,key-S3CR3T-previous-two",
		"ADMIN_CLIENT_SECRET":              "admin-S3CR3T-77aa",
		"JWT_SECRET":                       "jwt-S3CR3T-9d0e",
		"POSTGRES_CONNECTION_STRING":       "postgres://takaro:conn-S3CR3T-5b2@db.example.com:5432/takaro",
	}
	parts := []string{"S3CR3T", "6f1c", "0123456789abcdef", "previous-one", "previous-two", "77aa", "9d0e", "5b2", "db.example.com"}
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
		for _, name := range []string{"POSTGRES_PASSWORD", "POSTGRES_ENCRYPTION_KEY", "ADMIN_CLIENT_SECRET", "JWT_SECRET"} {
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
	for _, value := range []string{"5", "0s", "-1s", "soon"} {
		o := takaro(t, map[string]string{"TAKARO_STATEMENT_TIMEOUT": value, "TAKARO_DATA_DIR": t.TempDir()}, "db", "status")
		requireExit(t, o, 1)
		requireContains(t, value, o.stderr, `TAKARO_STATEMENT_TIMEOUT="`+value+`"`, "not a duration")
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
		cfg, err := loadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		a := &app{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: io.Discard,
			cfg: cfg, log: slog.New(slog.DiscardHandler)}
		d, err := a.openDatabase(ctx, needKey)
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
