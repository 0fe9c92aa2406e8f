//! The `session` part of the IR: the worker each session runs and what a
//! session retains (docs/protocol/session-v1.md).

use super::child::{command, env};
use super::security::one_of;
use super::{Checker, Settings};
use crate::ir::{Session, StderrMode, WhenFull};

pub(super) fn session(c: &mut Checker, s: &Settings) -> Session {
    Session {
        command: command(
            c,
            s,
            "session",
            "add `session: {command: [python3, worker.py]}` (the worker each session runs)",
        ),
        cwd: s.str("session.cwd").map(|v| v.value),
        env: env(c, s, "session"),
        max_sessions: c.int(s, "session.maxSessions"),
        max_clients_per_session: c.int(s, "session.maxClientsPerSession"),
        detach_timeout_ms: c.int(s, "session.detachTimeout"),
        replay_limit: c.int(s, "session.replay.limit"),
        when_full: one_of(c, s, "session.replay.whenFull", WhenFull::ALL),
        shutdown_grace_ms: c.int(s, "session.shutdownGrace"),
        stderr: one_of(c, s, "session.stderr", StderrMode::ALL),
    }
}
