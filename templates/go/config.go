package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// config is the run-time configuration: the environment, falling back to the
// spec's values (spec.go).
type config struct {
	host         string
	port         int
	maxPayload   int64
	pingInterval time.Duration
	compression  bool
}

// Limits of the environment variables.
const (
	maxPort         = 65535
	maxPayloadLimit = 1 << 40 // 1 TiB
	maxPingInterval = 24 * 60 * 60 * 1000
)

// loadConfig reads the configuration through lookup (os.LookupEnv outside
// tests). The error names the first invalid variable, its value and what is
// expected.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	env := envReader{lookup: lookup}
	cfg := config{
		host:         env.host("HOST", "0.0.0.0"),
		port:         int(env.integer("PORT", defaultPort, 1, maxPort)),
		maxPayload:   env.integer("WS_MAX_PAYLOAD", defaultMaxPayload, 1, maxPayloadLimit),
		pingInterval: time.Duration(env.integer("WS_PING_INTERVAL", defaultPingIntervalMs, 1, maxPingInterval)) * time.Millisecond,
		compression:  env.boolean("WS_COMPRESSION", defaultCompression),
	}
	return cfg, env.err
}

// envReader reads environment variables and keeps the first error.
type envReader struct {
	lookup func(string) (string, bool)
	err    error
}

func (r *envReader) host(name, fallback string) string {
	raw, ok := r.lookup(name)
	if !ok {
		return fallback
	}
	if strings.TrimSpace(raw) == "" {
		r.fail(name, raw, "an address to bind, such as 127.0.0.1")
		return fallback
	}
	return raw
}

func (r *envReader) integer(name string, fallback, lo, hi int64) int64 {
	raw, ok := r.lookup(name)
	if !ok {
		return fallback
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || !isDigits(raw) || n < lo || n > hi {
		r.fail(name, raw, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return fallback
	}
	return n
}

func (r *envReader) boolean(name string, fallback bool) bool {
	raw, ok := r.lookup(name)
	if !ok {
		return fallback
	}
	switch raw {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	r.fail(name, raw, "true or false (or 1 or 0)")
	return fallback
}

func (r *envReader) fail(name, raw, expected string) {
	if r.err == nil {
		r.err = fmt.Errorf("invalid %s=%q: expected %s", name, raw, expected)
	}
}

// isDigits reports whether s is a plain decimal number: no sign, no spaces.
func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
