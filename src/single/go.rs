//! Inline a generated Go project (one `package main` folder) into one file:
//! the files' import blocks merged into one (standard library first), then
//! each file's declarations, `main.go` first.

use super::Header;
use crate::emit::GeneratedFile;
use std::collections::BTreeSet;

pub(crate) fn bundle(files: &[GeneratedFile], header: &Header) -> Result<String, String> {
    let mut sources: Vec<&GeneratedFile> = files
        .iter()
        .filter(|f| {
            let p = f.path.to_string_lossy();
            !p.contains('/') && p.ends_with(".go") && !p.ends_with("_test.go")
        })
        .collect();
    // main.go (the program's doc comment) first, then by name.
    sources.sort_by_key(|f| (f.path.to_string_lossy() != "main.go", f.path.clone()));
    let mut imports = BTreeSet::new();
    let mut bodies = String::new();
    for f in sources {
        let path = f.path.to_string_lossy();
        let (doc, specs, body) = split(&path, &f.contents)?;
        imports.extend(specs);
        bodies.push_str(&format!("\n// ---- {path} ----\n"));
        if !doc.trim().is_empty() {
            bodies.push_str(doc.trim_end());
            bodies.push_str("\n\n");
        }
        bodies.push_str(body.trim_matches('\n'));
        bodies.push('\n');
    }
    let (std, other): (Vec<_>, Vec<_>) = imports.iter().partition(|s| is_std(s));
    let mut out = header.comment("// ");
    out.push_str("\npackage main\n\nimport (\n");
    for s in &std {
        out.push_str(&format!("\t{s}\n"));
    }
    if !std.is_empty() && !other.is_empty() {
        out.push('\n');
    }
    for s in &other {
        out.push_str(&format!("\t{s}\n"));
    }
    out.push_str(")\n");
    out.push_str(&bodies);
    Ok(out)
}

/// A file's comment before `package`, its import specs and the rest.
fn split<'a>(path: &str, text: &'a str) -> Result<(&'a str, Vec<String>, &'a str), String> {
    if text.contains("//go:embed") {
        return Err(format!("{path}: embeds files; it cannot be inlined"));
    }
    let pkg = text
        .find("package main\n")
        .ok_or_else(|| format!("{path}: not `package main`"))?;
    let doc = &text[..pkg];
    let mut rest = text[pkg + "package main\n".len()..].trim_start_matches('\n');
    let mut specs = Vec::new();
    if let Some(after) = rest.strip_prefix("import (\n") {
        let end = after
            .find("\n)\n")
            .ok_or_else(|| format!("{path}: unterminated import block"))?;
        for line in after[..end].lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with("//") {
                specs.push(line.to_string());
            }
        }
        rest = &after[end + 3..];
    } else if let Some(after) = rest.strip_prefix("import ") {
        let end = after.find('\n').unwrap_or(after.len());
        specs.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    Ok((doc, specs, rest))
}

/// A standard-library import: its path's first element has no dot.
fn is_std(spec: &str) -> bool {
    let path = spec.rsplit(' ').next().unwrap_or(spec).trim_matches('"');
    !path.split('/').next().unwrap_or("").contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_doc_imports_and_body() {
        let (doc, specs, body) = split(
            "a.go",
            "// Doc.\npackage main\n\nimport (\n\t\"os\"\n\tws \"github.com/coder/websocket\"\n)\n\nfunc a() {}\n",
        )
        .unwrap();
        assert_eq!(doc, "// Doc.\n");
        assert_eq!(specs, ["\"os\"", "ws \"github.com/coder/websocket\""]);
        assert_eq!(body, "\nfunc a() {}\n");
        assert!(is_std("\"os/signal\""));
        assert!(!is_std("ws \"github.com/coder/websocket\""));
        let (_, specs, body) =
            split("b.go", "package main\n\nimport \"context\"\n\nvar x = 1\n").unwrap();
        assert_eq!(specs, ["\"context\""]);
        assert_eq!(body, "\n\nvar x = 1\n");
    }
}
