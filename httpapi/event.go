package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
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

// An export's columns are the reference's: eventExportColumns, then one
// column per key of the events' meta, flattened ("meta.a.b"), as found in
// the first exportSampleRows events (keys that only later events have get
// no column, as in the reference), then createdAt and updatedAt. We add
// the whole meta as JSON in a "meta" column before the dates, so that no
// export loses anything.
var eventExportColumns = []string{"id", "eventName", "moduleId", "moduleName", "playerId", "playerName", "userId", "userName",
	"gameserverId", "gameserverName", "actingUserId", "actingModuleId"}

// exportSampleRows is how many events decide an export's meta columns.
const exportSampleRows = 1000

// eventExport writes the events of an export as CSV, holding back the
// first exportSampleRows to choose the meta columns.
type eventExport struct {
	d        *csvDownload
	sample   []takaro.EventExportRow
	metaKeys []string // nil until the header is out
	record   []string
}

func (x *eventExport) add(ev *takaro.EventExportRow) error {
	if x.metaKeys == nil {
		x.sample = append(x.sample, *ev)
		if len(x.sample) < exportSampleRows {
			return nil
		}
		return x.begin()
	}
	return x.write(ev)
}

// begin writes the header, with the meta keys of the sample, and the
// sample.
func (x *eventExport) begin() error {
	keys := map[string]bool{}
	for i := range x.sample {
		for k := range flattenMeta(x.sample[i].Meta) {
			keys[k] = true
		}
	}
	x.metaKeys = slices.Sorted(maps.Keys(keys))
	if err := x.d.row(slices.Concat(eventExportColumns, x.metaKeys, []string{"meta", "createdAt", "updatedAt"})); err != nil {
		return err
	}
	for i := range x.sample {
		if err := x.write(&x.sample[i]); err != nil {
			return err
		}
	}
	x.sample = nil
	return nil
}

func (x *eventExport) write(ev *takaro.EventExportRow) error {
	x.record = append(x.record[:0], ev.ID.String(), string(ev.EventName), idText(ev.ModuleID), ev.ModuleName,
		idText(ev.PlayerID), ev.PlayerName, idText(ev.UserID), ev.UserName, idText(ev.GameserverID), ev.GameServerName,
		idText(ev.ActingUserID), idText(ev.ActingModuleID))
	flat := flattenMeta(ev.Meta)
	for _, k := range x.metaKeys {
		x.record = append(x.record, flat[k])
	}
	x.record = append(x.record, string(ev.Meta), ev.CreatedAt.UTC().Format(takaro.TimeLayout), ev.UpdatedAt.UTC().Format(takaro.TimeLayout))
	return x.d.row(x.record)
}

// end writes what is still held back. An export that found nothing is
// the header and one row saying so, as the reference's.
func (x *eventExport) end() error {
	if x.metaKeys != nil {
		return nil
	}
	if len(x.sample) > 0 {
		return x.begin()
	}
	x.metaKeys = []string{}
	header := slices.Concat(eventExportColumns, []string{"meta", "createdAt", "updatedAt"})
	if err := x.d.row(header); err != nil {
		return err
	}
	none := make([]string, len(header))
	none[1] = "No events found for the selected filters"
	return x.d.row(none)
}

// exportEvents streams the events of q as CSV, one row per event.
func (s *Server) exportEvents(r *request, w http.ResponseWriter, q takaro.Query) error {
	x := &eventExport{d: newCSVDownload(w, "events_"+s.cfg.Now().UTC().Format(time.DateOnly)+".csv")}
	err := s.cfg.Events.ExportEvents(r.Context(), q, x.add)
	if err == nil {
		err = x.end()
	}
	return x.d.finish(r.Request, s.log, err)
}

// flattenMeta spreads an event's meta over "meta.…" keys as the
// reference's export does: nested objects by path (up to five levels,
// deeper ones as JSON), null as empty, an empty object as {}, an array of
// plain values joined with ", ", any other array as JSON, an empty one as
// [].
func flattenMeta(meta json.RawMessage) map[string]string {
	out := map[string]string{}
	var v any
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.UseNumber()
	if len(meta) == 0 || dec.Decode(&v) != nil {
		return out
	}
	flattenInto(out, "meta", v, 0)
	return out
}

func flattenInto(out map[string]string, prefix string, v any, depth int) {
	switch v := v.(type) {
	case nil:
		out[prefix] = ""
	case map[string]any:
		switch {
		case len(v) == 0:
			out[prefix] = "{}"
		case depth >= 5:
			out[prefix] = jsonText(v)
		default:
			for k, e := range v {
				flattenInto(out, prefix+"."+k, e, depth+1)
			}
		}
	case []any:
		plain := true
		parts := make([]string, len(v))
		for i, e := range v {
			switch e.(type) {
			case map[string]any, []any:
				plain = false
			case nil:
				parts[i] = ""
			default:
				parts[i] = fmt.Sprint(e)
			}
		}
		switch {
		case len(v) == 0:
			out[prefix] = "[]"
		case plain:
			out[prefix] = strings.Join(parts, ", ")
		default:
			out[prefix] = jsonText(v)
		}
	default:
		out[prefix] = fmt.Sprint(v)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v) // decoded JSON always encodes
	return string(b)
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
