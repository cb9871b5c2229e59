package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// Behind PgBouncer in transaction mode, with the default query exec mode:
// migrations apply from an empty database, and a mixed API load (creates,
// reads, updates, searches, logins) from more clients than PgBouncer has
// server connections runs without a single error. With pgx's own default
// (named prepared statements) the migrations fail with 42P05 and part of
// the load fails.
func TestPgBouncerTransactionMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewEmpty(t, true)
	// 127.0.0.1 is local: the key may travel over it without TLS.
	core := openAndMigrate(t, "through PgBouncer", postgres.ConnConfig{URL: db.PgBouncer(t, 3), MaxConns: 8}, postgres.Options{})
	// The migrators' session-level advisory locks must not stay behind on
	// a server connection that PgBouncer hands to the next client: a second
	// run (a rollback and a migrate, as at the next deployment) would then
	// wait for them.
	start := time.Now()
	m, err := postgres.NewMigrator(core, postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rollback(ctx); err != nil {
		t.Fatalf("roll back through PgBouncer: %v", err)
	}
	if again, err := m.Up(ctx); err != nil || len(again) != 1 {
		t.Fatalf("migrate again through PgBouncer: %v, %d applied", err, len(again))
	}
	_ = m.Close()
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the second migration run waited %s for a lock", elapsed)
	}

	s := newTestServerOn(t, core)
	k := newKit(t, s, map[string]any{"maxVariables": 100_000})
	u := k.userWith(true, takaro.PermManageVariables, takaro.PermReadVariables, takaro.PermReadPlayers, takaro.PermManagePlayers)
	var requests, failures atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			s := s.forTest(t)
			check := func(r *response) *response {
				requests.Add(1)
				if r.Status/100 != 2 {
					failures.Add(1)
					t.Errorf("%d %s", r.Status, r.Raw)
				}
				return r
			}
			auth := bearer(s.login(u.Email, u.Password, k.tn.ID))
			requests.Add(1)
			for i := range 25 {
				key := fmt.Sprintf("w%d-%d", w, i)
				var v takaro.Variable
				check(s.do(http.MethodPost, "/variables", map[string]any{"key": key, "value": "1"}, auth)).decode(t, &v)
				check(s.do(http.MethodGet, "/variables/"+v.ID.String(), nil, auth))
				check(s.do(http.MethodPut, "/variables/"+v.ID.String(), map[string]any{"value": "2"}, auth))
				check(s.do(http.MethodPost, "/variables/search", map[string]any{"search": map[string]any{"key": []string{key}}}, auth))
				check(s.do(http.MethodPost, "/player", map[string]any{"name": key, "steamId": key}, auth))
				check(s.do(http.MethodPost, "/player/search", map[string]any{"filters": map[string]any{"name": []string{key}}}, auth))
			}
		})
	}
	wg.Wait()
	t.Logf("%d requests through PgBouncer (transaction mode, 3 server connections, 8 client connections), %d failed",
		requests.Load(), failures.Load())
}
