package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openRaw opens the data core on cfg without pgtest's defaults.
func openRaw(t testing.TB, cfg *pgxpool.Config) *postgres.DB {
	t.Helper()
	core, err := postgres.Open(context.Background(), cfg, postgres.Options{BcryptCost: 4})
	must(t, err)
	t.Cleanup(core.Close)
	return core
}

func TestBootInstallsPgcrypto(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	core := openRaw(t, db.Config(t))
	ctx := context.Background()
	installed := func() bool {
		var ok bool
		must(t, core.Pool().QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto')").Scan(&ok))
		return ok
	}
	if installed() {
		t.Fatal("the empty database already has pgcrypto")
	}
	must(t, core.EnsurePgcrypto(ctx))
	if !installed() {
		t.Fatal("EnsurePgcrypto did not install pgcrypto")
	}
	must(t, core.EnsurePgcrypto(ctx))
	var hash string
	must(t, core.Pool().QueryRow(ctx, "SELECT crypt('x', gen_salt('bf', 4))").Scan(&hash))
}

func TestBootExplainsAMissingPrivilege(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, false)
	core := openRaw(t, db.Config(t))
	err := core.EnsurePgcrypto(context.Background())
	if err == nil {
		t.Fatal("a role without the CREATE privilege installed pgcrypto")
	}
	msg := err.Error()
	for _, want := range []string{db.Name, pgtest.TestRole, "CREATE privilege", "CREATE EXTENSION pgcrypto;"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not name %q:\n%s", want, msg)
		}
	}
}

func TestBootExplainsAMissingExtension(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t, true)
	core := openRaw(t, db.Config(t))
	err := core.EnsureExtensionForTest(context.Background(), "takaro_no_such_extension")
	if err == nil {
		t.Fatal("a nonexistent extension was installed")
	}
	for _, want := range []string{"takaro_no_such_extension", "postgresql-contrib"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q:\n%v", want, err)
		}
	}
}

func TestBootRefusesRolesThatBypassRowLevelSecurity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("superuser", func(t *testing.T) {
		t.Parallel()
		cfg, err := pgxpool.ParseConfig(pgtest.Admin(t).Config().ConnString())
		must(t, err)
		core, err := postgres.Open(ctx, cfg, postgres.Options{})
		if err == nil {
			core.Close()
			t.Fatal("the data core accepted a superuser connection")
		}
		for _, want := range []string{cfg.ConnConfig.User, "superuser", "row-level security", "NOBYPASSRLS"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q:\n%v", want, err)
			}
		}
	})
	t.Run("BYPASSRLS", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		role := fmt.Sprintf("takaro_bypass_%d_%d", os.Getpid(), bypassCounter.Add(1))
		admin := pgtest.Admin(t)
		_, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN PASSWORD 'bypass' NOSUPERUSER BYPASSRLS")
		must(t, err)
		t.Cleanup(func() {
			if _, err := admin.Exec(context.Background(), "DROP ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
				t.Errorf("drop role %s: %v", role, err)
			}
		})
		cfg, err := pgxpool.ParseConfig(db.ConnStringAs(t, role, "bypass"))
		must(t, err)
		core, err := postgres.Open(ctx, cfg, postgres.Options{})
		if err == nil {
			core.Close()
			t.Fatal("the data core accepted a BYPASSRLS role")
		}
		for _, want := range []string{role, "BYPASSRLS", "row-level security"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q:\n%v", want, err)
			}
		}
	})
	t.Run("ordinary role", func(t *testing.T) {
		t.Parallel()
		openRaw(t, pgtest.New(t).Config(t))
	})
}

var bypassCounter atomic.Int64
