package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

// connectionInfoOf returns the data.connectionInfo of a response and
// whether the property is there at all.
func connectionInfoOf(t testing.TB, r *response) (json.RawMessage, bool) {
	t.Helper()
	var data map[string]json.RawMessage
	r.decode(t, &data)
	v, ok := data["connectionInfo"]
	return v, ok
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

// TestGameServerConnectionInfo checks who sees a game server's connection
// info: decrypted on get-by-id, create and update for holders of
// MANAGE_GAMESERVERS, absent for everyone else and from every list, and
// never as ciphertext.
func TestGameServerConnectionInfo(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 10})
	const secret = "hunter2-rcon-password"
	info := `{"host": "192.0.2.10", "port": 28016, "rconPassword": "` + secret + `"}`
	manager := k.login(k.userWith(true, takaro.PermManageGameservers))
	reader := k.login(k.userWith(true, takaro.PermReadPlayers))

	created := s.do(http.MethodPost, "/gameserver", map[string]any{"name": "conn server", "type": "RUST", "connectionInfo": info}, manager).
		expect(t, http.StatusOK)
	got, ok := connectionInfoOf(t, created)
	if !ok || !sameJSON(t, got, []byte(info)) {
		t.Fatalf("create: connectionInfo %s, want %s", got, info)
	}
	var gs takaro.GameServer
	created.decode(t, &gs)
	path := "/gameserver/" + gs.ID.String()

	// Get by id: decrypted for MANAGE_GAMESERVERS (and ROOT), absent otherwise.
	for name, h := range map[string]header{"manager": manager, "root": k.root()} {
		got, ok := connectionInfoOf(t, s.do(http.MethodGet, path, nil, h).expect(t, http.StatusOK))
		if !ok || !sameJSON(t, got, []byte(info)) {
			t.Errorf("GET as %s: connectionInfo %s, want %s", name, got, info)
		}
	}
	r := s.do(http.MethodGet, path, nil, reader).expect(t, http.StatusOK)
	if _, ok := connectionInfoOf(t, r); ok || strings.Contains(string(r.Raw), secret) {
		t.Errorf("GET without MANAGE_GAMESERVERS shows the connection info: %s", r.Raw)
	}

	// An API key carries only the permissions it was given.
	var withKey, withoutKey takaro.APIKeyCreated
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "gs manager", "permissions": []string{takaro.PermManageGameservers}}, k.root()).
		expect(t, http.StatusOK).decode(t, &withKey)
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "gs reader", "permissions": []string{takaro.PermReadPlayers}}, k.root()).
		expect(t, http.StatusOK).decode(t, &withoutKey)
	if got, ok := connectionInfoOf(t, s.do(http.MethodGet, path, nil, bearer(withKey.Secret)).expect(t, http.StatusOK)); !ok || !sameJSON(t, got, []byte(info)) {
		t.Errorf("GET with a MANAGE_GAMESERVERS key: connectionInfo %s", got)
	}
	if _, ok := connectionInfoOf(t, s.do(http.MethodGet, path, nil, bearer(withoutKey.Secret)).expect(t, http.StatusOK)); ok {
		t.Error("GET with a key without MANAGE_GAMESERVERS shows the connection info")
	}

	// Update: the response carries the (new) connection info.
	r = s.do(http.MethodPut, path, map[string]any{"name": "conn server 2"}, manager).expect(t, http.StatusOK)
	if got, ok := connectionInfoOf(t, r); !ok || !sameJSON(t, got, []byte(info)) {
		t.Errorf("PUT without connectionInfo: connectionInfo %s, want the old %s", got, info)
	}
	info2 := `{"host": "192.0.2.11", "rconPassword": "` + secret + `-2"}`
	r = s.do(http.MethodPut, path, map[string]any{"connectionInfo": info2}, manager).expect(t, http.StatusOK)
	if got, ok := connectionInfoOf(t, r); !ok || !sameJSON(t, got, []byte(info2)) {
		t.Errorf("PUT: connectionInfo %s, want %s", got, info2)
	}
	if got, _ := connectionInfoOf(t, s.do(http.MethodGet, path, nil, manager)); !sameJSON(t, got, []byte(info2)) {
		t.Errorf("GET after PUT: connectionInfo %s, want %s", got, info2)
	}

	// Lists never carry it, whoever asks, nor do rows that embed game servers.
	player := k.player()
	s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": player, "gameServerId": gs.ID, "gameId": "p1"}, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/variables", map[string]any{"key": "k", "value": "v", "gameServerId": gs.ID}, k.root()).expect(t, http.StatusOK)
	lists := []struct {
		path string
		body map[string]any
	}{
		{"/gameserver/search", map[string]any{}},
		{"/gameserver/search", map[string]any{"extend": []string{"players"}}},
		{"/variables/search", map[string]any{"extend": []string{"gameServer"}}},
		{"/event/search", map[string]any{"extend": []string{"gameServer"}, "filters": map[string]any{"gameserverId": []string{gs.ID.String()}}}},
	}
	for _, l := range lists {
		for name, h := range map[string]header{"root": k.root(), "manager": manager} {
			if l.path != "/gameserver/search" && name == "manager" {
				continue // needs other permissions
			}
			r := s.do(http.MethodPost, l.path, l.body, h).expect(t, http.StatusOK)
			if *r.Meta.Total == 0 {
				t.Errorf("%s %v: nothing found", l.path, l.body)
			}
			if strings.Contains(string(r.Raw), "connectionInfo") || strings.Contains(string(r.Raw), secret) {
				t.Errorf("%s %v as %s carries connection info: %s", l.path, l.body, name, r.Raw)
			}
		}
	}

	// The database holds ciphertext, which no response ever shows.
	var stored []byte
	s.inDomain(t, k.tn.ID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT connection_info FROM gameservers WHERE id = $1", gs.ID).Scan(&stored)
	})
	if len(stored) == 0 || bytes.Contains(stored, []byte(secret)) || bytes.Contains(stored, []byte("192.0.2.11")) {
		t.Fatalf("connection_info is not stored encrypted: %q", stored)
	}
	for _, r := range []*response{
		s.do(http.MethodGet, path, nil, manager), s.do(http.MethodGet, path, nil, reader),
		s.do(http.MethodPost, "/gameserver/search", map[string]any{}, manager),
	} {
		for _, bad := range []string{"PGP", "Buffer", `\\x`, base64.StdEncoding.EncodeToString(stored[:12]), hex.EncodeToString(stored[:12])} {
			if strings.Contains(string(r.Raw), bad) {
				t.Errorf("a response looks like it carries ciphertext (%q): %s", bad, r.Raw)
			}
		}
	}
}

// TestGameServerSoftDelete checks that a deleted game server is gone from
// every read and write, that its name is free again, and that it no longer
// counts against maxGameservers.
func TestGameServerSoftDelete(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 1})
	gs := k.gameServer(`{"host": "192.0.2.20"}`)
	path := "/gameserver/" + gs.ID.String()
	s.do(http.MethodDelete, path, nil, k.root()).expect(t, http.StatusOK)

	notFound := "Gameserver with id " + gs.ID.String() + " not found"
	s.do(http.MethodGet, path, nil, k.root()).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	s.do(http.MethodPut, path, map[string]any{"name": "again"}, k.root()).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	s.do(http.MethodDelete, path, nil, k.root()).expectMessage(t, http.StatusNotFound, "NotFoundError", notFound)
	r := s.do(http.MethodPost, "/gameserver/search", map[string]any{}, k.root()).expect(t, http.StatusOK)
	if *r.Meta.Total != 0 || strings.Contains(string(r.Raw), gs.ID.String()) {
		t.Errorf("search lists a deleted game server: %s", r.Raw)
	}

	// The name and the quota are free again; the audit log remembers.
	var again takaro.GameServer
	s.do(http.MethodPost, "/gameserver", map[string]any{"name": gs.Name, "type": "MOCK", "connectionInfo": "{}"}, k.root()).
		expect(t, http.StatusOK).decode(t, &again)
	if again.ID == gs.ID {
		t.Fatal("the new game server has the deleted one's id")
	}
	r = s.do(http.MethodPost, "/event/search", map[string]any{"filters": map[string]any{
		"eventName": []string{"gameserver-deleted"}, "gameserverId": []string{gs.ID.String()}}}, k.root()).expect(t, http.StatusOK)
	if *r.Meta.Total != 1 {
		t.Errorf("gameserver-deleted events: %d, want 1: %s", *r.Meta.Total, r.Raw)
	}
}
