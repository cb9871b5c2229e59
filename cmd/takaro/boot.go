package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/jackc/pgx/v5/pgxpool"
)

// embeddedRole and embeddedDatabase are what takaro uses in its own cluster.
const (
	embeddedRole     = "takaro"
	embeddedDatabase = "takaro"
)

// openDatabase connects to the configured database, or to the embedded one
// when none is configured, and makes sure pgcrypto is installed before
// anything else happens. With needKey the command cannot work without the
// encryption key and refuses to start when none is configured.
//
// Only a command that needs the key gets it. Its database refuses
// connections on which the key would cross a network in clear (see
// postgres/transport.go) unless POSTGRES_ALLOW_INSECURE_TRANSPORT is set;
// the database of any other command cannot send a key and is not held to
// that rule, so migrations (and the doctor) work over any connection.
func (a *app) openDatabase(ctx context.Context, needKey bool) (*postgres.DB, error) {
	var keys *postgres.Keyring
	var err error
	if needKey {
		keys, err = a.requiredKeys()
	} else {
		_, err = a.cfg.keyring() // a malformed key is reported whatever the command
	}
	if err != nil {
		return nil, err
	}
	db, err := a.connect(ctx, keys)
	if err != nil {
		return nil, err
	}
	if err := db.EnsurePgcrypto(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// connect opens the data core with keys (nil for none), changing nothing
// in the database.
func (a *app) connect(ctx context.Context, keys *postgres.Keyring) (*postgres.DB, error) {
	poolConfig, err := a.poolConfig(ctx)
	if err != nil {
		return nil, err
	}
	listenConfig, err := a.cfg.listenConfig()
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, poolConfig, postgres.Options{
		Keys: keys, BcryptCost: a.cfg.BcryptCost, AllowInsecureTransport: a.cfg.AllowInsecureTransport, Logger: a.log,
		StatementTimeout: a.cfg.StatementTimeout, ListenConfig: listenConfig,
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		cc := poolConfig.ConnConfig
		return nil, fmt.Errorf("the database at %s did not answer within the connect timeout of %s "+
			"(POSTGRES_CONNECT_TIMEOUT or -connect-timeout; a connect_timeout in the connection string wins): %w",
			net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), cc.ConnectTimeout, err)
	}
	if err != nil {
		return nil, err
	}
	a.logDatabase(ctx, db, poolConfig)
	return db, nil
}

// logDatabase says which database the command uses, and its version:
// the embedded cluster's directory, or the host, port and database (never
// the password).
func (a *app) logDatabase(ctx context.Context, db *postgres.DB, cfg *pgxpool.Config) {
	version := "unknown"
	if conn, err := db.Pool().Acquire(ctx); err == nil {
		version = conn.Conn().PgConn().ParameterStatus("server_version")
		conn.Release()
	}
	level := slog.LevelDebug
	if a.cmd != nil && a.cmd.longRunning {
		level = slog.LevelInfo
	}
	cc := cfg.ConnConfig
	if a.cfg.Embedded {
		a.log.Log(ctx, level, "using the embedded database", "dir", filepath.Join(a.cfg.DataDir, "postgres"),
			"server_version", version, "pool_size", cfg.MaxConns)
		return
	}
	a.log.Log(ctx, level, "using the database", "host", cc.Host, "port", cc.Port, "database", cc.Database, "user", cc.User,
		"server_version", version, "pool_size", cfg.MaxConns)
}

// devKeyFile names the development encryption key file in the secrets
// directory: the current key on its first line, previous ones after it.
const devKeyFile = "encryption-key"

// encryptionKeys returns the configured encryption keys, nil when none is
// configured. For the embedded database, when no key is configured, it is
// a local development default: a key generated once and kept in the data
// directory, next to the data it protects (with the keys it replaced,
// after a rotation: see recordDevKeys).
func (a *app) encryptionKeys() (*postgres.Keyring, error) {
	if a.cfg.EncryptionKey == "" && a.cfg.Embedded {
		keys, err := a.devSecret(devKeyFile)
		if err != nil {
			return nil, err
		}
		lines := strings.Fields(string(keys))
		if len(lines) == 0 {
			return nil, fmt.Errorf("the development key file %s is empty: restore it, or delete it to generate a new key "+
				"(values encrypted with the lost key cannot be read again)", filepath.Join(a.cfg.DataDir, "secrets", devKeyFile))
		}
		a.cfg.EncryptionKey = secret(lines[0])
		for _, k := range lines[1:] {
			a.cfg.PreviousKeys = append(a.cfg.PreviousKeys, secret(k))
		}
	}
	return a.cfg.keyring()
}

// recordDevKeys makes the development key file of the embedded database,
// when there is one, hold keys: after a rotation with a key configured in
// the environment, a plain takaro serve then still reads every value. The
// keys the file held stay in it as previous keys.
func (a *app) recordDevKeys(keys []secret) error {
	if !a.cfg.Embedded {
		return nil
	}
	path := filepath.Join(a.cfg.DataDir, "secrets", devKeyFile)
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // the development default was never used here
	}
	if err != nil {
		return err
	}
	var lines []string
	for _, k := range keys {
		if !slices.Contains(lines, string(k)) {
			lines = append(lines, string(k))
		}
	}
	for _, k := range strings.Fields(string(old)) {
		if !slices.Contains(lines, k) {
			lines = append(lines, k)
		}
	}
	content := strings.Join(lines, "\n") + "\n"
	if content == string(old) {
		return nil
	}
	// Write a new file and rename it over the old one, so that the key
	// file is never half-written.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	a.log.Info("the development key file now holds the current key, and the previous ones after it",
		"file", path, "keys", len(lines))
	return nil
}

// requiredKeys is encryptionKeys for a command that cannot work without a
// key: it fails when none is configured.
func (a *app) requiredKeys() (*postgres.Keyring, error) {
	keys, err := a.encryptionKeys()
	if err == nil && keys == nil {
		err = errors.New("POSTGRES_ENCRYPTION_KEY is not set, and this command encrypts or decrypts " +
			"game servers' connection info. Generate a key with `openssl rand -base64 32` and set it in " +
			"POSTGRES_ENCRYPTION_KEY (or put it in a file named by POSTGRES_ENCRYPTION_KEY_FILE)")
	}
	return keys, err
}

// poolConfig returns the connection settings, starting the embedded
// cluster first when no database is configured.
func (a *app) poolConfig(ctx context.Context) (*pgxpool.Config, error) {
	if !a.cfg.Embedded {
		return a.cfg.DB.PoolConfig()
	}
	cluster, err := embedded.Ensure(ctx, embedded.Options{Dir: filepath.Join(a.cfg.DataDir, "postgres")})
	if err != nil {
		return nil, err
	}
	if err := cluster.EnsureRoleAndDatabase(ctx, embeddedRole, embeddedDatabase); err != nil {
		return nil, err
	}
	// The pool size and connect timeout apply; the rest is the cluster's.
	return postgres.ConnConfig{
		URL:            cluster.ConnString(embeddedRole, embeddedDatabase),
		MaxConns:       a.cfg.DB.MaxConns,
		ConnectTimeout: a.cfg.DB.ConnectTimeout,
	}.PoolConfig()
}

// devSecret returns the secret stored in <data dir>/secrets/name, creating
// a random one on first use. It exists only for the embedded default, so
// that a newcomer's first run works and later runs can read its data.
func (a *app) devSecret(name string) (secret, error) {
	dir := filepath.Join(a.cfg.DataDir, "secrets")
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		return secret(strings.TrimSpace(string(b))), nil
	}
	// The data directory stays open to others (0755): when takaro runs as
	// root, the embedded cluster in it runs as the postgres user, which
	// must enter it. Only the secrets directory is private.
	if err := os.MkdirAll(a.cfg.DataDir, 0o755); err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	value := base64.StdEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) { // another process created it first
		return a.devSecret(name)
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		return "", errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	a.log.Info("generated a development secret for the embedded database", "name", name, "file", path)
	return secret(value), nil
}

// withMigrator is the prologue of the schema commands: it parses args
// (no flags of their own), opens the database, prepares the binary's
// migrations, runs fn and closes both.
func (a *app) withMigrator(ctx context.Context, args []string, fn func(*postgres.DB, *postgres.Migrator) error) error {
	if _, err := a.parseFlags(args, nil); err != nil {
		return err
	}
	db, err := a.openDatabase(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := postgres.NewMigrator(db, a.migrations)
	if err != nil {
		return err
	}
	defer func() { _ = m.Close() }()
	return fn(db, m)
}

// describe formats a migration result for the operator.
func describe(r postgres.MigrationResult) string {
	return fmt.Sprintf("%s (%s)", r.Name, r.Duration.Round(1e6))
}
