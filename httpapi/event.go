package httpapi

import (
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// eventRoutes declares the routes of the audit log.
func (s *Server) eventRoutes() []endpoint {
	c := s.cfg
	exportGET := streamHandler(http.MethodGet, "/event/export", "Export the audit log as CSV", "Event", "text/csv", func(r *request, w http.ResponseWriter) error {
		q, err := exportQuery(r)
		if err != nil {
			return err
		}
		return s.exportEvents(r, w, q)
	}).need(takaro.PermReadEvents).
		withQuery("<filter>", "array", "a filter of the event search (eventName, playerId, gameserverId, moduleId, userId, actingUserId, actingModuleId, id), repeated for several values").
		withQuery("greaterThan.createdAt", "string", "start of the window (default: 90 days before its end)").
		withQuery("lessThan.createdAt", "string", "end of the window (default: now); the window is at most 90 days").
		withQuery("sortDirection", "string", "asc (default) or desc, by createdAt")
	exportPOST := streamHandler(http.MethodPost, "/event/export", "Export the audit log as CSV (the search body)", "Event", "text/csv", func(r *request, w http.ResponseWriter) error {
		return s.exportEvents(r, w, *r.body.(*takaro.Query))
	}).need(takaro.PermReadEvents)
	exportPOST.body = reflect.TypeFor[takaro.Query]()
	return []endpoint{
		searchHandler("/event/search", "Search the audit log", "Event", c.Events.FindEvents).searchOf("events").need(takaro.PermReadEvents),
		exportGET, exportPOST,
		handler(http.MethodGet, "/event/{id}", "Get an event", "Event", func(r *request) (*takaro.Event, error) {
			return c.Events.FindEventByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadEvents),
		bodyHandler(http.MethodPost, "/event", "Record an event", "Event", func(r *request, in *takaro.EventCreate) (*takaro.Event, error) {
			return c.Events.CreateEvent(r.Context(), *in)
		}).need(takaro.PermManageEvents),
	}
}

// eventExportColumns are the columns of an export: the reference's, with
// the event's meta as one JSON column where the reference spreads it over
// columns chosen from a sample of the first thousand events (which loses
// the keys of later events).
var eventExportColumns = []string{"id", "eventName", "moduleId", "moduleName", "playerId", "playerName", "userId", "userName",
	"gameserverId", "gameserverName", "actingUserId", "actingModuleId", "meta", "createdAt", "updatedAt"}

// exportEvents streams the events of q as CSV, one row per event.
func (s *Server) exportEvents(r *request, w http.ResponseWriter, q takaro.Query) error {
	d := newCSVDownload(w, "events_"+s.cfg.Now().UTC().Format(time.DateOnly)+".csv", eventExportColumns)
	record := make([]string, len(eventExportColumns))
	err := s.cfg.Events.ExportEvents(r.Context(), q, func(ev *takaro.EventExportRow) error {
		record = append(record[:0], ev.ID.String(), string(ev.EventName), idText(ev.ModuleID), ev.ModuleName,
			idText(ev.PlayerID), ev.PlayerName, idText(ev.UserID), ev.UserName, idText(ev.GameserverID), ev.GameServerName,
			idText(ev.ActingUserID), idText(ev.ActingModuleID), string(ev.Meta),
			ev.CreatedAt.UTC().Format(takaro.TimeLayout), ev.UpdatedAt.UTC().Format(takaro.TimeLayout))
		return d.row(record)
	})
	return d.finish(r.Request, s.log, err)
}

// exportQuery reads the query string of GET /event/export as a search:
// every parameter but the window's bounds and sortDirection is a filter,
// repeated for several values; the search refuses a field it does not
// know, naming it.
func exportQuery(r *request) (takaro.Query, error) {
	q := takaro.Query{Filters: map[string]takaro.Values{}, GreaterThan: map[string]any{}, LessThan: map[string]any{}}
	for name, values := range r.URL.Query() {
		if field, ok := strings.CutPrefix(name, "greaterThan."); ok {
			q.GreaterThan[field] = values[0]
			continue
		}
		if field, ok := strings.CutPrefix(name, "lessThan."); ok {
			q.LessThan[field] = values[0]
			continue
		}
		switch name {
		case "sortDirection":
			q.SortDirection = values[0]
		default:
			for _, v := range values {
				if err := takaro.CheckText(name, v); err != nil {
					return q, err
				}
				q.Filters[name] = append(q.Filters[name], v)
			}
		}
	}
	return q, nil
}

// idText is an optional id as a CSV cell: empty when there is none.
func idText(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
