package postgres_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

// query decodes a search request body as the API receives it.
func query(t testing.TB, body string) takaro.Query {
	t.Helper()
	var q takaro.Query
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return q
}

func playerNames(page *takaro.Page[takaro.Player]) []string {
	var names []string
	for _, p := range page.Items {
		if p.Name == nil {
			names = append(names, "<nil>")
		} else {
			names = append(names, *p.Name)
		}
	}
	slices.Sort(names)
	return names
}

// findPlayerNames runs a player search and returns the sorted names found.
func (e *env) findPlayerNames(t testing.TB, tn *tenant, body string) []string {
	t.Helper()
	page := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, body)))
	if page.Total != len(page.Items) {
		t.Errorf("%s: total %d for %d items on one page", body, page.Total, len(page.Items))
	}
	return playerNames(page)
}

// namedPlayers creates a player per name with steam id "steam-<name>".
func (e *env) namedPlayers(t testing.TB, tn *tenant, names ...string) map[string]*takaro.Player {
	t.Helper()
	out := map[string]*takaro.Player{}
	for _, name := range names {
		out[name] = check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: ptrTo(name), SteamID: ptrTo("steam-" + name)}))
	}
	return out
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(3)})
	other := e.newDomain(t, takaro.DomainLimits{})
	players := e.namedPlayers(t, tn, "alpha", "beta", "gamma", "null")
	check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: ptrTo("delta"), PlatformID: ptrTo("platform-delta")}))
	e.namedPlayers(t, other, "alpha")

	t.Run("players", func(t *testing.T) {
		t.Parallel()
		for body, want := range map[string][]string{
			`{}`:                               sorted("alpha", "beta", "gamma", "null", "delta"),
			`{"filters": {"name": []}}`:        sorted("alpha", "beta", "gamma", "null", "delta"),
			`{"filters": {"name": ["alpha"]}}`: {"alpha"},
			`{"filters": {"name": ["alpha", "beta", "nobody"]}}`:                                 {"alpha", "beta"},
			`{"filters": {"name": ["alpha", "beta"], "steamId": ["steam-beta", "steam-gamma"]}}`: {"beta"},
			`{"filters": {"name": ["alpha"], "steamId": ["steam-beta"]}}`:                        nil,
			`{"filters": {"steamId": [null]}}`:                                                   {"delta"},
			`{"filters": {"steamId": [null, "steam-alpha"]}}`:                                    {"alpha", "delta"},
			// "null" is only NULL where the text "null" cannot be a value.
			`{"filters": {"name": ["null"]}}`: {"null"},
			`{"filters": {"id": ["` + players["gamma"].ID.String() + `", "` + players["beta"].ID.String() + `"]}}`: {"beta", "gamma"},
			`{"filters": {"id": ["` + uuid.NewString() + `"]}}`:                                                    nil,
		} {
			if got := e.findPlayerNames(t, tn, body); !slices.Equal(got, want) {
				t.Errorf("%s: found %v, want %v", body, got, want)
			}
		}
	})

	t.Run("null ids", func(t *testing.T) {
		t.Parallel()
		gs := e.createGameServer(t, tn, "null ids")
		unscoped := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "unscoped", Value: "v"}))
		scoped := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "scoped", Value: "v", GameServerID: &gs.ID}))
		for body, want := range map[string][]uuid.UUID{
			`{"filters": {"gameServerId": [null]}}`:                             {unscoped.ID},
			`{"filters": {"gameServerId": ["null"]}}`:                           {unscoped.ID},
			`{"filters": {"gameServerId": ["` + gs.ID.String() + `"]}}`:         {scoped.ID},
			`{"filters": {"gameServerId": ["null", "` + gs.ID.String() + `"]}}`: {unscoped.ID, scoped.ID},
			`{"filters": {"gameServerId": ["null"], "playerId": ["null"]}}`:     {unscoped.ID},
		} {
			page := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(tn.ctx, query(t, body)))
			var got []uuid.UUID
			for _, v := range page.Items {
				got = append(got, v.ID)
			}
			if !sameIDs(got, want) {
				t.Errorf("%s: found %v, want %v", body, got, want)
			}
		}
	})

	t.Run("booleans", func(t *testing.T) {
		t.Parallel()
		on := e.createGameServer(t, tn, "enabled server")
		off := e.createGameServer(t, tn, "disabled server")
		check[*takaro.GameServer](t)(e.core.UpdateGameServer(tn.ctx, off.ID, takaro.GameServerUpdate{Enabled: ptrTo(false), Type: ptrTo(takaro.GameServerRust)}))
		for body, want := range map[string][]uuid.UUID{
			`{"filters": {"enabled": false, "name": ["enabled server", "disabled server"]}}`:         {off.ID},
			`{"filters": {"enabled": true, "name": ["enabled server", "disabled server"]}}`:          {on.ID},
			`{"filters": {"enabled": [false], "name": ["enabled server", "disabled server"]}}`:       {off.ID},
			`{"filters": {"enabled": [true, false], "name": ["enabled server", "disabled server"]}}`: {on.ID, off.ID},
			`{"filters": {"type": ["RUST"], "name": ["enabled server", "disabled server"]}}`:         {off.ID},
			`{"filters": {"type": ["RUST", "MOCK"], "name": ["enabled server", "disabled server"]}}`: {on.ID, off.ID},
		} {
			page := check[*takaro.Page[takaro.GameServer]](t)(e.core.FindGameServers(tn.ctx, query(t, body)))
			var got []uuid.UUID
			for _, gs := range page.Items {
				got = append(got, gs.ID)
			}
			if !sameIDs(got, want) {
				t.Errorf("%s: found %v, want %v", body, got, want)
			}
		}
	})
}

func sameIDs(a, b []uuid.UUID) bool {
	sa, sb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		sa[i] = a[i].String()
	}
	for i := range b {
		sb[i] = b[i].String()
	}
	slices.Sort(sa)
	slices.Sort(sb)
	return slices.Equal(sa, sb)
}

func TestSearchSubstrings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	e.namedPlayers(t, tn, "HelloWorld", "hello there", "100% done", "100x done", "a_b", "axb", `back\slash`, "other")
	for body, want := range map[string][]string{
		`{"search": {"name": ["LOWO"]}}`:           {"HelloWorld"},
		`{"search": {"name": ["hello"]}}`:          {"HelloWorld", "hello there"},
		`{"search": {"name": ["WORLD", "There"]}}`: {"HelloWorld", "hello there"},
		`{"search": {"name": ["100%"]}}`:           {"100% done"},
		`{"search": {"name": ["%"]}}`:              {"100% done"},
		`{"search": {"name": ["a_b"]}}`:            {"a_b"},
		`{"search": {"name": ["_"]}}`:              {"a_b"},
		`{"search": {"name": ["\\"]}}`:             {`back\slash`},
		`{"search": {"name": ["k\\s"]}}`:           {`back\slash`},
		`{"search": {"name": ["nothing"]}}`:        nil,
		// Terms of different keys are OR-ed into one group...
		`{"search": {"name": ["other"], "steamId": ["STEAM-A_B"]}}`: {"a_b", "other"},
		// ...which is AND-ed with the filters.
		`{"search": {"name": ["other"], "steamId": ["steam-a_b"]}, "filters": {"name": ["other", "axb"]}}`: {"other"},
	} {
		if got := e.findPlayerNames(t, tn, body); !slices.Equal(got, sorted(want...)) {
			t.Errorf("%s: found %v, want %v", body, got, want)
		}
	}
}

func TestSearchRanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	base := time.Date(2024, 1, 31, 12, 0, 0, 123456000, time.UTC)
	names := []string{"p0", "p1", "p2", "p3", "p4"}
	players := e.namedPlayers(t, tn, names...)
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		for i, name := range names {
			if _, err := tx.Exec(tn.ctx, "UPDATE players SET playtime_seconds = $3, created_at = $4 WHERE domain = $1 AND id = $2",
				tx.Domain, players[name].ID, i*10, base.Add(time.Duration(i)*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	}))
	at := func(i int) string { return base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339Nano) }
	for body, want := range map[string][]string{
		`{"greaterThan": {"playtimeSeconds": 20}}`:                                                    {"p2", "p3", "p4"},
		`{"lessThan": {"playtimeSeconds": 20}}`:                                                       {"p0", "p1", "p2"},
		`{"greaterThan": {"playtimeSeconds": 10}, "lessThan": {"playtimeSeconds": 30}}`:               {"p1", "p2", "p3"},
		`{"lessThan": {"playtimeSeconds": 0}}`:                                                        {"p0"},
		`{"greaterThan": {"playtimeSeconds": 41}}`:                                                    nil,
		`{"greaterThan": {"createdAt": "` + at(2) + `"}}`:                                             {"p2", "p3", "p4"},
		`{"lessThan": {"createdAt": "` + at(2) + `"}}`:                                                {"p0", "p1", "p2"},
		`{"greaterThan": {"createdAt": "` + at(1) + `"}, "lessThan": {"createdAt": "` + at(3) + `"}}`: {"p1", "p2", "p3"},
		// The same instant in another zone.
		`{"lessThan": {"createdAt": "` + base.In(time.FixedZone("x", 5*3600)).Format(time.RFC3339Nano) + `"}}`: {"p0"},
	} {
		if got := e.findPlayerNames(t, tn, body); !slices.Equal(got, want) {
			t.Errorf("%s: found %v, want %v", body, got, want)
		}
	}
}

func TestSearchSortingPagesAreStable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	const n = 23
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		// Three names and one playtime for all: sorting is mostly ties.
		_, err := tx.Exec(tn.ctx, `INSERT INTO players (domain, name, steam_id)
			SELECT $1, 'same-' || (g % 3), 'steam-' || g FROM generate_series(1, $2) g`, tx.Domain, n)
		return err
	}))
	for _, sortBy := range []string{"name", "playtimeSeconds", "createdAt", "id", ""} {
		for _, dir := range []string{"asc", "desc", "DESC", ""} {
			t.Run(sortBy+" "+dir, func(t *testing.T) {
				t.Parallel()
				var all []takaro.Player
				for page := 0; ; page++ {
					got := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t,
						fmt.Sprintf(`{"sortBy": %q, "sortDirection": %q, "page": %d, "limit": 5}`, sortBy, dir, page))))
					if got.Total != n || got.Page != page || got.Limit != 5 {
						t.Fatalf("page %d: total %d, page %d, limit %d", page, got.Total, got.Page, got.Limit)
					}
					if len(got.Items) == 0 {
						break
					}
					all = append(all, got.Items...)
				}
				seen := map[uuid.UUID]bool{}
				for _, p := range all {
					if seen[p.ID] {
						t.Errorf("player %s appears on two pages", p.ID)
					}
					seen[p.ID] = true
				}
				if len(seen) != n {
					t.Fatalf("the pages hold %d distinct players, want %d", len(seen), n)
				}
				desc := strings.EqualFold(dir, "desc")
				for i := 1; i < len(all); i++ {
					c := compareBy(sortBy, all[i-1], all[i])
					if c == 0 {
						c = strings.Compare(all[i-1].ID.String(), all[i].ID.String())
					}
					if (desc && c < 0) || (!desc && c > 0) || c == 0 {
						t.Fatalf("items %d and %d are out of order for %s %s: %s/%s, %s/%s", i-1, i, sortBy, dir,
							*all[i-1].Name, all[i-1].ID, *all[i].Name, all[i].ID)
					}
				}
			})
		}
	}
}

func compareBy(field string, a, b takaro.Player) int {
	switch field {
	case "name":
		return strings.Compare(*a.Name, *b.Name)
	case "playtimeSeconds":
		return a.PlaytimeSeconds - b.PlaytimeSeconds
	case "createdAt":
		return a.CreatedAt.Compare(b.CreatedAt.Time)
	}
	return 0
}

func TestSearchPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	const n = 105
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		_, err := tx.Exec(tn.ctx, `INSERT INTO players (domain, name, steam_id)
			SELECT $1, 'p' || g, 'steam-' || g FROM generate_series(1, $2) g`, tx.Domain, n)
		return err
	}))
	for body, want := range map[string]struct{ items, page, limit int }{
		`{}`:                          {takaro.DefaultLimit, 0, takaro.DefaultLimit},
		`{"page": 1}`:                 {n - takaro.DefaultLimit, 1, takaro.DefaultLimit},
		`{"page": 2}`:                 {0, 2, takaro.DefaultLimit},
		`{"limit": 1}`:                {1, 0, 1},
		`{"limit": 1000}`:             {n, 0, 1000},
		`{"limit": 10, "page": 10}`:   {5, 10, 10},
		`{"limit": 10, "page": 1000}`: {0, 1000, 10},
	} {
		page := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, body)))
		if len(page.Items) != want.items || page.Page != want.page || page.Limit != want.limit || page.Total != n {
			t.Errorf("%s: %d items, page %d, limit %d, total %d; want %d, %d, %d, %d", body,
				len(page.Items), page.Page, page.Limit, page.Total, want.items, want.page, want.limit, n)
		}
	}
	// The total counts every match, not the page.
	page := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, query(t, `{"search": {"name": ["p1"]}, "limit": 3}`)))
	if page.Total != 17 || len(page.Items) != 3 { // p1, p10–p19, p100–p105
		t.Errorf("search p1: total %d, %d items; want 17 and 3", page.Total, len(page.Items))
	}
	for body, field := range map[string]string{
		`{"limit": 0}`:    "limit",
		`{"limit": 1001}`: "limit",
		`{"limit": -5}`:   "limit",
		`{"page": -1}`:    "page",
		// Deeper than takaro.MaxOffset: the message points at the cursor.
		`{"limit": 10, "page": 1001}`: "cursor",
		`{"page": 10000000000}`:       "cursor",
		`{"page": 1, "cursor": "x"}`:  "cursor",
	} {
		_, err := e.core.FindPlayers(tn.ctx, query(t, body))
		if ve := wantCode(t, err, takaro.CodeValidation); !strings.Contains(ve.Message, field) {
			t.Errorf("%s: %q does not name %s", body, ve.Message, field)
		}
	}
}

func TestSearchRejectsUnknownFieldsAndWrongTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, tn)
	for body, field := range map[string]string{
		`{"filters": {"bogus": ["x"]}}`:                       "bogus",
		`{"filters": {"playtimeSeconds": [1]}}`:               "playtimeSeconds",
		`{"filters": {"name; DROP TABLE players": ["x"]}}`:    "name; DROP TABLE players",
		`{"search": {"bogus": ["x"]}}`:                        "bogus",
		`{"search": {"id": ["x"]}}`:                           "id",
		`{"greaterThan": {"bogus": 1}}`:                       "bogus",
		`{"greaterThan": {"name": "a"}}`:                      "name",
		`{"lessThan": {"bogus": 1}}`:                          "bogus",
		`{"lessThan": {"steamId": "a"}}`:                      "steamId",
		`{"sortBy": "bogus"}`:                                 "bogus",
		`{"sortBy": "steamId"}`:                               "steamId",
		`{"sortBy": "name DESC, (SELECT 1)"}`:                 "name DESC, (SELECT 1)",
		`{"sortDirection": "sideways"}`:                       "sortDirection",
		`{"extend": ["bogus"]}`:                               "bogus",
		`{"extend": ["roleAssignments", "gameServers"]}`:      "gameServers",
		`{"filters": {"id": ["not-a-uuid"]}}`:                 "id",
		`{"filters": {"id": [42]}}`:                           "id",
		`{"filters": {"id": ["{` + uuid.NewString() + `}"]}}`: "id",
		`{"filters": {"name": [5]}}`:                          "name",
		`{"filters": {"name": [["x"]]}}`:                      "name",
		`{"filters": {"name": [{"x": 1}]}}`:                   "name",
		`{"filters": {"name": [true]}}`:                       "name",
		`{"search": {"name": [5]}}`:                           "name",
		`{"search": {"name": [null]}}`:                        "name",
		`{"greaterThan": {"playtimeSeconds": "10"}}`:          "playtimeSeconds",
		`{"greaterThan": {"playtimeSeconds": 1.5}}`:           "playtimeSeconds",
		`{"lessThan": {"playtimeSeconds": null}}`:             "playtimeSeconds",
		`{"greaterThan": {"createdAt": "yesterday"}}`:         "createdAt",
		`{"greaterThan": {"createdAt": 1706702400}}`:          "createdAt",
	} {
		_, err := e.core.FindPlayers(tn.ctx, query(t, body))
		ve := wantCode(t, err, takaro.CodeValidation)
		if !strings.Contains(ve.Message, field) {
			t.Errorf("%s: %q does not name %s", body, ve.Message, field)
		}
	}
	// Enums and booleans of other resources.
	for body, field := range map[string]string{
		`{"filters": {"type": ["BOGUS"]}}`:       "type",
		`{"filters": {"enabled": ["true"]}}`:     "enabled",
		`{"filters": {"enabled": [1]}}`:          "enabled",
		`{"filters": {"connectionInfo": ["x"]}}`: "connectionInfo",
		`{"sortBy": "connectionInfo"}`:           "connectionInfo",
	} {
		_, err := e.core.FindGameServers(tn.ctx, query(t, body))
		if ve := wantCode(t, err, takaro.CodeValidation); !strings.Contains(ve.Message, field) {
			t.Errorf("%s: %q does not name %s", body, ve.Message, field)
		}
	}
	// Every searchable resource refuses what it does not know.
	for _, table := range []string{"domains", "users", "roles", "gameservers", "players", "player_on_gameserver", "variables", "events"} {
		for _, body := range []string{
			`{"filters": {"domain": ["` + tn.ID + `"]}}`, `{"search": {"bogus": ["x"]}}`, `{"greaterThan": {"bogus": 1}}`,
			`{"lessThan": {"bogus": 1}}`, `{"sortBy": "bogus"}`, `{"extend": ["bogus"]}`,
		} {
			_, err := e.core.SearchRawForTest(tn.ctx, table, query(t, body))
			wantCode(t, err, takaro.CodeValidation)
		}
	}
	// The password hash is no field of users.
	for _, body := range []string{`{"filters": {"passwordHash": ["x"]}}`, `{"search": {"password_hash": ["$2a"]}}`, `{"sortBy": "password_hash"}`} {
		_, err := e.core.FindUsers(tn.ctx, query(t, body))
		wantCode(t, err, takaro.CodeValidation)
	}
}

func TestSearchValuesMustBeArraysOrBooleans(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"filters": {"name": "x"}}`, `{"filters": {"name": 5}}`, `{"filters": {"name": {"a": ["x"]}}}`,
		`{"filters": {"name": null}}`, `{"search": {"name": "x"}}`, `{"filters": {"name": "true"}}`,
	} {
		var q takaro.Query
		if err := json.Unmarshal([]byte(body), &q); err == nil {
			t.Errorf("%s was accepted as %+v", body, q)
		}
	}
	for body, want := range map[string]takaro.Values{
		`{"filters": {"name": ["x", null]}}`: {"x", nil},
		`{"filters": {"name": true}}`:        {true},
		`{"filters": {"name": false}}`:       {false},
		`{"filters": {"name": [ ]}}`:         {},
	} {
		q := query(t, body)
		if got := q.Filters["name"]; len(got) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: decoded %#v, want %#v", body, got, want)
		}
	}
	// Numbers keep their text, so a large integer is not rounded.
	q := query(t, `{"filters": {"n": [9007199254740993]}}`)
	if n, ok := q.Filters["n"][0].(json.Number); !ok || n.String() != "9007199254740993" {
		t.Errorf("decoded %#v", q.Filters["n"][0])
	}
}

// embedded is a search row with the relations that extend can add.
type embedded struct {
	ID         uuid.UUID        `json:"id"`
	GameServer *json.RawMessage `json:"gameServer"`
	Player     *json.RawMessage `json:"player"`
	User       *json.RawMessage `json:"user"`
	keys       map[string]bool
}

func TestSearchExtend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	fa, fb := e.fill(t, a), e.fill(t, b)
	own := check[*takaro.Event](t)(e.core.CreateEvent(a.ctx, takaro.EventCreate{EventName: takaro.EventName("chat-message"),
		GameserverID: &fa.GameServer.ID, PlayerID: &fa.Player.ID, UserID: ptrTo(a.rootUserID())}))
	// Event ids are no foreign keys, so the log can hold ids the domain does
	// not have. The API refuses to record another domain's ids, so such a
	// row is written directly; extend must still never embed B's rows.
	foreign := &takaro.Event{}
	must(t, e.core.InDomainForTest(a.ctx, func(tx *postgres.Tx) error {
		return tx.QueryRow(a.ctx, `INSERT INTO events (domain, event_name, gameserver_id, player_id, user_id)
			VALUES ($1, 'chat-message', $2, $3, $4) RETURNING id`, tx.Domain, fb.GameServer.ID, fb.Player.ID, b.rootUserID()).Scan(&foreign.ID)
	}))

	rows := func(t *testing.T, body string) map[uuid.UUID]embedded {
		t.Helper()
		page := check[*takaro.Page[json.RawMessage]](t)(e.core.SearchRawForTest(a.ctx, "events", query(t, body)))
		out := map[uuid.UUID]embedded{}
		for _, raw := range page.Items {
			var row embedded
			must(t, json.Unmarshal(raw, &row))
			var keys map[string]json.RawMessage
			must(t, json.Unmarshal(raw, &keys))
			row.keys = map[string]bool{}
			for k := range keys {
				row.keys[k] = true
			}
			out[row.ID] = row
			if row.ID == foreign.ID {
				for _, leak := range []string{fb.GameServer.Name, *fb.Player.SteamID, b.Created.RootUser.Email, b.ID} {
					if strings.Contains(string(raw), leak) {
						t.Errorf("an event of domain %s embeds %q of domain %s: %s", a.ID, leak, b.ID, raw)
					}
				}
			}
		}
		return out
	}
	filter := `"filters": {"id": ["` + own.ID.String() + `", "` + foreign.ID.String() + `"]}`

	got := rows(t, `{`+filter+`, "extend": ["gameServer", "player", "user", "player"]}`)
	if len(got) != 2 {
		t.Fatalf("found %d events, want 2", len(got))
	}
	var gs takaro.GameServer
	var player takaro.Player
	var user takaro.User
	o := got[own.ID]
	if o.GameServer == nil || o.Player == nil || o.User == nil {
		t.Fatalf("the relations of an event in its own domain were not embedded: %+v", o)
	}
	must(t, json.Unmarshal(*o.GameServer, &gs))
	must(t, json.Unmarshal(*o.Player, &player))
	must(t, json.Unmarshal(*o.User, &user))
	if gs.ID != fa.GameServer.ID || gs.Name != fa.GameServer.Name || player.ID != fa.Player.ID || user.ID != a.rootUserID() {
		t.Errorf("embedded %+v, %+v, %+v", gs, player, user)
	}
	f := got[foreign.ID]
	for name, rel := range map[string]*json.RawMessage{"gameServer": f.GameServer, "player": f.Player, "user": f.User} {
		if rel != nil {
			t.Errorf("an event naming another domain's %s embeds %s", name, *rel)
		}
		if !f.keys[name] {
			t.Errorf("an event naming another domain's %s lacks the key: extend was not applied", name)
		}
	}

	// Without extend nothing is embedded.
	plain := check[*takaro.Page[json.RawMessage]](t)(e.core.SearchRawForTest(a.ctx, "events", query(t, `{`+filter+`}`)))
	for _, raw := range plain.Items {
		if strings.Contains(string(raw), `"gameServer"`) || strings.Contains(string(raw), `"player"`) {
			t.Errorf("embedded without extend: %s", raw)
		}
	}

	// Relations through foreign keys embed their own domain's rows.
	vars := check[*takaro.Page[json.RawMessage]](t)(e.core.SearchRawForTest(a.ctx, "variables", query(t, `{"extend": ["gameServer", "player"]}`)))
	if len(vars.Items) != 1 {
		t.Fatalf("found %d variables, want 1", len(vars.Items))
	}
	var v embedded
	must(t, json.Unmarshal(vars.Items[0], &v))
	if v.GameServer == nil || !strings.Contains(string(*v.GameServer), fa.GameServer.ID.String()) ||
		v.Player == nil || !strings.Contains(string(*v.Player), fa.Player.ID.String()) {
		t.Errorf("variable embeds %s", vars.Items[0])
	}
	users := check[*takaro.Page[json.RawMessage]](t)(e.core.SearchRawForTest(a.ctx, "users", query(t, `{"extend": ["player"]}`)))
	if len(users.Items) != 1 || !strings.Contains(string(users.Items[0]), fa.Player.ID.String()) {
		t.Errorf("users embed %s", users.Items)
	}
}

func TestSearchRelationsJoinOnTheDomain(t *testing.T) {
	t.Parallel()
	// Row-level security hides other domains' rows from these subqueries
	// too; the filter keeps that true without it. Every subquery filters
	// by the statement's domain parameter itself, never by the outer
	// row's domain: only then does Citus send it to one shard.
	relations := postgres.RelationSQLForTest()
	if len(relations) < 10 {
		t.Fatalf("only %d relations exported", len(relations))
	}
	filter := regexp.MustCompile(`\b[a-z_]+\.domain = \$1\b`)
	// A subquery reads a table (FROM name); one that reads only a derived
	// table (FROM (…)) is filtered inside it.
	table := regexp.MustCompile(`\bFROM [a-z_]+\b`)
	for name, sql := range relations {
		if strings.Contains(sql, ".domain = t.domain") {
			t.Errorf("%s is correlated on the outer row's domain: %s", name, sql)
		}
		if n, m := len(table.FindAllString(sql, -1)), len(filter.FindAllString(sql, -1)); m < n {
			t.Errorf("%s reads %d tables but has %d filters on the domain parameter: %s", name, n, m, sql)
		}
	}
}

// FuzzSearch drives the search builder with arbitrary text, integers and
// times in filters, search terms and ranges: every query is answered or
// refused as the caller's mistake, never an internal error, and a text
// value a filter accepts is one the data core stores and finds again
// unchanged. Without -fuzz it runs the seeds.
func FuzzSearch(f *testing.F) {
	for _, seed := range []struct {
		text string
		n    int64
		at   string
	}{
		{"plain", 0, "2024-01-31T12:00:00Z"}, {"a\x00b", 1, "2024-01-31T12:00:00Z"}, {"\xff\xfe", -1, "0000-01-01T00:00:00Z"},
		{`%_\`, 2147483647, "9999-12-31T23:59:59-23:00"}, {"", 2147483648, "0001-01-01T00:00:00+01:00"},
		{"ümlaut ✓", -2147483649, "not a time"}, {strings.Repeat("x", 300), 1 << 62, "2024-02-30T00:00:00Z"},
	} {
		f.Add(seed.text, seed.n, seed.at)
	}
	e := newEnv(f)
	tn := e.newDomain(f, takaro.DomainLimits{})
	f.Fuzz(func(t *testing.T, text string, n int64, at string) {
		for _, q := range []takaro.Query{
			{Filters: map[string]takaro.Values{"name": {text}}},
			{Search: map[string]takaro.Values{"steamId": {text}}},
			{GreaterThan: map[string]any{"playtimeSeconds": n}, LessThan: map[string]any{"createdAt": at}},
			{Filters: map[string]takaro.Values{"playtimeSeconds": {json.Number(fmt.Sprint(n))}}},
		} {
			if _, err := e.core.FindPlayers(tn.ctx, q); err != nil && takaro.ErrorCode(err) != takaro.CodeValidation {
				t.Fatalf("%+v: %v", q, err)
			}
		}
		if _, err := e.core.FindPlayers(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{"name": {text}}}); err != nil {
			return
		}
		p, err := e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: &text, SteamID: ptrTo(uniqueName("steam"))})
		if err != nil {
			wantCode(t, err, takaro.CodeValidation)
			return
		}
		found, err := e.core.FindPlayers(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{"name": {text}, "id": {p.ID.String()}}})
		if err != nil || len(found.Items) != 1 || *found.Items[0].Name != text {
			t.Fatalf("player named %q: found %+v, %v", text, found, err)
		}
	})
}
