package takaro

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Search paging bounds of the reference API.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// The cost bounds of one search: more is a validation error. Every filter
// value and search term becomes a condition (an ILIKE pattern for a term;
// 5,000 of them once cost 20 s of database time), every extension a
// subquery per row.
const (
	// MaxSearchTerms bounds the values of all filters and search terms
	// together.
	MaxSearchTerms = 100
	// MaxExtend bounds the entries of extend.
	MaxExtend = 10
)

// Query is the body of every POST /<resource>/search request.
//
// Semantics (implemented by the postgres package, strictly):
//   - Filters: exact match. The values of one key are OR-ed, different keys
//     are AND-ed. A JSON null among the values matches NULL.
//   - Search: case-insensitive substring match; every term of every key is
//     OR-ed into one group, which is AND-ed with the rest.
//   - GreaterThan / LessThan: inclusive bounds (>= and <=), AND-ed.
//   - SortBy / SortDirection: one field, asc (default) or desc, always
//     followed by the id as a tiebreaker so pages are stable.
//   - Page is zero-based; Limit defaults to DefaultLimit and may not exceed
//     MaxLimit.
//
// A key that the resource does not allow (in filters, search, ranges, sortBy
// or extend) is a validation error that names it, never silently ignored.
type Query struct {
	Filters       map[string]Values `json:"filters,omitempty"`
	Search        map[string]Values `json:"search,omitempty"`
	GreaterThan   map[string]any    `json:"greaterThan,omitempty"`
	LessThan      map[string]any    `json:"lessThan,omitempty"`
	Page          *int              `json:"page,omitempty"`
	Limit         *int              `json:"limit,omitempty"`
	SortBy        string            `json:"sortBy,omitempty"`
	SortDirection string            `json:"sortDirection,omitempty"`
	Extend        []string          `json:"extend,omitempty"`
}

// SearchFields is what the search of one resource accepts, for the API's
// documentation: the fields of filters, search, greaterThan and lessThan
// (Range), sortBy and extend, and the values of enum fields.
type SearchFields struct {
	Filters, Search, Range, Sort, Extend []string
	Enums                                map[string][]string
}

// Values is the list of values of one filter or search key. On the wire it
// is a JSON array; a bare JSON boolean is accepted as a one-element list, as
// the reference API does.
type Values []any

// UnmarshalJSON accepts an array or a boolean and rejects anything else, so
// that {"name": "x"} is an error rather than a filter that matches nothing.
func (v *Values) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("true")):
		*v = Values{true}
		return nil
	case bytes.Equal(b, []byte("false")):
		*v = Values{false}
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&list); err != nil {
			return err
		}
		*v = list
		return nil
	}
	return errors.New(`must be an array of values or a boolean, for example {"name": ["x"]}`)
}

// Page is one page of search results with the count of all matches.
type Page[T any] struct {
	Items []T
	Page  int
	Limit int
	Total int
}

// Parts returns the page's items (never nil) and numbers, for code that
// handles pages of any item type, such as an encoder.
func (p *Page[T]) Parts() (items any, page, limit, total int) {
	if p.Items == nil {
		return []T{}, p.Page, p.Limit, p.Total
	}
	return p.Items, p.Page, p.Limit, p.Total
}
