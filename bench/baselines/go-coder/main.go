// Minimal echo server on github.com/coder/websocket, written by hand: the
// baseline for the generated Go server. Same library, same defaults.
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

	"github.com/coder/websocket"
)

func main() {
	host := getenv("HOST", "127.0.0.1")
	port := getenv("PORT", "8080")
	maxPayload, err := strconv.ParseInt(getenv("WS_MAX_PAYLOAD", "1048576"), 10, 64)
	if err != nil {
		log.Fatalf("WS_MAX_PAYLOAD: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(maxPayload)
		ctx := r.Context()
		for {
			// The library's plain API: one []byte per message. (Reader ->
			// io.Copy -> Writer allocates io.Copy's 32 KiB buffer per
			// message and halves throughput.)
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, data); err != nil {
				return
			}
		}
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
