//! A skill-style task file (`wsgen generate-server --task task.json`):
//!
//! ```json
//! {"operation": "generate-server",
//!  "config": {"language": "nodejs", "port": 8080, "compression": true}}
//! ```
//!
//! `config` is a spec (its keys are the spec keys of [`super::keys::KEYS`],
//! read by the spec's own reader, so every value is located in the task file)
//! plus `language`. Unknown keys and bad values are the spec's located errors.

use super::diag::{SpecError, SpecErrors};
use super::model::Spec;
use super::parse::{Source, parse_as};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;
use std::sync::Arc;

/// The operations a task file may ask for.
pub const OPERATIONS: &[&str] = &["generate-server", "generate"];

/// A task file, read.
#[derive(Debug)]
pub struct Task {
    /// `config` without `language`.
    pub spec: Spec,
    pub source: Source,
    /// `config.language` as written, with its location.
    pub language: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    operation: Spanned<String>,
    config: Option<Spec>,
}

/// The second reading: only `config.language` (everything else is ignored).
#[derive(Deserialize)]
struct Head {
    config: Option<HeadConfig>,
}

#[derive(Deserialize)]
struct HeadConfig {
    language: Option<Spanned<String>>,
}

/// Read a task file.
pub fn load(path: &Path) -> Result<Task, SpecErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::whole_file(&file, format!("cannot read task file: {e}")))?;
    parse(&file, &text)
}

/// Parse task text; `file` is the name used in messages.
pub fn parse(file: &str, text: &str) -> Result<Task, SpecErrors> {
    let make = |t: &str| Source {
        file: file.to_string(),
        text: Arc::new(t.to_string()),
    };
    if text.trim().is_empty() {
        return Err(SpecError::whole_file(file, "the task file is empty")
            .with_help(
                r#"write {"operation": "generate-server", "config": {"language": "nodejs"}}"#,
            )
            .into());
    }
    let (doc, source) = parse_as::<Doc>(make(text))?;
    if !OPERATIONS.contains(&doc.operation.value.as_str()) {
        let op = &doc.operation;
        return Err(source
            .error_at(
                &op.referenced,
                op.value.chars().count().max(1),
                format!("unknown operation `{}`", op.value),
            )
            .with_help("wsgen runs `generate-server` tasks; `test`, `autobahn-test` and `benchmark` are commands: wsgen test --url ...")
            .into());
    }
    let (head, _) = parse_as::<Head>(make(text))?;
    let mut spec = doc.config.unwrap_or_default();
    // `language` is the task's, not a spec key.
    spec.unknown
        .retain(|u| !(u.section.is_empty() && u.key.value == "language"));
    Ok(Task {
        spec,
        source,
        language: head.config.and_then(|c| c.language),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_skill_example() {
        let t = parse(
            "task.json",
            r#"{"operation":"generate-server","config":{"language":"nodejs","port":8080,"subprotocols":["graphql-ws","wamp.2.json"],"compression":true,"maxPayload":104857600}}"#,
        )
        .unwrap();
        assert_eq!(t.language.unwrap().value, "nodejs");
        assert!(t.spec.unknown.is_empty());
        assert!(t.spec.get("port").is_some());
    }

    #[test]
    fn unknown_fields_and_operations_are_located() {
        let e = parse(
            "t.json",
            "{\"operation\": \"generate-server\",\n \"cfg\": {}}",
        )
        .unwrap_err();
        let r = e.render();
        assert!(r.contains("t.json:2:"), "{r}");
        let e = parse("t.json", "{\"operation\": \"deploy\"}").unwrap_err();
        assert!(e.render().contains("t.json:1:"), "{}", e.render());
    }
}
