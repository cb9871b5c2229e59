package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

// fieldKind is the type of a searchable field; it decides how its values
// are checked and bound.
type fieldKind int

const (
	kindText fieldKind = iota
	kindUUID
	kindInt
	kindBool
	kindTime
	kindEnum
)

// fieldOps says what a query may do with a field.
type fieldOps int

const (
	opFilter fieldOps = 1 << iota // exact match in filters
	opSearch                      // substring match in search (text fields only)
	opRange                       // greaterThan / lessThan (int and time fields)
	opSort                        // sortBy
)

// field is one API field of a searchable resource.
type field struct {
	// column is the SQL for the field over the table alias t. It comes from
	// the spec, never from a request.
	column string
	kind   fieldKind
	ops    fieldOps
	enum   []string
	// filterSQL, when set, replaces the default "column = ANY(values)" of a
	// filter on a virtual field; %s is the array parameter.
	filterSQL string
}

// searchSpec describes what the search of one resource allows.
type searchSpec struct {
	table  string
	fields map[string]field
	// object is the json object of one row in search results.
	object jsonFields
	// extend maps the names of embeddable relations to the SQL (over the
	// alias t) of a json value that embeds them; "" accepts a name that is
	// always embedded anyway. Every such SQL must join on t.domain, so no
	// relation can reach another domain's rows.
	extend map[string]string
	// where is a fixed condition over t, for example excluding soft-deleted
	// rows; empty for none.
	where string
	// whereArgs are where's parameters, bound right after the domain: $2,
	// $3 and so on.
	whereArgs []any
	// global marks a table without a domain column (the domains
	// themselves); its searches run on the system path.
	global bool
	// defaultOrder, when set, is the ORDER BY over t of a query without
	// sortBy (the id still breaks ties).
	defaultOrder string
}

// builtSearch is a validated query: SQL fragments and their arguments.
type builtSearch struct {
	where   string // starts with the domain filter
	orderBy string
	args    []any
	limit   int
	page    int
	extend  []string
}

// build validates q against the spec and turns it into SQL. Every name in
// q is checked against the spec and rejected when unknown; every value is
// bound as a parameter. Unless the spec is global, domain becomes the
// first parameter and the first condition.
func (s *searchSpec) build(domain string, q takaro.Query) (*builtSearch, error) {
	b := &builtSearch{page: 0, limit: takaro.DefaultLimit}
	var conds []string
	if !s.global {
		conds = append(conds, "t.domain = "+b.bind(domain))
		b.args = append(b.args, s.whereArgs...)
	}
	if s.where != "" {
		conds = append(conds, s.where)
	}
	if q.Page != nil {
		if *q.Page < 0 || *q.Page > 10_000_000 {
			return nil, takaro.Invalid("page", "must be between 0 and 10000000")
		}
		b.page = *q.Page
	}
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > takaro.MaxLimit {
			return nil, takaro.Invalid("limit", "must be between 1 and %d", takaro.MaxLimit)
		}
		b.limit = *q.Limit
	}

	if err := checkCost(q); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(q.Filters) {
		f, err := s.lookup("filters", name, opFilter)
		if err != nil {
			return nil, err
		}
		cond, err := f.filterCondition(b, "filters."+name, q.Filters[name])
		if err != nil {
			return nil, err
		}
		if cond != "" {
			conds = append(conds, cond)
		}
	}

	var search []string
	for _, name := range sortedKeys(q.Search) {
		f, err := s.lookup("search", name, opSearch)
		if err != nil {
			return nil, err
		}
		patterns := make([]string, 0, len(q.Search[name]))
		for _, v := range q.Search[name] {
			term, ok := v.(string)
			if !ok {
				return nil, takaro.Invalid("search."+name, "values must be strings")
			}
			if err := takaro.CheckText("search."+name, term); err != nil {
				return nil, err
			}
			patterns = append(patterns, "%"+likeEscaper.Replace(term)+"%")
		}
		if len(patterns) > 0 {
			search = append(search, fmt.Sprintf("%s ILIKE ANY(%s::text[])", f.column, b.bind(patterns)))
		}
	}
	if len(search) > 0 {
		conds = append(conds, "("+strings.Join(search, " OR ")+")")
	}

	for _, r := range []struct {
		param, op string
		bounds    map[string]any
	}{{"greaterThan", ">=", q.GreaterThan}, {"lessThan", "<=", q.LessThan}} {
		for _, name := range sortedKeys(r.bounds) {
			f, err := s.lookup(r.param, name, opRange)
			if err != nil {
				return nil, err
			}
			v, err := f.convert(r.param+"."+name, r.bounds[name])
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, takaro.Invalid(r.param+"."+name, "must not be null")
			}
			conds = append(conds, fmt.Sprintf("%s %s %s", f.column, r.op, b.bind(v)))
		}
	}

	sortColumn := "t.id"
	if q.SortBy != "" && q.SortBy != "id" {
		f, err := s.lookup("sortBy", q.SortBy, opSort)
		if err != nil {
			return nil, err
		}
		sortColumn = f.column
		if f.kind == kindText {
			sortColumn += textOrder
		}
	}
	dir := "ASC"
	switch strings.ToLower(q.SortDirection) {
	case "", "asc":
	case "desc":
		dir = "DESC"
	default:
		return nil, takaro.Invalid("sortDirection", "must be asc or desc")
	}
	if q.SortBy == "" && s.defaultOrder != "" {
		sortColumn = s.defaultOrder
	}
	// The id breaks ties, so equal sort values cannot shuffle across pages.
	b.orderBy = sortColumn + " " + dir
	if sortColumn != "t.id" {
		b.orderBy += ", t.id " + dir
	}

	for _, name := range q.Extend {
		if _, ok := s.extend[name]; !ok {
			return nil, takaro.Invalid("extend", "cannot include %q; allowed: %s", name, strings.Join(sortedKeys(s.extend), ", "))
		}
		if !slices.Contains(b.extend, name) {
			b.extend = append(b.extend, name)
		}
	}
	b.where = "true"
	if len(conds) > 0 {
		b.where = strings.Join(conds, " AND ")
	}
	return b, nil
}

// checkCost bounds the work one search may ask of the database: every
// filter value and search term is a condition or an ILIKE pattern, and
// every extension a subquery per row (see takaro.MaxSearchTerms).
func checkCost(q takaro.Query) error {
	terms := 0
	for _, values := range []map[string]takaro.Values{q.Filters, q.Search} {
		for _, v := range values {
			terms += len(v)
		}
	}
	if terms > takaro.MaxSearchTerms {
		return takaro.Invalid("filters", "and search may hold at most %d values together, not %d", takaro.MaxSearchTerms, terms)
	}
	if len(q.Extend) > takaro.MaxExtend {
		return takaro.Invalid("extend", "may hold at most %d entries", takaro.MaxExtend)
	}
	return nil
}

// lookup returns the field called name if the spec allows op on it.
func (s *searchSpec) lookup(param, name string, op fieldOps) (field, error) {
	f, ok := s.fields[name]
	if ok && f.ops&op != 0 {
		return f, nil
	}
	var allowed []string
	for _, n := range sortedKeys(s.fields) {
		if s.fields[n].ops&op != 0 {
			allowed = append(allowed, n)
		}
	}
	if param == "sortBy" {
		allowed = append([]string{"id"}, allowed...)
	}
	return field{}, takaro.Invalid(param+"."+name, "is not a known field; allowed: %s", strings.Join(allowed, ", "))
}

// filterCondition turns the values of one filter into a condition: the
// values are OR-ed (a JSON null matches NULL). No values, no condition.
func (f field) filterCondition(b *builtSearch, path string, values takaro.Values) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	var matchNull bool
	var list []any
	for _, v := range values {
		c, err := f.convert(path, v)
		if err != nil {
			return "", err
		}
		if c == nil {
			matchNull = true
			continue
		}
		list = append(list, c)
	}
	var parts []string
	if len(list) > 0 {
		param := b.bind(typedSlice(f.kind, list))
		if f.filterSQL != "" {
			parts = append(parts, fmt.Sprintf(f.filterSQL, param))
		} else {
			parts = append(parts, fmt.Sprintf("%s = ANY(%s)", f.column, param))
		}
	}
	if matchNull {
		if f.filterSQL != "" {
			return "", takaro.Invalid(path, "cannot be null")
		}
		parts = append(parts, f.column+" IS NULL")
	}
	return "(" + strings.Join(parts, " OR ") + ")", nil
}

// convert checks one JSON value against the field's kind and returns it as
// the Go value to bind, or nil for a JSON null. The string "null" also
// means NULL for fields whose values can never be that text (ids, numbers,
// booleans, times), as in the reference API.
func (f field) convert(path string, v any) (any, error) {
	if v == nil || (f.kind != kindText && f.kind != kindEnum && v == "null") {
		return nil, nil
	}
	switch f.kind {
	case kindText:
		if s, ok := v.(string); ok {
			return s, takaro.CheckText(path, s)
		}
		return nil, takaro.Invalid(path, "values must be strings")
	case kindEnum:
		if s, ok := v.(string); ok && slices.Contains(f.enum, s) {
			return s, nil
		}
		return nil, takaro.Invalid(path, "values must be one of %s", strings.Join(f.enum, ", "))
	case kindUUID:
		if s, ok := v.(string); ok {
			if id, err := uuid.Parse(s); err == nil && len(s) == 36 {
				return id, nil
			}
		}
		return nil, takaro.Invalid(path, "values must be UUIDs")
	case kindInt:
		if n, err := toInt(v); err == nil {
			return n, takaro.CheckInt(path, n)
		}
		return nil, takaro.Invalid(path, "values must be integers")
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, takaro.Invalid(path, "values must be true or false")
	case kindTime:
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t, takaro.CheckTime(path, t)
			}
		}
		return nil, takaro.Invalid(path, "values must be ISO 8601 date-times, for example 2024-01-31T12:00:00Z")
	}
	return nil, fmt.Errorf("search: field kind %d not handled", f.kind)
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return strconv.ParseInt(n.String(), 10, 64)
	case float64:
		if n == float64(int64(n)) {
			return int64(n), nil
		}
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	}
	return 0, fmt.Errorf("not an integer")
}

// typedSlice turns converted values into a slice pgx binds as an array of
// the column's type.
func typedSlice(kind fieldKind, list []any) any {
	switch kind {
	case kindUUID:
		return convertAll[uuid.UUID](list)
	case kindInt:
		return convertAll[int64](list)
	case kindBool:
		return convertAll[bool](list)
	case kindTime:
		return convertAll[time.Time](list)
	}
	return convertAll[string](list)
}

func convertAll[T any](list []any) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = v.(T)
	}
	return out
}

// bind adds v to the arguments and returns its placeholder.
func (b *builtSearch) bind(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// textOrder is the collation of every ORDER BY over text (names, keys):
// ICU's root locale, a linguistic order close to the reference's database
// ("User", "Test role", "root" descending, where bytes would give "root",
// "User", "Test role"). An ICU collation sorts the same on every cluster,
// whatever locale the cluster was initialised with (the embedded one uses
// C) and whatever the operating system's C library; migration 00030
// checks that the server has it.
const textOrder = ` COLLATE "und-x-icu"`

// likeEscaper makes a search term match literally inside ILIKE, whose
// default escape character is the backslash.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// search runs one page of a search and the count of all matches in one
// round trip, as two statements. Each row is read as the json object that
// spec.fields builds, with one more key per requested extension, decoded
// into T (whose json tags match the field names).
func search[T any](ctx context.Context, db *DB, spec *searchSpec, q takaro.Query) (*takaro.Page[T], error) {
	var domain string
	run := db.readInDomain
	if spec.global {
		run = db.readGlobal
	} else {
		p, err := takaro.PrincipalFrom(ctx)
		if err != nil {
			return nil, err
		}
		domain = p.Domain
	}
	b, err := spec.build(domain, q)
	if err != nil {
		return nil, err
	}
	extra := make(jsonFields, 0, len(b.extend))
	for _, name := range b.extend {
		if sql := spec.extend[name]; sql != "" {
			extra = append(extra, jsonField{name, sql})
		}
	}
	where := b.where
	countArgs := slices.Clone(b.args)
	limit, offset := b.bind(b.limit), b.bind(b.page*b.limit)
	page := &takaro.Page[T]{Page: b.page, Limit: b.limit}
	err = run(ctx, func(batch *pgx.Batch, _ string) {
		batch.Queue("SELECT "+spec.object.build("t", extra...)+" FROM "+spec.table+" t WHERE "+where+
			" ORDER BY "+b.orderBy+" LIMIT "+limit+" OFFSET "+offset, b.args...).Query(func(rows pgx.Rows) error {
			items, err := pgx.CollectRows(rows, pgx.RowTo[T])
			page.Items = items
			return err
		})
		batch.Queue("SELECT count(*) FROM "+spec.table+" t WHERE "+where, countArgs...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&page.Total)
		})
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// withCommonFields adds the fields every resource has: the id (filter) and
// the creation and update times (range and sort).
func withCommonFields(fields map[string]field) map[string]field {
	fields["id"] = field{column: "t.id", kind: kindUUID, ops: opFilter}
	fields["createdAt"] = field{column: "t.created_at", kind: kindTime, ops: opRange | opSort}
	fields["updatedAt"] = field{column: "t.updated_at", kind: kindTime, ops: opRange | opSort}
	return fields
}

// searchSpecs lists every resource's search, for SearchFields (and the
// tests that check every search's SQL): add a new resource's spec here.
var searchSpecs = []*searchSpec{domainSearch, eventSearch, gameServerSearch, playerSearch,
	playerOnGameServerSearch, roleSearch, userSearch, variableSearch,
	moduleSearch, versionSearch, installationSearch, commandSearch, hookSearch, cronJobSearch, functionSearch,
	banSearch, itemSearch, entitySearch, categorySearch, listingSearch, orderSearch}

// SearchFields describes what the search of a table accepts, for the API's
// documentation; false when no search has that table.
func SearchFields(table string) (takaro.SearchFields, bool) {
	i := slices.IndexFunc(searchSpecs, func(s *searchSpec) bool { return s.table == table })
	if i < 0 {
		return takaro.SearchFields{}, false
	}
	spec := searchSpecs[i]
	out := takaro.SearchFields{Enums: map[string][]string{}, Extend: sortedKeys(spec.extend)}
	for _, name := range sortedKeys(spec.fields) {
		f := spec.fields[name]
		for _, o := range []struct {
			op   fieldOps
			list *[]string
		}{{opFilter, &out.Filters}, {opSearch, &out.Search}, {opRange, &out.Range}, {opSort, &out.Sort}} {
			if f.ops&o.op != 0 {
				*o.list = append(*o.list, name)
			}
		}
		if len(f.enum) > 0 {
			out.Enums[name] = f.enum
		}
	}
	return out, true
}
