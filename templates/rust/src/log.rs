//! The log lines on stderr: text (one line per event, as documented), or with
//! `WS_LOG_FORMAT=json` one JSON object per line: `ts` (RFC 3339, UTC,
//! milliseconds), `level`, `event`, then the event's fields.
//!
//! No credential, query string or JWT is ever passed here.

use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

static JSON: AtomicBool = AtomicBool::new(false);

/// Chooses the format of every line from now on.
pub fn init(json: bool) {
    JSON.store(json, Ordering::Relaxed);
}

/// Writes one event: `text` in text mode, else the JSON object.
fn emit(level: &str, event: &str, fields: &[(&str, Value)], text: impl FnOnce() -> String) {
    if !JSON.load(Ordering::Relaxed) {
        eprintln!("{}", text());
        return;
    }
    let ts = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    let mut line = format!(
        "{{\"ts\":{},\"level\":{},\"event\":{}",
        Value::from(ts),
        Value::from(level),
        Value::from(event)
    );
    for (key, value) in fields {
        line.push_str(&format!(",{}:{value}", Value::from(*key)));
    }
    line.push('}');
    eprintln!("{line}");
}

/// `listening on URL` (and chat's `page: URL`).
pub fn listening(url: &str, page: Option<&str>) {
    let mut fields = vec![("url", Value::from(url))];
    if let Some(page) = page {
        fields.push(("page", Value::from(page)));
    }
    emit("info", "listening", &fields, || match page {
        Some(page) => format!("listening on {url}\npage: {page}"),
        None => format!("listening on {url}"),
    });
}

/// `conn N open PEER subprotocol=P compression=on|off [user=U]`.
pub fn open(
    conn: u64,
    peer: SocketAddr,
    subprotocol: Option<&str>,
    compression: bool,
    user: Option<&str>,
) {
    let compression = if compression { "on" } else { "off" };
    let mut fields = vec![
        ("conn", Value::from(conn)),
        ("peer", Value::from(peer.to_string())),
        ("subprotocol", subprotocol.map_or(Value::Null, Value::from)),
        ("compression", Value::from(compression)),
    ];
    if let Some(user) = user {
        fields.push(("user", Value::from(user)));
    }
    emit("info", "open", &fields, || {
        let mut line = format!(
            "conn {conn} open {peer} subprotocol={} compression={compression}",
            subprotocol.unwrap_or("none")
        );
        if let Some(user) = user {
            line.push_str(&format!(" user={user}"));
        }
        line
    });
}

/// `conn N close code=C`.
pub fn close(conn: u64, code: u16) {
    let fields = [("conn", Value::from(conn)), ("code", Value::from(code))];
    emit("info", "close", &fields, || {
        format!("conn {conn} close code={code}")
    });
}

/// `conn N dropped: REASON`.
pub fn dropped(conn: u64, reason: &str) {
    let fields = [("conn", Value::from(conn)), ("reason", Value::from(reason))];
    emit("warn", "dropped", &fields, || {
        format!("conn {conn} dropped: {reason}")
    });
}

/// `rejected PEER status=S reason=R` (no status for a handshake timeout).
pub fn rejected(peer: SocketAddr, status: Option<u16>, reason: &str) {
    let mut fields = vec![("peer", Value::from(peer.to_string()))];
    if let Some(status) = status {
        fields.push(("status", Value::from(status)));
    }
    fields.push(("reason", Value::from(reason)));
    emit("warn", "rejected", &fields, || match status {
        Some(status) => format!("rejected {peer} status={status} reason={reason}"),
        None => format!("rejected {peer} reason={reason}"),
    });
}

/// `tls: reloaded certificate`.
pub fn reload() {
    emit("info", "reload", &[], || {
        "tls: reloaded certificate".to_string()
    });
}

/// `shutting down: closing N connections`.
pub fn shutdown(connections: usize) {
    let fields = [("connections", Value::from(connections))];
    emit("info", "shutdown", &fields, || {
        format!("shutting down: closing {connections} connections")
    });
}

/// `stopped`.
pub fn stopped() {
    emit("info", "stopped", &[], || "stopped".to_string());
}

/// `error: MESSAGE`.
pub fn error(message: &str) {
    let fields = [("message", Value::from(message))];
    emit("error", "error", &fields, || format!("error: {message}"));
}
