//! The values `${...}` placeholders name: `${spec.<path>}`, a field of the
//! resolved IR of the spec under test (`${spec.chat.max_message_length}`,
//! `${spec.subprotocols.0}`), and `${contract.<field>}`, a constant every
//! generated server shares (`src/contract.rs`). Keys are checked against the
//! shape of those types, so a misspelt one is a load error before any spec
//! is known.

use crate::contract::{CONTRACT, Contract};
use crate::emit::shape::{Described, Shape};
use crate::ir::Server;
use serde_json::Value;
use std::collections::BTreeMap;

/// Every placeholder with a value for `server`, as text.
pub fn values(server: &Server) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (root, value) in [
        ("spec", serde_json::to_value(server)),
        ("contract", serde_json::to_value(CONTRACT)),
    ] {
        flatten(
            root,
            &value.expect("the IR and the contract serialise"),
            &mut out,
        );
    }
    out
}

fn flatten(key: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| flatten(&format!("{key}.{k}"), x, out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| flatten(&format!("{key}.{i}"), x, out)),
        Value::Null => {}
        Value::String(s) => {
            out.insert(key.to_string(), s.clone());
        }
        other => {
            out.insert(key.to_string(), other.to_string());
        }
    }
}

/// Whether `key` names a plain value some spec can have; the error says
/// what the closest existing part of the path offers.
pub fn check(key: &str) -> Result<(), String> {
    if key.starts_with("tls.") || key.starts_with("auth.") {
        return check_material(key);
    }
    if let Some(k) = key.strip_prefix("cluster.") {
        return if CLUSTER_KEYS.contains(&k) {
            Ok(())
        } else {
            Err(format!(
                "unknown placeholder ${{{key}}} (a cluster: cluster.{})",
                CLUSTER_KEYS.join(", cluster.")
            ))
        };
    }
    if let Some(k) = key.strip_prefix("target.") {
        return if TARGET_KEYS.contains(&k) {
            Ok(())
        } else {
            Err(format!(
                "unknown placeholder ${{{key}}} (the server instance: target.{})",
                TARGET_KEYS.join(", target.")
            ))
        };
    }
    let roots = Shape::fields([("spec", Server::shape()), ("contract", Contract::shape())]);
    let mut here = &roots;
    let mut path = String::new();
    for seg in key.split('.') {
        let next = match seg.parse::<usize>() {
            Ok(_) => here.element(),
            Err(_) => here.field(seg),
        };
        let Some(next) = next else {
            let what = if path.is_empty() {
                "placeholders start with spec., contract., target., cluster., tls. or auth.".to_string()
            } else {
                format!("{path} {}", here.describe())
            };
            return Err(format!("unknown placeholder ${{{key}}} ({what})"));
        };
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(seg);
        here = next;
    }
    match here {
        Shape::Scalar | Shape::OneOf(_) | Shape::Any => Ok(()),
        other => Err(format!(
            "placeholder ${{{key}}} is not a plain value ({key} {})",
            other.describe()
        )),
    }
}

/// `${target.*}`: the running instance (its port, the `Host` clients send,
/// its own origin `http(s)://127.0.0.1:PORT`, and its working folder).
pub const TARGET_KEYS: &[&str] = &["port", "host", "origin", "dir"];

/// `${cluster.*}`: the cluster a cluster suite's scenario runs on (its
/// `WS_REDIS_PREFIX`, its `WS_BACKPLANE_HEARTBEAT` in ms, its number of
/// instances, its Redis URL).
pub const CLUSTER_KEYS: &[&str] = &["prefix", "heartbeat", "instances", "redisUrl"];

/// `${tls.*}` and `${auth.*}`: verify's generated credentials
/// ([`super::material`]).
fn check_material(key: &str) -> Result<(), String> {
    use super::material::{KEYS, USERS};
    if KEYS.iter().any(|(k, _)| *k == key) {
        return Ok(());
    }
    if let Some(u) = key.strip_prefix("auth.token.") {
        return if USERS.contains(&u) {
            Ok(())
        } else {
            Err(format!(
                "unknown placeholder ${{{key}}} (test users: {})",
                USERS.join(", ")
            ))
        };
    }
    let names: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    Err(format!(
        "unknown placeholder ${{{key}}} (verify's test material: {}, auth.token.<user>)",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_and_contract_values_by_path() {
        let server = crate::pipeline::server_from_str(
            "t.yaml",
            "name: n\ntype: chat\nsubprotocols: [a, b]\n",
        )
        .unwrap();
        let v = values(&server);
        assert_eq!(v["spec.name"], "n");
        assert_eq!(v["spec.kind"], "chat");
        assert_eq!(v["spec.subprotocols.1"], "b");
        assert_eq!(v["spec.chat.max_message_length"], "4096");
        assert_eq!(v["contract.room_name_max_len"], "64");
    }

    #[test]
    fn keys_are_checked_against_the_shapes() {
        assert!(check("spec.chat.history_limit").is_ok());
        assert!(check("spec.subprotocols.7").is_ok());
        assert!(check("spec.kind").is_ok());
        assert!(check("contract.shutdown_grace_secs").is_ok());
        assert!(check("tls.cert").is_ok());
        assert!(check("cluster.heartbeat").is_ok());
        assert!(check("cluster.prefx").unwrap_err().contains("cluster.prefix"));
        assert!(check("auth.token.alice").is_ok());
        assert!(
            check("auth.token.mallory")
                .unwrap_err()
                .contains("test users")
        );
        assert!(check("tls.crt").unwrap_err().contains("tls.cert"));
        let e = check("spec.chat.history_limt").unwrap_err();
        assert!(e.contains("spec.chat has: backplane, history,"), "{e}");
        assert!(
            check("spec.chat")
                .unwrap_err()
                .contains("not a plain value")
        );
        assert!(
            check("specs.name")
                .unwrap_err()
                .contains("start with spec., contract.")
        );
    }
}
