package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
)

// settingOf reads one setting, for the domain or (gs non-empty) a game server.
func (k *kit) settingOf(t *testing.T, key, gs string) takaro.Setting {
	t.Helper()
	path := "/settings/" + key
	if gs != "" {
		path += "?gameServerId=" + gs
	}
	var s takaro.Setting
	k.s.do(http.MethodGet, path, nil, k.root()).expect(t, http.StatusOK).decode(t, &s)
	return s
}

// TestSettingsResolution checks where a value comes from: the default, the
// domain's value, a game server's override, and back after deletions.
func TestSettingsResolution(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	gs := k.gameServer("{}").ID.String()

	var all []takaro.Setting
	s.do(http.MethodGet, "/settings", nil, k.root()).expect(t, http.StatusOK).decode(t, &all)
	if len(all) != len(takaro.SettingDefinitions) {
		t.Fatalf("%d settings, want every key (%d)", len(all), len(takaro.SettingDefinitions))
	}
	for i, st := range all {
		d := takaro.SettingDefinitions[i]
		if st.Key != d.Key || st.Value != d.Default || st.Type != takaro.SettingDefault || st.CanHaveGameServerOverride != d.Overridable {
			t.Errorf("setting %d: %+v, want the default of %s", i, st, d.Key)
		}
	}

	want := func(key, gs, value string, source takaro.SettingSource) {
		t.Helper()
		if got := k.settingOf(t, key, gs); got.Value != value || got.Type != source {
			t.Errorf("%s for %q: %q (%s), want %q (%s)", key, gs, got.Value, got.Type, value, source)
		}
	}
	s.do(http.MethodPost, "/settings/economyEnabled", map[string]any{"value": "true"}, k.root()).expect(t, http.StatusOK)
	want("economyEnabled", "", "true", takaro.SettingGlobal)
	want("economyEnabled", gs, "true", takaro.SettingInherit)

	var set takaro.Setting
	s.do(http.MethodPost, "/settings/economyEnabled", map[string]any{"value": "false", "gameServerId": gs}, k.root()).
		expect(t, http.StatusOK).decode(t, &set)
	if set.Value != "false" || set.Type != takaro.SettingOverride {
		t.Errorf("the answer to an override: %+v", set)
	}
	want("economyEnabled", gs, "false", takaro.SettingOverride)
	want("economyEnabled", "", "true", takaro.SettingGlobal)
	// Setting it again replaces the value.
	s.do(http.MethodPost, "/settings/economyEnabled", map[string]any{"value": "true", "gameServerId": gs}, k.root()).expect(t, http.StatusOK)
	want("economyEnabled", gs, "true", takaro.SettingOverride)

	s.do(http.MethodDelete, "/settings/economyEnabled", nil, k.root()).expect(t, http.StatusOK)
	want("economyEnabled", "", "false", takaro.SettingDefault)
	want("economyEnabled", gs, "true", takaro.SettingOverride)
	s.do(http.MethodDelete, "/settings/economyEnabled?gameServerId="+gs, nil, k.root()).expect(t, http.StatusOK)
	want("economyEnabled", gs, "false", takaro.SettingDefault)

	// keys picks and orders.
	var some []takaro.Setting
	s.do(http.MethodGet, "/settings?keys=currencyName&keys=commandPrefix", nil, k.root()).expect(t, http.StatusOK).decode(t, &some)
	if len(some) != 2 || some[0].Key != takaro.SettingCurrencyName || some[1].Key != takaro.SettingCommandPrefix {
		t.Errorf("keys=currencyName&keys=commandPrefix: %+v", some)
	}
}

// TestSettingsValidation checks that every bad input is a 400 that names
// the field and the key, and that nothing is stored.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	gs := k.gameServer("{}").ID.String()
	root := k.root()

	for _, path := range []string{"/settings/noSuchKey", "/settings/noSuchKey?gameServerId=" + gs} {
		s.do(http.MethodGet, path, nil, root).expect(t, http.StatusNotFound, "NotFoundError")
		s.do(http.MethodPost, path, map[string]any{"value": "x"}, root).expect(t, http.StatusNotFound, "NotFoundError")
		s.do(http.MethodDelete, path, nil, root).expect(t, http.StatusNotFound, "NotFoundError")
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		field, mention     string
	}{
		{"unknown key filter", http.MethodGet, "/settings?keys=commandPrefix&keys=nope", nil, "keys", "currencyName"},
		{"not a boolean", http.MethodPost, "/settings/economyEnabled", map[string]any{"value": "yes"}, "value", "economyEnabled"},
		{"empty prefix", http.MethodPost, "/settings/commandPrefix", map[string]any{"value": ""}, "value", "commandPrefix"},
		{"too long", http.MethodPost, "/settings/currencyName", map[string]any{"value": strings.Repeat("x", 101)}, "value", "currencyName"},
		{"not a string", http.MethodPost, "/settings/economyEnabled", map[string]any{"value": true}, "value", ""},
		{"no value", http.MethodPost, "/settings/currencyName", map[string]any{}, "value", ""},
		{"not overridable", http.MethodPost, "/settings/developerMode", map[string]any{"value": "true", "gameServerId": gs}, "gameServerId", "developerMode"},
		{"unknown game server", http.MethodPost, "/settings/commandPrefix", map[string]any{"value": "!", "gameServerId": "6f1d1b4e-8c4a-4d7e-9a53-0e6b7e0f1a2b"}, "gameServerId", ""},
		{"unknown game server read", http.MethodGet, "/settings?gameServerId=6f1d1b4e-8c4a-4d7e-9a53-0e6b7e0f1a2b", nil, "gameServerId", ""},
		{"malformed game server", http.MethodGet, "/settings/commandPrefix?gameServerId=nope", nil, "gameServerId", ""},
		{"malformed game server delete", http.MethodDelete, "/settings/commandPrefix?gameServerId=nope", nil, "gameServerId", ""},
	} {
		r := s.do(c.method, c.path, c.body, root).expect(t, http.StatusBadRequest, "ValidationError")
		if !strings.Contains(string(r.Raw), c.field) || !strings.Contains(string(r.Raw), c.mention) {
			t.Errorf("%s: the error names neither %q nor %q: %s", c.name, c.field, c.mention, r.Raw)
		}
	}
	var events []takaro.Event
	s.do(http.MethodPost, "/event/search", map[string]any{"filters": map[string]any{"eventName": []string{"settings-set"}}}, root).
		expect(t, http.StatusOK).decode(t, &events)
	if len(events) != 0 {
		t.Errorf("refused writes recorded events: %+v", events)
	}
	if got := k.settingOf(t, "commandPrefix", gs); got.Type != takaro.SettingDefault {
		t.Errorf("a refused write changed commandPrefix: %+v", got)
	}
}

// TestSettingsEvents checks that a write and a removal record settings-set
// with the game server, the acting user and the value (null on removal),
// and that removing nothing records nothing.
func TestSettingsEvents(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	gs := k.gameServer("{}").ID.String()
	manager := k.userWith(true, takaro.PermManageSettings, takaro.PermReadSettings)
	h := k.login(manager)

	s.do(http.MethodPost, "/settings/commandPrefix", map[string]any{"value": "?", "gameServerId": gs}, h).expect(t, http.StatusOK)
	s.do(http.MethodDelete, "/settings/commandPrefix?gameServerId="+gs, nil, h).expect(t, http.StatusOK)
	s.do(http.MethodDelete, "/settings/commandPrefix?gameServerId="+gs, nil, h).expect(t, http.StatusOK)

	var events []takaro.Event
	s.do(http.MethodPost, "/event/search", map[string]any{"filters": map[string]any{"eventName": []string{"settings-set"}},
		"sortBy": "createdAt", "sortDirection": "asc"}, k.root()).expect(t, http.StatusOK).decode(t, &events)
	if len(events) != 2 {
		t.Fatalf("%d settings-set events, want 2 (removing nothing records nothing): %+v", len(events), events)
	}
	for i, wantValue := range []any{"?", nil} {
		ev := events[i]
		if ev.GameserverID == nil || ev.GameserverID.String() != gs || ev.UserID == nil || ev.UserID.String() != manager.ID ||
			ev.ActingUserID == nil || ev.ActingUserID.String() != manager.ID {
			t.Errorf("event %d names the wrong rows: %+v", i, ev)
		}
		var meta map[string]any
		if err := json.Unmarshal(ev.Meta, &meta); err != nil {
			t.Fatal(err)
		}
		if meta["key"] != "commandPrefix" || meta["value"] != wantValue {
			t.Errorf("event %d meta %s, want key commandPrefix and value %v", i, ev.Meta, wantValue)
		}
	}
}
