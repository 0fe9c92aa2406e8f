package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// clientFrame is a masked client frame with FIN set.
func clientFrame(opcode byte, payload []byte) []byte {
	key := []byte{0x12, 0x34, 0x56, 0x78}
	frame := []byte{0x80 | opcode}
	switch {
	case len(payload) < 126:
		frame = append(frame, maskBit|byte(len(payload)))
	default:
		frame = append(frame, maskBit|126)
		frame = binary.BigEndian.AppendUint16(frame, uint16(len(payload)))
	}
	frame = append(frame, key...)
	for i, b := range payload {
		frame = append(frame, b^key[i%4])
	}
	return frame
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func TestCloseGuard(t *testing.T) {
	text := clientFrame(0x1, bytes.Repeat([]byte("x"), 300))
	ping := clientFrame(0x9, []byte("p"))
	goodClose := clientFrame(opcodeClose, closePayload(1000, "bye ✓"))
	badClose := clientFrame(opcodeClose, closePayload(1000, "\xce\xba\xed\xa0\x80edited"))
	in := bytes.Join([][]byte{text, ping, goodClose, text, badClose}, nil)
	// Whole, halved and byte by byte, so that frames arrive in pieces and
	// the guard's output sometimes cannot stay in the reader's buffer.
	sources := map[string]func() io.Reader{
		"whole":       func() io.Reader { return bytes.NewReader(in) },
		"half":        func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
		"byte":        func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		"with errors": func() io.Reader { return iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(in))) },
	}
	for name, src := range sources {
		g := &closeGuard{src: src()}
		out, err := io.ReadAll(g)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		kept := len(in) - len(badClose)
		if len(out) < kept || !bytes.Equal(out[:kept], in[:kept]) {
			t.Fatalf("%s: frames other than a bad close frame were changed", name)
		}
		replaced := out[kept:]
		if len(replaced) < 8 || replaced[0] != 0x80|opcodeClose || int(replaced[1]&0x7f) != len(replaced)-6 {
			t.Fatalf("%s: not a close frame: % x", name, replaced)
		}
		payload := replaced[6:] // masked with a zero key
		if code := binary.BigEndian.Uint16(payload); code != 1007 || !utf8.Valid(payload[2:]) {
			t.Errorf("%s: replacement close: code %d, reason %q; want 1007", name, code, payload[2:])
		}
	}
}
