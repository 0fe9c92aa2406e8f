package client

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fake is an in-test WebSocket server: serve runs for each accepted
// connection with its number (from 1); refuse, when set, answers the
// handshake of connection n instead (return 0 to accept).
type fake struct {
	*httptest.Server
	hits   atomic.Int32
	refuse func(n int, w http.ResponseWriter) int
	serve  func(n int, conn *websocket.Conn)
}

func newFake(t *testing.T, f *fake) *fake {
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.hits.Add(1))
		if f.refuse != nil {
			if status := f.refuse(n, w); status != 0 {
				w.WriteHeader(status)
				return
			}
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		if f.serve != nil {
			f.serve(n, conn)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) url() string { return "ws" + strings.TrimPrefix(f.URL, "http") }

// fast are options with a short backoff for tests.
func fast() Options {
	return Options{BackoffInitial: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestBackoffIsFullJitterWithinBounds(t *testing.T) {
	initial, max := 100*time.Millisecond, 10*time.Second
	for n := 0; n < 12; n++ {
		ceil := initial << n
		if ceil > max {
			ceil = max
		}
		var top time.Duration
		for i := 0; i < 2000; i++ {
			d := Backoff(n, initial, max)
			if d < 0 || d > ceil {
				t.Fatalf("attempt %d: %v outside [0, %v]", n, d, ceil)
			}
			top = maxDuration(top, d)
		}
		if top < ceil/2 {
			t.Fatalf("attempt %d: the largest of 2000 waits is %v, not spread up to %v", n, top, ceil)
		}
	}
	if d := Backoff(200, initial, max); d > max {
		t.Fatalf("a large attempt number waits %v > %v", d, max)
	}
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func TestUnauthorizedIsFatalWithoutRetry(t *testing.T) {
	for _, status := range []int{401, 403} {
		f := newFake(t, &fake{refuse: func(int, http.ResponseWriter) int { return status }})
		_, err := Connect(ctxFor(t), f.url(), fast())
		if !IsCode(err, CodeUnauthorized) || err.(*Error).Status != status {
			t.Fatalf("HTTP %d: %v", status, err)
		}
		time.Sleep(50 * time.Millisecond)
		if hits := f.hits.Load(); hits != 1 {
			t.Fatalf("HTTP %d: %d handshakes, want 1 (no retry)", status, hits)
		}
	}
}

func TestOther4xxIsRefused(t *testing.T) {
	f := newFake(t, &fake{refuse: func(int, http.ResponseWriter) int { return 404 }})
	_, err := Connect(ctxFor(t), f.url(), fast())
	if !IsCode(err, CodeRefused) || err.(*Error).Status != 404 || f.hits.Load() != 1 {
		t.Fatalf("%v after %d handshakes", err, f.hits.Load())
	}
}

func TestRetriedStatusesExhaustMaxRetries(t *testing.T) {
	f := newFake(t, &fake{refuse: func(n int, _ http.ResponseWriter) int {
		return []int{503, 429, 500}[n%3]
	}})
	opts := fast()
	opts.MaxRetries = 4
	_, err := Connect(ctxFor(t), f.url(), opts)
	if !IsCode(err, CodeRetriesExhausted) || f.hits.Load() != 4 {
		t.Fatalf("%v after %d handshakes, want retries_exhausted after 4", err, f.hits.Load())
	}
}

func TestRetryAfterRaisesTheWait(t *testing.T) {
	f := newFake(t, &fake{
		refuse: func(n int, w http.ResponseWriter) int {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				return 503
			}
			return 0
		},
		serve: func(_ int, conn *websocket.Conn) { _, _, _ = conn.Read(context.Background()) },
	})
	began := time.Now()
	c, err := Connect(ctxFor(t), f.url(), fast())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if waited := time.Since(began); waited < time.Second {
		t.Fatalf("reconnected after %v despite Retry-After: 1", waited)
	}
}

func TestFatalCloseCodesEndTheClient(t *testing.T) {
	for _, code := range []int{1002, 1003, 1007, 1009, 4000, 4999} {
		f := newFake(t, &fake{serve: func(_ int, conn *websocket.Conn) {
			_ = conn.Close(websocket.StatusCode(code), "bye")
		}})
		c, err := Connect(ctxFor(t), f.url(), fast())
		if err != nil {
			t.Fatal(err)
		}
		for range c.Events() {
		}
		if !IsCode(c.Err(), CodeClosed) || c.Err().(*Error).CloseCode != code {
			t.Fatalf("close %d: Err() = %v", code, c.Err())
		}
		if f.hits.Load() != 1 {
			t.Fatalf("close %d: reconnected", code)
		}
	}
}

func TestRetriedCloseCodesReconnect(t *testing.T) {
	var states []State
	var mu sync.Mutex
	f := newFake(t, &fake{serve: func(n int, conn *websocket.Conn) {
		if n <= 3 {
			_ = conn.Close([]websocket.StatusCode{1001, 1011, 1008}[n-1], "again")
			return
		}
		_ = conn.Close(4001, "done")
	}})
	opts := fast()
	opts.OnState = func(s State) {
		mu.Lock()
		states = append(states, s)
		mu.Unlock()
	}
	c, err := Connect(ctxFor(t), f.url(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for range c.Events() {
	}
	if f.hits.Load() != 4 || !IsCode(c.Err(), CodeClosed) {
		t.Fatalf("%d connections, Err %v", f.hits.Load(), c.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	got := make([]string, len(states))
	for i, s := range states {
		got[i] = string(s)
	}
	want := "connecting open reconnecting open reconnecting open reconnecting open closed"
	if strings.Join(got, " ") != want {
		t.Fatalf("states %v, want %s", got, want)
	}
}

func TestCloseEndsTheStreamWithoutError(t *testing.T) {
	f := newFake(t, &fake{serve: func(_ int, conn *websocket.Conn) { _, _, _ = conn.Read(context.Background()) }})
	c, err := Connect(ctxFor(t), f.url(), fast())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if _, open := <-c.Events(); open || c.Err() != nil {
		t.Fatalf("after Close: stream open %v, Err %v", open, c.Err())
	}
	if f.hits.Load() != 1 {
		t.Fatalf("reconnected after Close")
	}
}

// wss:// with Options.CA: trusted with the server's certificate as the CA
// file; without it the handshake fails (retried, then retries_exhausted).
func TestCustomCAForWss(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		_, _, _ = conn.Read(context.Background())
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, block, 0o600); err != nil {
		t.Fatal(err)
	}
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	opts := fast()
	opts.MaxRetries = 2
	if _, err := Connect(ctxFor(t), url, opts); !IsCode(err, CodeRetriesExhausted) {
		t.Fatalf("without the CA: %v", err)
	}
	opts.CA = ca
	c, err := Connect(ctxFor(t), url, opts)
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	_ = c.Close()
	opts.CA = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := Connect(ctxFor(t), url, opts); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}
