package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// gameServerRoutes declares the game-server routes; connection info is decrypted only for MANAGE_GAMESERVERS.
func (s *Server) gameServerRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		// A more specific pattern than /gameserver/{id}, so it wins.
		handler(http.MethodGet, "/gameserver/types", "List the game server types and their connection-info schemas", "Gameserver",
			func(*request) ([]takaro.GameServerTypeInfo, error) { return takaro.GameServerTypes, nil }),
		searchHandler("/gameserver/search", "Search game servers (never with their connection info)", "Gameserver", c.GameServers.FindGameServers).searchOf("gameservers"),
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
		handler(http.MethodDelete, "/gameserver/registrationToken", "Replace the domain's server-registration token; the old one stops working", "Gameserver",
			func(r *request) (*empty, error) {
				return none(c.Domains.RegenerateRegistrationToken(r.Context()))
			}).need(takaro.PermManageGameservers),
		handler(http.MethodDelete, "/gameserver/{id}", "Delete a game server", "Gameserver", func(r *request) (*empty, error) {
			return none(c.GameServers.DeleteGameServer(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageGameservers),
	}
}

// The bodies of the routes that act on a live game server, as the
// reference takes them; they are validated before the 501.
type (
	giveItemRequest struct {
		Name    string `json:"name"`
		Amount  int    `json:"amount"`
		Quality string `json:"quality"`
	}
	kickRequest struct {
		Reason string `json:"reason"`
	}
	teleportRequest struct {
		X         float64 `json:"x"`
		Y         float64 `json:"y"`
		Z         float64 `json:"z"`
		Dimension *string `json:"dimension,omitempty"`
	}
	gameBanRequest struct {
		Reason    *string    `json:"reason,omitempty"`
		ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	}
	commandRequest struct {
		Command string `json:"command"`
	}
	messageRequest struct {
		Message string          `json:"message"`
		Opts    json.RawMessage `json:"opts,omitempty"`
	}
	reachabilityRequest struct {
		ConnectionInfo string                `json:"connectionInfo"`
		Type           takaro.GameServerType `json:"type"`
	}
)

// errGameServerConnector is the answer of every route that would act on a
// live game server: that takes a game connector, which is not part of the
// data core.
var errGameServerConnector = takaro.Errorf(takaro.CodeNotImplemented,
	"Acting on a live game server needs a game connector, which this data core does not include")

// liveGameServerRoutes declares the routes that act on a live game server.
// Each checks its caller and the game server (and player) it names, so it
// answers as the others do for a bad request, and then answers 501.
func (s *Server) liveGameServerRoutes() []endpoint {
	c := s.cfg
	onServer := func(method, action, summary string) endpoint {
		return handler(method, "/gameserver/{id}/"+action, summary, "Gameserver", func(r *request) (*empty, error) {
			return nil, found(c.GameServers.FindGameServerByID(r.Context(), r.idParam("id"), false))
		})
	}
	onPlayer := func(action, summary string) endpoint {
		return handler(http.MethodPost, "/gameserver/{gameServerId}/player/{playerId}/"+action, summary, "Gameserver",
			func(r *request) (*empty, error) {
				return nil, found(c.Players.FindPlayerOnGameServer(r.Context(), r.idParam("gameServerId"), r.idParam("playerId")))
			}).need(takaro.PermManageGameservers)
	}
	withBody := func(e endpoint, body reflect.Type) endpoint {
		e.body = body
		return e
	}
	// An item named by its id must exist in the catalogue, as the
	// reference looks it up before it talks to the game; a name that is no
	// UUID is a game's item code, passed on as it is.
	giveItem := onPlayer("giveItem", "Give a player an item (needs a game connector)")
	findPlayer := giveItem.handle
	giveItem.handle = func(r *request) (any, error) {
		if _, err := findPlayer(r); err != nil {
			return nil, err
		}
		if id, err := uuid.Parse(r.body.(*giveItemRequest).Name); err == nil {
			return nil, found(c.Items.FindItemByID(r.Context(), id))
		}
		return nil, nil
	}
	routes := []endpoint{
		withBody(giveItem, reflect.TypeFor[giveItemRequest]()),
		withBody(onPlayer("kick", "Kick a player (needs a game connector)"), reflect.TypeFor[kickRequest]()),
		withBody(onPlayer("teleport", "Teleport a player (needs a game connector)"), reflect.TypeFor[teleportRequest]()),
		withBody(onPlayer("ban", "Ban a player in the game itself (needs a game connector; see POST /player/ban)"), reflect.TypeFor[gameBanRequest]()),
		onPlayer("unban", "Unban a player in the game itself (needs a game connector; see DELETE /player/ban/{id})"),
		withBody(onServer(http.MethodPost, "command", "Run a console command (needs a game connector)").need(takaro.PermManageGameservers),
			reflect.TypeFor[commandRequest]()),
		withBody(onServer(http.MethodPost, "message", "Send a chat message (needs a game connector)").need(takaro.PermManageGameservers),
			reflect.TypeFor[messageRequest]()),
		onServer(http.MethodPost, "shutdown", "Shut the game server down (needs a game connector)").need(takaro.PermManageGameservers),
		onServer(http.MethodGet, "reachability", "Test whether the game server answers (needs a game connector)"),
		onServer(http.MethodGet, "map/info", "The game's map (needs a game connector)"),
		onServer(http.MethodGet, "map/tile/{x}/{y}/{z}", "A tile of the game's map (needs a game connector)").text("x", "y", "z"),
		withBody(handler(http.MethodPost, "/gameserver/reachability", "Test whether a game server would answer (needs a game connector)", "Gameserver",
			func(*request) (*empty, error) { return nil, nil }), reflect.TypeFor[reachabilityRequest]()),
	}
	for i := range routes {
		routes[i] = routes[i].answering501(errGameServerConnector)
	}
	return routes
}
