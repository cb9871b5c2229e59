package httpapi

import (
	"bufio"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// streamHandler returns an endpoint that answers a file of mediaType,
// written by fn as it goes instead of the JSON envelope.
func streamHandler(method, path, summary, tag, mediaType string, fn func(r *request, w http.ResponseWriter) error) endpoint {
	return endpoint{method: method, path: path, summary: summary, tag: tag, access: user,
		out: reflect.TypeFor[*empty](), stream: fn, mediaType: mediaType}
}

// csvFlushRows is how many rows a CSV download buffers before it sends
// them: about a chunk of the database reads behind it.
const csvFlushRows = 1000

// downloadIdleTimeout is how long a download may wait for the client to
// take the next rows. The server's write timeout would end every download
// after a fixed time whatever its progress; each flush moves the deadline
// instead.
const downloadIdleTimeout = time.Minute

// csvDownload writes a CSV file to the client row by row, flushing every
// csvFlushRows rows, so that its memory does not grow with the file. Every
// field is quoted (RFC 4180: a quote inside is doubled), as the reference
// writes its exports, so commas, quotes and line breaks in values are
// safe and the file looks the same whatever the values. Its headers go out
// with the first row, so an error found before then is still answered as
// an error.
type csvDownload struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	buf      *bufio.Writer
	filename string
	started  bool
	rows     int
}

func newCSVDownload(w http.ResponseWriter, filename string) *csvDownload {
	return &csvDownload{w: w, rc: http.NewResponseController(w), buf: bufio.NewWriterSize(w, 64<<10), filename: filename}
}

// row writes one record (the first one is the header). Cells that a
// spreadsheet would run as a formula are neutralised (see
// spreadsheetSafe).
func (d *csvDownload) row(record []string) error {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", "text/csv")
		h.Set("Content-Disposition", `attachment; filename="`+d.filename+`"`)
		h.Set("Cache-Control", "no-store")
		_ = d.rc.SetWriteDeadline(time.Now().Add(downloadIdleTimeout))
		d.w.WriteHeader(http.StatusOK)
	}
	for i, cell := range record {
		if i > 0 {
			_ = d.buf.WriteByte(',')
		}
		_ = d.buf.WriteByte('"')
		_, _ = d.buf.WriteString(strings.ReplaceAll(spreadsheetSafe(cell), `"`, `""`))
		_ = d.buf.WriteByte('"')
	}
	if _, err := d.buf.WriteString("\r\n"); err != nil {
		return err
	}
	d.rows++
	if d.rows%csvFlushRows == 0 {
		return d.flush()
	}
	return nil
}

func (d *csvDownload) flush() error {
	if err := d.buf.Flush(); err != nil {
		return err
	}
	_ = d.rc.SetWriteDeadline(time.Now().Add(downloadIdleTimeout))
	return d.rc.Flush()
}

// finish completes the file: err is what stopped the rows, if anything.
// Before the first row it is the request's answer; after, the client has
// a 200 and part of a file, so the response is cut off without its end,
// and no client can take a truncated export for a whole one.
func (d *csvDownload) finish(r *http.Request, log *slog.Logger, err error) error {
	if err == nil && d.started {
		err = d.flush()
	}
	if err == nil || !d.started {
		return err
	}
	if r.Context().Err() == nil {
		log.WarnContext(r.Context(), "download cut off", "request_id", requestID(r.Context()), "rows", d.rows, "error", err.Error())
	}
	panic(http.ErrAbortHandler)
}

// spreadsheetSafe keeps a cell from being run as a formula when the file
// is opened in a spreadsheet: text that starts with =, +, -, @, a tab or a
// carriage return gets a leading apostrophe (OWASP's advice on CSV
// injection). Player names come from game servers, so anyone may choose
// them.
func spreadsheetSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
