#!/usr/bin/env python3
"""Writes generated-tests/chat*.yaml: the chat-v1 scenario suites.

The suites are long and repetitive (every error code, each limit read from
the spec under test through placeholders), so they are written from this
script; edit it and run
`python3 generated-tests/tools/gen_chat.py`, then commit both. The YAML files
are what `wsgen verify` plays.
"""
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GENERATED = "# Written by generated-tests/tools/gen_chat.py: edit that script, not this file."

# Limits come from the spec under test and from wsgen's contract, as
# placeholders the scenario engine expands (docs/scenarios.md).
MSG_LEN = "${spec.chat.max_message_length}"
HISTORY = "${spec.chat.history_limit}"
ROOM_LEN = "${contract.room_name_max_len}"
USER_LEN = "${contract.user_name_max_len}"


def repeat(size, text):
    """A string of `text` repeated `size` times (a size expression)."""
    return f"$repeat:{size}:{text}"


def num(size):
    """The number `size` (a size expression)."""
    return f"$int:{size}"


LONG_ROOM = repeat(ROOM_LEN, "r")
LONG_USER = repeat(USER_LEN, "u")
def flow(v):
    return json.dumps(v, ensure_ascii=False)

out = []
def scen(name, steps, clients=None, requires=None, applies_specs=None):
    out.append((name, steps, clients, requires))

def S(client, action, value, **mods):
    d = {"client": client, action: value}
    d.update(mods)
    return d

def join(c, room, user, **kw):
    m = {"type": "join", "room": room, "user": user}; m.update(kw); return S(c, "sendJson", m)
def send(c, msg): return S(c, "sendJson", msg)
def expect(c, pat, **mods): return S(c, "expectJson", pat, **mods)
def err(c, code, **kw):
    p = {"type": "error", "code": code, "message": "$string"}; p.update(kw); return expect(c, p)

# ---------- chat.yaml: rooms on, all features (requires rooms, presence, history)
FULL = ["rooms", "presence", "history"]
scen("join, presence to the others, members, leave", [
    join("a", "s1", "alice"),
    expect("a", {"type": "joined", "room": "s1", "user": "alice", "members": ["alice"], "history": []}),
    join("b", "s1", "Bob"),
    expect("b", {"type": "joined", "room": "s1", "user": "Bob", "members": ["Bob", "alice"], "history": []}),
    expect("a", {"type": "presence", "room": "s1", "user": "Bob", "event": "join"}),
    send("a", {"type": "members", "room": "s1", "ref": "m1"}),
    expect("a", {"type": "members", "room": "s1", "members": ["Bob", "alice"], "ref": "m1"}),
    send("b", {"type": "leave", "room": "s1", "ref": 3}),
    expect("b", {"type": "left", "room": "s1", "ref": 3}),
    expect("a", {"type": "presence", "room": "s1", "user": "Bob", "event": "leave"}),
    send("a", {"type": "members", "room": "s1"}),
    expect("a", {"type": "members", "room": "s1", "members": ["alice"]}),
], {"a": {}, "b": {}}, FULL)

scen("a message reaches every member; ref only on the sender's copy", [
    join("a", "s2", "alice"), expect("a", {"type": "joined", "$partial": True}),
    join("b", "s2", "bob"), expect("b", {"type": "joined", "$partial": True}),
    expect("a", {"type": "presence", "room": "s2", "user": "bob", "event": "join"}),
    send("a", {"type": "message", "room": "s2", "text": "hi bob", "ref": 7}),
    expect("a", {"type": "message", "room": "s2", "user": "alice", "text": "hi bob", "id": 1, "ts": "$int", "ref": 7}),
    expect("b", {"type": "message", "room": "s2", "user": "alice", "text": "hi bob", "id": 1, "ts": "$int"}),
    send("b", {"type": "message", "room": "s2", "text": "héllo 🎉 \"quoted\" \\ back"}),
    expect("b", {"type": "message", "room": "s2", "user": "bob", "text": "héllo 🎉 \"quoted\" \\ back", "id": 2, "ts": "$int"}),
    expect("a", {"type": "message", "room": "s2", "user": "bob", "text": "héllo 🎉 \"quoted\" \\ back", "id": 2, "ts": "$int"}),
], {"a": {}, "b": {}}, FULL)

scen("ref is copied back verbatim: strings, numbers, 0 and the empty string", [
    join("a", "s3", "alice", ref=""), expect("a", {"type": "joined", "room": "s3", "user": "alice", "ref": "", "$partial": True}),
    send("a", {"type": "message", "room": "s3", "text": "x", "ref": 0}),
    expect("a", {"type": "message", "room": "s3", "user": "alice", "text": "x", "id": 1, "ts": "$int", "ref": 0}),
    send("a", {"type": "message", "room": "s3", "text": "y", "ref": "req-42"}),
    expect("a", {"type": "message", "room": "s3", "user": "alice", "text": "y", "id": 2, "ts": "$int", "ref": "req-42"}),
    send("a", {"type": "message", "room": "s3", "text": "z", "ref": -12.5}),
    expect("a", {"type": "message", "room": "s3", "user": "alice", "text": "z", "id": 3, "ts": "$int", "ref": -12.5}),
    send("a", {"type": "leave", "room": "nope", "ref": 99}),
    err("a", "not_joined", ref=99),
    send("a", {"type": "leave", "room": "s3", "ref": 123456789}),
    expect("a", {"type": "left", "room": "s3", "ref": 123456789}),
], {"a": {}}, ["rooms"])

scen("a ref of another JSON type is bad_request", [
    send("a", {"type": "join", "room": "s4", "user": "alice", "ref": {"x": 1}}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s4", "user": "alice", "ref": [1]}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s4", "user": "alice", "ref": True}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s4", "user": "alice", "ref": None}), err("a", "bad_request"),
    join("a", "s4", "alice", ref=1), expect("a", {"type": "joined", "ref": 1, "$partial": True}),
], {"a": {}}, ["rooms"])

scen("bad_json: not JSON, not an object, trailing data, NaN, lone surrogates", [
    S("a", "sendText", "not json"), err("a", "bad_json"),
    S("a", "sendText", "[1,2]"), err("a", "bad_json"),
    S("a", "sendText", "\"join\""), err("a", "bad_json"),
    S("a", "sendText", "null"), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"alice"} x'), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"alice"}{}'), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"alice","n":NaN}'), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"alice","n":Infinity}'), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"\\ud800"}'), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"a","x":"\\udc00\\ud800"}'), err("a", "bad_json"),
    S("a", "sendText", "{'type':'join'}"), err("a", "bad_json"),
    S("a", "sendText", ""), err("a", "bad_json"),
    S("a", "sendText", '{"type":"join","room":"s5","user":"alice"}'), expect("a", {"type": "joined", "$partial": True}),
    S("a", "sendText", '{"type":"message","room":"s5","text":"pair \\ud83d\\ude00 ok"}'),
    expect("a", {"type": "message", "room": "s5", "user": "alice", "text": "pair 😀 ok", "id": 1, "ts": "$int"}),
], {"a": {}}, ["rooms"])

scen("type: missing or not a string is bad_request, unknown is unknown_type", [
    send("a", {"room": "s6", "user": "alice"}), err("a", "bad_request"),
    send("a", {"type": 5, "room": "s6"}), err("a", "bad_request"),
    send("a", {"type": None}), err("a", "bad_request"),
    send("a", {"type": "dance", "ref": "r"}), err("a", "unknown_type", ref="r"),
    send("a", {"type": "JOIN", "room": "s6", "user": "alice"}), err("a", "unknown_type"),
    send("a", {"type": "dance", "room": 12, "user": ["x"]}), err("a", "unknown_type"),
], {"a": {}}, None)

scen("field checks are bad_request", [
    send("a", {"type": "join", "room": "s7"}), err("a", "bad_request"),
    send("a", {"type": "join", "user": "alice"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s7", "user": ""}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s7", "user": "al ice"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s7", "user": "alicé"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s7", "user": repeat(f"{USER_LEN} + 1", "u")}), err("a", "bad_request"),
    send("a", {"type": "join", "room": repeat(f"{ROOM_LEN} + 1", "r"), "user": "alice"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "", "user": "alice"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": "s/7", "user": "alice"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": 7, "user": "alice"}), err("a", "bad_request"),
    send("a", {"type": "join", "room": LONG_ROOM, "user": LONG_USER}),
    expect("a", {"type": "joined", "room": LONG_ROOM, "user": LONG_USER, "$partial": True}),
    send("a", {"type": "message", "room": LONG_ROOM, "text": ""}), err("a", "bad_request"),
    send("a", {"type": "message", "room": LONG_ROOM, "text": 5}), err("a", "bad_request"),
    send("a", {"type": "message", "room": LONG_ROOM}), err("a", "bad_request"),
    send("a", {"type": "message", "text": "x"}), err("a", "bad_request"),
    send("a", {"type": "leave"}), err("a", "bad_request"),
    send("a", {"type": "message", "room": LONG_ROOM, "text": "ok", "extra": {"ignored": True}}),
    expect("a", {"type": "message", "room": LONG_ROOM, "user": LONG_USER, "text": "ok", "id": 1, "ts": "$int"}),
], {"a": {}}, ["rooms"])

scen("history fields: before >= 1, limit 1..history limit", [
    join("a", "s8", "alice"), expect("a", {"type": "joined", "$partial": True}),
    send("a", {"type": "history", "room": "s8", "before": 0}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s8", "before": -1}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s8", "before": 1.5}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s8", "before": "3"}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s8", "limit": 0}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s8", "limit": num(f"{HISTORY} + 1")}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s8", "limit": num(HISTORY), "ref": "h"}),
    expect("a", {"type": "history", "room": "s8", "messages": [], "ref": "h"}),
], {"a": {}}, ["rooms", "history"])

# `after` is an integer >= 0 (chat-v1 "Names and values"): 0 is valid (every
# kept message), and each bad value gets what the same bad value of `before`
# gets, bad_request, at the same step of the precedence (before not_joined).
BAD_BOUNDS = [-1, 1.5, "3", None, True, {"id": 3}]
scen("history fields: after >= 0, bad values as for before", [
    join("a", "s23", "alice"), expect("a", {"type": "joined", "$partial": True}),
    *[step for bad in BAD_BOUNDS for field in ("before", "after") for step in (
        send("a", {"type": "history", "room": "s23", field: bad}), err("a", "bad_request"))],
    send("a", {"type": "history", "room": "s23", "before": 0}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s23", "after": 0, "ref": "a0"}),
    expect("a", {"type": "history", "room": "s23", "messages": [], "ref": "a0"}),
    send("a", {"type": "history", "room": "s23", "after": -1, "before": 3}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s23", "after": 1, "before": True}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s23", "after": 1, "limit": 0}), err("a", "bad_request"),
    send("a", {"type": "history", "room": "s23", "after": 1000000, "limit": num(HISTORY)}),
    expect("a", {"type": "history", "room": "s23", "messages": []}),
    send("a", {"type": "history", "room": "s23-out", "after": -1, "ref": 7}), err("a", "bad_request", ref=7),
    send("a", {"type": "history", "room": "s23-out", "after": 0}), err("a", "not_joined"),
], {"a": {}}, ["rooms", "history"])

scen("history on join and paging with before and limit", [
    join("a", "s9", "alice"), expect("a", {"type": "joined", "$partial": True}),
    send("a", {"type": "message", "room": "s9", "text": "one"}),
    expect("a", {"type": "message", "room": "s9", "user": "alice", "text": "one", "id": "$capture:id1", "ts": "$capture:ts1"}),
    send("a", {"type": "message", "room": "s9", "text": "two"}),
    expect("a", {"type": "message", "room": "s9", "user": "alice", "text": "two", "id": "$capture:id2", "ts": "$capture:ts2"}),
    send("a", {"type": "message", "room": "s9", "text": "three"}),
    expect("a", {"type": "message", "room": "s9", "user": "alice", "text": "three", "id": "$capture:id3", "ts": "$capture:ts3"}),
    join("b", "s9", "bob"),
    expect("b", {"type": "joined", "room": "s9", "user": "bob", "members": ["alice", "bob"], "history": [
        {"type": "message", "room": "s9", "user": "alice", "text": "one", "id": 1, "ts": "$var:ts1"},
        {"type": "message", "room": "s9", "user": "alice", "text": "two", "id": 2, "ts": "$var:ts2"},
        {"type": "message", "room": "s9", "user": "alice", "text": "three", "id": 3, "ts": "$var:ts3"}]}),
    send("b", {"type": "history", "room": "s9", "ref": 1}),
    expect("b", {"type": "history", "room": "s9", "ref": 1, "messages": [
        {"type": "message", "room": "s9", "user": "alice", "text": "one", "id": 1, "ts": "$var:ts1"},
        {"type": "message", "room": "s9", "user": "alice", "text": "two", "id": 2, "ts": "$var:ts2"},
        {"type": "message", "room": "s9", "user": "alice", "text": "three", "id": 3, "ts": "$var:ts3"}]}),
    send("b", {"type": "history", "room": "s9", "before": 3}),
    expect("b", {"type": "history", "room": "s9", "messages": [
        {"type": "message", "room": "s9", "user": "alice", "text": "one", "id": 1, "ts": "$var:ts1"},
        {"type": "message", "room": "s9", "user": "alice", "text": "two", "id": 2, "ts": "$var:ts2"}]}),
    send("b", {"type": "history", "room": "s9", "before": 3, "limit": 1}),
    expect("b", {"type": "history", "room": "s9", "messages": [
        {"type": "message", "room": "s9", "user": "alice", "text": "two", "id": 2, "ts": "$var:ts2"}]}),
    send("b", {"type": "history", "room": "s9", "limit": 2}),
    expect("b", {"type": "history", "room": "s9", "messages": [
        {"type": "message", "room": "s9", "user": "alice", "text": "two", "id": 2, "ts": "$var:ts2"},
        {"type": "message", "room": "s9", "user": "alice", "text": "three", "id": 3, "ts": "$var:ts3"}]}),
    send("b", {"type": "history", "room": "s9", "before": 1}),
    expect("b", {"type": "history", "room": "s9", "messages": []}),
    send("b", {"type": "history", "room": "s9", "before": 1000000}),
    expect("b", {"type": "history", "room": "s9", "messages": "$any"}),
], {"a": {}, "b": {}}, FULL)

# The spec's history limit L: send L + 5 messages (ids 1..L+5); ids 6..L+5 stay.
SENT = f"{HISTORY} + 5"
def kept(id_, text="$string"):
    return {"type": "message", "room": "s10", "user": "alice", "text": text, "id": id_, "ts": "$int"}
hist_steps = [join("a", "s10", "alice"), expect("a", {"type": "joined", "$partial": True}),
    {"burst": {"clients": ["a"], "count": SENT, "json": {"type": "message", "room": "s10", "text": "m${i}"}}},
    {"client": "a", "collect": {"count": SENT, "match": {"type": "message", "room": "s10", "user": "alice", "$partial": True}, "as": "sent"}},
    {"assert": {"increasing": ["sent"], "field": "id"}},
    send("a", {"type": "history", "room": "s10", "limit": 2}),
    expect("a", {"type": "history", "room": "s10", "messages": [kept(num(f"{HISTORY} + 4")), kept(num(f"{HISTORY} + 5"))]}),
    send("a", {"type": "history", "room": "s10", "before": 7}),
    expect("a", {"type": "history", "room": "s10", "messages": [kept(6, "m5")]}),
    send("a", {"type": "history", "room": "s10", "before": 6}),
    expect("a", {"type": "history", "room": "s10", "messages": []}),
    join("b", "s10", "bob"),
    expect("b", {"type": "joined", "room": "s10", "user": "bob", "members": ["alice", "bob"], "history": "$any"}),
]
scen("history keeps the newest history.limit messages", hist_steps, {"a": {}, "b": {}}, FULL)

def said(room, id_, text):
    return {"type": "message", "room": room, "user": "alice", "text": text, "id": id_, "ts": "$int"}
def page(room, ids):
    return {"type": "history", "room": room, "messages": [said(room, i, f"m{i}") for i in ids]}
steps = [join("a", "s24", "alice"), expect("a", {"type": "joined", "$partial": True})]
for i in range(1, 7):
    steps += [send("a", {"type": "message", "room": "s24", "text": f"m{i}"}),
              expect("a", said("s24", i, f"m{i}"))]
steps += [
    # after alone: the OLDEST messages above it, oldest first (all six fit)
    send("a", {"type": "history", "room": "s24", "after": 0}), expect("a", page("s24", [1, 2, 3, 4, 5, 6])),
    send("a", {"type": "history", "room": "s24", "after": 2, "ref": "r"}),
    expect("a", {**page("s24", [3, 4, 5, 6]), "ref": "r"}),
    send("a", {"type": "history", "room": "s24", "after": 2.0}), expect("a", page("s24", [3, 4, 5, 6])),
    # with limit: the oldest `limit` above after (without after: the newest)
    send("a", {"type": "history", "room": "s24", "after": 1, "limit": 2}), expect("a", page("s24", [2, 3])),
    send("a", {"type": "history", "room": "s24", "limit": 2}), expect("a", page("s24", [5, 6])),
    send("a", {"type": "history", "room": "s24", "after": 5, "limit": 3}), expect("a", page("s24", [6])),
    # with before: the window between, oldest first, then limited from its start
    send("a", {"type": "history", "room": "s24", "after": 1, "before": 5}), expect("a", page("s24", [2, 3, 4])),
    send("a", {"type": "history", "room": "s24", "after": 1, "before": 6, "limit": 2}), expect("a", page("s24", [2, 3])),
    send("a", {"type": "history", "room": "s24", "before": 6, "limit": 2}), expect("a", page("s24", [4, 5])),
    send("a", {"type": "history", "room": "s24", "after": 3, "before": 4}), expect("a", page("s24", [])),
    send("a", {"type": "history", "room": "s24", "after": 4, "before": 2}), expect("a", page("s24", [])),
    send("a", {"type": "history", "room": "s24", "after": 0, "before": 1000000}), expect("a", page("s24", [1, 2, 3, 4, 5, 6])),
    # after the last id, or far beyond it: nothing
    send("a", {"type": "history", "room": "s24", "after": 6}), expect("a", page("s24", [])),
    send("a", {"type": "history", "room": "s24", "after": 1000000}), expect("a", page("s24", [])),
    send("a", {"type": "history", "room": "s24", "after": 1e300}), expect("a", page("s24", [])),
    # a later message shows up after the last id seen
    send("a", {"type": "message", "room": "s24", "text": "m7"}), expect("a", said("s24", 7, "m7")),
    send("a", {"type": "history", "room": "s24", "after": 6}), expect("a", page("s24", [7])),
]
scen("history with after: the oldest limit messages above after, below before", steps, {"a": {}}, FULL)

# After the ring has dropped ids 1..5: the first id above after + 1 is the gap.
SENT_AFTER = f"{HISTORY} + 5"
steps = [join("a", "s25", "alice"), expect("a", {"type": "joined", "$partial": True}),
    {"burst": {"clients": ["a"], "count": SENT_AFTER, "json": {"type": "message", "room": "s25", "text": "m${i}"}}},
    {"client": "a", "collect": {"count": SENT_AFTER, "match": {"type": "message", "room": "s25", "user": "alice", "$partial": True}, "as": "sent"}},
    send("a", {"type": "history", "room": "s25", "after": 0, "limit": 2}),
    expect("a", {"type": "history", "room": "s25", "messages": [said("s25", 6, "m5"), said("s25", 7, "m6")]}),
    send("a", {"type": "history", "room": "s25", "after": 3, "limit": 1}),
    expect("a", {"type": "history", "room": "s25", "messages": [said("s25", 6, "m5")]}),
    send("a", {"type": "history", "room": "s25", "after": num(f"{HISTORY} + 3")}),
    expect("a", {"type": "history", "room": "s25", "messages": [said("s25", num(f"{HISTORY} + 4"), "$string"), said("s25", num(f"{HISTORY} + 5"), "$string")]}),
]
scen("history with after once the oldest messages have left the history", steps, {"a": {}}, FULL)

scen("a room, its ids and its history outlive its last member", [
    join("a", "s11", "alice"), expect("a", {"type": "joined", "$partial": True}),
    send("a", {"type": "message", "room": "s11", "text": "before"}),
    expect("a", {"type": "message", "$partial": True, "id": 1}),
    send("a", {"type": "leave", "room": "s11"}), expect("a", {"type": "left", "room": "s11"}),
    join("a", "s11", "alice"),
    expect("a", {"type": "joined", "room": "s11", "user": "alice", "members": ["alice"], "history": [
        {"type": "message", "room": "s11", "user": "alice", "text": "before", "id": 1, "ts": "$int"}]}),
    send("a", {"type": "message", "room": "s11", "text": "after"}),
    expect("a", {"type": "message", "room": "s11", "user": "alice", "text": "after", "id": 2, "ts": "$int"}),
], {"a": {}}, FULL)

scen("rejoining a room is idempotent: a fresh joined, no presence event", [
    join("a", "s12", "alice"), expect("a", {"type": "joined", "$partial": True}),
    join("b", "s12", "bob"), expect("b", {"type": "joined", "$partial": True}),
    expect("a", {"type": "presence", "room": "s12", "user": "bob", "event": "join"}),
    join("b", "s12", "bob", ref="again"),
    expect("b", {"type": "joined", "room": "s12", "user": "bob", "members": ["alice", "bob"], "history": [], "ref": "again"}),
    S("a", "expectNothing", "700ms"),
], {"a": {}, "b": {}}, FULL)

scen("user_mismatch: one name per connection, also after leaving every room", [
    join("a", "s13", "alice"), expect("a", {"type": "joined", "$partial": True}),
    join("a", "s13b", "alicia"), err("a", "user_mismatch"),
    send("a", {"type": "leave", "room": "s13"}), expect("a", {"type": "left", "room": "s13"}),
    join("a", "s13c", "alicia"), err("a", "user_mismatch"),
    join("a", "s13c", "alice"), expect("a", {"type": "joined", "room": "s13c", "user": "alice", "$partial": True}),
], {"a": {}}, ["rooms"])

scen("name_taken: a name is unique per room, case-sensitive", [
    join("a", "s14", "alice"), expect("a", {"type": "joined", "$partial": True}),
    join("b", "s14", "alice"), err("b", "name_taken"),
    join("b", "s14", "Alice"), expect("b", {"type": "joined", "room": "s14", "user": "Alice", "$partial": True}),
    join("c", "s14b", "alice"), expect("c", {"type": "joined", "room": "s14b", "user": "alice", "$partial": True}),
    join("c", "s14", "alice"), err("c", "name_taken"),
], {"a": {}, "b": {}, "c": {}}, ["rooms"])

scen("precedence: user_mismatch before name_taken", [
    join("a", "s15", "alice"), expect("a", {"type": "joined", "$partial": True}),
    join("b", "s15x", "bob"), expect("b", {"type": "joined", "$partial": True}),
    join("b", "s15", "alice"), err("b", "user_mismatch"),
], {"a": {}, "b": {}}, ["rooms"])

# Fill a connection up to the spec's maxRoomsPerConnection (rooms PREFIX-0, -1, ...).
ROOMS = "${spec.chat.max_rooms_per_connection}"
def fill_rooms(prefix, user):
    return [{"burst": {"clients": ["a"], "count": ROOMS, "json": {"type": "join", "room": prefix + "-${i}", "user": user}}},
            {"client": "a", "collect": {"count": ROOMS, "match": {"type": "joined", "user": user, "$partial": True}, "as": prefix}}]
steps = fill_rooms("s16", "alice") + [
    join("a", "s16-x", "alice"), err("a", "too_many_rooms"),
    join("a", "s16-0", "alice", ref="re"), expect("a", {"type": "joined", "room": "s16-0", "ref": "re", "$partial": True}),
    join("b", "s16-y", "bob"), expect("b", {"type": "joined", "$partial": True}),
    join("a", "s16-y", "bob"), err("a", "user_mismatch"),
    send("a", {"type": "leave", "room": "s16-0"}), expect("a", {"type": "left", "room": "s16-0"}),
    join("a", "s16-x", "alice"), expect("a", {"type": "joined", "room": "s16-x", "$partial": True}),
]
scen("too_many_rooms at maxRoomsPerConnection", steps, {"a": {}, "b": {}}, ["rooms"])

steps = fill_rooms("s17", "carol") + [
    join("b", "s17-z", "carol"), expect("b", {"type": "joined", "$partial": True}),
    join("a", "s17-z", "carol"), err("a", "name_taken")]
scen("precedence: name_taken before too_many_rooms", steps, {"a": {}, "b": {}}, ["rooms"])

scen("not_joined for message, leave, members and history", [
    send("a", {"type": "message", "room": "s18", "text": "hi"}), err("a", "not_joined"),
    send("a", {"type": "leave", "room": "s18"}), err("a", "not_joined"),
    send("a", {"type": "members", "room": "s18"}), err("a", "not_joined"),
    send("a", {"type": "history", "room": "s18"}), err("a", "not_joined"),
    join("a", "s18", "alice"), expect("a", {"type": "joined", "$partial": True}),
    send("a", {"type": "leave", "room": "s18"}), expect("a", {"type": "left", "room": "s18"}),
    send("a", {"type": "message", "room": "s18", "text": "hi"}), err("a", "not_joined"),
], {"a": {}}, FULL)

def long_text(n, ch="x"): return repeat(n, ch)
scen("too_long counts code points (maxMessageLength)", [
    join("a", "s19", "alice"), expect("a", {"type": "joined", "$partial": True}),
    send("a", {"type": "message", "room": "s19", "text": long_text(MSG_LEN, "é")}),
    expect("a", {"type": "message", "room": "s19", "user": "alice", "text": long_text(MSG_LEN, "é"), "id": 1, "ts": "$int"}),
    send("a", {"type": "message", "room": "s19", "text": long_text(MSG_LEN, "🎉")}),
    expect("a", {"type": "message", "room": "s19", "user": "alice", "text": long_text(MSG_LEN, "🎉"), "id": 2, "ts": "$int"}),
    send("a", {"type": "message", "room": "s19", "text": long_text(f"{MSG_LEN} + 1")}), err("a", "too_long"),
    send("a", {"type": "message", "room": "s19-other", "text": long_text(f"{MSG_LEN} + 1")}), err("a", "too_long"),
    send("a", {"type": "message", "room": "s19", "text": ""}), err("a", "bad_request"),
], {"a": {}}, ["rooms"], )

scen("a binary message closes with 1003", [
    join("a", "s20", "alice"), expect("a", {"type": "joined", "$partial": True}),
    S("a", "sendBinary", {"hex": "7b7d"}),
    S("a", "expectClose", 1003),
], {"a": {}}, ["rooms"])

def ordering(room, join_room):
    names = ["a", "b", "c", "d", "e"]
    steps = []
    for n in names:
        m = {"type": "join", "user": f"user-{n}"}
        if join_room:
            m["room"] = room
        steps += [send(n, m), expect(n, {"type": "joined", "$partial": True})]
    msg = {"type": "message", "text": "${client} ${i}"}
    if join_room:
        msg["room"] = room
    steps.append({"burst": {"clients": names, "count": 200, "json": msg}})
    for n in names:
        steps.append({"client": n, "collect": {"count": 1000, "match": {"type": "message", "$partial": True}, "as": f"l{n}"},
                      "within": "60s", "skip": [{"type": "presence", "$partial": True}]})
    steps.append({"assert": {"sameOrder": [f"l{n}" for n in names], "increasing": ["la"], "field": "id"}})
    return steps, {n: {} for n in names}

steps, clients = ordering("s22", True)
scen("ordering: five clients send 200 messages each at once; one order, ids increasing", steps, clients, ["rooms"])

scen("a closed connection leaves all its rooms (presence leave)", [
    join("a", "s21", "alice"), expect("a", {"type": "joined", "$partial": True}),
    join("b", "s21", "bob"), expect("b", {"type": "joined", "$partial": True}),
    expect("a", {"type": "presence", "room": "s21", "user": "bob", "event": "join"}),
    join("b", "s21b", "bob"), expect("b", {"type": "joined", "$partial": True}),
    join("a", "s21b", "alice"), expect("a", {"type": "joined", "$partial": True}),
    expect("b", {"type": "presence", "room": "s21b", "user": "alice", "event": "join"}),
    S("b", "close", 1000),
    expect("a", {"type": "presence", "room": "s21", "user": "bob", "event": "leave"}),
    expect("a", {"type": "presence", "room": "s21b", "user": "bob", "event": "leave"}),
    send("a", {"type": "members", "room": "s21"}),
    expect("a", {"type": "members", "room": "s21", "members": ["alice"]}),
    join("c", "s21", "bob"), expect("c", {"type": "joined", "room": "s21", "user": "bob", "$partial": True}),
], {"a": {}, "b": {}, "c": {"connect": False}}, FULL)

# fix: client c connects later
for name, steps, clients, req in out:
    if clients and clients.get("c", {}).get("connect") is False:
        idx = next(i for i, s in enumerate(steps) if s.get("client") == "c")
        steps.insert(idx, {"client": "c", "connect": True})

full = list(out)

out.clear()
# ---------- chat-minimal: rooms, presence, history off; maxMessageLength 280
scen("without rooms, room may be omitted and means main", [
    send("a", {"type": "join", "user": "alice", "ref": 1}),
    expect("a", {"type": "joined", "room": "main", "user": "alice", "ref": 1}),
    send("a", {"type": "message", "text": "no room given"}),
    expect("a", {"type": "message", "room": "main", "user": "alice", "text": "no room given", "id": "$capture:first", "ts": "$int"}),
    send("a", {"type": "message", "room": "main", "text": "room given"}),
    expect("a", {"type": "message", "room": "main", "user": "alice", "text": "room given", "id": "$int", "ts": "$int"}),
    send("a", {"type": "leave"}), expect("a", {"type": "left", "room": "main"}),
    join("a", "main", "alice"), expect("a", {"type": "joined", "room": "main", "user": "alice"}),
    send("a", {"type": "leave", "room": "main"}), expect("a", {"type": "left", "room": "main"}),
], {"a": {}}, None)
scen("any other room is rooms_disabled, after bad_request", [
    join("a", "lobby", "alice"), err("a", "rooms_disabled"),
    join("a", "Main", "alice"), err("a", "rooms_disabled"),
    join("a", "bad room", "alice"), err("a", "bad_request"),
    join("a", 5, "alice"), err("a", "bad_request"),
    send("a", {"type": "join", "room": "lobby"}), err("a", "bad_request"),
    send("a", {"type": "message", "room": "lobby", "text": ""}), err("a", "bad_request"),
    send("a", {"type": "message", "room": "lobby", "text": repeat(f"{MSG_LEN} + 1", "x")}), err("a", "rooms_disabled"),
    send("a", {"type": "message", "room": "lobby", "text": "hi"}), err("a", "rooms_disabled"),
    send("a", {"type": "leave", "room": "lobby"}), err("a", "rooms_disabled"),
], {"a": {}}, None)
scen("members and history are feature_disabled, before any field check", [
    send("a", {"type": "members", "room": "main"}), err("a", "feature_disabled"),
    send("a", {"type": "history", "room": "main"}), err("a", "feature_disabled"),
    send("a", {"type": "members", "room": 12, "ref": "f"}), err("a", "feature_disabled", ref="f"),
    send("a", {"type": "history", "before": "x"}), err("a", "feature_disabled"),
    send("a", {"type": "history", "after": "x"}), err("a", "feature_disabled"),
    send("a", {"type": "history", "room": "lobby", "after": -1}), err("a", "feature_disabled"),
    send("a", {"type": "members"}), err("a", "feature_disabled"),
    send("a", {"type": "dance"}), err("a", "unknown_type"),
    send("a", {"type": 1}), err("a", "bad_request"),
    S("a", "sendText", "{"), err("a", "bad_json"),
], {"a": {}}, None)
scen("without presence: no presence events, no members in joined", [
    join("a", "main", "alice"), expect("a", {"type": "joined", "room": "main", "user": "alice"}),
    join("b", "main", "bob"), expect("b", {"type": "joined", "room": "main", "user": "bob"}),
    S("a", "expectNothing", "700ms"),
    send("b", {"type": "message", "text": "hello alice"}),
    expect("a", {"type": "message", "room": "main", "user": "bob", "text": "hello alice", "id": "$capture:id", "ts": "$int"}),
    expect("b", {"type": "message", "room": "main", "user": "bob", "text": "hello alice", "id": "$var:id", "ts": "$int"}),
    S("b", "close", 1000),
    S("a", "expectNothing", "700ms"),
], {"a": {}, "b": {}}, None)
scen("too_long at maxMessageLength, counted in code points", [
    join("a", "main", "carol"), expect("a", {"type": "joined", "room": "main", "user": "carol"}),
    send("a", {"type": "message", "text": repeat(MSG_LEN, "€")}),
    expect("a", {"type": "message", "room": "main", "user": "carol", "text": repeat(MSG_LEN, "€"), "id": "$int", "ts": "$int"}),
    send("a", {"type": "message", "text": repeat(MSG_LEN, "𝄞")}),
    expect("a", {"type": "message", "room": "main", "user": "carol", "text": repeat(MSG_LEN, "𝄞"), "id": "$int", "ts": "$int"}),
    send("a", {"type": "message", "text": repeat(f"{MSG_LEN} + 1", "x")}), err("a", "too_long"),
    send("a", {"type": "message", "text": repeat(f"{MSG_LEN} + 1", "€"), "ref": 2}), err("a", "too_long", ref=2),
], {"a": {}}, None)
scen("state errors without rooms: not_joined, name_taken, user_mismatch", [
    send("a", {"type": "message", "text": "early"}), err("a", "not_joined"),
    send("a", {"type": "leave"}), err("a", "not_joined"),
    join("a", "main", "dave"), expect("a", {"type": "joined", "room": "main", "user": "dave"}),
    join("b", "main", "dave"), err("b", "name_taken"),
    join("b", "main", "erin"), expect("b", {"type": "joined", "room": "main", "user": "erin"}),
    join("b", "main", "frank"), err("b", "user_mismatch"),
    send("b", {"type": "message", "text": repeat(f"{MSG_LEN} + 1", "x")}), err("b", "too_long"),
], {"a": {}, "b": {}}, None)
steps, clients = ordering("main", False)
scen("ordering in main: five clients send 200 messages each at once", steps, clients, None)
scen("a binary message closes with 1003 (minimal)", [
    S("a", "sendBinary", {"hex": "00"}), S("a", "expectClose", 1003),
], {"a": {}}, None)
minimal = list(out)

def dump(path, header, suite, applies, scens):
    lines = [GENERATED, header.rstrip(), f"suite: {suite}", "appliesTo: " + flow(applies), "scenarios:"]
    for name, steps, clients, req in scens:
        lines.append(f"  - name: {flow(name)}")
        if req:
            lines.append(f"    requires: {flow(req)}")
        if clients:
            lines.append(f"    clients: {flow(clients)}")
        lines.append("    steps:")
        for s in steps:
            lines.append(f"      - {flow(s)}")
    open(path, "w").write("\n".join(lines) + "\n")

H = """# chat-v1 (docs/protocol/chat-v1.md) over the wire, the same steps for all
# four languages. Room names are unique per scenario because rooms, ids and
# history outlive their members on one server instance. Its clients join
# under many names, which a server with authentication forbids (the identity
# is the credential's): security-chat.yaml covers chat with auth.
"""
dump(ROOT + "/chat.yaml", H, "chat", {"types": ["chat"], "requires": ["!auth"]}, full)
dump(ROOT + "/chat-minimal.yaml", "# chat-v1 with rooms, presence and history off (specs/chat-minimal.yaml):\n# one room `main`, feature_disabled, rooms_disabled, too_long at maxMessageLength.\n", "chat-minimal", {"types": ["chat"], "specs": ["chat-minimal"]}, minimal)
print(len(full), len(minimal))
