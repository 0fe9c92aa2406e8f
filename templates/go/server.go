package main

import (
	"context"
	"encoding/json"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// shutdownGrace is how long shutdown waits for clients to answer the close
// frame before the process exits anyway.
const shutdownGrace = 5 * time.Second

// server answers HTTP requests (GET /healthz, the WebSocket endpoint on
// wsPath, 404 elsewhere) and keeps track of the open connections so that
// shutdown can close them.
type server struct {
	cfg config

	mu       sync.Mutex
	clients  map[*client]struct{}
	lastID   uint64
	stopping bool
	handlers sync.WaitGroup // one per open connection
}

func newServer(cfg config) *server {
	return &server{cfg: cfg, clients: make(map[*client]struct{})}
}

// serve accepts connections on ln until ctx is done, then shuts down
// gracefully.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	httpServer := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute, // idle keep-alive HTTP connections, not WebSockets
	}
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.shutdown(httpServer)
	return nil
}

// shutdown stops accepting, closes every client with 1001 and waits up to
// shutdownGrace for them to answer.
func (s *server) shutdown(httpServer *http.Server) {
	s.mu.Lock()
	s.stopping = true
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	log.Printf("shutting down: closing %d connections", len(clients))

	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, c := range clients {
		go c.close(websocket.StatusGoingAway, "server shutting down")
	}
	// Shutdown closes the listener and waits for plain HTTP requests in
	// flight; it does not wait for WebSocket connections (hijacked).
	_ = httpServer.Shutdown(ctx)

	closed := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
	}
	log.Printf("stopped")
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == wsPath && isUpgrade(r):
		s.serveWebSocket(w, r)
	case r.URL.Path == "/healthz" && r.Method == http.MethodGet:
		serveHealth(w)
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
	}
}

// healthBody is the response to GET /healthz.
var healthBody, _ = json.Marshal(struct {
	Status string `json:"status"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}{"ok", serverName, serverType})

func serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(healthBody)))
	_, _ = w.Write(healthBody)
}

// isUpgrade reports whether r asks for a WebSocket upgrade (an Upgrade:
// websocket or Connection: upgrade header); websocket.Accept then validates
// the handshake. Other requests to the WebSocket path are plain HTTP: 404.
func isUpgrade(r *http.Request) bool {
	return hasToken(r.Header, "Upgrade", "websocket") || hasToken(r.Header, "Connection", "upgrade")
}

// hasToken reports whether the comma-separated header name contains token,
// ignoring case.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serveWebSocket negotiates the subprotocol and permessage-deflate, upgrades
// the connection and starts serving it.
func (s *server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	subprotocol, ok := pickSubprotocol(offeredSubprotocols(r.Header))
	if !ok && requireSubprotocol {
		http.Error(w, "a subprotocol is required; this server speaks: "+strings.Join(subprotocols, ", "), http.StatusBadRequest)
		return
	}
	opts := &websocket.AcceptOptions{
		// Any origin may connect, as with the other languages' servers;
		// restrict it with OriginPatterns if browsers on other sites must not.
		InsecureSkipVerify: true,
	}
	if ok {
		opts.Subprotocols = []string{subprotocol}
	}
	compressed := false
	if s.cfg.compression {
		w, compressed = negotiateDeflate(w, r, deflate, opts)
	}

	conn, err := websocket.Accept(w, r, opts)
	if err != nil {
		return // Accept has answered with an HTTP error
	}
	c := s.register(conn, subprotocol)
	if c == nil {
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	log.Printf("conn %d open %s subprotocol=%s compression=%s", c.id, r.RemoteAddr, orNone(subprotocol), onOff(compressed))
	// The connection outlives this HTTP handler: a fresh goroutine starts
	// with a small stack, and net/http's request state is released.
	go s.run(c)
}

// run serves one connection until it ends.
func (s *server) run(c *client) {
	defer s.unregister(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.keepAlive(ctx, s.cfg.pingInterval)

	err := handlerFor(c.subprotocol)(ctx, c)
	log.Printf("conn %d close code=%d", c.id, c.closeCode(err))
	_ = c.conn.CloseNow()
}

// register adds a connection, or returns nil once shutdown has begun.
func (s *server) register(conn *websocket.Conn, subprotocol string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil
	}
	s.lastID++
	c := newClient(s.lastID, conn, subprotocol, s.cfg.maxPayload)
	s.clients[c] = struct{}{}
	s.handlers.Add(1)
	return c
}

func (s *server) unregister(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	s.handlers.Done()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
