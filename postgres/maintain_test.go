package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// aged adds, as the superuser, one expired row of each kind that
// maintenance looks after to the domain (events: n of them, older than 30
// days, and one fresh), beside the fresh rows that fill made.
func aged(t *testing.T, super *pgxpool.Pool, domain string, events int) {
	t.Helper()
	ctx := context.Background()
	if _, err := super.Exec(ctx, `INSERT INTO events (domain, event_name, created_at)
		SELECT $1, 'chat-message', now() - interval '40 days' FROM generate_series(1, $2)`, domain, events); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO events (domain, event_name) VALUES ($1, 'chat-message')`,
		`INSERT INTO variables (domain, key, value, expires_at) VALUES ($1, 'old', 'x', now() - interval '1 minute')`,
		`INSERT INTO sessions (domain, user_id, secret_hash, expires_at, login_domains)
			SELECT $1, user_id, secret_hash, now() - interval '30 days', ARRAY[$1] FROM sessions WHERE domain = $1 LIMIT 1`,
		`INSERT INTO api_keys (domain, user_id, name, secret_hash, revoked_at)
			SELECT $1, user_id, 'revoked', secret_hash, now() - interval '30 days' FROM api_keys WHERE domain = $1 LIMIT 1`,
		`INSERT INTO role_on_user (domain, user_id, role_id, expires_at)
			SELECT u.domain, u.id, r.id, now() - interval '1 hour' FROM users u JOIN roles r ON r.domain = u.domain AND r.name = 'Moderator'
			WHERE u.domain = $1 LIMIT 1`,
	} {
		if _, err := super.Exec(ctx, q, domain); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// maintainedCounts reads, as the superuser, the rows of domain in the tables that
// maintenance looks after.
func maintainedCounts(t *testing.T, super *pgxpool.Pool, domain string) map[string]int {
	t.Helper()
	return countByDomain(t, super, []string{"events", "variables", "sessions", "api_keys", "role_on_user", "role_on_player",
		"gameservers", "player_on_gameserver"}, domain)
}

func TestMaintainRemovesWhatExpiredInEachDomainOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := superuser(t, e.db)
	a := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	b := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5), EventRetentionDays: ptrTo(60)})
	e.fill(t, a)
	e.fill(t, b)
	aged(t, super, a.ID, 25)
	aged(t, super, b.ID, 25)
	// A soft-deleted server in each domain, gone for longer than the grace
	// period in a, for less in b; fill's own server stays in both.
	for _, tn := range []*tenant{a, b} {
		f := e.fill(t, tn)
		must(t, e.core.DeleteGameServer(tn.ctx, f.GameServer.ID))
		age := "8 days"
		if tn == b {
			age = "1 day"
		}
		if _, err := super.Exec(context.Background(), "UPDATE gameservers SET deleted_at = now() - $3::interval WHERE domain = $1 AND id = $2",
			tn.ID, f.GameServer.ID, age); err != nil {
			t.Fatal(err)
		}
	}
	beforeA, beforeB := maintainedCounts(t, super, a.ID), maintainedCounts(t, super, b.ID)

	removed, err := e.core.Maintain(context.Background(), postgres.MaintainOptions{})
	must(t, err)

	afterA, afterB := maintainedCounts(t, super, a.ID), maintainedCounts(t, super, b.ID)
	// In a: 25 old events (a's retention is the default 7 days), the expired
	// variable, the expired session and revoked key, the expired role
	// assignment, and the purged server with its presence, role and variable.
	wantGone := map[string]int{"events": 25, "variables": 2, "sessions": 1, "api_keys": 1, "role_on_user": 1,
		"role_on_player": 1, "gameservers": 1, "player_on_gameserver": 1}
	for table, n := range wantGone {
		if got := beforeA[table] - afterA[table]; got != n {
			t.Errorf("domain a, %s: %d rows removed, want %d", table, got, n)
		}
	}
	// In b: its events are younger than its 60 days, its server is in its
	// grace period; the rest expired as in a.
	wantGoneB := map[string]int{"events": 0, "variables": 1, "sessions": 1, "api_keys": 1, "role_on_user": 1,
		"role_on_player": 0, "gameservers": 0, "player_on_gameserver": 0}
	for table, n := range wantGoneB {
		if got := beforeB[table] - afterB[table]; got != n {
			t.Errorf("domain b, %s: %d rows removed, want %d", table, got, n)
		}
	}
	var reported int64
	for _, r := range removed {
		if r.Domain == a.ID && r.Table == "events" {
			reported += r.Rows
		}
	}
	if reported != 25 {
		t.Errorf("the pass reports %d events removed in a, want 25: %+v", reported, removed)
	}

	// A second pass finds nothing more.
	again, err := e.core.Maintain(context.Background(), postgres.MaintainOptions{})
	must(t, err)
	if len(again) != 0 {
		t.Errorf("a second pass removed %+v, want nothing", again)
	}
}

func TestMaintainDryRunCountsAndRemovesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := superuser(t, e.db)
	a := e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, a)
	aged(t, super, a.ID, 12)
	before := maintainedCounts(t, super, a.ID)

	removed, err := e.core.Maintain(context.Background(), postgres.MaintainOptions{DryRun: true})
	must(t, err)
	if after := maintainedCounts(t, super, a.ID); !equalCounts(before, after) {
		t.Errorf("a dry run changed the counts: %v → %v", before, after)
	}
	got := map[string]int64{}
	for _, r := range removed {
		got[r.Table] += r.Rows
	}
	if got["events"] != 12 || got["variables"] != 1 || got["sessions"] != 1 || got["api_keys"] != 1 || got["role_on_user"] != 1 {
		t.Errorf("the dry run reports %v, want 12 events and one each of variables, sessions, api_keys, role_on_user", got)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestMaintainDeletesInBatchesAndResumesAfterAStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := superuser(t, e.db)
	a := e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, a)
	aged(t, super, a.ID, 35)
	before := maintainedCounts(t, super, a.ID)

	// Stop the pass after its second batch of events.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var batches []int64
	_, err := e.core.Maintain(ctx, postgres.MaintainOptions{BatchSize: 10, Removed: func(table, _ string, n int64) {
		if table == "events" {
			batches = append(batches, n)
			if len(batches) == 2 {
				cancel()
			}
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped pass returned %v, want context.Canceled", err)
	}
	if len(batches) != 2 || batches[0] != 10 || batches[1] != 10 {
		t.Fatalf("batches before the stop: %v, want [10 10]", batches)
	}
	if got := before["events"] - maintainedCounts(t, super, a.ID)["events"]; got != 20 {
		t.Fatalf("%d events gone after the stop, want the two whole batches (20)", got)
	}

	// The next pass finishes the job and removes nothing fresh.
	batches = nil
	_, err = e.core.Maintain(context.Background(), postgres.MaintainOptions{BatchSize: 10, Removed: func(table, _ string, n int64) {
		if table == "events" {
			batches = append(batches, n)
		}
	}})
	must(t, err)
	if len(batches) != 2 || batches[0] != 10 || batches[1] != 5 {
		t.Errorf("batches of the resumed pass: %v, want [10 5]", batches)
	}
	if got := maintainedCounts(t, super, a.ID)["events"]; got != before["events"]-35 {
		t.Errorf("%d events left, want %d (fill's and the fresh one)", got, before["events"]-35)
	}
}

func TestMaintenanceRunsOnOneInstanceAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, second := e.db.Open(t, postgres.Options{}), e.db.Open(t, postgres.Options{})
	var passes [2]atomic.Int64
	run := func(ctx context.Context, core *postgres.DB, i int, wg *sync.WaitGroup) {
		defer wg.Done()
		core.RunMaintenance(ctx, 20*time.Millisecond, postgres.MaintainOptions{}, func(_ []postgres.Removal, err error) {
			if err != nil && ctx.Err() == nil {
				t.Errorf("instance %d: %v", i, err)
			}
			passes[i].Add(1)
		})
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	var wg1, wg2 sync.WaitGroup
	wg1.Add(1)
	go run(ctx1, first, 0, &wg1)
	waitFor(t, "the first instance's first pass", func() bool { return passes[0].Load() > 0 })
	wg2.Add(1)
	go run(ctx2, second, 1, &wg2)
	waitFor(t, "five more passes of the first instance", func() bool { return passes[0].Load() > 5 })
	if n := passes[1].Load(); n != 0 {
		t.Fatalf("the second instance ran %d passes while the first held the lock", n)
	}

	// The leader stops (its connection closes, as when its process dies):
	// the second takes over.
	stop1()
	wg1.Wait()
	waitFor(t, "the second instance to take over", func() bool { return passes[1].Load() > 0 })
	stop2()
	wg2.Wait()
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
