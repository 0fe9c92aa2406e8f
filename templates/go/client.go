package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// errClosedByServer ends a handler once this server has closed the connection.
var errClosedByServer = errors.New("connection closed by the server")

// client is one open WebSocket connection, as handlers see it.
type client struct {
	id          uint64
	conn        *websocket.Conn
	subprotocol string // the negotiated subprotocol, "" when none
	maxPayload  int64
	user        string        // the authenticated identity, "" without authentication
	ip          string        // the client address the per-address limit counts
	limiter     *rate.Limiter // the rate limit's token bucket, nil when none
	metrics     *serverMetrics

	sentClose atomic.Int32 // the close code this server sent, 0 if none

	// runCtx is the context the handler runs with: it ends only when the
	// handler has returned and the connection is closed.
	runCtx context.Context

	// When the handler last stopped and resumed reading on purpose (see
	// pauseReads), in Unix nanoseconds; pausedAt is 0 while it reads.
	pausedAt  atomic.Int64
	resumedAt atomic.Int64
}

func newClient(id uint64, conn *websocket.Conn, subprotocol string, maxPayload int64, metrics *serverMetrics) *client {
	// readMessage enforces the limit itself, so it knows which close code
	// it sent; the library's own limit (32 KiB by default) is turned off.
	conn.SetReadLimit(-1)
	return &client{id: id, conn: conn, subprotocol: subprotocol, maxPayload: maxPayload, metrics: metrics}
}

// allow takes a token from the connection's bucket for a received message,
// and reports whether there was one.
func (c *client) allow() bool {
	if c.limiter == nil || c.limiter.Allow() {
		return true
	}
	c.metrics.rateLimited.Inc()
	return false
}

// readMessage returns the next whole message (fragments reassembled). It
// closes the connection with 1009 as soon as a message grows past the payload
// limit, and with 1007 as soon as a text message holds invalid UTF-8, without
// waiting for the rest of the message.
func (c *client) readMessage(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, r, err := c.conn.Reader(c.libraryContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	text := typ == websocket.MessageText
	limited := io.LimitedReader{R: r, N: c.maxPayload + 1}
	msg := make([]byte, 0, 512)
	valid := 0 // for text, msg[:valid] is valid UTF-8
	for {
		if len(msg) == cap(msg) {
			msg = append(msg, 0)[:len(msg)] // grow
		}
		n, err := limited.Read(msg[len(msg):cap(msg)])
		msg = msg[:len(msg)+n]
		if int64(len(msg)) > c.maxPayload {
			return 0, nil, c.close(websocket.StatusMessageTooBig, "message too big")
		}
		if text {
			var ok bool
			if valid, ok = validUTF8Prefix(msg, valid); !ok {
				return 0, nil, c.close(websocket.StatusInvalidFramePayloadData, "invalid UTF-8")
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	if text && valid != len(msg) { // the message ends inside a character
		return 0, nil, c.close(websocket.StatusInvalidFramePayloadData, "invalid UTF-8")
	}
	c.metrics.messagesReceived.Inc()
	c.metrics.bytesReceived.Add(float64(len(msg)))
	return typ, msg, nil
}

// validUTF8Prefix returns how much of p is valid UTF-8, given that p[:from]
// is, leaving out a character still incomplete at the end of p. It reports
// false when p holds a sequence that no further bytes can make valid.
func validUTF8Prefix(p []byte, from int) (int, bool) {
	if utf8.Valid(p[from:]) {
		return len(p), true
	}
	i := from
	for i < len(p) {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(p[i:]) {
			return i, true // wait for the rest of the character
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			return i, false
		}
		i += size
	}
	return i, true
}

// libraryContext is the context handed to coder/websocket for one read or
// write. For a context that can be cancelled, the library registers a
// context.AfterFunc per frame read and per write (three allocations and a
// lock per echoed message, most of the server's garbage under load). The
// handler's own context (runCtx) ends only after the handler has returned
// and the connection has been closed, so cancelling it could never cut a
// read or write short: it is replaced by one that cannot be cancelled.
// Any other context (a handler's timeout, say) is passed on as it is.
func (c *client) libraryContext(ctx context.Context) context.Context {
	if ctx == c.runCtx {
		return context.Background()
	}
	return ctx
}

// write sends one message.
func (c *client) write(ctx context.Context, typ websocket.MessageType, msg []byte) error {
	if err := c.conn.Write(c.libraryContext(ctx), typ, msg); err != nil {
		return err
	}
	c.metrics.messagesSent.Inc()
	c.metrics.bytesSent.Add(float64(len(msg)))
	return nil
}

// close runs the closing handshake with code (the library waits up to 5 s
// for the peer's reply) and returns errClosedByServer.
func (c *client) close(code websocket.StatusCode, reason string) error {
	c.sentClose.CompareAndSwap(0, int32(code))
	_ = c.conn.Close(code, reason)
	return errClosedByServer
}

// pauseReads records that the handler stops reading for a while (a chat
// connection waits for room in the queues it sends to); resume records the
// end. A pong is only seen while the connection is read, so the heartbeat
// does not hold a pong missed meanwhile against the peer.
func (c *client) pauseReads() (resume func()) {
	c.pausedAt.Store(time.Now().UnixNano())
	return func() {
		c.resumedAt.Store(time.Now().UnixNano())
		c.pausedAt.Store(0)
	}
}

// readsPausedSince reports whether reading has been paused at any time since t.
func (c *client) readsPausedSince(t time.Time) bool {
	return c.pausedAt.Load() != 0 || c.resumedAt.Load() >= t.UnixNano()
}

// keepAlive pings the peer every interval until ctx is done. A peer that has
// not answered a ping by the time the next one is due is dropped. Between
// pings this is a timer, not a goroutine, which keeps idle connections small.
func (c *client) keepAlive(ctx context.Context, interval time.Duration) {
	var ping func()
	ping = func() {
		if ctx.Err() != nil {
			return
		}
		sent := time.Now()
		pingCtx, cancel := context.WithTimeout(ctx, interval)
		err := c.conn.Ping(pingCtx)
		cancel()
		switch {
		case err == nil:
			time.AfterFunc(interval-time.Since(sent), ping)
		case errors.Is(err, context.DeadlineExceeded) && c.readsPausedSince(sent):
			time.AfterFunc(0, ping) // the pong may be waiting unread: ask again
		case errors.Is(err, context.DeadlineExceeded):
			const reason = "no pong within ping interval"
			logEvent(slog.LevelWarn, "dropped", fmt.Sprintf("conn %d dropped: %s", c.id, reason),
				slog.Uint64("conn", c.id), slog.String("reason", reason))
			_ = c.conn.CloseNow()
		}
	}
	time.AfterFunc(interval, ping)
}

// closeCode is the close code a connection ended with, for the log: the one
// this server sent, else the peer's, else 1006 when the TCP connection just
// ended, else 1002 (the library closes with 1002 on protocol errors).
func (c *client) closeCode(err error) websocket.StatusCode {
	if code := c.sentClose.Load(); code != 0 {
		return websocket.StatusCode(code)
	}
	if code := websocket.CloseStatus(err); code != -1 {
		return code
	}
	if isConnectionLost(err) {
		return websocket.StatusAbnormalClosure
	}
	return websocket.StatusProtocolError
}

// isConnectionLost reports whether err means the TCP connection ended
// without a closing handshake.
func isConnectionLost(err error) bool {
	var opErr *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &opErr)
}
