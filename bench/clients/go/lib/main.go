// bench/clients.sh, Go: the loops on the GENERATED client libraries
// (example.com/chat-client and example.com/session-client, generated from
// specs/chat.yaml and specs/session.yaml into gen/, required by path).
//
//	lib chat URL COUNT WINDOW     join a room, then COUNT messages, WINDOW in flight,
//	                              each awaited as its own copy (the request matched by ref)
//	lib session URL COUNT         start a session whose worker emits COUNT events, read them all
//	lib resume URL CONTROL CUTS   events paced 1 ms apart through proxy.py; CUTS cuts, each
//	                              timed from the cut to the first event delivered after it
//
// Prints one JSON line: {"ok": true, ...}.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chat "example.com/chat-client"
	session "example.com/session-client"
)

var text = strings.Repeat("m", 64)

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

func name(p string) string { return fmt.Sprintf("%s%08x", p, rand.Uint32()) }

func chatLoop(url string, count, window int) {
	ctx := context.Background()
	c, err := chat.Connect(ctx, url, chat.Options{User: name("b")})
	if err != nil {
		fail("connect: %v", err)
	}
	go func() { // the event stream has every message too: keep it read
		for range c.Events() {
		}
	}()
	room := name("r")
	if _, err := c.Join(ctx, room); err != nil {
		fail("join: %v", err)
	}
	var mu sync.Mutex
	var lat []float64
	run := func(per int, keep bool) {
		var wg sync.WaitGroup
		for w := 0; w < window; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					t := time.Now()
					if _, err := c.Send(ctx, room, text); err != nil {
						fail("message: %v", err)
					}
					if keep {
						d := float64(time.Since(t).Nanoseconds()) / 1e6
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
	}
	run(max(1, 500/window), false) // warm-up
	per := count / window
	t0 := time.Now()
	run(per, true)
	secs := time.Since(t0).Seconds()
	c.Close()
	out(map[string]any{"ok": true, "perSecond": float64(per*window) / secs, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)})
}

func sessionLoop(url string, count int) {
	ctx := context.Background()
	c, err := session.Connect(ctx, url, session.Options{})
	if err != nil {
		fail("connect: %v", err)
	}
	var t0 time.Time // from the first event (the worker's start-up excluded) to the exit
	input := fmt.Sprintf(`{"do":"emit","count":%d,"size":64,"exit":0}`, count)
	if _, err := c.Start(ctx, json.RawMessage(input)); err != nil {
		fail("start: %v", err)
	}
	var events, last int64
	for ev := range c.Events() {
		if e, ok := ev.(*session.EventEvent); ok {
			if e.Seq != last+1 {
				fail("seq %d after %d", e.Seq, last)
			}
			last = e.Seq
			events++
			if events == 1 {
				t0 = time.Now()
			}
		} else if _, ok := ev.(*session.ExitEvent); ok {
			break
		}
	}
	secs := time.Since(t0).Seconds()
	c.Close()
	out(map[string]any{"ok": true, "perSecond": float64(events-1) / secs, "events": events})
}

func resume(url string, control string, cuts int) {
	ctx := context.Background()
	var lost atomic.Bool
	c, err := session.Connect(ctx, url, session.Options{OnState: func(s session.State) {
		if s != session.StateOpen {
			lost.Store(true)
		}
	}})
	if err != nil {
		fail("connect: %v", err)
	}
	ctl, err := net.Dial("tcp", "127.0.0.1:"+control)
	if err != nil {
		fail("control: %v", err)
	}
	ctlr := bufio.NewReader(ctl)
	input := fmt.Sprintf(`{"do":"emit","count":%d,"pace":1,"exit":0}`, 300+cuts*400)
	if _, err := c.Start(ctx, json.RawMessage(input)); err != nil {
		fail("start: %v", err)
	}
	var last int64
	var times []float64
	var tCut time.Time
	cutting := false
	// The worker exits after its last event: the stream ends with its exit.
	for ev := range c.Events() {
		e, ok := ev.(*session.EventEvent)
		if !ok {
			break
		}
		if e.Seq != last+1 {
			fail("seq %d after %d", e.Seq, last)
		}
		last = e.Seq
		if cutting && lost.Load() {
			times = append(times, float64(time.Since(tCut).Nanoseconds())/1e6)
			cutting = false
		} else if !cutting && len(times) < cuts && last >= int64(300+400*len(times)) {
			lost.Store(false)
			cutting = true
			tCut = time.Now()
			ctl.Write([]byte("cut\n"))
			ctlr.ReadString('\n')
		}
	}
	c.Close()
	if len(times) < cuts {
		fail("%d of %d cuts resumed (last seq %d): %v", len(times), cuts, last, c.Err())
	}
	cs := append([]float64(nil), times...)
	out(map[string]any{"ok": true, "median": pct(cs, 0.5), "cuts": times})
}

func main() {
	a := os.Args[1:]
	if len(a) < 3 {
		fmt.Fprintln(os.Stderr, "usage: lib chat URL COUNT WINDOW | session URL COUNT | resume URL CONTROL CUTS")
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
	case "resume":
		resume(a[1], a[2], n(a[3]))
	default:
		fail("unknown mode %s", a[0])
	}
}
