package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// gameServerRoutes declares the game-server routes; connection info is decrypted only for MANAGE_GAMESERVERS.
func (s *Server) gameServerRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		// A more specific pattern than /gameserver/{id}, so it wins.
		handler(http.MethodGet, "/gameserver/types", "List the game server types and their connection-info schemas", "Gameserver",
			func(*request) ([]takaro.GameServerTypeInfo, error) { return takaro.GameServerTypes, nil }),
		searchHandler("/gameserver/search", "Search game servers (never with their connection info)", "Gameserver", c.GameServers.FindGameServers),
		handler(http.MethodGet, "/gameserver/{id}", "Get a game server; connectionInfo only for MANAGE_GAMESERVERS", "Gameserver",
			func(r *request) (*takaro.GameServer, error) {
				return c.GameServers.FindGameServerByID(r.Context(), r.idParam("id"), hasPermission(r.identity, takaro.PermManageGameservers))
			}),
		bodyHandler(http.MethodPost, "/gameserver", "Create a game server", "Gameserver", func(r *request, in *takaro.GameServerCreate) (*takaro.GameServer, error) {
			return c.GameServers.CreateGameServer(r.Context(), *in)
		}).need(takaro.PermManageGameservers),
		bodyHandler(http.MethodPut, "/gameserver/{id}", "Update a game server", "Gameserver", func(r *request, in *takaro.GameServerUpdate) (*takaro.GameServer, error) {
			return c.GameServers.UpdateGameServer(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManageGameservers),
		handler(http.MethodDelete, "/gameserver/{id}", "Delete a game server", "Gameserver", func(r *request) (*empty, error) {
			return none(c.GameServers.DeleteGameServer(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageGameservers),
	}
}
