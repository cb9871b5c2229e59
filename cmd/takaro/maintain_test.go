package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// seedOldEvents gives each seeded domain n[i] events older than any
// retention keeps (40 days; the default retention is 7) and one fresh one.
func seedOldEvents(t *testing.T, db *pgtest.Database, domains []string, n []int) {
	t.Helper()
	for i, domain := range domains {
		db.InDomain(t, domain, func(tx pgx.Tx) error {
			_, err := tx.Exec(context.Background(), `INSERT INTO events (domain, event_name, created_at)
				SELECT $1, 'chat-message', now() - interval '40 days' FROM generate_series(1, $2)
				UNION ALL SELECT $1, 'chat-message', now()`, domain, n[i])
			return err
		})
	}
}

// countEvents counts the events of domain.
func countEvents(t *testing.T, db *pgtest.Database, domain string) int {
	t.Helper()
	var n int
	db.InDomain(t, domain, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM events WHERE domain = $1", domain).Scan(&n)
	})
	return n
}

func TestMaintainCommand(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	domains := pgtest.Domains(db.SeedGameServers(t, pgtest.Key, 2, 1))
	seedOldEvents(t, db, domains, []int{30, 5})
	env := dbEnv(t, db)

	o := takaro(t, env, "db", "maintain", "-dry-run")
	requireExit(t, o, 0)
	requireContains(t, "the dry run", o.stdout, "TABLE", "WOULD REMOVE",
		"events  "+domains[0]+"  30", "events  "+domains[1]+"  5", "35 rows in", "BYTES BEFORE", "BYTES AFTER", "player_location")
	requireContains(t, "the dry run's log", o.stderr, `msg="maintenance would remove" table=events rows=30 domain=`+domains[0], "dry_run=true")
	if a, b := countEvents(t, db, domains[0]), countEvents(t, db, domains[1]); a != 31 || b != 6 {
		t.Fatalf("after the dry run: %d and %d events, want 31 and 6 (nothing removed)", a, b)
	}

	o = takaro(t, env, "db", "maintain", "-batch-size", "7", "-pause", "1ms")
	requireExit(t, o, 0)
	requireContains(t, "the pass", o.stdout, "REMOVED", "events  "+domains[0]+"  30", "events  "+domains[1]+"  5")
	requireContains(t, "the pass's log", o.stderr, `msg="maintenance removed" table=events rows=30 domain=`+domains[0],
		`msg="maintenance pass done" rows=35`)
	if a, b := countEvents(t, db, domains[0]), countEvents(t, db, domains[1]); a != 1 || b != 1 {
		t.Fatalf("after the pass: %d and %d events, want the fresh one of each", a, b)
	}

	// Nothing is left to do.
	o = takaro(t, env, "db", "maintain")
	requireExit(t, o, 0)
	requireContains(t, "the second pass", o.stdout, "0 rows in")

	o = takaro(t, env, "db", "maintain", "-batch-size", "0")
	requireExit(t, o, 2)
}

// metricLines reads the server's /metrics, one line each.
func metricLines(sv *served) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+sv.addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	var lines []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// maintenanceRuns reads takaro_maintenance_runs_total from the server's
// /metrics; -1 when it cannot be read (the process is gone).
func maintenanceRuns(sv *served) int {
	lines, err := metricLines(sv)
	if err != nil {
		return -1
	}
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, "takaro_maintenance_runs_total "); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return -1
}

func TestMaintenanceRunsInOneServeAndAnotherTakesOverAfterAKill(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	domains := pgtest.Domains(db.SeedGameServers(t, pgtest.Key, 1, 1))
	var servers [2]*served
	for i := range servers {
		env := serveEnv(t, db, freePort(t))
		env["TAKARO_MAINTENANCE_INTERVAL"] = "100ms"
		servers[i] = startServe(t, env)
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	var holder int
	waitUntil("a first maintenance pass", func() bool {
		for i, sv := range servers {
			if maintenanceRuns(sv) > 0 {
				holder = i
				return true
			}
		}
		return false
	})
	other := servers[1-holder]
	// The holder keeps running passes; the other runs none.
	start := maintenanceRuns(servers[holder])
	waitUntil("five more passes of the holder", func() bool { return maintenanceRuns(servers[holder]) >= start+5 })
	if n := maintenanceRuns(other); n != 0 {
		t.Fatalf("the second instance ran %d passes while the first held the lock", n)
	}

	// The holder dies without a word: its connection drops, PostgreSQL
	// releases the lock, and the other takes over and does the work.
	seedOldEvents(t, db, domains, []int{20})
	servers[holder].signal(syscall.SIGKILL)
	out := servers[holder].wait(time.Minute)
	if out.code != -1 {
		t.Fatalf("the holder was not killed:\n%s", out)
	}
	waitUntil("the other instance to take over", func() bool { return maintenanceRuns(other) > 0 })
	waitUntil("the old events to go", func() bool { return countEvents(t, db, domains[0]) == 1 })
	body := fmt.Sprint(maintenanceRows(t, other))
	if !strings.Contains(body, "events 20") {
		t.Errorf("the new holder's /metrics count %s, want events 20", body)
	}
}

// maintenanceRows reads takaro_maintenance_rows_deleted_total by table,
// as "table count".
func maintenanceRows(t *testing.T, sv *served) []string {
	t.Helper()
	lines, err := metricLines(sv)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, `takaro_maintenance_rows_deleted_total{table="`); ok {
			table, n, _ := strings.Cut(v, `"} `)
			rows = append(rows, table+" "+n)
		}
	}
	return rows
}
