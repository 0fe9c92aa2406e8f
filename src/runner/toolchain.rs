//! Check the tools a language's driver lists (`LanguageDriver::toolchain`):
//! present on PATH and, where it matters, new enough.

use crate::lang::{Language, Tool};
use std::process::Command;

/// Fail with a message naming the first missing or too old tool and how to
/// install it.
pub fn check(lang: Language) -> Result<(), String> {
    for tool in lang.driver().toolchain() {
        check_tool(lang, tool)?;
    }
    Ok(())
}

fn check_tool(lang: Language, tool: &Tool) -> Result<(), String> {
    let out = Command::new(tool.program)
        .arg(tool.version_arg)
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(out) = out else {
        return Err(format!(
            "the {} output needs `{}`, which is not installed or not on PATH: {}",
            lang, tool.program, tool.install
        ));
    };
    let Some((major, minor)) = tool.min_version else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&out.stdout);
    match parse_version(&text) {
        Some(found) if found < (major, minor) => Err(format!(
            "the {} output needs `{}` {major}.{minor} or newer, found {}.{}: {}",
            lang, tool.program, found.0, found.1, tool.install
        )),
        _ => Ok(()),
    }
}

/// The first `MAJOR.MINOR` in a version line (`v20.11.0`, `Python 3.11.7`,
/// `go version go1.23.1 linux/amd64`, `cargo 1.85.0 (...)`).
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            let rest = &text[i..];
            let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = &rest[major.len()..];
            if let Some(after) = after.strip_prefix('.') {
                let minor: String = after.chars().take_while(char::is_ascii_digit).collect();
                if !minor.is_empty() {
                    return Some((major.parse().ok()?, minor.parse().ok()?));
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_are_read_from_each_tool() {
        assert_eq!(parse_version("v20.11.0\n"), Some((20, 11)));
        assert_eq!(parse_version("Python 3.11.7"), Some((3, 11)));
        assert_eq!(
            parse_version("go version go1.23.1 linux/amd64"),
            Some((1, 23))
        );
        assert_eq!(
            parse_version("cargo 1.85.0 (d73d2caf9 2024-12-31)"),
            Some((1, 85))
        );
        assert_eq!(parse_version("none"), None);
    }
}
