package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	return postgres.Open(ctx, poolConfig, postgres.Options{
		Keys: keys, BcryptCost: a.cfg.BcryptCost, AllowInsecureTransport: a.cfg.AllowInsecureTransport, Logger: a.log,
	})
}

// encryptionKeys returns the configured encryption keys, nil when none is
// configured. For the embedded database, when no key is configured, it is
// a local development default: a key generated once and kept in the data
// directory, next to the data it protects.
func (a *app) encryptionKeys() (*postgres.Keyring, error) {
	if a.cfg.EncryptionKey == "" && a.cfg.Embedded {
		key, err := a.devSecret("encryption-key")
		if err != nil {
			return nil, err
		}
		a.cfg.EncryptionKey = key
	}
	return a.cfg.keyring()
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
	dir := filepath.Join(a.cfg.DataDir, "postgres")
	a.log.Debug("using the embedded database", "dir", dir)
	cluster, err := embedded.Ensure(ctx, embedded.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	if err := cluster.EnsureRoleAndDatabase(ctx, embeddedRole, embeddedDatabase); err != nil {
		return nil, err
	}
	return pgxpool.ParseConfig(cluster.ConnString(embeddedRole, embeddedDatabase))
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
	if err := os.MkdirAll(dir, 0o700); err != nil {
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

// migrator opens the database and prepares the binary's migrations.
func (a *app) migrator(ctx context.Context) (*postgres.DB, *postgres.Migrator, error) {
	db, err := a.openDatabase(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	m, err := postgres.NewMigrator(db, a.migrations)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, m, nil
}

// closeAll closes a migrator and its database.
func closeAll(db *postgres.DB, m *postgres.Migrator) {
	_ = m.Close()
	db.Close()
}

// describe formats a migration result for the operator.
func describe(r postgres.MigrationResult) string {
	return fmt.Sprintf("%s (%s)", r.Name, r.Duration.Round(1e6))
}
