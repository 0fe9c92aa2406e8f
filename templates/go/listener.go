package main

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"
)

// Before a request head is complete: the handshake timeout (from TCP
// accept, TLS handshake included, until the whole request head has been
// read) and the log of requests net/http refuses before any handler runs
// (431 for a head over the limit, 400 for a malformed one).

// headListener gives every accepted connection until timeout to send its
// first request head. onReject is told of each connection dropped or
// refused before then (status 0: the timeout).
type headListener struct {
	net.Listener
	timeout  time.Duration
	onReject func(peer string, status int)
}

func (l *headListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &headConn{Conn: conn, deadline: time.Now().Add(l.timeout), onReject: l.onReject}
	if err := conn.SetReadDeadline(c.deadline); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

// headConn is a connection whose reads cannot wait beyond its deadline
// until headRead is called: net/http's own read deadlines (none by
// default) are capped by it. Each connection is served by its own
// goroutine, so a slow client delays nobody else.
type headConn struct {
	net.Conn
	deadline time.Time
	onReject func(peer string, status int)

	mu       sync.Mutex
	headDone bool
	rejected bool
	timeout  bool // rejected for the handshake timeout
}

// headRead lifts the deadline: the first request head has been read.
func (c *headConn) headRead() {
	c.mu.Lock()
	c.headDone = true
	c.mu.Unlock()
	_ = c.Conn.SetReadDeadline(time.Time{})
}

func (c *headConn) beforeHead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.headDone
}

func (c *headConn) SetReadDeadline(t time.Time) error {
	if c.beforeHead() && (t.IsZero() || t.After(c.deadline)) {
		t = c.deadline
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *headConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && isTimeout(err) && c.beforeHead() {
		c.reject(0)
	}
	return n, err
}

// Write notices the error responses net/http writes itself, before any
// handler (the only writes before the head is read). A client that timed
// out gets none: net/http answers a request cut short by the deadline with
// 400, but the timeout just closes the connection.
func (c *headConn) Write(p []byte) (int, error) {
	if c.timedOut() {
		return len(p), nil
	}
	if c.beforeHead() && bytes.HasPrefix(p, []byte("HTTP/1.1 ")) && len(p) >= 12 {
		if status, err := strconv.Atoi(string(p[9:12])); err == nil && status >= 400 {
			c.reject(status)
		}
	}
	return c.Conn.Write(p)
}

// isTimeout reports whether err is a deadline's. (A function of its own: the
// net.Error that errors.As fills escapes to the heap, and Read would pay that
// allocation on every call.)
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func (c *headConn) timedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

func (c *headConn) reject(status int) {
	c.mu.Lock()
	first := !c.rejected
	c.rejected = true
	c.timeout = c.timeout || (first && status == 0)
	c.mu.Unlock()
	if first {
		c.onReject(c.RemoteAddr().String(), status)
	}
}
