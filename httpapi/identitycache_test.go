package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// twoInstances starts two API servers over two data cores (two pools, two
// listening connections) on one database, with their identity caches
// listening.
func twoInstances(t *testing.T) (a, b *testServer, pdb *pgtest.Database) {
	t.Helper()
	pdb = pgtest.New(t)
	a = newTestServerOn(t, pdb.Open(t, postgres.Options{}))
	b = newTestServerOn(t, pdb.Open(t, postgres.Options{}))
	return a, b, pdb
}

// warm makes sure s serves h's identity from its cache: GET path answers
// 200 from memory.
func warm(t *testing.T, s *testServer, path string, h header) {
	t.Helper()
	s.do(http.MethodGet, path, nil, h).expect(t, http.StatusOK) // starts the listener, verifies the secret
	waitFor(t, "the identity cache's listener", func() bool { return s.DB.IdentityCacheStats().Listening })
	// Notifications of the set-up may still arrive and empty it meanwhile.
	waitFor(t, "GET "+path+" served from the identity cache", func() bool {
		hits := s.DB.IdentityCacheStats().Hits
		s.do(http.MethodGet, path, nil, h).expect(t, http.StatusOK)
		return s.DB.IdentityCacheStats().Hits == hits+1
	})
}

// TestChangesReachEveryInstance: a revocation, logout, role removal,
// permission change, user deletion or domain disable made through one
// instance is refused by another that has the identity cached, within
// 100 ms.
func TestChangesReachEveryInstance(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t)
	k := newKit(t, a, nil)
	gs := k.gameServer(`{"host":"10.0.0.1","port":1}`)
	gsPath := "/gameserver/" + gs.ID.String()

	for _, c := range []struct {
		name   string
		status int
		// setup returns the credential and the path it reads on b, and
		// change makes the change on a.
		setup func() (header, string, func())
	}{
		{"API key revocation", http.StatusUnauthorized, func() (header, string, func()) {
			key := k.createKey(k.root(), takaro.PermReadRoles)
			return bearer(key.Secret), gsPath, func() {
				a.do(http.MethodDelete, "/apikey/"+key.APIKey.ID.String(), nil, k.root()).expect(t, http.StatusOK)
			}
		}},
		{"logout", http.StatusUnauthorized, func() (header, string, func()) {
			h := k.login(k.user(false))
			return h, gsPath, func() { a.do(http.MethodPost, "/logout", nil, h).expect(t, http.StatusOK) }
		}},
		{"role removal", http.StatusForbidden, func() (header, string, func()) {
			role := k.role(takaro.PermReadRoles)
			u := k.user(false, role)
			return k.login(u), "/role/" + role, func() {
				a.do(http.MethodDelete, "/user/"+u.ID+"/role/"+role, nil, k.root()).expect(t, http.StatusOK)
			}
		}},
		{"permission change", http.StatusForbidden, func() (header, string, func()) {
			role := k.role(takaro.PermReadRoles)
			return k.login(k.user(false, role)), "/role/" + role, func() {
				a.do(http.MethodPut, "/role/"+role, map[string]any{"permissions": []any{}}, k.root()).expect(t, http.StatusOK)
			}
		}},
		{"permission change beside a module permission", http.StatusForbidden, func() (header, string, func()) {
			greet := newPermissionModule(t, a, k.root(), "GREET")
			role := k.role(takaro.PermReadRoles)
			held := func(perms ...string) map[string]any {
				inputs := []any{map[string]any{"permissionId": greet.permission, "count": 3}}
				for _, p := range perms {
					inputs = append(inputs, map[string]any{"permissionId": k.permissionID(p)})
				}
				return map[string]any{"permissions": inputs}
			}
			a.do(http.MethodPut, "/role/"+role, held(takaro.PermReadRoles), k.root()).expect(t, http.StatusOK)
			return k.login(k.user(false, role)), "/role/" + role, func() {
				a.do(http.MethodPut, "/role/"+role, held(), k.root()).expect(t, http.StatusOK)
			}
		}},
		{"user deletion", http.StatusUnauthorized, func() (header, string, func()) {
			u := k.user(false)
			return k.login(u), gsPath, func() { a.do(http.MethodDelete, "/user/"+u.ID, nil, k.root()).expect(t, http.StatusOK) }
		}},
		{"domain disable", http.StatusBadRequest, func() (header, string, func()) {
			return k.root(), gsPath, func() {
				a.do(http.MethodPut, "/domain/"+k.tn.ID, map[string]any{"state": takaro.DomainDisabled}, adminHeader()).expect(t, http.StatusOK)
			}
		}},
	} {
		h, path, change := c.setup()
		warm(t, b, path, h)
		change()
		took := answersWithin(t, b, path, h, c.status)
		t.Logf("%s: refused by the other instance after %v", c.name, took)
	}
}

// TestIdentityCacheListenerLoss: when the listening connection is killed,
// the cache is emptied and bypassed (identities are read from the
// database), and it comes back on its own.
func TestIdentityCacheListenerLoss(t *testing.T) {
	t.Parallel()
	pdb := pgtest.New(t)
	s := newTestServerOn(t, pdb.Open(t, postgres.Options{}))
	k := newKit(t, s, nil)
	role := k.role(takaro.PermReadRoles)
	u := k.user(false, role)
	h, path := k.login(u), "/role/"+role
	warm(t, s, path, h)
	stats := s.DB.IdentityCacheStats

	// A change that announces nothing (triggers off, as a superuser may
	// do) shows which source answers: the cache still grants the role...
	super := pgtest.Admin(t).Config().Copy()
	super.ConnConfig.Database = pdb.Name
	quiet := func(sql string, args ...any) {
		t.Helper()
		conn, err := pgx.ConnectConfig(context.Background(), super.ConnConfig)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		if _, err := conn.Exec(context.Background(), "SET session_replication_role = replica"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	quiet("DELETE FROM role_on_user WHERE domain = $1 AND user_id = $2", k.tn.ID, u.ID)
	s.do(http.MethodGet, path, nil, h).expect(t, http.StatusOK)

	// ...until the listening connection dies: then the database answers.
	var killed int
	if err := pgtest.Admin(t).QueryRow(context.Background(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
		pdb.Name, postgres.ListenerApplicationName).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listening connections (%v), want 1", killed, err)
	}
	waitFor(t, "the cache to notice the lost listener", func() bool { return !stats().Listening })
	misses := stats().Misses
	s.do(http.MethodGet, path, nil, h).expect(t, http.StatusForbidden)
	quiet("INSERT INTO role_on_user (domain, user_id, role_id) VALUES ($1, $2, $3)", k.tn.ID, u.ID, role)
	s.do(http.MethodGet, path, nil, h).expect(t, http.StatusOK)
	if st := stats(); st.Misses < misses+2 || st.Entries != 0 {
		t.Fatalf("while the listener is down: %+v, want every request a miss and nothing cached", st)
	}

	// It comes back on its own, and changes are announced again.
	waitFor(t, "the listener to come back", func() bool { return stats().Listening })
	warm(t, s, path, h)
	s.do(http.MethodDelete, "/user/"+u.ID+"/role/"+role, nil, k.root()).expect(t, http.StatusOK)
	answersWithin(t, s, path, h, http.StatusForbidden)
}
