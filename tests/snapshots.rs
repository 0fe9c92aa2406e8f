//! insta snapshots of every spec x language: a template change shows up as a
//! reviewed snapshot diff (`cargo insta review`). Snapshots live in `snapshots/`.

use wsgen::lang::Language;

/// Every spec in `specs/`, rendered for every language that can honour it.
#[test]
fn every_spec_in_every_language() {
    let mut specs: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/specs"))
        .expect("specs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no specs found");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for spec in &specs {
        let server = wsgen::pipeline::load_server(Some(spec), &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
        let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
        for lang in Language::ALL {
            // A language that cannot honour a spec must say so (the refusal
            // names the key, the value and the library); its snapshot is that
            // refusal.
            let body = match wsgen::pipeline::generate(&server, lang) {
                Ok(files) => {
                    assert!(!files.is_empty(), "{stem} -> {lang}: no files");
                    let mut body = String::new();
                    for f in files {
                        body.push_str(&format!("==> {} <==\n{}\n", f.path.display(), f.contents));
                    }
                    body
                }
                Err(e) => format!("refused: {e}\n"),
            };
            insta::assert_snapshot!(format!("{stem}__{lang}"), body);
        }
    }
}

/// The single-file form (`--output echo-server.js`) of every spec in every
/// language: the inlined echo servers, and the refusals (chat, Rust).
#[test]
fn every_spec_as_a_single_file() {
    let mut specs: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/specs"))
        .expect("specs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    let templates = wsgen::emit::TemplateSet::embedded();
    for spec in &specs {
        let server = wsgen::pipeline::load_server(Some(spec), &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
        let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
        for lang in Language::ALL {
            let name = wsgen::single::default_file_name(&server, lang);
            let body = match wsgen::single::render(&server, lang, &templates, &name) {
                Ok(f) => format!("==> {} <==\n{}\n", f.path.display(), f.contents),
                Err(e) => format!("refused: {e}\n"),
            };
            insta::assert_snapshot!(format!("single-{stem}__{lang}"), body);
        }
    }
}

/// The client library (`--client`) of every spec in every language: one
/// package per echo, chat and session spec; an mcp spec's snapshot is the
/// refusal (its clients are the MCP SDKs).
#[test]
fn every_spec_as_a_client_library() {
    let mut specs: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/specs"))
        .expect("specs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for spec in &specs {
        let server = wsgen::pipeline::load_server(Some(spec), &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
        let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
        for lang in Language::ALL {
            let body = match wsgen::pipeline::generate_client(&server, lang) {
                Ok(files) => {
                    assert!(!files.is_empty(), "{stem} -> {lang} client: no files");
                    let mut body = String::new();
                    for f in files {
                        body.push_str(&format!("==> {} <==\n{}\n", f.path.display(), f.contents));
                    }
                    body
                }
                Err(e) => format!("refused: {e}\n"),
            };
            insta::assert_snapshot!(format!("client-{stem}__{lang}"), body);
        }
    }
}
