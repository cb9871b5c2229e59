package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// encSafeLogging are server log settings that never write statement
// parameters, whatever the server's own configuration.
var encSafeLogging = []string{
	"log_statement = 'none'", "log_min_duration_statement = -1", "log_min_duration_sample = -1",
	"log_transaction_sample_rate = 0", "log_parameter_max_length = 0", "log_parameter_max_length_on_error = 0",
}

// encSetForDatabase applies settings to new sessions on db, as a superuser.
func encSetForDatabase(t testing.TB, db *pgtest.Database, settings ...string) {
	t.Helper()
	for _, s := range settings {
		if _, err := pgtest.Admin(t).Exec(context.Background(), "ALTER DATABASE "+db.Name+" SET "+s); err != nil {
			t.Fatal(err)
		}
	}
}

// encDoctor opens db without a key, as the doctor command does, runs the
// doctor with keyIDs configured, and returns the checks by name.
func encDoctor(t *testing.T, db *pgtest.Database, bcryptCost int, keyIDs ...string) map[string]postgres.Check {
	t.Helper()
	core, err := encOpenPool(t, db.Config(t), postgres.Options{BcryptCost: bcryptCost})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]postgres.Check{}
	for _, c := range core.Doctor(context.Background(), postgres.DoctorOptions{Migrations: postgres.Migrations(), KeyIDs: keyIDs}) {
		checks[c.Name] = c
	}
	return checks
}

// encWantCheck fails unless check name has status and its detail and
// advice together mention every one of parts.
func encWantCheck(t *testing.T, checks map[string]postgres.Check, name string, status postgres.CheckStatus, parts ...string) {
	t.Helper()
	c, ok := checks[name]
	if !ok {
		t.Fatalf("no check %q", name)
	}
	if c.Status != status {
		t.Errorf("check %s: %s (%s), want %s", name, c.Status, c.Detail, status)
	}
	for _, p := range parts {
		if !strings.Contains(c.Detail+"\n"+c.Advice, p) {
			t.Errorf("check %s: %q / %q does not mention %q", name, c.Detail, c.Advice, p)
		}
	}
}

func TestDoctorPassesOnAGoodDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	encSetForDatabase(t, db, encSafeLogging...)
	db.SeedGameServers(t, pgtest.Key, 2, 3)
	checks := encDoctor(t, db, postgres.DefaultBcryptCost, encKeyring(t, pgtest.Key, pgtest.OtherKey).IDs()...)
	var names []string
	for name, c := range checks {
		names = append(names, name)
		if c.Status != postgres.Pass || c.Advice != "" {
			t.Errorf("check %s: %s (%s) %s", name, c.Status, c.Detail, c.Advice)
		}
	}
	slices.Sort(names)
	if want := []string{"bcrypt cost", "encryption keys", "migrations", "pgcrypto", "query exec mode", "row-level security", "server log", "transport"}; !slices.Equal(names, want) {
		t.Errorf("checks %v, want %v", names, want)
	}
	encWantCheck(t, checks, "encryption keys", postgres.Pass, "all 6 encrypted values are under the current key "+encKeyID(t, pgtest.Key),
		"previous key(s) "+encKeyID(t, pgtest.OtherKey)+" encrypt nothing and can be removed")
}

// Each check fails (or warns) on a database misconfigured for it.
func TestDoctorFindsMisconfigurations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := encKeyID(t, pgtest.Key)

	t.Run("pgcrypto", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		if _, err := db.Pool(t).Exec(ctx, "DROP EXTENSION pgcrypto"); err != nil {
			t.Fatal(err)
		}
		encWantCheck(t, encDoctor(t, db, 10, key), "pgcrypto", postgres.Fail, "not installed", "CREATE EXTENSION pgcrypto;", db.Name)
	})

	t.Run("query exec mode", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		cfg, err := postgres.ConnConfig{URL: db.ConnString + " default_query_exec_mode=simple_protocol"}.PoolConfig()
		if err != nil {
			t.Fatal(err)
		}
		core, err := encOpenPool(t, cfg, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, c := range core.Doctor(ctx, postgres.DoctorOptions{Migrations: postgres.Migrations()}) {
			if c.Name == "query exec mode" {
				found = true
				if c.Status != postgres.Warn || !strings.Contains(c.Detail, "pg_stat_activity") || !strings.Contains(c.Advice, "default_query_exec_mode") {
					t.Errorf("check %s: %s (%s) %s", c.Name, c.Status, c.Detail, c.Advice)
				}
			}
		}
		if !found {
			t.Error("no query exec mode check")
		}
	})

	t.Run("row-level security", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		for _, q := range []string{
			"ALTER TABLE players NO FORCE ROW LEVEL SECURITY",
			"ALTER TABLE variables DISABLE ROW LEVEL SECURITY",
			"CREATE POLICY everyone ON events USING (true)",
		} {
			if _, err := db.Pool(t).Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		encWantCheck(t, encDoctor(t, db, 10, key), "row-level security", postgres.Fail,
			`ALTER TABLE "players" FORCE ROW LEVEL SECURITY;`, `ALTER TABLE "variables" ENABLE ROW LEVEL SECURITY;`,
			`DROP POLICY "everyone" ON "events";`)
	})

	t.Run("migrations", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		m, err := postgres.NewMigrator(db.Open(t, postgres.Options{}), postgres.Migrations())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = m.Close() }()
		rolledBack, err := m.Rollback(ctx)
		if err != nil {
			t.Fatal(err)
		}
		encWantCheck(t, encDoctor(t, db, 10, key), "migrations", postgres.Fail, "1 of", "pending: "+rolledBack.Name, "takaro db migrate")
	})

	t.Run("encryption keys", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		// Only previous keys: rotation is pending.
		db.SeedGameServers(t, pgtest.OtherKey, 1, 2)
		encWantCheck(t, encDoctor(t, db, 10, key, encKeyID(t, pgtest.OtherKey)), "encryption keys", postgres.Warn,
			"2 of 2 encrypted values are still under previous key(s) "+encKeyID(t, pgtest.OtherKey), "takaro db rotate-key")
		// No key at all.
		encWantCheck(t, encDoctor(t, db, 10), "encryption keys", postgres.Fail, "key "+encKeyID(t, pgtest.OtherKey)+" encrypts 2 value(s)")
		// A key found in the data that is not configured.
		db.SeedGameServers(t, encThirdKey, 1, 1)
		encWantCheck(t, encDoctor(t, db, 10, key, encKeyID(t, pgtest.OtherKey)), "encryption keys", postgres.Fail,
			"key "+encKeyID(t, encThirdKey)+" encrypts 1 value(s)", "POSTGRES_ENCRYPTION_KEY_PREVIOUS")
	})

	t.Run("bcrypt cost", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		encWantCheck(t, encDoctor(t, db, 4, key), "bcrypt cost", postgres.Fail, "cost 4", "TAKARO_BCRYPT_COST")
		encWantCheck(t, encDoctor(t, db, 15, key), "bcrypt cost", postgres.Warn, "cost 15")
	})

	t.Run("server log", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name     string
			settings []string
			status   postgres.CheckStatus
			mentions []string
		}{
			{"every statement with its parameters", []string{"log_statement = 'all'", "log_parameter_max_length = -1"}, postgres.Fail,
				[]string{"log_parameter_max_length = -1", "log_statement = all"}},
			{"slow statements with their parameters", []string{"log_min_duration_statement = 0", "log_parameter_max_length = 64"}, postgres.Fail,
				[]string{"log_parameter_max_length = 64", "log_min_duration_statement = 0"}},
			{"parameters of failing statements", []string{"log_parameter_max_length_on_error = -1"}, postgres.Fail,
				[]string{"log_parameter_max_length_on_error = -1", "every failing statement"}},
			{"parameters, but no statement logged yet", []string{"log_parameter_max_length = -1"}, postgres.Warn,
				[]string{"log_parameter_max_length = -1", "would write the encryption key"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				db := pgtest.New(t)
				encSetForDatabase(t, db, encSafeLogging...)
				encSetForDatabase(t, db, tc.settings...)
				checks := encDoctor(t, db, 10, key)
				encWantCheck(t, checks, "server log", tc.status, tc.mentions...)
				// The advice holds the statements that make it safe: run them
				// as a superuser, and a new connection passes.
				var fixes []string
				for line := range strings.Lines(checks["server log"].Advice) {
					if line = strings.TrimSpace(line); strings.HasPrefix(line, "ALTER ROLE ") {
						fixes = append(fixes, line)
					}
				}
				if len(fixes) == 0 {
					t.Fatalf("no statements in the advice %q", checks["server log"].Advice)
				}
				for _, q := range fixes {
					if want := `ALTER ROLE "` + pgtest.TestRole + `" IN DATABASE "` + db.Name + `" SET `; !strings.HasPrefix(q, want) {
						t.Errorf("advice %q, want it to start with %q", q, want)
					}
					if _, err := pgtest.Admin(t).Exec(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				encWantCheck(t, encDoctor(t, db, 10, key), "server log", postgres.Pass)
			})
		}
	})
}
