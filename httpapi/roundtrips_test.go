package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The steady-state cost of a request, counted where it is paid: what the
// data core sends to PostgreSQL. A pgx tracer records every statement,
// grouped by the round trip (a pipelined batch, or a single query) that
// carried it; independently, the pool's connections count on the wire how
// often the client turned from writing to waiting for an answer, which also
// sees round trips pgx does not trace (a statement's first preparation on a
// connection, a liveness ping).

// probe is the tracer and the wire counter.
type probe struct {
	mu    sync.Mutex
	trips [][]string
	turns atomic.Int64
}

func (p *probe) record(sqls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trips = append(p.trips, sqls)
}

func (p *probe) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	p.record([]string{d.SQL})
	return ctx
}

func (p *probe) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (p *probe) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	sqls := make([]string, len(d.Batch.QueuedQueries))
	for i, q := range d.Batch.QueuedQueries {
		sqls[i] = q.SQL
	}
	p.record(sqls)
	return ctx
}

func (p *probe) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (p *probe) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// countingConn counts the turns of one connection: a write that follows a
// read (or comes first) starts a round trip.
type countingConn struct {
	net.Conn
	turns   *atomic.Int64
	sending atomic.Bool
}

func (c *countingConn) Write(b []byte) (int, error) {
	if !c.sending.Swap(true) {
		c.turns.Add(1)
	}
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.sending.Store(false)
	}
	return n, err
}

// trace is what one request sent.
type trace struct {
	trips [][]string // the statements of each traced round trip
	turns int64      // round trips on the wire
}

// measure runs one request and returns what it sent.
func (p *probe) measure(request func()) trace {
	p.mu.Lock()
	p.trips = nil
	p.mu.Unlock()
	before := p.turns.Load()
	request()
	p.mu.Lock()
	defer p.mu.Unlock()
	return trace{trips: p.trips, turns: p.turns.Load() - before}
}

// cryptCall matches pgcrypto's crypt() (bcrypt hashing and verification),
// not pgp_sym_decrypt().
var cryptCall = regexp.MustCompile(`(^|[^a-z_])crypt\(`)

func (tr trace) crypts() int {
	n := 0
	for _, trip := range tr.trips {
		for _, sql := range trip {
			if cryptCall.MatchString(sql) {
				n++
			}
		}
	}
	return n
}

func isBinding(sql string) bool { return strings.Contains(sql, "takaro_set_local('takaro.domain'") }

// bound strips the transaction block that carries a domain binding, BEGIN,
// the binding, …, COMMIT, from a round trip's statements, and reports
// whether it was there.
func bound(trip []string) ([]string, bool) {
	n := len(trip)
	if n < 3 || trip[0] != "BEGIN" || !isBinding(trip[1]) || trip[n-1] != "COMMIT" {
		return trip, false
	}
	return trip[2 : n-1], true
}

// expectSteady checks the steady state of an authenticated request: the
// identity comes from the identity cache, so one round trip, the domain
// binding and at most maxData statements; and no crypt().
func (tr trace) expectSteady(t *testing.T, what string, maxData int) {
	t.Helper()
	if len(tr.trips) != 1 || tr.turns != 1 {
		t.Fatalf("%s: %d traced round trips and %d on the wire, want 1 and 1 (data): %q", what, len(tr.trips), tr.turns, tr.trips)
	}
	tr.expectData(t, what, tr.trips[0], maxData)
}

// expectIdentityRead checks a request whose identity is not cached: two
// round trips, the first the binding and the identity statement, the
// second its data; and no crypt().
func (tr trace) expectIdentityRead(t *testing.T, what string, maxData int) {
	t.Helper()
	if len(tr.trips) != 2 || tr.turns != 2 {
		t.Fatalf("%s: %d traced round trips and %d on the wire, want 2 and 2 (authentication, data): %q", what, len(tr.trips), tr.turns, tr.trips)
	}
	auth, authBound := bound(tr.trips[0])
	if !authBound || len(auth) != 1 || !strings.Contains(auth[0], "FROM sessions") {
		t.Errorf("%s: authentication round trip is %q, want the bound identity statement", what, tr.trips[0])
	}
	tr.expectData(t, what, tr.trips[1], maxData)
}

func (tr trace) expectData(t *testing.T, what string, trip []string, maxData int) {
	t.Helper()
	if data, dataBound := bound(trip); !dataBound || len(data) < 1 || len(data) > maxData {
		t.Errorf("%s: data round trip is %q, want 1 to %d bound statements", what, trip, maxData)
	}
	if n := tr.crypts(); n != 0 {
		t.Errorf("%s: %d statements call crypt(), want none: %q", what, n, tr.trips)
	}
}

// seen is the "last seen" state of a user and a session, with the rows'
// xmin: a row that was written to has a new one.
type seen struct {
	userAt, sessionAt     time.Time
	userXmin, sessionXmin string
}

func (s seen) String() string {
	return fmt.Sprintf("user last seen %s (xmin %s), session last seen %s (xmin %s)",
		s.userAt.Format(time.RFC3339Nano), s.userXmin, s.sessionAt.Format(time.RFC3339Nano), s.sessionXmin)
}

// unchanged reports whether neither row was written to in between.
func (s seen) unchanged(later seen) bool {
	return s.userXmin == later.userXmin && s.sessionXmin == later.sessionXmin &&
		s.userAt.Equal(later.userAt) && s.sessionAt.Equal(later.sessionAt)
}

// seenRows reads and ages the "last seen" rows of a tenant's root user and
// session, through the data core of a server the probe does not watch.
type seenRows struct {
	s                         *testServer
	domain, userID, sessionID string
}

func (r seenRows) read(t *testing.T) seen {
	t.Helper()
	var s seen
	r.s.inDomain(t, r.domain, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT u.last_seen, u.xmin::text, s.last_seen_at, s.xmin::text
			FROM users u JOIN sessions s ON s.domain = u.domain AND s.user_id = u.id
			WHERE u.domain = $1 AND u.id = $2 AND s.id = $3`, r.domain, r.userID, r.sessionID).
			Scan(&s.userAt, &s.userXmin, &s.sessionAt, &s.sessionXmin)
	})
	return s
}

// age makes the user and the session look last seen an hour ago.
func (r seenRows) age(t *testing.T) {
	t.Helper()
	r.s.inDomain(t, r.domain, func(tx pgx.Tx) error {
		ctx := context.Background()
		if _, err := tx.Exec(ctx, "UPDATE users SET last_seen = now() - interval '1 hour' WHERE domain = $1 AND id = $2",
			r.domain, r.userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE sessions SET last_seen_at = now() - interval '1 hour' WHERE domain = $1 AND id = $2",
			r.domain, r.sessionID)
		return err
	})
}

// openProbed opens a second data core on d whose one connection reports
// to p. One connection, so that the warm-up prepares every statement on
// the connection the measured requests use; no liveness ping after idling
// (pgxpool's default after 1 s), which is not a steady-state cost. now is
// the process's clock.
func openProbed(t *testing.T, d *pgtest.Database, p *probe, now func() time.Time) *postgres.DB {
	t.Helper()
	cfg := d.Config(t)
	cfg.MaxConns = 1
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	cfg.ConnConfig.Tracer = p
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, turns: &p.turns}, nil
	}
	keys, err := postgres.NewKeyring(pgtest.Key)
	if err != nil {
		t.Fatal(err)
	}
	// The identity cache's listening connection is not the probed one.
	db, err := postgres.Open(context.Background(), cfg, postgres.Options{Keys: keys, BcryptCost: 4, Now: now,
		ListenConfig: d.Config(t).ConnConfig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// TestSteadyStateRoundTrips proves the cost of authenticated reads in
// steady state: a game server with its connection info is one round trip
// for authentication and one for the data, decrypted inline; a search is
// one round trip of at most two statements after authentication; neither
// runs crypt() nor writes "last seen" more than once a minute; and a
// revoked session stops working at once on an instance that has it cached.
func TestSteadyStateRoundTrips(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	// The issuer logs in, so the session's secret was verified by another
	// process: the measured instance must verify it once itself.
	issuer := newTestServerOn(t, d.Open(t, postgres.Options{}))
	tn := issuer.newTenant(nil)
	const connInfo = `{"host":"10.0.0.7","port":7777,"password":"s3cret"}`
	var gs takaro.GameServer
	issuer.do(http.MethodPost, "/gameserver", map[string]any{"name": "round trips", "type": "MOCK", "connectionInfo": connInfo},
		tn.auth()).expect(t, http.StatusOK).decode(t, &gs)
	issuer.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "v"}, tn.auth()).expect(t, http.StatusOK)
	token, err := takaro.ParseToken(tn.Token)
	if err != nil {
		t.Fatal(err)
	}
	rows := seenRows{s: issuer, domain: tn.ID, userID: tn.RootUserID, sessionID: token.ID.String()}

	p := &probe{}
	// The instance paces "last seen" by its own clock, which moves on
	// whenever the rows are aged.
	var skew atomic.Int64
	s := newTestServerOn(t, openProbed(t, d, p, func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }))
	age := func() {
		rows.age(t)
		skew.Add(int64(2 * time.Minute)) // past "last seen" pacing, within the credential cache's idle time
	}
	getGameServer := func() {
		var got takaro.GameServer
		s.do(http.MethodGet, "/gameserver/"+gs.ID.String(), nil, tn.auth()).expect(t, http.StatusOK).decode(t, &got)
		if string(got.ConnectionInfo) != connInfo {
			t.Fatalf("connectionInfo is %s, want %s", got.ConnectionInfo, connInfo)
		}
	}

	// First use on this instance: the secret is verified once, with
	// crypt(), which also records "last seen". (On the wire each round
	// trip comes with another that prepares its new statements on the
	// connection.)
	age()
	first := p.measure(getGameServer)
	if n := first.crypts(); n != 1 || len(first.trips) != 3 {
		t.Fatalf("first request: %d crypt() calls in %d round trips, want 1 in 3 (identity, verification, data): %q",
			n, len(first.trips), first.trips)
	}
	verified := rows.read(t)
	if time.Since(verified.userAt) > time.Minute || time.Since(verified.sessionAt) > time.Minute {
		t.Fatalf("the verification did not record last seen: %v", verified)
	}

	// Steady state: the identity comes from the identity cache once its
	// listener is up: one round trip, no crypt(), and no write within the
	// minute.
	stats := s.DB.IdentityCacheStats
	waitFor(t, "the identity cache's listener", func() bool { return stats().Listening })
	getGameServer()
	p.measure(getGameServer).expectSteady(t, "GET /gameserver/{id}", 1)
	if now := rows.read(t); !verified.unchanged(now) {
		t.Errorf("a request within a minute wrote last seen: before %v, after %v", verified, now)
	}

	// Over a minute later the identity statement runs to record "last
	// seen": two round trips, no crypt(); then one again.
	age()
	aged := rows.read(t)
	p.measure(getGameServer).expectIdentityRead(t, "GET /gameserver/{id} over a minute after the last", 1)
	p.measure(getGameServer).expectSteady(t, "GET /gameserver/{id} after recording last seen", 1)
	recorded := rows.read(t)
	if recorded.userXmin == aged.userXmin || recorded.sessionXmin == aged.sessionXmin ||
		time.Since(recorded.userAt) > time.Minute || time.Since(recorded.sessionAt) > time.Minute {
		t.Errorf("a request over a minute after the last did not record last seen: before %v, after %v", aged, recorded)
	}

	for _, path := range []string{"/gameserver/search", "/variables/search"} {
		search := func() {
			res := s.do(http.MethodPost, path, map[string]any{"limit": 20}, tn.auth()).expect(t, http.StatusOK)
			if res.Meta.Total == nil || *res.Meta.Total != 1 {
				t.Fatalf("POST %s: total %v, want 1: %s", path, res.Meta.Total, res.Raw)
			}
		}
		search() // prepares the search's statements on the connection
		p.measure(search).expectSteady(t, "POST "+path, 2)
	}
	if now := rows.read(t); !recorded.unchanged(now) {
		t.Errorf("requests within a minute wrote last seen: before %v, after %v", recorded, now)
	}

	// Each kind of change to an identity, made on another instance, drops
	// the cached one: the next request reads it (two round trips), the one
	// after is served from memory again.
	// Each change is one transaction, whose notification names one scope;
	// the test waits for it to be handled before it measures.
	changed := func(what string, change func()) {
		before := stats().Invalidations
		change()
		waitFor(t, "the invalidation of "+what, func() bool { return stats().Invalidations > before })
	}
	// Roles may hold module permissions, which a version's permissions, the
	// module and the role's own permissions all reach.
	greet, farewell := newPermissionModule(t, issuer, tn.auth(), "GREET"), newPermissionModule(t, issuer, tn.auth(), "FAREWELL")
	var role takaro.Role
	changed("a new role", func() {
		issuer.do(http.MethodPost, "/role", map[string]any{"name": "watched", "permissions": []any{}}, tn.auth()).
			expect(t, http.StatusOK).decode(t, &role)
	})
	roleID := role.ID.String()
	for _, change := range []struct {
		what string
		make func()
	}{
		{"a role's permissions (the domain)", func() {
			issuer.do(http.MethodPut, "/role/"+roleID, map[string]any{"permissions": []any{}}, tn.auth()).expect(t, http.StatusOK)
		}},
		{"a role assignment (the user)", func() {
			issuer.do(http.MethodPost, "/user/"+tn.RootUserID+"/role/"+roleID, map[string]any{}, tn.auth()).expect(t, http.StatusOK)
		}},
		{"the session (the credential)", func() {
			issuer.inDomain(t, tn.ID, func(tx pgx.Tx) error {
				_, err := tx.Exec(context.Background(), "UPDATE sessions SET expires_at = expires_at - interval '1 second' WHERE domain = $1 AND id = $2",
					tn.ID, token.ID)
				return err
			})
		}},
		{"a role's module permissions (the domain)", func() {
			issuer.do(http.MethodPut, "/role/"+roleID, map[string]any{"permissions": []any{
				map[string]any{"permissionId": greet.permission, "count": 1}, map[string]any{"permissionId": farewell.permission}}}, tn.auth()).
				expect(t, http.StatusOK)
		}},
		{"the count of a role's module permission (the domain)", func() {
			issuer.do(http.MethodPut, "/role/"+roleID, map[string]any{"permissions": []any{
				map[string]any{"permissionId": greet.permission, "count": 2}, map[string]any{"permissionId": farewell.permission}}}, tn.auth()).
				expect(t, http.StatusOK)
		}},
		{"a held module permission removed from its version (the domain)", func() {
			issuer.do(http.MethodPut, "/module/"+greet.module, map[string]any{"latestVersion": map[string]any{"permissions": []any{}}}, tn.auth()).
				expect(t, http.StatusOK)
		}},
		{"the module of a held permission deleted (the domain)", func() {
			issuer.do(http.MethodDelete, "/module/"+farewell.module, nil, tn.auth()).expect(t, http.StatusOK)
		}},
	} {
		changed(change.what, change.make)
		p.measure(getGameServer).expectIdentityRead(t, "GET /gameserver/{id} after a change of "+change.what, 1)
		p.measure(getGameServer).expectSteady(t, "GET /gameserver/{id} once more after a change of "+change.what, 1)
	}

	// Revocation on the other instance takes effect here although this
	// instance has the session's identity cached.
	issuer.do(http.MethodPost, "/logout", nil, tn.auth()).expect(t, http.StatusOK)
	answersWithin(t, s, "/gameserver/"+gs.ID.String(), tn.auth(), http.StatusUnauthorized)
}

// permissionModule is a module whose latest version defines one permission.
type permissionModule struct{ module, permission string }

// newPermissionModule creates a module whose latest version defines the
// permission code.
func newPermissionModule(t *testing.T, s *testServer, h header, code string) permissionModule {
	t.Helper()
	var m takaro.Module
	s.do(http.MethodPost, "/module", map[string]any{"name": unique("module"), "latestVersion": map[string]any{"permissions": []any{
		map[string]any{"permission": code, "friendlyName": code, "description": "held by a role", "canHaveCount": true}}}}, h).
		expect(t, http.StatusOK).decode(t, &m)
	if len(m.LatestVersion.Permissions) != 1 {
		t.Fatalf("module %s defines %d permissions, want 1", m.Name, len(m.LatestVersion.Permissions))
	}
	return permissionModule{module: m.ID.String(), permission: m.LatestVersion.Permissions[0].ID.String()}
}
