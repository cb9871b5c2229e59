package takaro

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
)

// Tracking keeps where players were on each game server over time. The
// connector's sync job writes a sample per online player; the searches
// below read them back, newest first.

// Bounds of the location history searches.
const (
	// DefaultLocationWindow is the period a location search covers when it
	// names no start.
	DefaultLocationWindow = 24 * time.Hour
	// MaxLocationResults bounds every location search (the reference has
	// no bound on the box and radius searches).
	MaxLocationResults = 1000
	// maxCoordinate is the largest magnitude a coordinate column holds
	// (numeric(10,3)).
	maxCoordinate = 9_999_999.999
)

// PlayerLocation is where a player was on a game server at a moment.
type PlayerLocation struct {
	ID uuid.UUID `json:"id"`
	// PlayerID is the player; PogID their presence on the game server.
	PlayerID     uuid.UUID `json:"playerId"`
	PogID        uuid.UUID `json:"pogId"`
	GameServerID uuid.UUID `json:"gameserverId"`
	X            float64   `json:"x"`
	Y            float64   `json:"y"`
	Z            float64   `json:"z"`
	Dimension    *string   `json:"dimension"`
	CreatedAt    Time      `json:"createdAt"`
	UpdatedAt    Time      `json:"updatedAt"`
}

// LocationSample is one observed position of a player on a game server.
type LocationSample struct {
	PlayerID  uuid.UUID `json:"playerId"`
	X         float64   `json:"x"`
	Y         float64   `json:"y"`
	Z         float64   `json:"z"`
	Dimension *string   `json:"dimension,omitempty"`
}

// LocationRecord is what the connector's sync reports of one game server:
// where its online players are now.
type LocationRecord struct {
	GameServerID uuid.UUID        `json:"gameServerId"`
	Samples      []LocationSample `json:"samples"`
}

// ValidateSamples checks the samples, naming a bad field by its index
// (samples[3].x).
func ValidateSamples(samples []LocationSample) error {
	for i, s := range samples {
		path := fmt.Sprintf("samples[%d].", i)
		for _, c := range []struct {
			name string
			v    float64
		}{{"x", s.X}, {"y", s.Y}, {"z", s.Z}} {
			if math.IsNaN(c.v) || math.Abs(c.v) > maxCoordinate {
				return Invalid(path+c.name, "must be a number between %.3f and %.3f", -maxCoordinate, maxCoordinate)
			}
		}
		if s.Dimension != nil {
			if err := validateLength(path+"dimension", *s.Dimension, 1, 255); err != nil {
				return err
			}
		}
	}
	return nil
}

// TimeWindow is the period a tracking search covers; both ends are
// inclusive. An absent start means DefaultLocationWindow before the end,
// an absent end means now.
type TimeWindow struct {
	StartDate *time.Time `json:"startDate,omitempty"`
	EndDate   *time.Time `json:"endDate,omitempty"`
}

// Resolve returns the window's ends, now filling in what is absent.
func (w TimeWindow) Resolve(now time.Time) (start, end time.Time, err error) {
	end = now
	if w.EndDate != nil {
		end = *w.EndDate
	}
	start = end.Add(-DefaultLocationWindow)
	if w.StartDate != nil {
		start = *w.StartDate
	}
	if end.Before(start) {
		return start, end, Invalid("endDate", "must not be before startDate")
	}
	return start, end, nil
}

// LocationHistoryQuery asks for the positions of some or all players.
type LocationHistoryQuery struct {
	// PlayerID limits the search to these players; empty means all.
	PlayerID []uuid.UUID `json:"playerId,omitempty"`
	TimeWindow
	// Limit is the most positions returned, 1–MaxLocationResults (the default).
	Limit *int `json:"limit,omitempty"`
}

// LocationBoxQuery asks for the positions inside a box on a game server;
// the bounds are inclusive.
type LocationBoxQuery struct {
	GameServerID uuid.UUID `json:"gameserverId"`
	MinX         float64   `json:"minX"`
	MaxX         float64   `json:"maxX"`
	MinY         float64   `json:"minY"`
	MaxY         float64   `json:"maxY"`
	MinZ         float64   `json:"minZ"`
	MaxZ         float64   `json:"maxZ"`
	TimeWindow
	Limit *int `json:"limit,omitempty"`
}

// LocationRadiusQuery asks for the positions within a distance of a point
// on a game server.
type LocationRadiusQuery struct {
	GameServerID uuid.UUID `json:"gameserverId"`
	X            float64   `json:"x"`
	Y            float64   `json:"y"`
	Z            float64   `json:"z"`
	Radius       float64   `json:"radius"`
	TimeWindow
	Limit *int `json:"limit,omitempty"`
}

// ResultLimit checks an optional limit and returns it or the default.
func ResultLimit(limit *int) (int, error) {
	if limit == nil {
		return MaxLocationResults, nil
	}
	if *limit < 1 || *limit > MaxLocationResults {
		return 0, Invalid("limit", "must be between 1 and %d", MaxLocationResults)
	}
	return *limit, nil
}

// Validate checks the bounds.
func (q LocationBoxQuery) Validate() error {
	for _, r := range []struct {
		axis     string
		min, max float64
	}{{"X", q.MinX, q.MaxX}, {"Y", q.MinY, q.MaxY}, {"Z", q.MinZ, q.MaxZ}} {
		if math.IsNaN(r.min) || math.IsNaN(r.max) || r.max < r.min {
			return Invalid("max"+r.axis, "must not be less than min%s", r.axis)
		}
	}
	return nil
}

// Validate checks the radius.
func (q LocationRadiusQuery) Validate() error {
	if math.IsNaN(q.Radius) || q.Radius < 0 || math.IsInf(q.Radius, 0) {
		return Invalid("radius", "must be a number of at least 0")
	}
	return nil
}

// TrackingService keeps and searches player location history.
type TrackingService interface {
	// RecordLocations stores one position per sample for players on a game
	// server, at the database's current time, and returns them. Errors:
	// CodeValidation, CodeNotFound when a player is not known on the
	// server.
	RecordLocations(ctx context.Context, in LocationRecord) ([]PlayerLocation, error)
	// FindLocations returns positions, newest first. Errors: CodeValidation.
	FindLocations(ctx context.Context, q LocationHistoryQuery) ([]PlayerLocation, error)
	// FindLocationsInBox returns positions inside a box, newest first.
	// Errors: CodeValidation.
	FindLocationsInBox(ctx context.Context, q LocationBoxQuery) ([]PlayerLocation, error)
	// FindLocationsInRadius returns positions within a distance of a point,
	// newest first. Errors: CodeValidation.
	FindLocationsInRadius(ctx context.Context, q LocationRadiusQuery) ([]PlayerLocation, error)
}
