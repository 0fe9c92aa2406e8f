package main

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/coder/websocket"
)

// deflateParams are this server's permessage-deflate parameters (RFC 7692).
//
// There is no server_max_window_bits: compress/flate always compresses with
// a 32 KiB window (15 bits), so an offer that asks for a smaller server
// window is declined.
type deflateParams struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	clientMaxWindowBits     int // 8..15; 15 leaves the client's window as it offers
	threshold               int // messages smaller than this are sent uncompressed
}

// deflateAgreement is what one connection agreed on.
type deflateAgreement struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int // 15 when the client asked for it, else 0
	clientMaxWindowBits     int // 0 when the response does not limit it
}

// String is the agreement as a Sec-WebSocket-Extensions response value.
func (a deflateAgreement) String() string {
	s := "permessage-deflate"
	if a.serverNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if a.clientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if a.serverMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(a.serverMaxWindowBits)
	}
	if a.clientMaxWindowBits != 0 {
		s += "; client_max_window_bits=" + strconv.Itoa(a.clientMaxWindowBits)
	}
	return s
}

// negotiateDeflate answers the client's permessage-deflate offers and sets up
// opts and the response accordingly. It reports whether compression is on.
//
// coder/websocket negotiates only the context-takeover parameters, so the
// negotiation happens here: the library is handed an offer carrying just
// those, and the response header is replaced by the full agreement when the
// 101 response is written.
func negotiateDeflate(w http.ResponseWriter, r *http.Request, p deflateParams, opts *websocket.AcceptOptions) (http.ResponseWriter, bool) {
	agreement, ok := p.negotiate(r.Header)
	if !ok {
		r.Header.Del("Sec-WebSocket-Extensions")
		return w, false
	}
	libraryOffer := deflateAgreement{
		serverNoContextTakeover: agreement.serverNoContextTakeover,
		clientNoContextTakeover: agreement.clientNoContextTakeover,
	}
	r.Header.Set("Sec-WebSocket-Extensions", libraryOffer.String())
	opts.CompressionMode = websocket.CompressionContextTakeover
	opts.CompressionThreshold = p.libraryThreshold()
	return extensionsResponse{ResponseWriter: w, value: agreement.String()}, true
}

// libraryThreshold is the threshold in coder/websocket's terms, where 0
// means "the library default" (128 or 512 bytes): compressing every message,
// empty ones included, is -1 there.
func (p deflateParams) libraryThreshold() int {
	if p.threshold == 0 {
		return -1
	}
	return p.threshold
}

// negotiate picks the first offer this server can accept (RFC 7692 section 5).
func (p deflateParams) negotiate(h http.Header) (deflateAgreement, bool) {
	for _, offer := range h.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(offer, ",") {
			params := strings.Split(ext, ";")
			if strings.TrimSpace(params[0]) != "permessage-deflate" {
				continue
			}
			if a, ok := p.accept(params[1:]); ok {
				return a, true
			}
		}
	}
	return deflateAgreement{}, false
}

// accept answers one offer's parameters, or declines the offer (false): an
// unknown, repeated or malformed parameter, a server window smaller than 15
// bits, or no client_max_window_bits when this server must limit it.
func (p deflateParams) accept(params []string) (deflateAgreement, bool) {
	a := deflateAgreement{
		serverNoContextTakeover: p.serverNoContextTakeover,
		clientNoContextTakeover: p.clientNoContextTakeover,
	}
	seen := make(map[string]bool)
	clientBits := 0 // offered client_max_window_bits; 15 when offered without a value
	for _, param := range params {
		name, value, hasValue := strings.Cut(strings.TrimSpace(param), "=")
		name = strings.TrimSpace(name)
		if seen[name] {
			return deflateAgreement{}, false
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover":
			if hasValue {
				return deflateAgreement{}, false
			}
			a.serverNoContextTakeover = true
		case "client_no_context_takeover":
			if hasValue {
				return deflateAgreement{}, false
			}
			a.clientNoContextTakeover = true
		case "server_max_window_bits":
			// Accepting the parameter means repeating it (RFC 7692 section
			// 7.1.2.1), and only 15 bits can be honoured.
			if bits, ok := windowBits(value); !ok || bits != 15 {
				return deflateAgreement{}, false
			}
			a.serverMaxWindowBits = 15
		case "client_max_window_bits":
			clientBits = 15
			if hasValue {
				bits, ok := windowBits(value)
				if !ok {
					return deflateAgreement{}, false
				}
				clientBits = bits
				a.clientMaxWindowBits = bits
			}
		default:
			return deflateAgreement{}, false
		}
	}
	if p.clientMaxWindowBits < 15 {
		if clientBits == 0 {
			return deflateAgreement{}, false // the client cannot limit its window
		}
		a.clientMaxWindowBits = min(clientBits, p.clientMaxWindowBits)
	}
	return a, true
}

// windowBits parses a window-bits value: 8 to 15, optionally quoted.
func windowBits(value string) (int, bool) {
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	bits, err := strconv.Atoi(value)
	if err != nil || !isDigits(value) || bits < 8 || bits > 15 {
		return 0, false
	}
	return bits, true
}

// extensionsResponse sets the Sec-WebSocket-Extensions header of the 101
// response to the negotiated value.
type extensionsResponse struct {
	http.ResponseWriter
	value string
}

func (w extensionsResponse) WriteHeader(code int) {
	if code == http.StatusSwitchingProtocols {
		w.Header().Set("Sec-WebSocket-Extensions", w.value)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets websocket.Accept reach the http.Hijacker underneath.
func (w extensionsResponse) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}
