// Minimal echo server on github.com/lxzan/gws, written by hand as the
// library's README "Best Practice" recommends: the event API, Upgrade on
// net/http and ReadLoop in its own goroutine (so net/http's request context
// can be collected). Messages are echoed in order (ParallelEnabled off) and
// each message's pooled buffer is returned with message.Close().
package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/lxzan/gws"
)

type handler struct{ gws.BuiltinEventHandler }

func (handler) OnPing(c *gws.Conn, payload []byte) { _ = c.WritePong(payload) }

func (handler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

func main() {
	host := getenv("HOST", "127.0.0.1")
	port := getenv("PORT", "8080")
	maxPayload, err := strconv.Atoi(getenv("WS_MAX_PAYLOAD", "1048576"))
	if err != nil {
		log.Fatalf("WS_MAX_PAYLOAD: %v", err)
	}
	upgrader := gws.NewUpgrader(handler{}, &gws.ServerOption{
		ReadMaxPayloadSize: maxPayload,
		Recovery:           gws.Recovery,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		go c.ReadLoop()
	})
	srv := &http.Server{Handler: mux}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on ws://%s", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
