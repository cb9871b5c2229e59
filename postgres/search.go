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
	// nullable marks a sortable column that may be NULL, which the cursor
	// must place where ORDER BY does (last ascending, first descending).
	// TestSearchSortNullability checks it against the catalog.
	nullable bool
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
	// defaultOrder, when its column is set, orders a query without sortBy
	// (the id still breaks ties).
	defaultOrder field
}

// builtSearch is a validated query: SQL fragments and their arguments.
type builtSearch struct {
	where   string // starts with the domain filter
	orderBy string
	args    []any
	limit   int
	page    int
	extend  []string
	// sort is the field ordered by before the id (no column: the id
	// alone); its value and the id of a page's last row make the cursor.
	sort field
	desc bool
	// after continues after a cursor's row; empty on a first page. It is
	// not part of where, which the count also reads.
	after string
	// filterArgs counts the arguments of where (the rest are the
	// cursor's, and the page's limit and offset).
	filterArgs int
	// fingerprint identifies the query a cursor belongs to.
	fingerprint []byte
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
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > takaro.MaxLimit {
			return nil, takaro.Invalid("limit", "must be between 1 and %d", takaro.MaxLimit)
		}
		b.limit = *q.Limit
	}
	if q.Page != nil {
		switch {
		case *q.Page < 0:
			return nil, takaro.Invalid("page", "must not be negative")
		case *q.Page > takaro.MaxOffset/b.limit:
			return nil, takaro.Invalid("page", "page × limit may not exceed %d; to read further, pass meta.nextCursor of the previous page as cursor", takaro.MaxOffset)
		case *q.Page > 0 && q.Cursor != "":
			return nil, takaro.Invalid("page", "cannot be combined with cursor, which already says where the page starts")
		}
		b.page = *q.Page
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

	switch {
	case q.SortBy == "":
		b.sort = s.defaultOrder
	case q.SortBy != "id":
		f, err := s.lookup("sortBy", q.SortBy, opSort)
		if err != nil {
			return nil, err
		}
		b.sort = f
	}
	dir := "ASC"
	switch strings.ToLower(q.SortDirection) {
	case "", "asc":
	case "desc":
		dir, b.desc = "DESC", true
	default:
		return nil, takaro.Invalid("sortDirection", "must be asc or desc")
	}
	// The id breaks ties, so equal sort values cannot shuffle across pages.
	b.orderBy = "t.id " + dir
	if b.sort.column != "" {
		b.orderBy = b.sort.orderExpr() + " " + dir + ", " + b.orderBy
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
	b.filterArgs = len(b.args)
	var err error
	if b.fingerprint, err = s.fingerprint(domain, q); err != nil {
		return nil, err
	}
	if q.Cursor != "" {
		if err := b.continueAfter(s, q.Cursor); err != nil {
			return nil, err
		}
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
	switch {
	case len(list) > 0 && f.filterSQL != "":
		parts = append(parts, fmt.Sprintf(f.filterSQL, b.bind(typedSlice(f.kind, list))))
	case len(list) == 1:
		// An equality, not "= ANY" of one value: PostgreSQL 15 reads an
		// index in order only past plain equalities, so the index on
		// (domain, column, created_at, id) serves "one player's newest
		// events" without sorting all of that player's events.
		parts = append(parts, fmt.Sprintf("%s = %s", f.column, b.bind(list[0])))
	case len(list) > 1:
		parts = append(parts, fmt.Sprintf("%s = ANY(%s)", f.column, b.bind(typedSlice(f.kind, list))))
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

// search runs one page of a search and the count of its matches in one
// round trip, as two statements. Each row is read as the json object that
// spec.fields builds, with one more key per requested extension, decoded
// into T (whose json tags match the field names).
//
// Neither statement grows with the tenant: the page reads limit+1 rows
// along an index that serves its order (the extra row says whether a
// next page exists), starting after the cursor's row or at an offset of
// at most takaro.MaxOffset; the count stops at takaro.MaxExactTotal+1.
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
	st := spec.statements(b)
	page := &takaro.Page[T]{PageInfo: takaro.PageInfo{Page: b.page, Limit: b.limit}}
	type position struct {
		key any
		id  string
	}
	var positions []position
	err = run(ctx, func(batch *pgx.Batch, _ string) {
		batch.Queue(st.page, st.pageArgs...).Query(func(rows pgx.Rows) error {
			page.Items = []T{}
			for rows.Next() {
				var item T
				var at position
				if err := rows.Scan(&item, &at.key, &at.id); err != nil {
					return err
				}
				page.Items, positions = append(page.Items, item), append(positions, at)
			}
			return rows.Err()
		})
		batch.Queue(st.count, st.countArgs...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&page.Total)
		})
	})
	if err != nil {
		return nil, err
	}
	if page.Total > takaro.MaxExactTotal {
		page.Total, page.TotalIsLowerBound = takaro.MaxExactTotal, true
	}
	if len(page.Items) > b.limit {
		// The extra row only says that there is more: the next page starts
		// after the last row shown.
		page.Items = page.Items[:b.limit]
		at := positions[b.limit-1]
		if page.NextCursor, err = b.cursor(at.key, at.id); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// searchStatements are the two statements of a search.
type searchStatements struct {
	page, count         string
	pageArgs, countArgs []any
}

// statements writes the SQL of a built search: the page (each row as its
// json object, its sort value and its id as text) and the bounded count.
func (s *searchSpec) statements(b *builtSearch) searchStatements {
	extra := make(jsonFields, 0, len(b.extend))
	for _, name := range b.extend {
		if sql := s.extend[name]; sql != "" {
			extra = append(extra, jsonField{name, sql})
		}
	}
	st := searchStatements{countArgs: slices.Clone(b.args[:b.filterArgs])}
	// The count stops after MaxExactTotal+1 matches, read in the page's
	// order: that order makes the index that serves the page the cheapest
	// way to find them too, where without it the planner could expect a
	// big tenant's rows early in a sequential scan of everyone's.
	st.count = "SELECT count(*) FROM (SELECT 1 FROM " + s.table + " t WHERE " + b.where +
		" ORDER BY " + b.orderBy + " LIMIT " + strconv.Itoa(takaro.MaxExactTotal+1) + ") matches"
	where := b.where
	if b.after != "" {
		where += " AND " + b.after
	}
	key := "NULL"
	if b.sort.column != "" {
		key = b.sort.column
	}
	limit, offset := b.bind(b.limit+1), b.bind(b.page*b.limit)
	st.page = "SELECT " + s.object.build("t", extra...) + ", " + key + ", t.id::text FROM " + s.table + " t WHERE " + where +
		" ORDER BY " + b.orderBy + " LIMIT " + limit + " OFFSET " + offset
	st.pageArgs = b.args
	return st
}

// withCommonFields adds the fields every resource has: the id (filter) and
// the creation and update times (range and sort).
// A field the spec already has stays as it is.
func withCommonFields(fields map[string]field) map[string]field {
	for name, f := range map[string]field{
		"id":        {column: "t.id", kind: kindUUID, ops: opFilter},
		"createdAt": {column: "t.created_at", kind: kindTime, ops: opRange | opSort},
		"updatedAt": {column: "t.updated_at", kind: kindTime, ops: opRange | opSort},
	} {
		if _, ok := fields[name]; !ok {
			fields[name] = f
		}
	}
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
