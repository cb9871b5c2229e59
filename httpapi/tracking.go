package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// trackingRoutes declares player location and inventory history: the
// writes that stand in for the game-server connector's sync, and the
// searches, each of which returns at most takaro.MaxLocationResults rows,
// newest first.
func (s *Server) trackingRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		bodyHandler(http.MethodPost, "/tracking/location/record", "Record where a game server's players are now; stands in for the connector's sync", "Tracking",
			func(r *request, in *takaro.LocationRecord) ([]takaro.PlayerLocation, error) {
				return c.Tracking.RecordLocations(r.Context(), *in)
			}).need(takaro.PermManagePlayers),
		bodyHandler(http.MethodPost, "/tracking/location", "Where players were, newest first (default: the last 24 hours, all players)", "Tracking",
			func(r *request, in *takaro.LocationHistoryQuery) ([]takaro.PlayerLocation, error) {
				return c.Tracking.FindLocations(r.Context(), *in)
			}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/tracking/location/box", "Where players were inside a box on a game server (bounds inclusive), newest first", "Tracking",
			func(r *request, in *takaro.LocationBoxQuery) ([]takaro.PlayerLocation, error) {
				return c.Tracking.FindLocationsInBox(r.Context(), *in)
			}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/tracking/location/radius", "Where players were within a distance of a point on a game server, newest first", "Tracking",
			func(r *request, in *takaro.LocationRadiusQuery) ([]takaro.PlayerLocation, error) {
				return c.Tracking.FindLocationsInRadius(r.Context(), *in)
			}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/tracking/inventory/record", "Record what a game server's players carry now (items by code; unknown codes are skipped); stands in for the connector's sync", "Tracking",
			func(r *request, in *takaro.InventoryRecord) ([]takaro.InventoryEntry, error) {
				return c.Tracking.RecordInventories(r.Context(), *in)
			}).need(takaro.PermManagePlayers),
		bodyHandler(http.MethodPost, "/tracking/inventory/player", "What a player carried, item by item, newest first (default: the last 24 hours, every game server)", "Tracking",
			func(r *request, in *takaro.InventoryHistoryQuery) ([]takaro.InventoryEntry, error) {
				return c.Tracking.FindInventories(r.Context(), *in)
			}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/tracking/inventory/item", "Which players carried an item, and how many, newest first (default: the last 24 hours)", "Tracking",
			func(r *request, in *takaro.ItemHistoryQuery) ([]takaro.InventoryEntry, error) {
				return c.Tracking.FindItemHolders(r.Context(), *in)
			}).need(takaro.PermReadPlayers),
	}
}
