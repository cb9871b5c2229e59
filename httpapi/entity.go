package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// entityRoutes declares the routes of the game servers' entity catalogues.
func (s *Server) entityRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/entities/search", "Search entities; without sortBy, short codes first", "Entity", c.Entities.FindEntities).searchOf("entities").
			need(takaro.PermReadEntities),
		handler(http.MethodGet, "/entities/{id}", "Get an entity", "Entity", func(r *request) (*takaro.Entity, error) {
			return c.Entities.FindEntityByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadEntities),
		bodyHandler(http.MethodPost, "/entities", "Create an entity, or update the one with the same code on the game server (the catalogue sync)",
			"Entity", func(r *request, in *takaro.EntityUpsert) (*takaro.Entity, error) {
				return c.Entities.UpsertEntity(r.Context(), *in)
			}).need(takaro.PermManageEntities),
	}
}
