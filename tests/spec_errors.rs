//! A table of bad specs -> the message, line and column each must report.

use wsgen::pipeline::server_from_str;

struct Case {
    yaml: &'static str,
    message: &'static str,
    line: usize,
    column: usize,
    help: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        yaml: "name: x\nprot: 8080\n",
        message: "unknown key `prot`",
        line: 2,
        column: 1,
        help: Some("did you mean `port`?"),
    },
    Case {
        yaml: "name: x\npingIntervall: 5\n",
        message: "unknown key `pingIntervall`",
        line: 2,
        column: 1,
        help: Some("did you mean `pingInterval`?"),
    },
    Case {
        yaml: "compression:\n  thresold: 5\n",
        message: "unknown key `thresold`",
        line: 2,
        column: 3,
        help: Some("did you mean `threshold`?"),
    },
    Case {
        yaml: "type: chat\nhistory:\n  limt: 5\n",
        message: "unknown key `limt`",
        line: 3,
        column: 3,
        help: Some("did you mean `limit`?"),
    },
    Case {
        yaml: "port: \"abc\"\n",
        message: "expected an integer",
        line: 1,
        column: 7,
        help: None,
    },
    Case {
        yaml: "port: 70000\n",
        message: "`port` must be between 1 and 65535, got 70000",
        line: 1,
        column: 7,
        help: None,
    },
    Case {
        yaml: "port: 0\n",
        message: "`port` must be between 1 and 65535, got 0",
        line: 1,
        column: 7,
        help: None,
    },
    Case {
        yaml: "path: ws\n",
        message: "`path` must start with `/`, got \"ws\"",
        line: 1,
        column: 7,
        help: Some("write `/ws`"),
    },
    Case {
        yaml: "path: \"/a b\"\n",
        message: "`path` contains ' ', which is not allowed in a URL path",
        line: 1,
        column: 7,
        help: None,
    },
    Case {
        yaml: "path: /healthz\n",
        message: "`path` cannot be `/healthz`: every generated server serves its health check there",
        line: 1,
        column: 7,
        help: None,
    },
    Case {
        yaml: "type: chatt\n",
        message: "unknown server type `chatt`",
        line: 1,
        column: 7,
        help: Some("did you mean `chat`?"),
    },
    Case {
        yaml: "subprotocols: [\"a b\"]\n",
        message: "subprotocol \"a b\" is not a valid RFC 7230 token",
        line: 1,
        column: 16,
        help: None,
    },
    Case {
        yaml: "subprotocols: [x, y, x]\n",
        message: "subprotocol `x` is listed twice",
        line: 1,
        column: 22,
        help: Some("remove the duplicate"),
    },
    Case {
        yaml: "requireSubprotocol: true\n",
        message: "`requireSubprotocol: true` needs a non-empty `subprotocols` list",
        line: 1,
        column: 21,
        help: None,
    },
    Case {
        yaml: "compression:\n  serverMaxWindowBits: 7\n",
        message: "`serverMaxWindowBits` must be between 8 and 15 (RFC 7692), got 7",
        line: 2,
        column: 24,
        help: None,
    },
    Case {
        yaml: "compression:\n  clientMaxWindowBits: 16\n",
        message: "`clientMaxWindowBits` must be between 8 and 15 (RFC 7692), got 16",
        line: 2,
        column: 24,
        help: None,
    },
    Case {
        yaml: "compression:\n  threshold: -1\n",
        message: "`threshold` must be 0 or more bytes, got -1",
        line: 2,
        column: 14,
        help: None,
    },
    Case {
        yaml: "compression: maybe\n",
        message: "expected true, false, or a map of permessage-deflate parameters, got string \"maybe\"",
        line: 1,
        column: 0,
        help: None,
    },
    Case {
        yaml: "features: [rooms]\n",
        message: "type `echo` has no features, got `rooms`",
        line: 1,
        column: 12,
        help: None,
    },
    Case {
        yaml: "type: chat\nfeatures: [rooms, presense]\n",
        message: "unknown feature `presense` for type `chat`",
        line: 2,
        column: 19,
        help: Some("did you mean `presence`?"),
    },
    Case {
        yaml: "type: chat\nfeatures: [rooms, rooms]\n",
        message: "feature `rooms` is listed twice",
        line: 2,
        column: 19,
        help: None,
    },
    Case {
        yaml: "maxPayload: 0\n",
        message: "`maxPayload` must be between 1 and 1099511627776, got 0",
        line: 1,
        column: 13,
        help: None,
    },
    Case {
        yaml: "pingInterval: -5\n",
        message: "`pingInterval` must be between 1 and 86400000, got -5",
        line: 1,
        column: 15,
        help: None,
    },
    Case {
        yaml: "maxMessageLength: 10\n",
        message: "`maxMessageLength` applies only to `type: chat`",
        line: 1,
        column: 19,
        help: None,
    },
    Case {
        yaml: "type: chat\nfeatures: [rooms]\nhistory:\n  limit: 5\n",
        message: "`history` settings need the `history` feature",
        line: 4,
        column: 3,
        help: None,
    },
    Case {
        yaml: "type: chat\nhistory:\n  limit: 0\n",
        message: "`history.limit` must be between 1 and 1000000, got 0",
        line: 3,
        column: 10,
        help: None,
    },
    Case {
        yaml: "name: \"\"\n",
        message: "`name` must not be empty",
        line: 1,
        column: 7,
        help: None,
    },
    Case {
        yaml: "name: [x\n",
        message: "",
        line: 1,
        column: 0,
        help: None,
    },
    Case {
        yaml: "{\"name\": \"x\", \"port\": 99999}",
        message: "`port` must be between 1 and 65535, got 99999",
        line: 1,
        column: 23,
        help: None,
    },
    Case {
        yaml: "allowedOrigins: [\"https://a.example.com/app\"]\n",
        message: "\"https://a.example.com/app\" is not an origin",
        line: 1,
        column: 18,
        help: None,
    },
    Case {
        yaml: "auth:\n  type: jwtt\n",
        message: "`type` must be one of none, token, jwt, got `jwtt`",
        line: 2,
        column: 9,
        help: Some("did you mean `jwt`?"),
    },
    Case {
        yaml: "auth:\n  type: token\n  issuer: x\n",
        message: "`issuer` applies only to `type: jwt`",
        line: 3,
        column: 11,
        help: Some("remove it, or set `type: jwt`"),
    },
    Case {
        yaml: "auth:\n  type: jwt\n  algorithms: [HS256, RS256]\n",
        message: "`algorithms` mixes HMAC (HS*) and public-key algorithms",
        line: 3,
        column: 15,
        help: None,
    },
    Case {
        yaml: "auth:\n  algorithms: [HS256]\n",
        message: "`auth` needs `type`",
        line: 2,
        column: 3,
        help: None,
    },
    Case {
        yaml: "rateLimit:\n  messages: 5\n",
        message: "`rateLimit` needs `per`",
        line: 2,
        column: 3,
        help: None,
    },
    Case {
        yaml: "handshakeTimeout: 5\n",
        message: "`handshakeTimeout` must be between 100 and 600000 ms, got 5",
        line: 1,
        column: 19,
        help: None,
    },
    Case {
        yaml: "logFormat: jsn\n",
        message: "`logFormat` must be one of text, json, got `jsn`",
        line: 1,
        column: 12,
        help: Some("did you mean `json`?"),
    },
];

#[test]
fn bad_specs_report_message_line_and_column() {
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let errors = match server_from_str("spec.yaml", case.yaml) {
            Ok(_) => {
                failures.push(format!("case {i} {:?}: accepted", case.yaml));
                continue;
            }
            Err(e) => e,
        };
        let e = &errors.0[0];
        let column_ok = case.column == 0 || e.column == case.column;
        let help_ok = case.help.is_none_or(|h| e.help.as_deref() == Some(h));
        if !e.message.contains(case.message) || e.line != case.line || !column_ok || !help_ok {
            failures.push(format!(
                "case {i} {:?}: got {}:{} {:?} help {:?}; want {}:{} {:?} help {:?}",
                case.yaml,
                e.line,
                e.column,
                e.message,
                e.help,
                case.line,
                case.column,
                case.message,
                case.help
            ));
        }
        // The rendering names file:line:column and shows the line with a caret.
        let text = errors.render();
        assert!(
            text.starts_with(&format!("spec.yaml:{}:", e.line)),
            "{text}"
        );
        assert!(
            text.contains(&format!("{} │", e.line)),
            "no snippet in\n{text}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    // Unknown keys too: they no longer stop the checks of the other keys.
    let errors = server_from_str(
        "spec.yaml",
        "port: 0\npath: x\nprot: 1\nmaxPayload: 0\ncompression:\n  thresold: 1\n",
    )
    .unwrap_err();
    let lines: Vec<usize> = errors.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![1, 2, 3, 4, 6]);
}

#[test]
fn values_of_the_wrong_type_do_not_stop_the_other_checks() {
    let errors = server_from_str(
        "spec.yaml",
        "port: \"abc\"\nprot: 1\npath: x\ncompression:\n  threshold: [1]\nrequireSubprotocol: 3\n",
    )
    .unwrap_err();
    let got: Vec<(usize, &str)> = errors
        .0
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "`port`: expected an integer, got string \"abc\""),
            (2, "unknown key `prot`"),
            (3, "`path` must start with `/`, got \"x\""),
            (
                5,
                "`compression.threshold`: expected an integer, got a list"
            ),
            (
                6,
                "`requireSubprotocol`: expected true or false, got integer 3"
            ),
        ]
    );
}

#[test]
fn good_specs_resolve_with_defaults() {
    let s = server_from_str("x.yaml", "name: demo\n").unwrap();
    assert_eq!(
        (s.port, s.path.as_str(), s.max_payload, s.ping_interval_ms),
        (8080, "/", 104_857_600, 30_000)
    );
    let c = server_from_str("c.yaml", "type: chat\n").unwrap();
    let chat = c.chat.unwrap();
    assert!(chat.rooms && chat.presence && chat.history);
    assert_eq!(
        (
            chat.history_limit,
            chat.max_message_length,
            chat.max_rooms_per_connection,
            chat.send_queue_limit
        ),
        (50, 4096, 16, 1024)
    );
    let z = server_from_str("z.yaml", "compression:\n  serverNoContextTakeover: true\n").unwrap();
    assert!(z.compression.enabled && z.compression.server_no_context_takeover);
    let off = server_from_str("o.yaml", "compression: false\n").unwrap();
    assert!(!off.compression.enabled);
}
