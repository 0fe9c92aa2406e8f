package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"unicode/utf8"
)

// RFC 6455 section 7.1.6 wants a close frame whose reason is not UTF-8 to
// fail the connection with 1007, but coder/websocket echoes the reason
// unchecked and offers no hook for received close frames. closeGuard fills
// that gap underneath the library: it watches the client's frames as they
// are read, holds back each close frame until it is complete, and replaces
// one with an invalid reason by a close frame with code 1007. The library
// then answers with 1007, from its own writer, and reports the close as any
// other.
//
// Everything else passes through unchanged; only frame headers are looked at.

// closeGuardWriter hands websocket.Accept a hijacked connection read through
// a closeGuard.
type closeGuardWriter struct {
	http.ResponseWriter
}

func (w closeGuardWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes already buffered (a client that did not wait for the 101) are
	// read through the guard too.
	pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
	g := &closeGuard{Conn: conn, src: io.MultiReader(bytes.NewReader(bytes.Clone(pending)), conn)}
	brw.Reader.Reset(g)
	return g, brw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w closeGuardWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// Frame header fields (RFC 6455 section 5.2).
const (
	opcodeClose       = 0x8
	maxControlPayload = 125
	maskBit           = 0x80
)

// closeGuard is a server-side net.Conn whose Read passes the client's frames
// on, checking close frames (see above). It scans the bytes in the caller's
// buffer, in place: no buffer of its own and no copy per read, so an idle
// connection pays only for these fields.
type closeGuard struct {
	net.Conn
	src io.Reader

	header     [14]byte // the header of the current frame, while incomplete
	headerLen  int
	payload    uint64 // payload bytes of the current frame still to come
	held       []byte // a close frame (header and payload) until it is complete
	heldHeader int    // the length of held's header
	holding    bool
	pending    []byte // output that did not fit in place, returned from pending[off:]
	off        int
	err        error // the read error to return once pending is empty
}

func (g *closeGuard) Read(p []byte) (int, error) {
	for {
		if g.off < len(g.pending) {
			n := copy(p, g.pending[g.off:])
			g.off += n
			if g.off == len(g.pending) {
				g.pending, g.off = nil, 0
			}
			return n, nil
		}
		if g.err != nil || len(p) == 0 {
			return 0, g.err
		}
		n, err := g.src.Read(p)
		g.err = err
		if out := g.scan(p[:n]); out > 0 {
			return out, nil
		}
	}
}

// scan follows the frame boundaries in data and leaves what passes on in
// data[:n], except a close frame, which waits in held until its last byte.
// Output never outgrows the input read so far but for a close frame
// replaced by a longer one or released after bytes of earlier reads: that
// goes to pending, and so does everything after it.
func (g *closeGuard) scan(data []byte) (n int) {
	i := 0
	for i < len(data) {
		if g.payload == 0 {
			b := data[i]
			i++
			if g.headerLen == 0 {
				g.holding = b&0x0f == opcodeClose
			}
			g.header[g.headerLen] = b
			g.headerLen++
			n = g.emit(data, n, i, data[i-1:i])
			if payload, done := parseHeader(g.header[:g.headerLen]); done {
				n = g.startFrame(data, n, i, payload)
			}
			continue
		}
		m := int(min(uint64(len(data)-i), g.payload))
		i += m
		n = g.emit(data, n, i, data[i-m:i])
		g.payload -= uint64(m)
		if g.payload == 0 && g.holding {
			n = g.releaseClose(data, n, i)
		}
	}
	return n
}

// startFrame ends a complete header: a close frame too long to be valid is
// passed on for the library to refuse, an empty one is released.
func (g *closeGuard) startFrame(data []byte, n, i int, payload uint64) int {
	g.heldHeader = g.headerLen
	g.headerLen = 0
	g.payload = payload
	switch {
	case g.holding && payload > maxControlPayload:
		held := g.held
		g.held, g.holding = nil, false
		n = g.emit(data, n, i, held)
	case g.holding && payload == 0:
		n = g.releaseClose(data, n, i)
	}
	return n
}

// emit passes b on: into held while holding a close frame, else into
// data[n:] when that stays behind the input not yet scanned (data[i:]),
// else into pending. It returns the new length of the output in data.
func (g *closeGuard) emit(data []byte, n, i int, b []byte) int {
	switch {
	case g.holding:
		g.held = append(g.held, b...)
	case len(g.pending) == 0 && n+len(b) <= i:
		copy(data[n:], b)
		n += len(b)
	default:
		g.pending = append(g.pending, b...)
	}
	return n
}

// releaseClose passes on the held close frame, or a 1007 close frame in its
// place when its reason is not UTF-8.
func (g *closeGuard) releaseClose(data []byte, n, i int) int {
	frame := g.held
	g.held, g.holding = nil, false
	header := g.heldHeader
	body := bytes.Clone(frame[header:])
	if frame[1]&maskBit != 0 {
		key := frame[header-4 : header]
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	if len(body) > 2 && !utf8.Valid(body[2:]) {
		// FIN and close; masked with a zero key, so the payload reads as is.
		const reason = "invalid UTF-8 in close reason"
		frame = []byte{0x80 | opcodeClose, maskBit | byte(2+len(reason)), 0, 0, 0, 0}
		frame = binary.BigEndian.AppendUint16(frame, 1007)
		frame = append(frame, reason...)
	}
	return g.emit(data, n, i, frame)
}

// parseHeader returns the payload length once header holds a whole frame
// header: two bytes, the extended length, and the masking key.
func parseHeader(header []byte) (payload uint64, done bool) {
	if len(header) < 2 {
		return 0, false
	}
	size, ext := uint64(header[1]&0x7f), 0
	switch size {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	need := 2 + ext
	if header[1]&maskBit != 0 {
		need += 4
	}
	if len(header) < need {
		return 0, false
	}
	switch ext {
	case 2:
		size = uint64(binary.BigEndian.Uint16(header[2:]))
	case 8:
		size = binary.BigEndian.Uint64(header[2:])
	}
	return size, true
}
