package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// trackingRoutes declares player location history: the write that stands
// in for the game-server connector's sync, and the searches, each of
// which returns at most takaro.MaxLocationResults positions, newest first.
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
	}
}
