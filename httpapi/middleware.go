package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/prometheus/client_golang/prometheus"
)

type requestIDKey struct{}

// requestLog collects what the request's log line reports beyond the
// basics; authentication fills it in once it knows who is calling.
type requestLog struct {
	domain string
	userID string
	// Why a request was refused (4xx): the error's code and the message
	// the client got, which never holds a secret.
	errorCode, errorMessage string
}

type requestLogKey struct{}

// noteCaller records the caller for the request's log line.
func noteCaller(ctx context.Context, p takaro.Principal) {
	if l, ok := ctx.Value(requestLogKey{}).(*requestLog); ok {
		l.domain, l.userID = p.Domain, p.UserID.String()
	}
}

// noteRefusal records why a request was refused, for its log line.
func noteRefusal(ctx context.Context, code takaro.Code, message string) {
	if l, ok := ctx.Value(requestLogKey{}).(*requestLog); ok {
		l.errorCode, l.errorMessage = string(code), message
	}
}

// probeRoutes are polled by load balancers and monitoring: their lines
// are logged at debug level, so that they do not drown the others.
var probeRoutes = []string{"/healthz", "/readyz", "/metrics"}

// requestIDHeader carries the request id both ways: a client's own id is
// kept when it looks like one, otherwise a new one is made.
const requestIDHeader = "X-Request-Id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// metrics are the server's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe wraps the whole API: it assigns the request id, limits the body,
// turns a panic into a 500, and afterwards logs one line and records the
// metrics. Routes are labelled by their pattern, never by raw paths, so
// ids do not explode the metrics' cardinality; nothing from the body, the
// query string or the headers is logged.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestIDHeader)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		logged := &requestLog{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey{}, id), requestLogKey{}, logged)
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v) // the server's own way to abort a response
				}
				// The panic value's type and text only: no stack trace.
				s.log.ErrorContext(ctx, "handler panicked", "request_id", id, "panic", fmt.Sprintf("%T: %v", v, v))
				if rec.status == 0 {
					writeError(rec, r, s.log, takaro.Errorf(takaro.CodeInternal, "Internal server error"))
				}
			}
			route := r.Pattern
			if route == "" || route == "/" { // the JSON 404 of unmatched routes
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
			s.metrics.duration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
			attrs := []slog.Attr{
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", rec.status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			}
			if logged.domain != "" {
				attrs = append(attrs, slog.String("domain", logged.domain), slog.String("user_id", logged.userID))
			}
			if logged.errorCode != "" {
				attrs = append(attrs, slog.String("error_code", logged.errorCode), slog.String("error", logged.errorMessage))
			}
			level := slog.LevelInfo
			if slices.Contains(probeRoutes, r.URL.Path) {
				level = slog.LevelDebug
			}
			s.log.LogAttrs(ctx, level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}

// trimTrailingSlash routes a path with a trailing slash as the path
// without it: the reference's server ignores the slash, and its client
// sends some paths with one (POST /module/version/, /module/installation/).
func trimTrailingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimSuffix(p, "/")
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
