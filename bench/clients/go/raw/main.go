// bench/clients.sh, Go: the same loops as lib/ written directly on
// github.com/coder/websocket (the library the generated client uses, the
// same version and dial options): raw JSON frames, answers matched by ref.
//
//	raw chat URL COUNT WINDOW
//	raw session URL COUNT        (acks every 64 events, as the library does)
//
// Prints one JSON line like lib.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

var text = strings.Repeat("m", 64)

type frame struct {
	Type string           `json:"type"`
	Ref  *int64           `json:"ref"`
	Seq  int64            `json:"seq"`
	Data *json.RawMessage `json:"data"`
}

func pct(xs []float64, q float64) float64 {
	sort.Float64s(xs)
	i := int(q * float64(len(xs)))
	if i >= len(xs) {
		i = len(xs) - 1
	}
	return xs[i]
}

func out(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func fail(format string, args ...any) {
	out(map[string]any{"ok": false, "error": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func dial(ctx context.Context, url string) *websocket.Conn {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{})
	if err != nil {
		fail("dial: %v", err)
	}
	c.SetReadLimit(1 << 24)
	return c
}

func send(ctx context.Context, c *websocket.Conn, v any) {
	b, _ := json.Marshal(v)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		fail("write: %v", err)
	}
}

func recv(ctx context.Context, c *websocket.Conn) frame {
	_, b, err := c.Read(ctx)
	if err != nil {
		fail("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		fail("json: %v", err)
	}
	return f
}

func chatLoop(url string, count, window int) {
	ctx := context.Background()
	c := dial(ctx, url)
	user, room := fmt.Sprintf("b%08x", rand.Uint32()), fmt.Sprintf("r%08x", rand.Uint32())
	send(ctx, c, map[string]any{"type": "join", "room": room, "user": user, "ref": 0})
	for f := recv(ctx, c); f.Ref == nil || *f.Ref != 0; f = recv(ctx, c) {
	}
	var ref int64
	var lat []float64
	// WINDOW requests in flight: a new one is sent as each answer comes in.
	run := func(n int, keep bool) {
		sent := map[int64]time.Time{}
		issue := func() {
			ref++
			sent[ref] = time.Now()
			send(ctx, c, map[string]any{"type": "message", "room": room, "text": text, "ref": ref})
		}
		issued := 0
		for ; issued < window && issued < n; issued++ {
			issue()
		}
		for done := 0; done < n; {
			f := recv(ctx, c)
			if f.Ref == nil {
				continue
			}
			t, ok := sent[*f.Ref]
			if !ok {
				continue
			}
			if f.Type != "message" {
				fail("answer %s", f.Type)
			}
			delete(sent, *f.Ref)
			if keep {
				lat = append(lat, float64(time.Since(t).Nanoseconds())/1e6)
			}
			done++
			if issued < n {
				issue()
				issued++
			}
		}
	}
	run(max(window, 500/window*window), false) // warm-up
	per := count / window * window
	t0 := time.Now()
	run(per, true)
	secs := time.Since(t0).Seconds()
	c.Close(websocket.StatusNormalClosure, "")
	out(map[string]any{"ok": true, "perSecond": float64(per) / secs, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)})
}

func sessionLoop(url string, count int) {
	ctx := context.Background()
	c := dial(ctx, url)
	var t0 time.Time // from the first event (the worker's start-up excluded) to the exit
	send(ctx, c, map[string]any{"type": "start", "ref": 1,
		"input": json.RawMessage(fmt.Sprintf(`{"do":"emit","count":%d,"size":64,"exit":0}`, count))})
	var events, last int64
	for {
		f := recv(ctx, c)
		if f.Type == "event" {
			if f.Seq != last+1 {
				fail("seq %d after %d", f.Seq, last)
			}
			last = f.Seq
			events++
			if events == 1 {
				t0 = time.Now()
			}
			if last%64 == 0 {
				send(ctx, c, map[string]any{"type": "ack", "seq": last})
			}
		} else if f.Type == "exit" {
			break
		} else if f.Type == "error" {
			fail("error frame")
		}
	}
	secs := time.Since(t0).Seconds()
	c.Close(websocket.StatusNormalClosure, "")
	out(map[string]any{"ok": true, "perSecond": float64(events-1) / secs, "events": events})
}

func main() {
	a := os.Args[1:]
	if len(a) < 3 {
		fmt.Fprintln(os.Stderr, "usage: raw chat URL COUNT WINDOW | session URL COUNT")
		os.Exit(2)
	}
	n := func(s string) int {
		v, err := strconv.Atoi(s)
		if err != nil {
			fail("bad number %q", s)
		}
		return v
	}
	switch a[0] {
	case "chat":
		chatLoop(a[1], n(a[2]), n(a[3]))
	case "session":
		sessionLoop(a[1], n(a[2]))
	default:
		fail("unknown mode %s", a[0])
	}
}
