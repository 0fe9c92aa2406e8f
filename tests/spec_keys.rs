//! The key table (`wsgen::spec::KEYS`) against what reads it: every key is
//! accepted in a spec, documented by `wsgen schema` (`json_schema`) and the
//! starters of `wsgen init` (`starter`), and the schema's limits are exactly
//! the ones `resolve` enforces, whether a value comes from the spec or a flag.

use serde_json::Value as Json;
use wsgen::ir::ServerKind;
use wsgen::pipeline::{load_server, server_from_str};
use wsgen::spec::keys::{self, Fallback, Items, Key, Ty};
use wsgen::spec::{KEYS, Overrides, Value, json_schema, starter};

/// A spec setting `key` to `value` (YAML text), for a type the key applies to.
fn spec_with(key: &Key, value: &str) -> String {
    let kind = if key.applies_to(ServerKind::Echo) {
        "echo"
    } else {
        key.applies[0].name()
    };
    let mut yaml = match key.path {
        "type" => String::new(),
        _ => format!("type: {kind}\n"),
    };
    let parts: Vec<&str> = key.path.split('.').collect();
    for (depth, part) in parts.iter().enumerate() {
        let indent = "  ".repeat(depth);
        if depth + 1 == parts.len() {
            yaml.push_str(&format!("{indent}{part}: {value}\n"));
            yaml.push_str(&siblings(key, &indent));
        } else {
            yaml.push_str(&format!("{indent}{part}:\n"));
        }
    }
    // The keys an enclosing section requires (`session.command` next to
    // `session.replay`), at that section's depth.
    for depth in (1..parts.len().saturating_sub(1)).rev() {
        let section = parts[..depth].join(".");
        if let Some(Ty::Section { required, .. }) = keys::key(&section).map(|k| k.ty) {
            for leaf in required.iter().filter(|l| **l != parts[depth]) {
                let sibling = keys::key(&format!("{section}.{leaf}")).unwrap();
                let indent = "  ".repeat(depth);
                yaml.push_str(&format!("{indent}{leaf}: {}\n", sample(sibling).unwrap()));
            }
        }
    }
    yaml
}

/// The sibling lines the key needs to be accepted: the value its
/// `only_with` names, and the other keys its section requires.
fn siblings(key: &Key, indent: &str) -> String {
    let mut lines = String::new();
    let mut given = vec![key.leaf()];
    if let Some((sibling, value)) = key.only_with {
        lines.push_str(&format!("{indent}{sibling}: {value}\n"));
        given.push(sibling);
    }
    if let Some(Ty::Section { required, .. }) = keys::key(key.parent()).map(|p| p.ty) {
        for leaf in required.iter().filter(|l| !given.contains(l)) {
            let sibling = keys::key(&format!("{}.{leaf}", key.parent())).unwrap();
            lines.push_str(&format!("{indent}{leaf}: {}\n", sample(sibling).unwrap()));
        }
    }
    lines
}

/// The schema node describing `path` (through `oneOf` for shorthand sections).
fn schema_at<'a>(schema: &'a Json, path: &str) -> Option<&'a Json> {
    let mut node = schema;
    for part in path.split('.') {
        if let Some(alts) = node["oneOf"].as_array() {
            node = alts.iter().find(|a| a["type"] == "object")?;
        }
        node = node["properties"].get(part)?;
    }
    Some(node)
}

/// A valid value for `key`, as YAML.
fn sample(key: &Key) -> Option<String> {
    Some(match (key.ty, key.default) {
        (Ty::Section { .. }, _) => return None,
        (_, Fallback::Int(i)) => i.to_string(),
        (_, Fallback::Bool(b)) => b.to_string(),
        (_, Fallback::Str(s)) => s.to_string(),
        (Ty::Bool, _) => "true".into(),
        (Ty::Int { min, .. }, _) => min.to_string(),
        (
            Ty::Str {
                pattern: Some(p), ..
            },
            _,
        ) if p == keys::GO_MODULE_PATTERN => "github.com/you/app".into(),
        (Ty::Str { .. }, _) => "demo".into(),
        (Ty::Enum(names), _) => names[0].into(),
        (Ty::List(Items::OneOf(names)), _) => format!("[{}]", names[0]),
        (Ty::List(Items::Pattern(p)), _) if p == keys::ORIGIN_PATTERN => {
            "[\"https://*.example.com\"]".into()
        }
        (Ty::List(Items::Pattern(p)), _) if p == keys::TOKEN_PATTERN => "[graphql-ws]".into(),
        (Ty::List(Items::Pattern(p)), _) if p == keys::ENV_NAME_PATTERN => "[PATH, HOME]".into(),
        (Ty::List(Items::Pattern(p)), _) => panic!("no sample for the pattern {p}"),
        (Ty::List(Items::Argv), _) => "[node, server.js, --stdio]".into(),
    })
}

#[test]
fn schema_limits_are_the_limits_resolve_enforces() {
    let schema = json_schema();
    let mut checked = 0;
    for key in KEYS {
        let Ty::Int { min, max } = key.ty else {
            continue;
        };
        let node = schema_at(&schema, key.path).unwrap_or_else(|| panic!("{}", key.path));
        assert_eq!(node["minimum"], min, "{}: schema minimum", key.path);
        assert_eq!(
            node.get("maximum").and_then(Json::as_i64),
            max,
            "{}: schema maximum",
            key.path
        );
        if let Fallback::Int(d) = key.default {
            assert_eq!(node["default"], d, "{}: schema default", key.path);
        }

        let mut cases = vec![(min, true), (min - 1, false)];
        if let Some(max) = max {
            cases.extend([(max, true), (max + 1, false)]);
        }
        for (v, ok) in cases {
            // The schema marks it...
            let in_schema = v >= node["minimum"].as_i64().unwrap()
                && node["maximum"].as_i64().is_none_or(|m| v <= m);
            assert_eq!(in_schema, ok, "{} = {v}: schema", key.path);
            // ...and resolve refuses it, naming the key, from a spec...
            let got = server_from_str("spec.yaml", &spec_with(key, &v.to_string()));
            assert_eq!(got.is_ok(), ok, "{} = {v} in a spec: {got:?}", key.path);
            if let Err(e) = got {
                assert!(e.0[0].message.contains(&format!("`{}`", key.label)), "{e}");
            }
            // ...and from its flag, naming the flag.
            if key.flag.is_some() {
                let mut flags = Overrides::default();
                flags.set(key.path, Value::Int(v));
                let got = load_server(None, &flags);
                assert_eq!(got.is_ok(), ok, "{} = {v} as a flag", key.path);
                if let Err(e) = got {
                    let m = &e.0[0].message;
                    assert!(m.contains("from the command-line flag"), "{m}");
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} integer keys");
}

#[test]
fn reserved_strings_are_refused_and_in_the_schema() {
    let schema = json_schema();
    for key in KEYS {
        let Ty::Str { reserved, .. } = key.ty else {
            continue;
        };
        let node = schema_at(&schema, key.path).unwrap();
        for r in reserved {
            assert!(
                node["not"]["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&Json::from(*r)),
                "{}: {r} not marked in the schema",
                key.path
            );
            let got = server_from_str("spec.yaml", &spec_with(key, r));
            assert!(got.is_err(), "{} = {r} accepted", key.path);
        }
    }
}

#[test]
fn every_key_is_accepted_and_documented() {
    let schema = json_schema();
    for key in KEYS {
        let node = schema_at(&schema, key.path)
            .unwrap_or_else(|| panic!("`{}` is not in `wsgen schema`", key.path));
        assert_eq!(node["description"], key.description, "{}", key.path);
        for kind in key.applies {
            let text = starter(*kind);
            assert!(
                text.contains(&format!("{}:", key.leaf())),
                "`{}` is not in the {kind:?} starter of `wsgen init`",
                key.path
            );
        }
        if let Some(v) = sample(key) {
            let yaml = spec_with(key, &v);
            if let Err(e) = server_from_str("spec.yaml", &yaml) {
                panic!("`{}` refused in\n{yaml}{e}", key.path);
            }
        }
    }
}

#[test]
fn flags_win_over_the_spec_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, "port: 9000\ncompression:\n  threshold: 64\n").unwrap();
    let mut flags = Overrides::default();
    flags.set("port", Value::Int(9123));
    flags.set("compression.enabled", Value::Bool(false));
    let s = load_server(Some(&file), &flags).unwrap();
    assert_eq!(s.port, 9123);
    assert!(!s.compression.enabled);
    assert_eq!(s.compression.threshold, 64);
    let s = load_server(Some(&file), &Overrides::default()).unwrap();
    assert_eq!(s.port, 9000);
    assert!(s.compression.enabled);
}

#[test]
fn null_values_count_as_not_given() {
    let s = server_from_str(
        "s.yaml",
        "type: chat\nport:\nname: ~\ncompression:\nhistory: ~\n",
    )
    .unwrap();
    assert_eq!((s.port, s.name.as_str()), (8080, "s"));
    assert!(!s.compression.enabled);
    assert_eq!(s.chat.unwrap().history_limit, 50);
    // An empty map still turns compression on, as `compression: true` does.
    let s = server_from_str("s.yaml", "compression: {}\n").unwrap();
    assert!(s.compression.enabled);
    let s = server_from_str("s.yaml", "compression: true\n").unwrap();
    assert!(s.compression.enabled);
}
