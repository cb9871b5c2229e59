package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A statement that runs into the statement timeout (here: waiting for a
// row lock another transaction holds) is a 503 that says so, at once;
// the next request, once the lock is gone, succeeds.
func TestStatementTimeoutIsServiceUnavailable(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s := newTestServerOn(t, pgtest.New(t).Open(t, postgres.Options{StatementTimeout: timeout}))
	k := newKit(t, s, nil)
	var v takaro.Variable
	s.do(http.MethodPost, "/variables", map[string]any{"key": "locked", "value": "1"}, k.root()).expect(t, http.StatusOK).decode(t, &v)

	s.inDomain(t, k.tn.ID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), "SELECT 1 FROM variables WHERE domain = $1 AND id = $2 FOR UPDATE", k.tn.ID, v.ID); err != nil {
			return err
		}
		start := time.Now()
		r := s.do(http.MethodPut, "/variables/"+v.ID.String(), map[string]any{"value": "2"}, k.root())
		r.expect(t, http.StatusServiceUnavailable, "ServiceUnavailableError")
		if elapsed := time.Since(start); elapsed < timeout || elapsed > 30*timeout {
			t.Errorf("answered after %s with a statement timeout of %s", elapsed, timeout)
		}
		if !strings.Contains(r.errorMessage(), "statement timeout (300ms)") || r.Header.Get("Retry-After") == "" {
			t.Errorf("message %q, Retry-After %q", r.errorMessage(), r.Header.Get("Retry-After"))
		}
		return nil
	})
	s.do(http.MethodPut, "/variables/"+v.ID.String(), map[string]any{"value": "2"}, k.root()).expect(t, http.StatusOK)
	if strings.Contains(s.logs.String(), `"level":"ERROR"`) {
		t.Errorf("a timeout is not an error of the server:\n%s", s.logs.String())
	}
}

// While PostgreSQL is down the API answers 503, and it recovers on its
// own when the server is back; no write it acknowledged is lost. Four
// writers create variables while the postmaster of a private cluster is
// killed with SIGKILL and restarted; afterwards every variable whose
// creation was answered 2xx exists.
func TestDatabaseCrashLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "takaro-crash-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	cluster, err := embedded.Ensure(ctx, embedded.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })
	if err := cluster.EnsureRoleAndDatabase(ctx, "takaro", "takaro"); err != nil {
		t.Fatal(err)
	}
	db := openAndMigrate(t, "the private cluster", postgres.ConnConfig{URL: cluster.ConnString("takaro", "takaro")},
		postgres.Options{StatementTimeout: 2 * time.Second})
	s := newTestServerOn(t, db)
	root := newKit(t, s, map[string]any{"maxVariables": 1_000_000}).root()

	var (
		mu           sync.Mutex
		acknowledged []string
		statuses     = map[int]int{}
		stop         = make(chan struct{})
		wg           sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				r := s.forTest(t).do(http.MethodPost, "/variables", map[string]any{"key": key, "value": key}, root)
				mu.Lock()
				statuses[r.Status]++
				if r.Status/100 == 2 {
					acknowledged = append(acknowledged, key)
				} else if r.Status != http.StatusServiceUnavailable || r.Meta.Error == nil || r.Meta.Error.Code != "ServiceUnavailableError" {
					t.Errorf("%s: %d %s", key, r.Status, r.Raw)
				}
				mu.Unlock()
			}
		})
	}
	count := func(status int) int {
		mu.Lock()
		defer mu.Unlock()
		return statuses[status]
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s: %v", what, statuses)
			}
		}
	}

	start := time.Now()
	t.Logf("cluster ready")
	waitFor("writes before the crash", func() bool { return count(http.StatusOK) >= 50 })
	t.Logf("%s: kill -9", time.Since(start))
	pidFile, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor("503s while the database is down", func() bool { return count(http.StatusServiceUnavailable) >= 20 })
	// Where nothing reaps the killed postmaster (a sandbox whose PID 1 is
	// not an init), it stays a zombie that pg_ctl takes for a running
	// server; its stale postmaster.pid is then removed, as an operator
	// would after a crash.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			break
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			_ = os.Remove(filepath.Join(dir, "data", "postmaster.pid"))
			break
		}
	}
	okBefore := count(http.StatusOK)
	t.Logf("%s: restart", time.Since(start))
	// The orphaned backends notice the postmaster's death and exit; until
	// then the cluster cannot start again.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err = embedded.Ensure(ctx, embedded.Options{Dir: dir}); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: restarted", time.Since(start))
	waitFor("writes after the restart", func() bool { return count(http.StatusOK) >= okBefore+50 })
	close(stop)
	wg.Wait()

	var stored []string
	err = db.Pool().AcquireFunc(ctx, func(c *pgxpool.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('takaro.domain', (SELECT id FROM domains LIMIT 1), true)"); err != nil {
				return err
			}
			rows, _ := tx.Query(ctx, "SELECT key FROM variables")
			stored, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var lost []string
	for _, key := range acknowledged {
		if !slices.Contains(stored, key) {
			lost = append(lost, key)
		}
	}
	t.Logf("statuses %v; %d acknowledged, %d stored", statuses, len(acknowledged), len(stored))
	if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost: %v", len(lost), lost)
	}
}
