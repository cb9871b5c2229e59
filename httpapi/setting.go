package httpapi

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// settingRoutes declares the settings: the domain's values and its game
// servers' overrides, each key with its default.
func (s *Server) settingRoutes() []endpoint {
	c := s.cfg
	const tag = "Settings"
	gameServerQuery := "a game server: its effective values (its override, else the domain's value, else the default)"
	return []endpoint{
		handler(http.MethodGet, "/settings", "Every setting (or those named by keys) with its value and where the value comes from", tag,
			func(r *request) ([]takaro.Setting, error) {
				gameServerID, err := queryUUID(r, "gameServerId")
				if err != nil {
					return nil, err
				}
				var keys []takaro.SettingKey
				for _, k := range r.URL.Query()["keys"] {
					keys = append(keys, takaro.SettingKey(k))
				}
				return c.Settings.FindSettings(r.Context(), gameServerID, keys)
			}).need(takaro.PermReadSettings).
			withQuery("keys", "array", "only these setting keys, in this order (repeat the parameter for several)").
			withQuery("gameServerId", "string", gameServerQuery),
		handler(http.MethodGet, "/settings/{key}", "One setting with its value and where the value comes from", tag,
			func(r *request) (*takaro.Setting, error) {
				gameServerID, err := queryUUID(r, "gameServerId")
				if err != nil {
					return nil, err
				}
				return c.Settings.FindSetting(r.Context(), takaro.SettingKey(r.PathValue("key")), gameServerID)
			}).need(takaro.PermReadSettings).text("key").withQuery("gameServerId", "string", gameServerQuery),
		bodyHandler(http.MethodPost, "/settings/{key}", "Set a setting for the domain, or override it for one game server", tag,
			func(r *request, in *takaro.SettingSet) (*takaro.Setting, error) {
				return c.Settings.SetSetting(r.Context(), takaro.SettingKey(r.PathValue("key")), *in)
			}).need(takaro.PermManageSettings).text("key"),
		handler(http.MethodDelete, "/settings/{key}", "Remove the domain's value of a setting, or a game server's override", tag,
			func(r *request) (*empty, error) {
				gameServerID, err := queryUUID(r, "gameServerId")
				if err != nil {
					return nil, err
				}
				return none(c.Settings.DeleteSetting(r.Context(), takaro.SettingKey(r.PathValue("key")), gameServerID))
			}).need(takaro.PermManageSettings).text("key").withQuery("gameServerId", "string", "remove this game server's override instead"),
	}
}

// queryUUID reads an optional UUID from the query string.
func queryUUID(r *request, name string) (*uuid.UUID, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return nil, takaro.Invalid(name, "must be a UUID")
	}
	return &id, nil
}
