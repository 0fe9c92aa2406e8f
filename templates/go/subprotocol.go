package main

import (
	"net/http"
	"slices"
	"strings"
)

// offeredSubprotocols returns the subprotocols a handshake offers, in the
// client's order (RFC 6455 section 4.1).
func offeredSubprotocols(h http.Header) []string {
	var offered []string
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				offered = append(offered, name)
			}
		}
	}
	return offered
}

// pickSubprotocol returns the first offered subprotocol this server speaks.
// The choice follows the client's order of preference, which is why it is
// made here rather than by websocket.AcceptOptions (that follows the
// server's order).
func pickSubprotocol(offered []string) (string, bool) {
	for _, name := range offered {
		if slices.Contains(subprotocols, name) {
			return name, true
		}
	}
	return "", false
}
