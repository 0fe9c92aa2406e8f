package main

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
)

// The log: one line per event on stderr, as text (the default) or, with
// WS_LOG_FORMAT=json, as one JSON object per line through log/slog:
// {"ts":"2026-12-07T10:00:00.123Z","level":"info","event":"open",...}.
// A credential never appears in either.

// jsonLogs switches every event to JSON; main sets it from the config.
var jsonLogs atomic.Bool

// jsonLog writes JSON events where the log package writes (stderr).
var jsonLog = slog.New(slog.NewJSONHandler(logWriter{}, &slog.HandlerOptions{ReplaceAttr: jsonKeys}))

// logWriter writes to the log package's output, so that both formats go to
// the same place.
type logWriter struct{}

func (logWriter) Write(p []byte) (int, error) {
	return log.Writer().Write(p)
}

// jsonKeys renames slog's built-in keys: time is ts (RFC 3339 UTC with
// milliseconds), the level is lower case, and the message is the event.
func jsonKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String("ts", a.Value.Time().UTC().Format("2006-01-02T15:04:05.000Z"))
	case slog.LevelKey:
		return slog.String("level", strings.ToLower(a.Value.String()))
	case slog.MessageKey:
		return slog.String("event", a.Value.String())
	}
	return a
}

// logEvent logs one event: text is its text line, attrs its JSON fields.
func logEvent(level slog.Level, event, text string, attrs ...slog.Attr) {
	if jsonLogs.Load() {
		jsonLog.LogAttrs(context.Background(), level, event, attrs...)
		return
	}
	log.Print(text)
}

// logError logs an error: `error: message`, or the error event.
func logError(message string) {
	logEvent(slog.LevelError, "error", "error: "+message, slog.String("message", message))
}

// orNull is s, or nil (JSON null) when s is empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}
