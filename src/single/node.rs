//! Inline a generated Node.js project (ES modules under `src/`) into one
//! CommonJS file: every module becomes a function scope that returns its
//! exports, in dependency order; `import` lines become `const` bindings
//! (`require` for packages and `node:` modules); the entry point runs last
//! inside an async function (it awaits at the top level).

use super::{Header, file};
use crate::emit::GeneratedFile;
use std::collections::BTreeSet;

/// The project's entry point.
const MAIN: &str = "src/main.js";

pub(crate) fn bundle(files: &[GeneratedFile], header: &Header) -> Result<String, String> {
    let mut order = Vec::new();
    visit(files, MAIN, &mut BTreeSet::new(), &mut order)?;
    let mut out = header.comment("// ");
    out.push_str("\n'use strict';\n");
    for (path, module) in &order {
        out.push_str(&format!("\n// ---- {path} ----\n"));
        if path == MAIN {
            out.push_str("(async () => {\n");
            out.push_str(&module.bindings);
            out.push_str(&module.body);
            out.push_str("})();\n");
        } else {
            out.push_str(&format!("const {} = (() => {{\n", var(path)));
            out.push_str(&module.bindings);
            out.push_str(&module.body);
            out.push_str(&format!(
                "return {{ {} }};\n}})();\n",
                module.exports.join(", ")
            ));
        }
    }
    Ok(out)
}

/// One module, rewritten.
struct Module {
    /// `const` lines standing for its imports.
    bindings: String,
    /// Its text without imports and `export` keywords.
    body: String,
    exports: Vec<String>,
    /// Project modules it imports (paths under the project).
    local: Vec<String>,
}

/// Depth-first, dependencies before the modules that import them.
fn visit(
    files: &[GeneratedFile],
    path: &str,
    seen: &mut BTreeSet<String>,
    order: &mut Vec<(String, Module)>,
) -> Result<(), String> {
    if !seen.insert(path.to_string()) {
        return Ok(());
    }
    let module = rewrite(path, &file(files, path)?.contents)?;
    for dep in &module.local {
        visit(files, dep, seen, order)?;
    }
    order.push((path.to_string(), module));
    Ok(())
}

/// The variable holding a module's exports: `src/handlers/echo.js` -> `$handlers_echo`.
fn var(path: &str) -> String {
    let stem = path
        .strip_prefix("src/")
        .unwrap_or(path)
        .trim_end_matches(".js");
    format!("${}", stem.replace(['/', '-', '.'], "_"))
}

fn rewrite(path: &str, text: &str) -> Result<Module, String> {
    let mut m = Module {
        bindings: String::new(),
        body: String::new(),
        exports: Vec::new(),
        local: Vec::new(),
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("import ") {
            let mut stmt = line.to_string();
            while !stmt.trim_end().ends_with(';') {
                let next = lines
                    .next()
                    .ok_or_else(|| format!("{path}: unterminated import"))?;
                stmt.push(' ');
                stmt.push_str(next.trim());
            }
            import(path, &stmt, &mut m)?;
        } else if let Some(rest) = line.strip_prefix("export ") {
            let name =
                exported_name(rest).ok_or_else(|| format!("{path}: cannot inline `{line}`"))?;
            m.exports.push(name.to_string());
            m.body.push_str(rest);
            m.body.push('\n');
        } else {
            m.body.push_str(line);
            m.body.push('\n');
        }
    }
    Ok(m)
}

/// The name an `export` declaration declares.
fn exported_name(decl: &str) -> Option<&str> {
    let rest = decl.strip_prefix("async ").unwrap_or(decl);
    let rest = ["function ", "class ", "const ", "let "]
        .iter()
        .find_map(|kw| rest.strip_prefix(kw))?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// `import CLAUSE from 'SPEC';` as `const` bindings.
fn import(path: &str, stmt: &str, m: &mut Module) -> Result<(), String> {
    let bad = || format!("{path}: cannot inline `{stmt}`");
    let stmt = stmt.trim().trim_end_matches(';');
    let rest = stmt.strip_prefix("import ").ok_or_else(bad)?;
    let (clause, spec) = rest.rsplit_once(" from ").ok_or_else(bad)?;
    let spec = spec.trim().trim_matches(|c| c == '\'' || c == '"');
    let source = if spec.starts_with("./") || spec.starts_with("../") {
        let target = resolve(path, spec);
        let v = var(&target);
        m.local.push(target);
        v
    } else {
        format!("require('{spec}')")
    };
    let clause = clause.trim();
    if let Some(ns) = clause.strip_prefix("* as ") {
        m.bindings
            .push_str(&format!("const {} = {source};\n", ns.trim()));
    } else if clause.starts_with('{') {
        m.bindings
            .push_str(&format!("const {} = {source};\n", pattern(clause)));
    } else if let Some((default, named)) = clause.split_once(',') {
        if source.starts_with('$') {
            return Err(bad());
        }
        let default = default.trim();
        m.bindings.push_str(&format!(
            "const {default} = {source};\nconst {} = {default};\n",
            pattern(named.trim())
        ));
    } else if source.starts_with('$') {
        // A project module has no default export.
        return Err(bad());
    } else {
        m.bindings
            .push_str(&format!("const {clause} = {source};\n"));
    }
    Ok(())
}

/// `{ a, b as c }` -> `{ a, b: c }`.
fn pattern(named: &str) -> String {
    let inner = named.trim().trim_start_matches('{').trim_end_matches('}');
    let items: Vec<String> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once(" as ") {
            Some((a, b)) => format!("{}: {}", a.trim(), b.trim()),
            None => s.to_string(),
        })
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// `./x.js` relative to the importing module's folder.
fn resolve(from: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_become_bindings() {
        let m = rewrite(
            "src/server.js",
            "import http from 'node:http';\nimport {\n  A,\n  B as C,\n} from './spec.js';\nimport * as h from './handlers/echo.js';\nexport async function f() {}\n",
        )
        .unwrap();
        assert_eq!(
            m.bindings,
            "const http = require('node:http');\nconst { A, B: C } = $spec;\nconst h = $handlers_echo;\n"
        );
        assert_eq!(m.exports, ["f"]);
        assert_eq!(m.local, ["src/spec.js", "src/handlers/echo.js"]);
        assert_eq!(m.body, "async function f() {}\n");
    }

    #[test]
    fn unknown_export_forms_are_refused() {
        assert!(rewrite("src/x.js", "export default 1;\n").is_err());
        assert!(rewrite("src/x.js", "export { a };\n").is_err());
    }
}
