package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// eventRoutes declares the routes of the audit log.
func (s *Server) eventRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/event/search", "Search the audit log", "Event", c.Events.FindEvents).searchOf("events").need(takaro.PermReadEvents),
		handler(http.MethodGet, "/event/{id}", "Get an event", "Event", func(r *request) (*takaro.Event, error) {
			return c.Events.FindEventByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadEvents),
		bodyHandler(http.MethodPost, "/event", "Record an event", "Event", func(r *request, in *takaro.EventCreate) (*takaro.Event, error) {
			return c.Events.CreateEvent(r.Context(), *in)
		}).need(takaro.PermManageEvents),
	}
}
