package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

// seeder is a data core whose statements may run for a minute, for
// inserting many rows on a busy machine.
func (e *env) seeder(t testing.TB) *postgres.DB {
	t.Helper()
	return e.db.Open(t, postgres.Options{StatementTimeout: time.Minute})
}

// seedPlayers inserts n players into the tenant in one statement: every
// seventh without a name, play times with many ties.
func seedPlayers(t testing.TB, db *postgres.DB, tn *tenant, n int) {
	t.Helper()
	must(t, db.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		_, err := tx.Exec(tn.ctx, `INSERT INTO players (domain, name, steam_id, playtime_seconds, created_at)
			SELECT $1, CASE WHEN g % 7 = 0 THEN NULL ELSE 'p' || (g % 50) END, 'seed-' || g || '-' || gen_random_uuid(),
				g % 5, now() - (g % 13) * interval '1 minute'
			FROM generate_series(1, $2) g`, tx.Domain, n)
		return err
	}))
}

// TestSearchCursor pages through players by every order with the cursor
// while other players are inserted between the pages, before and after
// the cursor's position: every player that existed at the start is read
// exactly once, in the order a single read gives them, and no row is read
// twice.
func TestSearchCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seeder := e.seeder(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	seedPlayers(t, seeder, tn, 230)
	inserted := 0
	for _, sortBy := range []string{"", "id", "name", "playtimeSeconds", "createdAt"} {
		for _, dir := range []string{"asc", "desc"} {
			q := fmt.Sprintf(`{"sortBy": %q, "sortDirection": %q, "limit": 17}`, sortBy, dir)
			all := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, `{"sortBy": "`+sortBy+`", "sortDirection": "`+dir+`", "limit": 1000}`)))
			var before []uuid.UUID
			for _, p := range all.Items {
				before = append(before, p.ID)
			}
			seen := map[uuid.UUID]bool{}
			var read []uuid.UUID
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("%s: no end after %d pages", q, pages)
				}
				body := q
				if cursor != "" {
					body = strings.TrimSuffix(q, "}") + `, "cursor": "` + cursor + `"}`
				}
				page := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, body)))
				for _, p := range page.Items {
					if seen[p.ID] {
						t.Fatalf("%s: player %s read twice", q, p.ID)
					}
					seen[p.ID] = true
					read = append(read, p.ID)
				}
				if page.NextCursor == "" {
					break // a gap before the end shows below
				}
				cursor = page.NextCursor
				seedPlayers(t, e.core, tn, 3) // lands before and after the cursor
				inserted += 3
			}
			var readOfBefore []uuid.UUID
			for _, id := range read {
				if slices.Contains(before, id) {
					readOfBefore = append(readOfBefore, id)
				}
			}
			if !slices.Equal(readOfBefore, before) {
				t.Errorf("%s: read %d of the %d players that existed, or in another order", q, len(readOfBefore), len(before))
			}
		}
	}
	if inserted == 0 {
		t.Fatal("no page was followed by a cursor")
	}
}

// TestSearchCursorRejected: a cursor is good only for the query that
// issued it; any other use, and any damaged cursor, is a 400 naming it.
func TestSearchCursorRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seeder := e.seeder(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	other := e.newDomain(t, takaro.DomainLimits{})
	seedPlayers(t, seeder, tn, 30)
	seedPlayers(t, seeder, other, 30)
	const base = `{"sortBy": "name", "sortDirection": "desc", "search": {"steamId": ["seed"]}, "limit": 5`
	page := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, base+`}`)))
	cursor := page.NextCursor
	if cursor == "" {
		t.Fatal("no cursor after the first of several pages")
	}
	with := func(q, c string) string {
		j, _ := json.Marshal(c)
		return q + `, "cursor": ` + string(j) + `}`
	}
	// The cursor works for its own query, with another limit and extend.
	check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, with(base, cursor))))
	check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, with(`{"sortBy": "name", "sortDirection": "desc", "search": {"steamId": ["seed"]}, "limit": 50, "extend": ["playerOnGameServers"]`, cursor))))

	body, sum, _ := strings.Cut(cursor, ".")
	for name, q := range map[string]string{
		"another sort":      with(`{"sortBy": "createdAt", "sortDirection": "desc", "search": {"steamId": ["seed"]}, "limit": 5`, cursor),
		"another direction": with(`{"sortBy": "name", "sortDirection": "asc", "search": {"steamId": ["seed"]}, "limit": 5`, cursor),
		"another filter":    with(`{"sortBy": "name", "sortDirection": "desc", "search": {"steamId": ["seed-1"]}, "limit": 5`, cursor),
		"garbage":           with(base, "not a cursor"),
		"no checksum":       with(base, body),
		"altered body":      with(base, "x"+body+"."+sum),
		"altered checksum":  with(base, body+".AAAA"+sum[4:]),
		"empty parts":       with(base, "."),
	} {
		_, err := e.core.FindPlayers(tn.ctx, query(t, q))
		if ve := wantCode(t, err, takaro.CodeValidation); !strings.Contains(ve.Error(), "cursor") {
			t.Errorf("%s: %q does not name the cursor", name, ve.Error())
		}
	}
	// Another domain and another search refuse it too.
	_, err := e.core.FindPlayers(other.ctx, query(t, with(base, cursor)))
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.FindVariables(tn.ctx, query(t, with(`{"sortBy": "key", "sortDirection": "desc", "limit": 5`, cursor)))
	wantCode(t, err, takaro.CodeValidation)
}

// TestSearchTotalBound: the total is exact up to takaro.MaxExactTotal and
// a lower bound, flagged, beyond it.
func TestSearchTotalBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seeder := e.seeder(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	seedPlayers(t, seeder, tn, takaro.MaxExactTotal+20)
	page := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, `{"limit": 3}`)))
	if page.Total != takaro.MaxExactTotal || !page.TotalIsLowerBound || len(page.Items) != 3 {
		t.Errorf("%d players: total %d, lower bound %v; want %d, true", takaro.MaxExactTotal+20, page.Total, page.TotalIsLowerBound, takaro.MaxExactTotal)
	}
	// p1 and p11 hold names of every 50th player; every 7th has none.
	page = check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, `{"filters": {"name": ["p1", "p11"]}, "limit": 3}`)))
	var want int
	for g := 1; g <= takaro.MaxExactTotal+20; g++ {
		if g%7 != 0 && (g%50 == 1 || g%50 == 11) {
			want++
		}
	}
	if page.Total != want || page.TotalIsLowerBound {
		t.Errorf("filtered: total %d, lower bound %v; want %d, false", page.Total, page.TotalIsLowerBound, want)
	}
}

// TestSearchSortNullability: a sortable column that may hold NULL must be
// marked nullable in its search, or the cursor would skip its NULL rows.
func TestSearchSortNullability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := e.db.Pool(t)
	for _, s := range postgres.SearchSortsForTest() {
		column, ok := strings.CutPrefix(s.Column, "t.")
		if !ok || strings.ContainsAny(column, "( ") {
			continue // an expression: checked by the cursor tests of its search
		}
		var notNull bool
		err := pool.QueryRow(context.Background(), `SELECT attnotnull FROM pg_attribute
			WHERE attrelid = $1::regclass AND attname = $2`, s.Table, column).Scan(&notNull)
		if err != nil {
			t.Fatalf("%s.%s: %v", s.Table, column, err)
		}
		if s.Field != "id" && s.Nullable == notNull {
			t.Errorf("%s, sortBy %s: the column %s is nullable=%v in the catalog, nullable=%v in the search", s.Table, s.Field, column, !notNull, s.Nullable)
		}
	}
}

// planNode is the part of an EXPLAIN (FORMAT JSON) node the plan test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	Parent       string     `json:"Parent Relationship"`
	Plans        []planNode `json:"Plans"`
}

// wholeTenantWork returns the nodes of the query's own plan (not of the
// per-row subplans that embed relations) that read all of table or sort
// rows: a sequential scan of the table, or any sort, since a first page
// without filters sorts the whole tenant or nothing.
func (n planNode) wholeTenantWork(table string) []string {
	if n.Parent == "SubPlan" || n.Parent == "InitPlan" {
		return nil
	}
	var found []string
	if (n.NodeType == "Seq Scan" && n.RelationName == table) || strings.HasSuffix(n.NodeType, "Sort") {
		found = append(found, n.NodeType+" "+n.RelationName)
	}
	for _, c := range n.Plans {
		found = append(found, c.wholeTenantWork(table)...)
	}
	return found
}

// explain returns the plan of sql in the tenant's domain; priced prices
// sequential scans and sorts out.
func explain(t *testing.T, e *env, tn *tenant, priced bool, sql string, args []any) planNode {
	t.Helper()
	var plan []struct{ Plan planNode }
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		if priced {
			if _, err := tx.Exec(tn.ctx, "SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off"); err != nil {
				return err
			}
		}
		var out []byte
		if err := tx.QueryRow(tn.ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&out); err != nil {
			return err
		}
		return json.Unmarshal(out, &plan)
	}))
	return plan[0].Plan
}

// TestSearchPlans reads the planner's choice for the first page and the
// count of every search in every order (every spec in the search list, so
// a new search is covered without editing this test) and fails on a
// sequential scan of its table or a sort.
//
// The tables that grow with a tenant's activity (events, players) are
// seeded with more rows than the planner would sort in memory, in the
// domain under test and in another, and analyzed: their plans are the
// planner's own choice. Every search is also planned with sequential scans
// and sorts priced out (enable_seqscan, enable_sort off), which leaves them
// in a plan only where no index can serve its order: the proof for tables
// too small here for the planner to prefer an index.
func TestSearchPlans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seeder := e.seeder(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	other := e.newDomain(t, takaro.DomainLimits{})
	const rows = 20_000
	for _, d := range []*tenant{tn, other} {
		seedPlayers(t, seeder, d, rows)
		must(t, seeder.InDomainForTest(d.ctx, func(tx *postgres.Tx) error {
			_, err := tx.Exec(d.ctx, `INSERT INTO events (domain, event_name, created_at, updated_at)
				SELECT $1, (ARRAY['chat-message', 'player-connected', 'player-death'])[g % 3 + 1], t, t
				FROM generate_series(1, $2) g, LATERAL (SELECT now() - g * interval '1 second' AS t) ts`, tx.Domain, rows)
			return err
		}))
	}
	pool := e.db.Pool(t)
	for _, table := range []string{"players", "events"} {
		if _, err := pool.Exec(context.Background(), "ANALYZE "+table); err != nil {
			t.Fatal(err)
		}
	}
	seeded := map[string]bool{"players": true, "events": true}

	checked := 0
	for _, s := range postgres.SearchSortsForTest() {
		for _, dir := range []string{"asc", "desc"} {
			domain := tn.ID
			if s.Global {
				domain = ""
			}
			page, count, pageArgs, countArgs, err := postgres.SearchStatementsForTest(s.Table, domain, takaro.Query{SortBy: s.Field, SortDirection: dir})
			if err != nil {
				t.Fatalf("%s sorted by %q: %v", s.Table, s.Field, err)
			}
			for _, priced := range []bool{true, false} {
				if !priced && !seeded[s.Table] {
					continue
				}
				for _, st := range []struct {
					name, sql string
					args      []any
				}{{"page", page, pageArgs}, {"count", count, countArgs}} {
					if bad := explain(t, e, tn, priced, st.sql, st.args).wholeTenantWork(s.Table); len(bad) > 0 {
						t.Errorf("%s sorted by %q %s, %s (seq scans and sorts priced out: %v): %v", s.Table, s.Field, dir, st.name, priced, bad)
					}
					checked++
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d plans checked", checked)
	}

	// The newest events of one player, game server, module, user or event
	// name: the filter's index in order, no sort of all of its events.
	for _, filter := range []string{"playerId", "gameserverId", "moduleId", "userId", "actingUserId", "actingModuleId", "eventName"} {
		value := any(uuid.NewString())
		if filter == "eventName" {
			value = "chat-message"
		}
		page, _, args, _, err := postgres.SearchStatementsForTest("events", tn.ID, takaro.Query{SortBy: "createdAt", SortDirection: "desc",
			Filters: map[string]takaro.Values{filter: {value}}})
		if err != nil {
			t.Fatal(err)
		}
		if bad := explain(t, e, tn, false, page, args).wholeTenantWork("events"); len(bad) > 0 {
			t.Errorf("events of one %s, newest first: %v", filter, bad)
		}
	}
}
