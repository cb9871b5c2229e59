package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

func TestDoctorCommand(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := keysEnv(t, db)
	db.SeedGameServers(t, pgtest.Key, 1, 2)

	o := takaro(t, env, "db", "doctor")
	requireExit(t, o, 0)
	for _, check := range []string{"pgcrypto", "transport", "row-level security", "migrations", "encryption keys", "bcrypt cost", "server log"} {
		if !strings.Contains(o.stdout, "pass    "+check) && !strings.Contains(o.stdout, "warn    "+check) {
			t.Errorf("no passing row for %s:\n%s", check, o)
		}
	}
	if strings.Contains(o.stdout, "fail ") {
		t.Errorf("a check fails on a good database:\n%s", o)
	}

	// Misconfigured: every statement logged with its parameters.
	for _, s := range []string{"log_statement = 'all'", "log_parameter_max_length = -1"} {
		if _, err := pgtest.Admin(t).Exec(context.Background(), "ALTER DATABASE "+db.Name+" SET "+s); err != nil {
			t.Fatal(err)
		}
	}
	o = takaro(t, env, "db", "doctor")
	requireExit(t, o, 1)
	requireContains(t, "doctor", o.stdout, "fail    server log", "log_parameter_max_length = -1",
		`ALTER ROLE "`+pgtest.TestRole+`" IN DATABASE "`+db.Name+`" SET log_parameter_max_length = 0;`)
	requireContains(t, "doctor", o.stderr, "1 of 8 checks failed")
	keysRequireNoSecret(t, o)
}
