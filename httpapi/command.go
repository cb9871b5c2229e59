package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// commandTrigger is the body of a command trigger: a player's chat message.
type commandTrigger struct {
	PlayerID uuid.UUID `json:"playerId"`
	Msg      string    `json:"msg"`
}

// commandRoutes declares the routes of commands and their arguments.
func (s *Server) commandRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/command/search", "Search commands", "Command", c.Commands.FindCommands).searchOf("commands").need(takaro.PermReadModules),
		handler(http.MethodGet, "/command/{id}", "Get a command", "Command", func(r *request) (*takaro.Command, error) {
			return c.Commands.FindCommandByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/command", "Create a command in a latest version", "Command",
			func(r *request, in *takaro.CommandCreate) (*takaro.Command, error) {
				return c.Commands.CreateCommand(r.Context(), *in)
			}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPut, "/command/{id}", "Update a command; given arguments replace the old ones", "Command",
			func(r *request, in *takaro.CommandUpdate) (*takaro.Command, error) {
				return c.Commands.UpdateCommand(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageModules),
		handler(http.MethodDelete, "/command/{id}", "Delete a command", "Command", func(r *request) (*empty, error) {
			return none(c.Commands.DeleteCommand(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPost, "/command/argument", "Add an argument to a command", "Command",
			func(r *request, in *takaro.CommandArgumentCreate) (*takaro.CommandArgument, error) {
				return c.Commands.CreateCommandArgument(r.Context(), *in)
			}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPut, "/command/argument/{id}", "Update a command argument", "Command",
			func(r *request, in *takaro.CommandArgumentUpdate) (*takaro.CommandArgument, error) {
				return c.Commands.UpdateCommandArgument(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageModules),
		handler(http.MethodDelete, "/command/argument/{id}", "Delete a command argument", "Command", func(r *request) (*empty, error) {
			return none(c.Commands.DeleteCommandArgument(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageModules),
		s.executionsHandler("/command/{id}/executions", "Command", takaro.ExecutionCommand, func(ctx context.Context, id uuid.UUID) error {
			return found(c.Commands.FindCommandByID(ctx, id))
		}),
		// As in the reference, the id of this route is a game server's.
		triggerHandler("/command/{id}/trigger", "Run a chat message through a game server's commands", "Command",
			func(r *request, in *commandTrigger) error {
				if err := found(c.GameServers.FindGameServerByID(r.Context(), r.idParam("id"), false)); err != nil {
					return err
				}
				return found(c.Players.FindPlayerByID(r.Context(), in.PlayerID))
			}),
	}
}
