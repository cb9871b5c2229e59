package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// hookTrigger is the body of a hook trigger: an event on a game server.
type hookTrigger struct {
	GameServerID uuid.UUID      `json:"gameServerId"`
	PlayerID     *uuid.UUID     `json:"playerId,omitempty"`
	ModuleID     *uuid.UUID     `json:"moduleId,omitempty"`
	EventType    string         `json:"eventType"`
	EventMeta    map[string]any `json:"eventMeta"`
}

// hookRoutes declares the routes of hooks.
func (s *Server) hookRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/hook/search", "Search hooks", "Hook", c.Hooks.FindHooks).searchOf("hooks").need(takaro.PermReadModules),
		handler(http.MethodGet, "/hook/{id}", "Get a hook", "Hook", func(r *request) (*takaro.Hook, error) {
			return c.Hooks.FindHookByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/hook", "Create a hook in a latest version", "Hook", func(r *request, in *takaro.HookCreate) (*takaro.Hook, error) {
			return c.Hooks.CreateHook(r.Context(), *in)
		}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPut, "/hook/{id}", "Update a hook", "Hook", func(r *request, in *takaro.HookUpdate) (*takaro.Hook, error) {
			return c.Hooks.UpdateHook(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManageModules),
		handler(http.MethodDelete, "/hook/{id}", "Delete a hook", "Hook", func(r *request) (*empty, error) {
			return none(c.Hooks.DeleteHook(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageModules),
		s.executionsHandler("/hook/{id}/executions", "Hook", takaro.ExecutionHook, func(ctx context.Context, id uuid.UUID) error {
			return found(c.Hooks.FindHookByID(ctx, id))
		}),
		triggerHandler("/hook/trigger", "Run the hooks of a game server for an event", "Hook", func(r *request, in *hookTrigger) error {
			if !slices.Contains(takaro.HookEventTypes, in.EventType) {
				return takaro.Invalid("eventType", "must be one of %s", strings.Join(takaro.HookEventTypes, ", "))
			}
			if err := found(c.GameServers.FindGameServerByID(r.Context(), in.GameServerID, false)); err != nil {
				return err
			}
			if in.PlayerID != nil {
				if err := found(c.Players.FindPlayerByID(r.Context(), *in.PlayerID)); err != nil {
					return err
				}
			}
			if in.ModuleID != nil {
				return found(c.Modules.FindModuleByID(r.Context(), *in.ModuleID))
			}
			return nil
		}),
	}
}
