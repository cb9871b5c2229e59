package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// itemRoutes declares the routes of the game servers' item catalogues.
func (s *Server) itemRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/items/search", "Search items; without sortBy, short codes first", "Item", c.Items.FindItems).searchOf("items").need(takaro.PermReadItems),
		handler(http.MethodGet, "/items/{id}", "Get an item", "Item", func(r *request) (*takaro.Item, error) {
			return c.Items.FindItemByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadItems),
		bodyHandler(http.MethodPost, "/items", "Create an item, or update the one with the same code on the game server (the catalogue sync)", "Item",
			func(r *request, in *takaro.ItemUpsert) (*takaro.Item, error) {
				return c.Items.UpsertItem(r.Context(), *in)
			}).need(takaro.PermManageItems),
	}
}
