//! The template set: embedded templates, with a user's folder laid over them.

use super::context::TemplateContext;
use super::{EmitError, Product, check, filters};
use crate::lang::Language;
use include_dir::{Dir, include_dir};
use std::collections::BTreeMap;
use std::path::Path;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Templates per language and product, keyed by path relative to
/// `templates/<language>/` (servers) or `templates/clients/<language>/`
/// (client libraries).
#[derive(Debug, Clone, Default)]
pub struct TemplateSet {
    files: BTreeMap<(Language, Product, String), String>,
    /// `templates/common/`: partials every language can include as
    /// `common/<path>` (e.g. the chat page); never output by themselves.
    common: BTreeMap<String, String>,
}

impl TemplateSet {
    /// The templates built into the binary.
    pub fn embedded() -> TemplateSet {
        let mut set = TemplateSet::default();
        for lang in Language::ALL {
            for product in Product::ALL {
                let root = product.template_dir(lang);
                if let Some(dir) = EMBEDDED.get_dir(&root) {
                    collect(dir, &root, &mut |rel, text| {
                        set.files.insert((lang, product, rel), text);
                    });
                }
            }
        }
        if let Some(dir) = EMBEDDED.get_dir(COMMON) {
            collect(dir, COMMON, &mut |rel, text| {
                set.common.insert(rel, text);
            });
        }
        set
    }

    /// The embedded templates with the files of `dir/<language>/` (and
    /// `dir/clients/<language>/`) laid over them.
    pub fn with_overrides(dir: &Path) -> Result<TemplateSet, EmitError> {
        if !dir.is_dir() {
            return Err(EmitError::Io(format!(
                "--templates {}: not a folder (expected {}/<language>/<file>.tera)",
                dir.display(),
                dir.display()
            )));
        }
        let mut set = Self::embedded();
        for lang in Language::ALL {
            for product in Product::ALL {
                let root = dir.join(product.template_dir(lang));
                if root.is_dir() {
                    read_tree(&root, &root, &mut |rel, text| {
                        set.files.insert((lang, product, rel), text);
                    })?;
                }
            }
        }
        let root = dir.join(COMMON);
        if root.is_dir() {
            read_tree(&root, &root, &mut |rel, text| {
                set.common.insert(rel, text);
            })?;
        }
        Ok(set)
    }

    /// A Tera engine with this language's templates and our filters; every
    /// template (overrides and `common/` partials too) has been checked to
    /// read only paths the typed context has.
    pub fn engine(&self, lang: Language, product: Product) -> Result<tera::Tera, EmitError> {
        let mut tera = tera::Tera::default();
        filters::register(&mut tera);
        let common: Vec<(String, &str)> = self
            .common
            .iter()
            .map(|(name, text)| (format!("{COMMON}/{name}"), text.as_str()))
            .collect();
        let templates: Vec<(&str, &str)> = self
            .files
            .iter()
            .filter(|((l, p, name), _)| *l == lang && *p == product && name.ends_with(".tera"))
            .map(|((_, _, name), text)| (name.as_str(), text.as_str()))
            .chain(common.iter().map(|(n, t)| (n.as_str(), *t)))
            .collect();
        tera.add_raw_templates(templates.iter().copied())
            .map_err(|e| EmitError::Template {
                template: lang.name().into(),
                message: describe(&e),
            })?;
        let shape = TemplateContext::shape(lang, product);
        for (name, text) in &templates {
            let shown = if name.starts_with(&format!("{COMMON}/")) {
                name.to_string()
            } else {
                format!("{}/{name}", product.template_dir(lang))
            };
            check::check_template(&shown, text, &shape)?;
        }
        Ok(tera)
    }

    /// Output-producing entries: (name, Some(verbatim text) | None for a template).
    pub fn outputs(&self, lang: Language, product: Product) -> Vec<(String, Option<&str>)> {
        self.files
            .iter()
            .filter(|((l, p, name), _)| {
                *l == lang && *p == product && !name.split('/').any(is_partial)
            })
            .map(|((_, _, name), text)| {
                let verbatim = (!name.ends_with(".tera")).then_some(text.as_str());
                (name.clone(), verbatim)
            })
            .collect()
    }

    /// Whether a template renders the user's file (its first line is
    /// [`super::USER_OWNED`]).
    pub fn is_user_owned(&self, lang: Language, product: Product, name: &str) -> bool {
        self.files
            .get(&(lang, product, name.to_string()))
            .is_some_and(|text| text.starts_with(super::USER_OWNED))
    }

    /// Names of a language's templates of one product (for `--check` and docs).
    pub fn names(&self, lang: Language, product: Product) -> Vec<&str> {
        self.files
            .keys()
            .filter(|(l, p, _)| *l == lang && *p == product)
            .map(|(_, _, n)| n.as_str())
            .collect()
    }
}

/// The folder of partials shared by every language.
const COMMON: &str = "common";

/// `_name` marks a partial; dunder names (`__init__.py`, `__module__/`) are
/// ordinary outputs.
fn is_partial(component: &str) -> bool {
    component.starts_with('_') && !component.starts_with("__")
}

fn collect(dir: &Dir<'static>, prefix: &str, add: &mut dyn FnMut(String, String)) {
    for f in dir.files() {
        let rel = f.path().strip_prefix(prefix).unwrap_or(f.path());
        if let Some(text) = f.contents_utf8() {
            add(rel.to_string_lossy().replace('\\', "/"), text.to_string());
        }
    }
    for d in dir.dirs() {
        collect(d, prefix, add);
    }
}

fn read_tree(
    root: &Path,
    dir: &Path,
    add: &mut dyn FnMut(String, String),
) -> Result<(), EmitError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| EmitError::Io(format!("reading {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry.map_err(|e| EmitError::Io(e.to_string()))?.path();
        if path.is_dir() {
            read_tree(root, &path, add)?;
        } else {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| EmitError::Io(format!("reading {}: {e}", path.display())))?;
            let rel = path.strip_prefix(root).expect("under root");
            add(rel.to_string_lossy().replace('\\', "/"), text);
        }
    }
    Ok(())
}

/// A Tera error with its causes, on one line each.
pub fn describe(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!("\n  caused by: {s}"));
        src = s.source();
    }
    msg
}
