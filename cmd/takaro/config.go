package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/embedded"
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
		},
		DataDir:          getenv("TAKARO_DATA_DIR"),
		BcryptCost:       postgres.DefaultBcryptCost,
		StatementTimeout: postgres.DefaultStatementTimeout,
		Port:             3000,
		LogLevel:         slog.LevelInfo,
	}
	var errs []error
	parse := func(name string, into func(string) error) {
		if v := getenv(name); v != "" {
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
	parse("LOGGING_LEVEL", func(v string) error { return c.LogLevel.UnmarshalText([]byte(v)) })

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
	fs.Func("statement-timeout", "longest a database statement may run, e.g. 5s (TAKARO_STATEMENT_TIMEOUT)", durationInto(&c.StatementTimeout))
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

// writeTo prints the configuration with every secret redacted.
func (c *Config) writeTo(w io.Writer) {
	db := "embedded (" + c.DataDir + ")"
	if !c.Embedded {
		db = "external"
	}
	url := c.DB.URL
	if url != "" {
		url = "(set, not shown: it may hold a password)"
	}
	rows := [][2]string{
		{"database", db},
		{"POSTGRES_CONNECTION_STRING", url},
		{"POSTGRES_HOST", c.DB.Host},
		{"POSTGRES_PORT", strconv.Itoa(c.DB.Port)},
		{"POSTGRES_USER", c.DB.User},
		{"POSTGRES_PASSWORD", secret(c.DB.Password).String()},
		{"POSTGRES_DB", c.DB.Database},
		{"POSTGRES_SSL", strconv.FormatBool(c.DB.SSL)},
		{"POSTGRES_CA", secret(c.DB.CA).String()},
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
		{"LOGGING_LEVEL", c.LogLevel.String()},
		{"LOGGING_JSON", strconv.FormatBool(c.LogJSON)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-34s %s\n", r[0], r[1])
	}
}

// readSecret reads NAME, or the file named by NAME_FILE (for container
// secrets); setting both is an error, and so is an empty file: a secret
// file that is configured but empty is a mistake (a missing mount), not a
// way to leave the secret unset.
func readSecret(getenv func(string) string, name string) (secret, error) {
	value, file := getenv(name), getenv(name+"_FILE")
	if file == "" {
		return secret(value), nil
	}
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

func durationInto(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond {
			return errors.New("not a duration of at least 1ms, such as 5s or 500ms")
		}
		*p = d
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
