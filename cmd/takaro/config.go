package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/jackc/pgx/v5"
)

// secret is a configuration value that must never be printed or logged.
type secret string

func (s secret) String() string {
	if s == "" {
		return "(not set)"
	}
	return "(set)"
}

// GoString keeps secrets out of %#v.
func (s secret) GoString() string { return s.String() }

// LogValue keeps secrets out of structured logs.
func (s secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Config is everything takaro reads from its environment. The names are
// the reference platform's, so existing deployments keep working. Flags
// override the environment; library packages never read either.
type Config struct {
	// DB is how to reach the database; Embedded means nothing was
	// configured and takaro runs its own cluster under DataDir.
	DB       postgres.ConnConfig
	Embedded bool
	// ListenURL is the connection string of the identity cache's LISTEN
	// connection (POSTGRES_LISTEN_CONNECTION_STRING); empty means DB's.
	// Where DB goes through PgBouncer in transaction mode, LISTEN does not
	// stay on one server connection: this must reach PostgreSQL directly
	// (or through PgBouncer in session mode).
	ListenURL secret
	// DataDir holds local state: the embedded cluster and, for it only,
	// generated development secrets (TAKARO_DATA_DIR).
	DataDir string

	// EncryptionKey encrypts connection info (POSTGRES_ENCRYPTION_KEY);
	// PreviousKeys only decrypt (POSTGRES_ENCRYPTION_KEY_PREVIOUS, comma
	// or newline separated). Like every secret (also POSTGRES_PASSWORD,
	// POSTGRES_CONNECTION_STRING, ADMIN_CLIENT_SECRET and JWT_SECRET) they
	// may come from a file named by <NAME>_FILE.
	EncryptionKey secret
	PreviousKeys  []secret
	// AllowInsecureTransport lets commands send the encryption key to a
	// remote database over an unencrypted connection
	// (POSTGRES_ALLOW_INSECURE_TRANSPORT).
	AllowInsecureTransport bool
	// BcryptCost is the crypt() work factor for new hashes (TAKARO_BCRYPT_COST).
	BcryptCost int
	// StatementTimeout bounds every statement of the data core's work
	// (TAKARO_STATEMENT_TIMEOUT, a Go duration such as 5s).
	StatementTimeout time.Duration

	// HTTP server settings.
	Port        int    // PORT
	AdminSecret secret // ADMIN_CLIENT_SECRET; empty turns the admin API off
	JWTSecret   secret // JWT_SECRET; signs admin-issued domain tokens
	Migrate     bool   // TAKARO_MIGRATE: apply pending migrations at boot

	LogLevel slog.Level // LOGGING_LEVEL
	LogJSON  bool       // LOGGING_JSON

	// sources records where each variable's value came from ("env", the
	// file of NAME_FILE, a flag); a variable it does not name has its
	// default.
	sources map[string]string
}

// flagVariables names the variable each configuration flag overrides.
var flagVariables = map[string]string{
	"database-url":        "POSTGRES_CONNECTION_STRING",
	"listen-database-url": "POSTGRES_LISTEN_CONNECTION_STRING",
	"data-dir":            "TAKARO_DATA_DIR",
	"encryption-key-file": "POSTGRES_ENCRYPTION_KEY",
	"bcrypt-cost":         "TAKARO_BCRYPT_COST",
	"connect-timeout":     "POSTGRES_CONNECT_TIMEOUT",
	"pool-size":           "POSTGRES_POOL_SIZE",
	"port":                "PORT",
	"migrate":             "TAKARO_MIGRATE",
}

// dbEnvNames are the variables that configure an external database. When
// none is set (and no -database-url is given) takaro uses its embedded one.
var dbEnvNames = []string{
	"POSTGRES_CONNECTION_STRING", "POSTGRES_HOST", "POSTGRES_PORT",
	"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
}

// loadConfig reads the configuration from the environment.
func loadConfig(getenv func(string) string) (*Config, error) {
	c := &Config{
		DB: postgres.ConnConfig{
			Host:     getenv("POSTGRES_HOST"),
			User:     getenv("POSTGRES_USER"),
			Database: getenv("POSTGRES_DB"),
			CA:       getenv("POSTGRES_CA"),
			// Overridden by a connect_timeout in a connection string.
			ConnectTimeout: postgres.DefaultConnectTimeout,
			MaxConns:       postgres.DefaultPoolSize(),
		},
		DataDir:          getenv("TAKARO_DATA_DIR"),
		BcryptCost:       postgres.DefaultBcryptCost,
		StatementTimeout: postgres.DefaultStatementTimeout,
		Port:             3000,
		LogLevel:         slog.LevelInfo,
		sources:          map[string]string{},
	}
	for _, name := range []string{"POSTGRES_HOST", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_CA", "TAKARO_DATA_DIR"} {
		if getenv(name) != "" {
			c.sources[name] = "env"
		}
	}
	var errs []error
	parse := func(name string, into func(string) error) {
		if v := getenv(name); v != "" {
			c.sources[name] = "env"
			if err := into(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	parse("POSTGRES_PORT", portInto(&c.DB.Port))
	parse("POSTGRES_SSL", boolInto(&c.DB.SSL))
	parse("POSTGRES_ALLOW_INSECURE_TRANSPORT", boolInto(&c.AllowInsecureTransport))
	parse("TAKARO_BCRYPT_COST", intInto(&c.BcryptCost))
	parse("TAKARO_STATEMENT_TIMEOUT", durationInto(&c.StatementTimeout))
	parse("PORT", portInto(&c.Port))
	parse("TAKARO_MIGRATE", boolInto(&c.Migrate))
	parse("LOGGING_JSON", boolInto(&c.LogJSON))
	parse("LOGGING_LEVEL", func(v string) error {
		if c.LogLevel.UnmarshalText([]byte(v)) != nil {
			return errors.New("not a log level: use debug, info, warn or error")
		}
		return nil
	})
	parse("POSTGRES_CONNECT_TIMEOUT", durationInto(&c.DB.ConnectTimeout))
	parse("POSTGRES_POOL_SIZE", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return errors.New("not a pool size (1 to 10000 connections)")
		}
		c.DB.MaxConns = int32(n)
		return nil
	})
	readSecret := func(getenv func(string) string, name string) (secret, error) {
		return readSecretFrom(getenv, name, c.sources)
	}

	// The connection string may hold a password too.
	url, err := readSecret(getenv, "POSTGRES_CONNECTION_STRING")
	if err != nil {
		errs = append(errs, err)
	}
	password, err := readSecret(getenv, "POSTGRES_PASSWORD")
	if err != nil {
		errs = append(errs, err)
	}
	c.DB.URL, c.DB.Password = string(url), string(password)
	if c.ListenURL, err = readSecret(getenv, "POSTGRES_LISTEN_CONNECTION_STRING"); err != nil {
		errs = append(errs, err)
	}
	if c.EncryptionKey, err = readSecret(getenv, "POSTGRES_ENCRYPTION_KEY"); err != nil {
		errs = append(errs, err)
	}
	previous, err := readSecret(getenv, "POSTGRES_ENCRYPTION_KEY_PREVIOUS")
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range strings.FieldsFunc(string(previous), func(r rune) bool { return r == ',' || r == '\n' }) {
		if k = strings.TrimSpace(k); k != "" {
			c.PreviousKeys = append(c.PreviousKeys, secret(k))
		}
	}
	if c.AdminSecret, err = readSecret(getenv, "ADMIN_CLIENT_SECRET"); err != nil {
		errs = append(errs, err)
	}
	if c.JWTSecret, err = readSecret(getenv, "JWT_SECRET"); err != nil {
		errs = append(errs, err)
	}
	c.Embedded = true
	for _, name := range dbEnvNames {
		if getenv(name) != "" {
			c.Embedded = false
		}
	}
	if c.DB.URL != "" || c.DB.Password != "" { // set through a _FILE
		c.Embedded = false
	}
	if c.DataDir == "" {
		if c.DataDir, err = embedded.DefaultBaseDir(); err != nil && c.Embedded {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// registerDBFlags adds the flags every database command shares; they
// override the environment.
func (c *Config) registerDBFlags(fs *flag.FlagSet) {
	fs.Func("database-url", "PostgreSQL connection string (overrides POSTGRES_*)", func(v string) error {
		c.DB.URL, c.Embedded = v, false
		return nil
	})
	fs.Func("listen-database-url", "connection string of the identity cache's LISTEN connection, when the pool goes through "+
		"PgBouncer in transaction mode: PostgreSQL directly (POSTGRES_LISTEN_CONNECTION_STRING; default: the pool's)", func(v string) error {
		c.ListenURL = secret(v)
		return nil
	})
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded database and local state (TAKARO_DATA_DIR)")
	fs.Func("encryption-key-file", "file holding the encryption key (overrides POSTGRES_ENCRYPTION_KEY)", func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return fmt.Errorf("%s is empty", path)
		}
		c.EncryptionKey = secret(key)
		return nil
	})
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", c.BcryptCost, "crypt() work factor for new password and API-key hashes (TAKARO_BCRYPT_COST)")
	fs.DurationVar(&c.DB.ConnectTimeout, "connect-timeout", c.DB.ConnectTimeout,
		"give up connecting to the database after this long (POSTGRES_CONNECT_TIMEOUT; a connect_timeout in the connection string wins)")
	fs.Func("pool-size", fmt.Sprintf("most connections to the database at once (POSTGRES_POOL_SIZE; default %d here)", c.DB.MaxConns), func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return errors.New("not a pool size (1 to 10000 connections)")
		}
		c.DB.MaxConns = int32(n)
		return nil
	})
	fs.Func("statement-timeout", "longest a database statement may run, e.g. 5s (TAKARO_STATEMENT_TIMEOUT)", durationInto(&c.StatementTimeout))
}

// validate checks the values that flags may have set, so that a bad one
// fails before any database work.
func (c *Config) validate() error {
	switch {
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("port %d: not a port number (1 to 65535)", c.Port)
	case c.BcryptCost < 4 || c.BcryptCost > 31:
		return fmt.Errorf("bcrypt cost %d: must be between 4 and 31", c.BcryptCost)
	case c.DB.ConnectTimeout <= 0:
		return fmt.Errorf("connect timeout %s: must be positive", c.DB.ConnectTimeout)
	case c.StatementTimeout <= 0:
		return fmt.Errorf("statement timeout %s: must be positive", c.StatementTimeout)
	}
	return nil
}

// listenConfig is the connection of the identity cache's listener: nil
// for the pool's, or ListenURL with the pool's other settings (TLS,
// connect timeout).
func (c *Config) listenConfig() (*pgx.ConnConfig, error) {
	if c.ListenURL == "" {
		return nil, nil
	}
	cc := c.DB
	cc.URL = string(c.ListenURL)
	cfg, err := cc.PoolConfig()
	if err != nil {
		return nil, fmt.Errorf("POSTGRES_LISTEN_CONNECTION_STRING: %w", err)
	}
	return cfg.ConnConfig, nil
}

// keyring returns the configured encryption keys, or nil when none is set.
func (c *Config) keyring() (*postgres.Keyring, error) {
	if c.EncryptionKey == "" {
		if len(c.PreviousKeys) > 0 {
			return nil, errors.New("POSTGRES_ENCRYPTION_KEY_PREVIOUS is set but POSTGRES_ENCRYPTION_KEY is not")
		}
		return nil, nil
	}
	previous := make([]string, len(c.PreviousKeys))
	for i, k := range c.PreviousKeys {
		previous[i] = string(k)
	}
	keys, err := postgres.NewKeyring(string(c.EncryptionKey), previous...)
	if err != nil {
		return nil, fmt.Errorf("POSTGRES_ENCRYPTION_KEY: %w", err)
	}
	return keys, nil
}

// writeTo prints the effective configuration, every secret redacted, with
// where each value came from.
func (c *Config) writeTo(w io.Writer) {
	db := "embedded (" + c.DataDir + ")"
	if !c.Embedded {
		db = "external"
	}
	url := c.DB.URL
	if url != "" {
		url = "(set, not shown: it may hold a password)"
	}
	port := c.DB.Port
	if port == 0 {
		port = 5432
	}
	// With the embedded database and nothing configured, serve generates
	// these and keeps them in the data directory.
	devSecrets := map[string]string{
		"POSTGRES_ENCRYPTION_KEY": "encryption-key", "ADMIN_CLIENT_SECRET": "admin-token", "JWT_SECRET": "jwt-secret",
	}
	rows := [][2]string{
		{"database", db},
		{"POSTGRES_CONNECTION_STRING", url},
		{"POSTGRES_LISTEN_CONNECTION_STRING", c.ListenURL.String()},
		{"POSTGRES_HOST", cmp.Or(c.DB.Host, "localhost")},
		{"POSTGRES_PORT", strconv.Itoa(port)},
		{"POSTGRES_USER", cmp.Or(c.DB.User, "postgres")},
		{"POSTGRES_PASSWORD", secret(c.DB.Password).String()},
		{"POSTGRES_DB", cmp.Or(c.DB.Database, "postgres")},
		{"POSTGRES_SSL", strconv.FormatBool(c.DB.SSL)},
		{"POSTGRES_CA", secret(c.DB.CA).String()},
		{"POSTGRES_CONNECT_TIMEOUT", c.DB.ConnectTimeout.String()},
		{"POSTGRES_POOL_SIZE", strconv.Itoa(int(c.DB.MaxConns))},
		{"POSTGRES_ALLOW_INSECURE_TRANSPORT", strconv.FormatBool(c.AllowInsecureTransport)},
		{"POSTGRES_ENCRYPTION_KEY", c.EncryptionKey.String()},
		{"POSTGRES_ENCRYPTION_KEY_PREVIOUS", fmt.Sprintf("%d key(s)", len(c.PreviousKeys))},
		{"TAKARO_DATA_DIR", c.DataDir},
		{"TAKARO_BCRYPT_COST", strconv.Itoa(c.BcryptCost)},
		{"TAKARO_STATEMENT_TIMEOUT", c.StatementTimeout.String()},
		{"TAKARO_MIGRATE", strconv.FormatBool(c.Migrate)},
		{"PORT", strconv.Itoa(c.Port)},
		{"ADMIN_CLIENT_SECRET", c.AdminSecret.String()},
		{"JWT_SECRET", c.JWTSecret.String()},
		{"LOGGING_LEVEL", strings.ToLower(c.LogLevel.String())},
		{"LOGGING_JSON", strconv.FormatBool(c.LogJSON)},
	}
	for _, r := range rows {
		if r[0] == "database" {
			fmt.Fprintf(w, "%-34s %s\n", r[0], r[1])
			continue
		}
		source := c.sources[r[0]]
		switch {
		case source != "":
		case r[1] == "(not set)" && c.Embedded && devSecrets[r[0]] != "":
			// serve generates it on its first run, and keeps it here
			file := filepath.Join(c.DataDir, "secrets", devSecrets[r[0]])
			if _, err := os.Stat(file); err == nil {
				r[1] = "(set)"
			}
			source = "embedded default: " + file
		case c.Embedded && strings.HasPrefix(r[0], "POSTGRES_") && slices.Contains(dbVariables, r[0]) &&
			r[0] != "POSTGRES_CONNECT_TIMEOUT" && r[0] != "POSTGRES_POOL_SIZE":
			source = "not used: embedded database"
		default:
			source = "default"
		}
		fmt.Fprintf(w, "%-34s %-42s [%s]\n", r[0], r[1], source)
	}
}

// readSecretFrom reads NAME, or the file named by NAME_FILE (for
// container secrets), recording which in sources; setting both is an
// error, and so is an empty file: a secret file that is configured but
// empty is a mistake (a missing mount), not a way to leave the secret
// unset.
func readSecretFrom(getenv func(string) string, name string, sources map[string]string) (secret, error) {
	value, file := getenv(name), getenv(name+"_FILE")
	if file == "" {
		if value != "" {
			sources[name] = "env"
		}
		return secret(value), nil
	}
	sources[name] = "file " + name + "_FILE"
	if value != "" {
		return "", fmt.Errorf("both %s and %s_FILE are set; set one", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s_FILE: %s is empty", name, file)
	}
	return secret(v), nil
}

// durationInto parses a Go duration ("10s", "1m30s") or whole seconds,
// as libpq's connect_timeout.
func durationInto(p *time.Duration) func(string) error {
	return func(v string) error {
		if _, err := strconv.Atoi(v); err == nil {
			v += "s"
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("not a positive duration (for example 10s, or 10 for seconds)")
		}
		*p = d
		return nil
	}
}

func intInto(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("not a whole number")
		}
		*p = n
		return nil
	}
}

func portInto(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("not a port number (1 to 65535)")
		}
		*p = n
		return nil
	}
}

func boolInto(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("not true or false")
		}
		*p = b
		return nil
	}
}
