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
// on, checking close frames (see above).
type closeGuard struct {
	net.Conn
	src io.Reader

	buf        [4096]byte
	ready      []byte // scanned bytes, returned by Read from ready[off:]
	off        int
	header     []byte // the header of the next frame, while incomplete
	payload    uint64 // payload bytes of the current frame still to come
	held       []byte // a close frame (header and payload) until it is complete
	heldHeader int    // the length of held's header
	holding    bool
	err        error // the read error to return once ready is empty
}

func (g *closeGuard) Read(p []byte) (int, error) {
	for g.off == len(g.ready) && g.err == nil {
		g.ready, g.off = g.ready[:0], 0
		n, err := g.src.Read(g.buf[:])
		g.scan(g.buf[:n])
		g.err = err
	}
	if g.off == len(g.ready) {
		return 0, g.err
	}
	n := copy(p, g.ready[g.off:])
	g.off += n
	return n, nil
}

// scan follows the frame boundaries in data and moves it to ready, except
// a close frame, which waits in held until its last byte.
func (g *closeGuard) scan(data []byte) {
	for len(data) > 0 {
		if g.payload == 0 {
			g.header = append(g.header, data[0])
			data = data[1:]
			if payload, done := parseHeader(g.header); done {
				g.startFrame(payload)
			}
			continue
		}
		n := min(uint64(len(data)), g.payload)
		g.emit(data[:n])
		data = data[n:]
		g.payload -= n
		if g.payload == 0 && g.holding {
			g.releaseClose()
		}
	}
}

// startFrame passes on a complete header, or starts holding a close frame.
func (g *closeGuard) startFrame(payload uint64) {
	g.holding = g.header[0]&0x0f == opcodeClose && payload <= maxControlPayload
	g.heldHeader = len(g.header)
	g.emit(g.header)
	g.header = g.header[:0]
	g.payload = payload
	if g.holding && payload == 0 {
		g.releaseClose()
	}
}

func (g *closeGuard) emit(b []byte) {
	if g.holding {
		g.held = append(g.held, b...)
	} else {
		g.ready = append(g.ready, b...)
	}
}

// releaseClose passes on the held close frame, or a 1007 close frame in its
// place when its reason is not UTF-8.
func (g *closeGuard) releaseClose() {
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
	g.ready = append(g.ready, frame...)
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
