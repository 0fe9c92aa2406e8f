//! The frames of each wire protocol, declared once: the requests a client
//! sends, the frames a server sends back, and the error codes, as
//! docs/protocol/chat-v1.md and session-v1.md list them. The generated
//! client libraries (`--client`) make one type per frame from these tables
//! (the template context's `client.requests`, `client.events`,
//! `client.errors`), so a frame is written down here and nowhere else.

use crate::ir::{Server, ServerKind};
use serde::Serialize;

/// The JSON type of a frame's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldTy {
    String,
    Int,
    /// Any JSON value (a session's `input`, an event's `data`).
    Json,
    /// A list of strings (`members`).
    Strings,
    /// A list of chat `message` frames (`history`, `joined.history`).
    Messages,
}

impl FieldTy {
    pub const ALL: &[(&str, FieldTy)] = &[
        ("string", FieldTy::String),
        ("int", FieldTy::Int),
        ("json", FieldTy::Json),
        ("strings", FieldTy::Strings),
        ("messages", FieldTy::Messages),
    ];
}

/// One field of a frame. `type` and `ref` are not listed: every frame has a
/// `type`, every request may carry a `ref` and its direct answer copies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldTy,
    pub optional: bool,
}

/// One frame: its `type` and fields; for a request, the type of its direct
/// answer (`None`: no answer, as for `ack`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub name: &'static str,
    pub fields: Vec<Field>,
    pub reply: Option<&'static str>,
}

/// When a frame or field exists: always, or only with a chat feature.
#[derive(Clone, Copy)]
enum Needs {
    Always,
    Presence,
    History,
}

struct FrameDef {
    name: &'static str,
    needs: Needs,
    fields: &'static [(&'static str, FieldTy, bool, Needs)],
    reply: Option<&'static str>,
}

use FieldTy::{Int, Json, Messages, String as Str, Strings};
use Needs::{Always, History, Presence};

const fn def(
    name: &'static str,
    needs: Needs,
    fields: &'static [(&'static str, FieldTy, bool, Needs)],
    reply: Option<&'static str>,
) -> FrameDef {
    FrameDef {
        name,
        needs,
        fields,
        reply,
    }
}

const REQ: bool = false;
const OPT: bool = true;

/// chat-v1, "Client -> server".
const CHAT_REQUESTS: &[FrameDef] = &[
    def(
        "join",
        Always,
        &[("room", Str, REQ, Always), ("user", Str, OPT, Always)],
        Some("joined"),
    ),
    def("leave", Always, &[("room", Str, REQ, Always)], Some("left")),
    def(
        "message",
        Always,
        &[("room", Str, REQ, Always), ("text", Str, REQ, Always)],
        Some("message"),
    ),
    def(
        "members",
        Presence,
        &[("room", Str, REQ, Always)],
        Some("members"),
    ),
    def(
        "history",
        History,
        &[
            ("room", Str, REQ, Always),
            ("before", Int, OPT, Always),
            ("after", Int, OPT, Always),
            ("limit", Int, OPT, Always),
        ],
        Some("history"),
    ),
];

/// The fields of a chat `message` (also the entries of a history).
const CHAT_MESSAGE: &[(&str, FieldTy, bool, Needs)] = &[
    ("room", Str, REQ, Always),
    ("user", Str, REQ, Always),
    ("text", Str, REQ, Always),
    ("id", Int, REQ, Always),
    ("ts", Int, REQ, Always),
];

/// chat-v1, "Server -> client".
const CHAT_EVENTS: &[FrameDef] = &[
    def(
        "joined",
        Always,
        &[
            ("room", Str, REQ, Always),
            ("user", Str, REQ, Always),
            ("members", Strings, REQ, Presence),
            ("history", Messages, REQ, History),
        ],
        None,
    ),
    def(
        "presence",
        Presence,
        &[
            ("room", Str, REQ, Always),
            ("user", Str, REQ, Always),
            ("event", Str, REQ, Always),
        ],
        None,
    ),
    def("message", Always, CHAT_MESSAGE, None),
    def("left", Always, &[("room", Str, REQ, Always)], None),
    def(
        "members",
        Presence,
        &[
            ("room", Str, REQ, Always),
            ("members", Strings, REQ, Always),
        ],
        None,
    ),
    def(
        "history",
        History,
        &[
            ("room", Str, REQ, Always),
            ("messages", Messages, REQ, Always),
        ],
        None,
    ),
    def(
        "error",
        Always,
        &[("code", Str, REQ, Always), ("message", Str, REQ, Always)],
        None,
    ),
];

/// chat-v1, "Errors", in the order of precedence.
const CHAT_ERRORS: &[&str] = &[
    "rate_limited",
    "bad_json",
    "bad_request",
    "unknown_type",
    "feature_disabled",
    "rooms_disabled",
    "too_long",
    "forbidden",
    "user_mismatch",
    "name_taken",
    "too_many_rooms",
    "not_joined",
    "unavailable",
];

/// session-v1, "Client -> server".
const SESSION_REQUESTS: &[FrameDef] = &[
    def(
        "start",
        Always,
        &[("input", Json, OPT, Always)],
        Some("started"),
    ),
    def(
        "attach",
        Always,
        &[
            ("session", Str, REQ, Always),
            ("token", Str, REQ, Always),
            ("after", Int, OPT, Always),
        ],
        Some("attached"),
    ),
    def("detach", Always, &[], Some("detached")),
    def(
        "input",
        Always,
        &[("data", Json, REQ, Always)],
        Some("accepted"),
    ),
    def("interrupt", Always, &[], Some("accepted")),
    def("end", Always, &[], Some("accepted")),
    def("ack", Always, &[("seq", Int, REQ, Always)], None),
];

/// session-v1, "Server -> client". `stderr` events are listed whatever the
/// spec's `stderr` says: `WS_SESSION_STDERR` can turn forwarding on at run time.
const SESSION_EVENTS: &[FrameDef] = &[
    def(
        "started",
        Always,
        &[("session", Str, REQ, Always), ("token", Str, REQ, Always)],
        None,
    ),
    def(
        "attached",
        Always,
        &[("session", Str, REQ, Always), ("last", Int, REQ, Always)],
        None,
    ),
    def(
        "event",
        Always,
        &[
            ("session", Str, REQ, Always),
            ("seq", Int, REQ, Always),
            ("data", Json, REQ, Always),
        ],
        None,
    ),
    def(
        "stderr",
        Always,
        &[
            ("session", Str, REQ, Always),
            ("seq", Int, REQ, Always),
            ("text", Str, REQ, Always),
        ],
        None,
    ),
    def(
        "exit",
        Always,
        &[
            ("session", Str, REQ, Always),
            ("seq", Int, REQ, Always),
            ("code", Int, OPT, Always),
            ("signal", Int, OPT, Always),
        ],
        None,
    ),
    def("detached", Always, &[("session", Str, REQ, Always)], None),
    def("accepted", Always, &[], None),
    def(
        "error",
        Always,
        &[
            ("code", Str, REQ, Always),
            ("message", Str, REQ, Always),
            ("oldest", Int, OPT, Always),
        ],
        None,
    ),
];

/// session-v1, "Errors", in the order of precedence.
const SESSION_ERRORS: &[&str] = &[
    "rate_limited",
    "bad_json",
    "bad_request",
    "unknown_type",
    "already_attached",
    "not_attached",
    "session_limit",
    "start_failed",
    "unknown_session",
    "busy",
    "replay_gap",
    "ended",
];

/// The typed errors of a generated client library itself
/// (docs/protocol/clients-v1.md): why a request or the whole client failed
/// when the server sent no error code.
pub const LIBRARY_ERRORS: &[&str] = &[
    "unauthorized",
    "refused",
    "closed",
    "retries_exhausted",
    "timeout",
    "connection_lost",
    "start_lost",
    "closed_by_client",
];

/// A server's protocol: what its clients send and receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protocol {
    pub requests: Vec<Frame>,
    pub events: Vec<Frame>,
    pub errors: Vec<&'static str>,
}

impl Protocol {
    /// The frames `server` speaks, its features applied. Echo has none (its
    /// messages are the application's own); mcp's are MCP's (JSON-RPC).
    pub fn of(server: &Server) -> Protocol {
        let has = |needs: Needs| match needs {
            Always => true,
            Presence => server.chat.as_ref().is_some_and(|c| c.presence),
            History => server.chat.as_ref().is_some_and(|c| c.history),
        };
        let frames = |defs: &[FrameDef]| -> Vec<Frame> {
            defs.iter()
                .filter(|d| has(d.needs))
                .map(|d| Frame {
                    name: d.name,
                    fields: d
                        .fields
                        .iter()
                        .filter(|f| has(f.3))
                        .map(|&(name, ty, optional, _)| Field { name, ty, optional })
                        .collect(),
                    reply: d.reply,
                })
                .collect()
        };
        match server.kind {
            ServerKind::Chat => Protocol {
                requests: frames(CHAT_REQUESTS),
                events: frames(CHAT_EVENTS),
                errors: CHAT_ERRORS.to_vec(),
            },
            ServerKind::Session => Protocol {
                requests: frames(SESSION_REQUESTS),
                events: frames(SESSION_EVENTS),
                errors: SESSION_ERRORS.to_vec(),
            },
            ServerKind::Echo | ServerKind::Mcp => Protocol {
                requests: vec![],
                events: vec![],
                errors: vec![],
            },
        }
    }
}

/// Bytes a chat `message` frame can take at most, for a text of `max_chars`
/// code points: each may be escaped as `\uXXXX\uXXXX` (12 bytes) by a
/// server that writes ASCII-only JSON, plus the fixed fields.
fn chat_message_bytes(max_chars: u64, room_max: u64, user_max: u64) -> u64 {
    const ENVELOPE: u64 = 128; // type, keys, quotes, id and ts digits
    ENVELOPE + 12 * max_chars + room_max + user_max
}

/// The largest frame `server` may send a client: the library's max message
/// size (docs/protocol/clients-v1.md) is the larger of this and `maxPayload`.
pub fn largest_server_frame(server: &Server) -> u64 {
    let c = &crate::contract::CONTRACT;
    match (&server.kind, &server.chat, &server.session) {
        (ServerKind::Chat, Some(chat), _) => {
            let message = chat_message_bytes(
                chat.max_message_length,
                c.room_name_max_len,
                c.user_name_max_len,
            );
            let history = if chat.history {
                chat.history_limit * (message + 1)
            } else {
                0
            };
            // members: every connection the server admits, each a quoted
            // name and a comma (unlimited connections: a generous 10,000).
            let connections = match server.security.max_connections {
                0 => 10_000,
                n => n,
            };
            let members = if chat.presence {
                connections * (c.user_name_max_len + 3)
            } else {
                0
            };
            256 + history + members
        }
        // A worker's line is at most maxPayload - margin; forwarded stderr
        // text is escaped JSON (up to 6 bytes a byte).
        (ServerKind::Session, _, Some(_)) => 6 * server.max_payload + 256,
        _ => server.max_payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(yaml: &str) -> Server {
        crate::pipeline::server_from_str("t.yaml", yaml).expect("spec")
    }

    #[test]
    fn chat_frames_follow_the_features() {
        let all = Protocol::of(&server("type: chat\n"));
        let names: Vec<_> = all.requests.iter().map(|f| f.name).collect();
        assert_eq!(names, ["join", "leave", "message", "members", "history"]);
        let bare = Protocol::of(&server("type: chat\nfeatures: [rooms]\n"));
        let names: Vec<_> = bare.requests.iter().map(|f| f.name).collect();
        assert_eq!(names, ["join", "leave", "message"]);
        let joined = bare.events.iter().find(|f| f.name == "joined").unwrap();
        let fields: Vec<_> = joined.fields.iter().map(|f| f.name).collect();
        assert_eq!(fields, ["room", "user"]);
        assert!(bare.events.iter().all(|f| f.name != "presence"));
    }

    #[test]
    fn every_request_answer_is_an_event() {
        for yaml in ["type: chat\n", "type: session\nsession: {command: [w]}\n"] {
            let p = Protocol::of(&server(yaml));
            for r in &p.requests {
                if let Some(reply) = r.reply {
                    assert!(p.events.iter().any(|e| e.name == reply), "{reply}");
                }
            }
            assert!(p.errors.contains(&"bad_json"));
        }
    }

    #[test]
    fn the_largest_frame_holds_a_full_history() {
        let s = server("type: chat\nmaxPayload: 1024\n");
        let chat = s.chat.as_ref().unwrap();
        assert!(largest_server_frame(&s) > chat.history_limit * chat.max_message_length);
        assert_eq!(largest_server_frame(&server("maxPayload: 1024\n")), 1024);
    }
}
