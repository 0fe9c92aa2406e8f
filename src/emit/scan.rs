//! Find every context path a Tera template reads: `server.chat.rooms` in
//! `{% if server.chat.rooms %}`, `p` in `{% for p in server.subprotocols %}`
//! (as `server.subprotocols[*]`), `x.rooms` after `{% set x = server.chat %}`.
//!
//! It reads `{{ }}` and `{% %}` tags only; text outside them, `{# #}`
//! comments, `{% raw %}` blocks and string literals are skipped. Filter,
//! test, function and keyword-argument names are not paths. A loop over
//! pairs (`for k, v in m`) or a `set` to anything but a plain path makes the
//! names local variables, which are not checked.

use std::collections::HashMap;

/// One step of a path below its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// `.name` or `["name"]`.
    Field(String),
    /// `[0]` or `.0`.
    Index(u64),
    /// The element a `for` loop yields.
    Each,
    /// `[expr]`: unknown statically; the path is checked up to here.
    Dynamic,
}

/// A path a template reads, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The name the path starts with, as written.
    pub root: String,
    /// What `root` stands for when it is an alias (`for`/`set`): a path
    /// whose first segment is the context root.
    pub alias_of: Option<Vec<Seg>>,
    /// The steps after `root`.
    pub segs: Vec<Seg>,
    /// The string literal the path is compared with (`== "chat"`, `"chat" != ...`).
    pub compared_with: Option<String>,
    /// 1-based line and column of `root` in the template.
    pub line: usize,
    pub column: usize,
}

impl Read {
    /// The path from the context root (aliases expanded).
    pub fn resolved(&self) -> Vec<Seg> {
        let mut path = self
            .alias_of
            .clone()
            .unwrap_or_else(|| vec![Seg::Field(self.root.clone())]);
        path.extend(self.segs.iter().cloned());
        path
    }

    /// The path as written (`x.rooms`).
    pub fn written(&self) -> String {
        let mut path = vec![Seg::Field(self.root.clone())];
        path.extend(self.segs.iter().cloned());
        display(&path)
    }
}

/// `server.subprotocols[*]`, `server.chat.rooms`.
pub fn display(path: &[Seg]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Seg::Field(name) if i == 0 => out.push_str(name),
            Seg::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Seg::Index(n) => out.push_str(&format!("[{n}]")),
            Seg::Each => out.push_str("[*]"),
            Seg::Dynamic => out.push_str("[..]"),
        }
    }
    out
}

/// A template that cannot be scanned (an unterminated tag or string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every path rooted at one of `roots` (directly or through an alias) that
/// `source` reads, in order.
pub fn reads(source: &str, roots: &[&str]) -> Result<Vec<Read>, ScanError> {
    let mut scanner = Scanner {
        source,
        roots,
        aliases: HashMap::new(),
        scopes: Vec::new(),
        out: Vec::new(),
    };
    scanner.run()?;
    Ok(scanner.out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str,
    Num(String),
    Punct(&'static str),
}

/// What a local name stands for: a context path, or nothing checkable.
type Alias = Option<Vec<Seg>>;

struct Scanner<'a> {
    source: &'a str,
    roots: &'a [&'a str],
    /// name -> what it stands for; `None` shadows a root or an outer alias.
    aliases: HashMap<String, Alias>,
    /// Bindings a `for` or `macro` replaced, restored at its end.
    scopes: Vec<Vec<(String, Option<Alias>)>>,
    out: Vec<Read>,
}

impl Scanner<'_> {
    fn run(&mut self) -> Result<(), ScanError> {
        let src = self.source;
        let mut i = 0;
        while let Some(rel) = src[i..].find('{') {
            let start = i + rel;
            match src.as_bytes().get(start + 1) {
                Some(b'#') => {
                    let end = src[start..]
                        .find("#}")
                        .ok_or_else(|| self.error(start, "unterminated comment `{#`"))?;
                    i = start + end + 2;
                }
                Some(b'{') => {
                    let (toks, end) = self.tokens(start + 2, "}}")?;
                    self.expression(&toks);
                    i = end;
                }
                Some(b'%') => {
                    let (toks, end) = self.tokens(start + 2, "%}")?;
                    i = if matches!(toks.first(), Some((Tok::Ident(k), _)) if k == "raw") {
                        self.end_of_raw(end)?
                    } else {
                        self.statement(&toks);
                        end
                    };
                }
                _ => i = start + 1,
            }
        }
        Ok(())
    }

    /// Where the text after `{% endraw %}` starts.
    fn end_of_raw(&self, from: usize) -> Result<usize, ScanError> {
        let src = self.source;
        let mut i = from;
        while let Some(rel) = src[i..].find("{%") {
            let start = i + rel;
            let (toks, end) = self.tokens(start + 2, "%}")?;
            if matches!(toks.first(), Some((Tok::Ident(k), _)) if k == "endraw") {
                return Ok(end);
            }
            i = start + 2;
        }
        Err(self.error(from, "`{% raw %}` without `{% endraw %}`"))
    }

    /// Tokens (with byte offsets) from `from` up to the closing `close`;
    /// returns them and the offset just past `close`.
    fn tokens(&self, from: usize, close: &str) -> Result<(Vec<(Tok, usize)>, usize), ScanError> {
        let src = self.source;
        let bytes = src.as_bytes();
        let mut toks = Vec::new();
        let mut i = from;
        if bytes.get(i) == Some(&b'-') {
            i += 1; // whitespace control: `{{-`, `{%-`
        }
        loop {
            let Some(&b) = bytes.get(i) else {
                return Err(self.error(from - 2, &format!("tag without its closing `{close}`")));
            };
            if src[i..].starts_with(close) {
                return Ok((toks, i + close.len()));
            }
            if b == b'-' && src[i + 1..].starts_with(close) {
                i += 1; // `-}}`, `-%}`
                continue;
            }
            if b.is_ascii_whitespace() {
                i += 1;
            } else if b == b'"' || b == b'\'' || b == b'`' {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => return Err(self.error(i, "unterminated string literal")),
                        Some(b'\\') => j += 2,
                        Some(&c) if c == b => break,
                        Some(_) => j += 1,
                    }
                }
                toks.push((Tok::Str, i));
                i = j + 1;
            } else if b.is_ascii_alphabetic() || b == b'_' {
                let len = src[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(src.len() - i);
                toks.push((Tok::Ident(src[i..i + len].to_string()), i));
                i += len;
            } else if b.is_ascii_digit() {
                let len = src[i..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '_'))
                    .unwrap_or(src.len() - i);
                toks.push((Tok::Num(src[i..i + len].replace('_', "")), i));
                i += len;
            } else {
                const PUNCT: [&str; 19] = [
                    "==", "!=", "<=", ">=", ".", "[", "]", "(", ")", "|", "=", ",", ":", "<", ">",
                    "+", "-", "*", "~",
                ];
                match PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
                    Some(p) => {
                        toks.push((Tok::Punct(p), i));
                        i += p.len();
                    }
                    None => {
                        // `/`, `%`, `{`, `}`, `?` ...: not part of a path.
                        toks.push((Tok::Punct("?"), i));
                        i += src[i..].chars().next().map_or(1, char::len_utf8);
                    }
                }
            }
        }
    }

    /// Record the paths of an expression.
    fn expression(&mut self, toks: &[(Tok, usize)]) {
        let mut i = 0;
        while i < toks.len() {
            i = match self.path_at(toks, i) {
                Some((read, next)) => {
                    self.out.push(read);
                    next
                }
                None => i + 1,
            };
        }
    }

    /// The path starting at token `i`, if one starts there and is rooted at
    /// a context root or an alias; with the index of the token after it.
    fn path_at(&self, toks: &[(Tok, usize)], i: usize) -> Option<(Read, usize)> {
        let (Tok::Ident(name), offset) = &toks[i] else {
            return None;
        };
        let before = |back: usize| i.checked_sub(back).map(|j| &toks[j].0);
        let after = toks.get(i + 1).map(|t| &t.0);
        let is_ident = |t: Option<&Tok>, word: &str| matches!(t, Some(Tok::Ident(w)) if w == word);
        let not_a_variable = matches!(before(1), Some(Tok::Punct(".") | Tok::Punct("|")))
            || is_ident(before(1), "is")
            || (is_ident(before(1), "not") && is_ident(before(2), "is"))
            || matches!(after, Some(Tok::Punct("(") | Tok::Punct("=")));
        if not_a_variable {
            return None;
        }
        let alias_of = match self.aliases.get(name) {
            Some(Some(path)) => Some(path.clone()),
            Some(None) => return None,
            None if self.roots.contains(&name.as_str()) => None,
            None => return None,
        };
        let mut segs = Vec::new();
        let mut j = i + 1;
        loop {
            match (toks.get(j).map(|t| &t.0), toks.get(j + 1).map(|t| &t.0)) {
                (Some(Tok::Punct(".")), Some(Tok::Ident(f))) => {
                    segs.push(Seg::Field(f.clone()));
                    j += 2;
                }
                (Some(Tok::Punct(".")), Some(Tok::Num(n))) => {
                    segs.push(Seg::Index(n.parse().unwrap_or(u64::MAX)));
                    j += 2;
                }
                (Some(Tok::Punct("[")), inner) => {
                    let closed = matches!(toks.get(j + 2).map(|t| &t.0), Some(Tok::Punct("]")));
                    match (inner, closed) {
                        (Some(Tok::Str), true) => {
                            let (_, at) = toks[j + 1];
                            segs.push(Seg::Field(self.literal(at)));
                            j += 3;
                        }
                        (Some(Tok::Num(n)), true) => {
                            segs.push(Seg::Index(n.parse().unwrap_or(u64::MAX)));
                            j += 3;
                        }
                        _ => {
                            // The subscript's own paths are read from `[` on.
                            segs.push(Seg::Dynamic);
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        let (line, column) = self.location(*offset);
        let literal_at = |k: usize| match toks.get(k) {
            Some((Tok::Str, at)) => Some(self.literal(*at)),
            _ => None,
        };
        let is_comparison = |k: usize| matches!(toks.get(k), Some((Tok::Punct("==" | "!="), _)));
        let compared_with = if is_comparison(j) {
            literal_at(j + 1)
        } else if i >= 2 && is_comparison(i - 1) {
            literal_at(i - 2)
        } else {
            None
        };
        let read = Read {
            root: name.clone(),
            alias_of,
            segs,
            compared_with,
            line,
            column,
        };
        Some((read, j))
    }

    /// The text of the string literal at `at` (escapes kept as written).
    fn literal(&self, at: usize) -> String {
        let src = &self.source[at..];
        let quote = src.as_bytes()[0];
        let mut j = 1;
        while src.as_bytes()[j] != quote {
            j += if src.as_bytes()[j] == b'\\' { 2 } else { 1 };
        }
        src[1..j].to_string()
    }

    /// Record the paths of a statement and the aliases it makes.
    fn statement(&mut self, toks: &[(Tok, usize)]) {
        let keyword = match toks.first() {
            Some((Tok::Ident(k), _)) => k.as_str(),
            _ => "",
        };
        match keyword {
            "for" => {
                // for x in EXPR | for k, v in EXPR
                let split = toks
                    .iter()
                    .position(|(t, _)| matches!(t, Tok::Ident(w) if w == "in"))
                    .unwrap_or(toks.len());
                let names: Vec<String> = toks[1..split]
                    .iter()
                    .filter_map(|(t, _)| match t {
                        Tok::Ident(n) => Some(n.clone()),
                        _ => None,
                    })
                    .collect();
                let source = toks.get(split + 1..).unwrap_or(&[]);
                self.expression(source);
                let element = match (names.len(), self.pure_path(source)) {
                    (1, Some(path)) => Some([path, vec![Seg::Each]].concat()),
                    _ => None,
                };
                self.bind(&names, element);
            }
            "set" | "set_global" => {
                // set x = EXPR
                let value = toks.get(3..).unwrap_or(&[]);
                self.expression(value);
                if let Some((Tok::Ident(name), _)) = toks.get(1) {
                    let path = self.pure_path(value);
                    self.aliases.insert(name.clone(), path);
                }
            }
            "macro" => {
                // macro m(a, b=DEFAULT): parameters are local names until endmacro.
                let params: Vec<String> = toks
                    .windows(2)
                    .filter_map(|w| match (&w[0].0, &w[1].0) {
                        (Tok::Punct("(" | ","), Tok::Ident(n)) => Some(n.clone()),
                        _ => None,
                    })
                    .collect();
                self.bind(&params, None);
                self.expression(toks.get(2..).unwrap_or(&[]));
            }
            "endfor" | "endmacro" => self.unbind(),
            _ => self.expression(toks),
        }
    }

    /// Bind `names` to `path` until the matching `endfor` / `endmacro`.
    fn bind(&mut self, names: &[String], path: Option<Vec<Seg>>) {
        let saved = names
            .iter()
            .map(|n| (n.clone(), self.aliases.insert(n.clone(), path.clone())))
            .collect();
        self.scopes.push(saved);
    }

    /// Restore what the innermost `bind` replaced.
    fn unbind(&mut self) {
        for (name, before) in self.scopes.pop().unwrap_or_default() {
            match before {
                Some(b) => self.aliases.insert(name, b),
                None => self.aliases.remove(&name),
            };
        }
    }

    /// The resolved path when `toks` is exactly one path and nothing else.
    fn pure_path(&self, toks: &[(Tok, usize)]) -> Option<Vec<Seg>> {
        match self.path_at(toks, 0) {
            Some((read, next)) if next == toks.len() && !read.segs.contains(&Seg::Dynamic) => {
                Some(read.resolved())
            }
            _ => None,
        }
    }

    fn location(&self, offset: usize) -> (usize, usize) {
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    fn error(&self, offset: usize, message: &str) -> ScanError {
        let (line, column) = self.location(offset);
        ScanError {
            line,
            column,
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOTS: &[&str] = &["server", "lang"];

    /// (written, resolved, line, column) of every read.
    fn scan(src: &str) -> Vec<(String, String, usize, usize)> {
        reads(src, ROOTS)
            .expect("scans")
            .into_iter()
            .map(|r| (r.written(), display(&r.resolved()), r.line, r.column))
            .collect()
    }

    fn written(src: &str) -> Vec<String> {
        scan(src).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn paths_in_expressions_and_conditions_are_located() {
        let src = "a {{ server.port }}\n{% if server.chat.rooms and not lang.x %}b{% endif %}";
        assert_eq!(
            scan(src),
            [
                ("server.port".into(), "server.port".into(), 1, 6),
                ("server.chat.rooms".into(), "server.chat.rooms".into(), 2, 7),
                ("lang.x".into(), "lang.x".into(), 2, 33),
            ]
        );
    }

    #[test]
    fn strings_comments_and_raw_blocks_are_skipped() {
        let src = r#"{{ "server.a" ~ 'lang.b }}' ~ `server.c` }}{# server.d #}{% raw %}{{ server.e }}{% endraw %}{{ "\"}}" ~ server.f }}"#;
        assert_eq!(written(src), ["server.f"]);
        assert_eq!(
            written("server.text outside tags { {"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn filters_tests_functions_and_keyword_arguments_are_not_paths() {
        let src = "{{ server.name | js_str }}{{ server | server }}{% if lang is defined and lang is not server %}{% endif %}{{ server(server=1) }}{{ lang.a | default(value=server.b) }}";
        assert_eq!(
            written(src),
            [
                "server.name",
                "server",
                "lang",
                "lang",
                "lang.a",
                "server.b"
            ]
        );
    }

    #[test]
    fn subscripts_are_fields_indexes_or_dynamic() {
        let src = r#"{{ server.subprotocols[0] }}{{ server["chat"].rooms }}{{ server.a.0 }}{{ server.x[lang.k].y }}"#;
        assert_eq!(
            written(src),
            [
                "server.subprotocols[0]",
                "server.chat.rooms",
                "server.a[0]",
                "server.x[..]",
                "lang.k"
            ]
        );
    }

    #[test]
    fn loops_and_sets_make_aliases() {
        let src = "{%- for p in server.subprotocols -%}{{ p | js_str }}{{ loop.last }}{% endfor %}{{ p }}\
                   {% set c = server.chat %}{{ c.rooms }}{% set n = \"lobby\" %}{{ n.x }}\
                   {% for k, v in lang %}{{ v.z }}{% endfor %}{% set server = 1 %}{{ server.q }}";
        assert_eq!(
            scan(src)
                .into_iter()
                .map(|r| (r.0, r.1))
                .collect::<Vec<_>>(),
            [
                ("server.subprotocols".into(), "server.subprotocols".into()),
                ("p".into(), "server.subprotocols[*]".into()),
                ("server.chat".into(), "server.chat".into()),
                ("c.rooms".into(), "server.chat.rooms".into()),
                ("lang".into(), "lang".into()),
            ]
        );
    }

    #[test]
    fn a_loop_alias_ends_with_its_loop_and_macro_parameters_are_local() {
        let src = "{% set p = server.a %}{% for p in server.b %}{{ p.c }}{% endfor %}{{ p.d }}\
                   {% macro m(server, x=lang.y) %}{{ server.z }}{% endmacro %}";
        assert_eq!(
            scan(src).into_iter().map(|r| r.1).collect::<Vec<_>>(),
            [
                "server.a",
                "server.b",
                "server.b[*].c",
                "server.a.d",
                "lang.y"
            ]
        );
    }

    #[test]
    fn comparisons_with_string_literals_are_kept() {
        let r = reads(
            r#"{% if server.kind == "chat" and "echo" != lang.k and server.x == 1 %}"#,
            ROOTS,
        )
        .unwrap();
        let compared: Vec<Option<&str>> = r.iter().map(|r| r.compared_with.as_deref()).collect();
        assert_eq!(compared, [Some("chat"), Some("echo"), None]);
    }

    #[test]
    fn unterminated_tags_and_strings_are_located_errors() {
        let e = reads("ok\n  {{ server.a", ROOTS).unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.message.contains("closing `}}`"), "{}", e.message);
        let e = reads("{{ \"abc }}", ROOTS).unwrap_err();
        assert!(e.message.contains("string"), "{}", e.message);
    }
}
