//! Inline a generated Python package into one script: its modules in
//! dependency order (from `__main__.py`), relative imports dropped (their
//! names are the script's globals), `from . import m` bound to the script
//! itself, `__package__` replaced by the package's name (the logger's), one
//! `from __future__` line at the top. A top-level name defined by two
//! modules with different text is refused rather than silently shadowed.

use super::{Header, file};
use crate::emit::GeneratedFile;
use crate::lang::LangNames;
use std::collections::{BTreeMap, BTreeSet};

const FUTURE: &str = "from __future__ import annotations";

pub(crate) fn bundle(
    files: &[GeneratedFile],
    header: &Header,
    names: &LangNames,
) -> Result<String, String> {
    let package = names
        .module
        .clone()
        .ok_or("the Python driver names no module")?;
    let mut order = Vec::new();
    visit(
        files,
        &package,
        "__main__",
        &mut BTreeSet::new(),
        &mut order,
    )?;
    let mut defined: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut out = header.comment("# ");
    let init = &file(files, &format!("{package}/__init__.py"))?.contents;
    if init.contains("import ") {
        return Err(format!(
            "{package}/__init__.py has code; it cannot be inlined"
        ));
    }
    out.push_str(init);
    out.push_str(&format!("\n{FUTURE}\n\nimport sys\n"));
    for (name, module) in &order {
        for (def, line) in top_level_names(&module.body) {
            if let Some((other, first)) = defined.get(&def)
                && *first != line
            {
                return Err(format!(
                    "`{def}` is defined by both {other}.py and {name}.py; they cannot share one file"
                ));
            }
            defined.insert(def, (name.clone(), line));
        }
        out.push_str(&format!("\n\n# ---- {package}/{name}.py ----\n"));
        for alias in &module.aliases {
            out.push_str(&format!("{alias} = sys.modules[__name__]\n"));
        }
        out.push_str(module.body.trim_start_matches('\n'));
    }
    Ok(out.replace("__package__", &format!("\"{package}\"")))
}

struct Module {
    body: String,
    /// Modules it imports, by name.
    local: Vec<String>,
    /// `from . import m`: names bound to the script (which holds m's globals).
    aliases: Vec<String>,
}

fn visit(
    files: &[GeneratedFile],
    package: &str,
    name: &str,
    seen: &mut BTreeSet<String>,
    order: &mut Vec<(String, Module)>,
) -> Result<(), String> {
    if !seen.insert(name.to_string()) {
        return Ok(());
    }
    let path = format!("{package}/{name}.py");
    let module = rewrite(&path, &file(files, &path)?.contents)?;
    for dep in &module.local {
        visit(files, package, dep, seen, order)?;
    }
    order.push((name.to_string(), module));
    Ok(())
}

fn rewrite(path: &str, text: &str) -> Result<Module, String> {
    let mut m = Module {
        body: String::new(),
        local: Vec::new(),
        aliases: Vec::new(),
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == FUTURE {
            continue;
        }
        if let Some(rest) = line.strip_prefix("from . import ") {
            for name in rest.split(',').map(str::trim) {
                if name.contains(' ') {
                    return Err(format!("{path}: cannot inline `{line}`"));
                }
                m.local.push(name.to_string());
                m.aliases.push(name.to_string());
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("from .") {
            let mut stmt = line.to_string();
            if stmt.trim_end().ends_with('(') {
                for next in lines.by_ref() {
                    stmt.push_str(next.trim());
                    if next.trim_start().starts_with(')') {
                        break;
                    }
                }
            }
            if stmt.contains(" as ") {
                return Err(format!("{path}: cannot inline `{stmt}` (a renamed import)"));
            }
            let module = rest.split_whitespace().next().unwrap_or_default();
            if module.contains('.') {
                return Err(format!("{path}: cannot inline `{line}`"));
            }
            m.local.push(module.to_string());
            continue;
        }
        m.body.push_str(line);
        m.body.push('\n');
    }
    Ok(m)
}

/// (name, defining line) of each top-level `def`, `class` and assignment.
fn top_level_names(body: &str) -> Vec<(String, String)> {
    let ident = |s: &str| -> Option<String> {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (end > 0).then(|| s[..end].to_string())
    };
    body.lines()
        .filter_map(|line| {
            if line.starts_with([' ', '\t', '#', '@', '"', ')', ']', '}']) {
                return None;
            }
            let decl = ["async def ", "def ", "class "]
                .iter()
                .find_map(|kw| line.strip_prefix(kw));
            let name = match decl {
                Some(rest) => ident(rest)?,
                None => {
                    let name = ident(line)?;
                    let after = line[name.len()..].trim_start();
                    if !(after.starts_with('=') && !after.starts_with("==")
                        || after.starts_with(':'))
                    {
                        return None;
                    }
                    if [
                        "if", "else", "elif", "try", "except", "finally", "for", "while", "with",
                    ]
                    .contains(&name.as_str())
                    {
                        return None;
                    }
                    name
                }
            };
            Some((name, line.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_are_dropped_and_followed() {
        let m = rewrite(
            "p/server.py",
            "from __future__ import annotations\nimport asyncio\nfrom . import echo\nfrom .config import (\n    A,\n    B,\n)\nfrom .routes import x\nX = 1\n",
        )
        .unwrap();
        assert_eq!(m.body, "import asyncio\nX = 1\n");
        assert_eq!(m.local, ["echo", "config", "routes"]);
        assert_eq!(m.aliases, ["echo"]);
        assert!(rewrite("p/a.py", "from .config import A as B\n").is_err());
    }

    #[test]
    fn top_level_names_are_found() {
        let names: Vec<String> = top_level_names(
            "def f():\n    x = 1\nclass C:\n    pass\nLOG = 2\nHANDLERS: dict = {}\nif __name__ == \"__main__\":\n    pass\n",
        )
        .into_iter()
        .map(|(n, _)| n)
        .collect();
        assert_eq!(names, ["f", "C", "LOG", "HANDLERS"]);
    }
}
