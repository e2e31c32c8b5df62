//! The boundaries ARCHITECTURE.md names, checked on the source: a change
//! that crosses one fails here, not in review.

use std::path::{Path, PathBuf};

fn crates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source file");
                out.push((path, text));
            }
        }
    }
    out
}

/// The files of `dir` (outside `allowed`, a path prefix) that contain any
/// of `needles`, ignoring comment lines.
fn offenders(dir: &Path, allowed: &[&str], needles: &[&str]) -> Vec<String> {
    let root = crates();
    sources(dir)
        .into_iter()
        .filter(|(path, _)| {
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .to_string_lossy()
                .to_string();
            !allowed.iter().any(|a| rel.starts_with(a))
        })
        .filter(|(_, text)| {
            text.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| needles.iter().any(|n| l.contains(n)))
        })
        .map(|(path, _)| path.display().to_string())
        .collect()
}

#[test]
fn only_the_store_holds_sql_and_only_the_runtime_speaks_to_the_engine() {
    let api = crates().join("api/src");
    assert_eq!(
        offenders(&api, &["api/src/store/"], &["sqlx::"]),
        Vec::<String>::new()
    );
    assert_eq!(
        offenders(&api, &["api/src/runtime/"], &["bollard::"]),
        Vec::<String>::new()
    );
}

#[test]
fn only_the_folder_storage_touches_folder_files() {
    let api = crates().join("api/src");
    assert_eq!(
        offenders(&api, &["api/src/folders/fs/"], &["cap_std::"]),
        Vec::<String>::new()
    );
}

#[test]
fn handlers_call_operations_not_store_queries() {
    let http = crates().join("api/src/http");
    let found: Vec<String> = sources(&http)
        .into_iter()
        .flat_map(|(path, text)| {
            text.lines()
                .filter(|l| l.contains("store()."))
                .map(|l| format!("{}: {}", path.display(), l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn only_the_status_module_changes_a_status_or_announces_one() {
    let api = crates().join("api/src");
    let writers = [
        ".change_status(",
        ".insert_sessions(",
        ".explain_pending(",
        ".publish(",
    ];
    assert_eq!(
        offenders(
            &api,
            &[
                "api/src/sessions/status.rs",
                "api/src/store/",
                "api/src/events.rs"
            ],
            &writers
        ),
        Vec::<String>::new()
    );
}

#[test]
fn status_names_are_written_once() {
    let names = [
        "\"PENDING\"",
        "\"SCHEDULED\"",
        "\"PREPARING\"",
        "\"RUNNING\"",
        "\"TERMINATING\"",
        "\"TERMINATED\"",
        "\"CANCELLED\"",
        "\"ERROR\"",
        "'PENDING'",
        "'RUNNING'",
        "'SCHEDULED'",
    ];
    let mut found = Vec::new();
    for krate in ["api/src", "shared/src", "frontend/src"] {
        found.extend(offenders(
            &crates().join(krate),
            &["shared/src/sessions/status.rs"],
            &names,
        ));
    }
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_scheduler_core_does_no_io() {
    for file in ["core.rs", "fit.rs", "index.rs", "snapshot.rs"] {
        let core = std::fs::read_to_string(crates().join("api/src/scheduler").join(file)).unwrap();
        for forbidden in [
            "tokio", "sqlx", "bollard", "std::fs", "std::net", "Utc::now", "Instant", "clap",
        ] {
            assert!(
                !core.contains(forbidden),
                "scheduler/{file} mentions {forbidden}"
            );
        }
    }
}

/// The modules of one crate and what each imports: the map behind the
/// import-direction checks below.
///
/// A node is a source file. An edge is a path it names — in a `use` or in
/// code, as `crate::…`, `super::…` or `self::…` — resolved to the file
/// that defines it: an item a module re-exports (`pub use child::Item`)
/// counts as an import of the child's file. A module file declaring or
/// re-exporting its own children is not an import of them (that is the
/// tree, not a dependency). Test modules (from `#[cfg(test)]` on) and
/// comment lines are left out.
struct Imports {
    /// File (relative to `src/`) by module path.
    modules: std::collections::HashMap<Vec<String>, String>,
    /// What each file imports.
    edges: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

/// The module path of a file relative to `src/` (`a/mod.rs` is `a`).
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// `a::{b, c::{d, e as f}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.trim();
    let Some(open) = tree
        .find('{')
        .filter(|&o| tree.rfind('}').is_some_and(|c| c > o))
    else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        return vec![path.replace(' ', "")];
    };
    let prefix = tree[..open].trim().trim_end_matches("::").replace(' ', "");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in inner.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand_use(p))
        .map(|p| {
            if prefix.is_empty() {
                p
            } else {
                format!("{prefix}::{p}")
            }
        })
        .collect()
}

/// The source without test modules and comment lines.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `use` trees of `code` (only `pub` ones when `only_pub`), expanded:
/// items whose line starts with `use`, `pub use` or `pub(…) use`.
fn use_paths(code: &str, only_pub: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let (is_pub, rest) = match line.strip_prefix("pub") {
            Some(r) if r.starts_with(' ') => (true, r.trim_start()),
            Some(r) if r.starts_with('(') => {
                (true, r.split_once(')').map_or("", |(_, r)| r).trim_start())
            }
            _ => (false, line),
        };
        let Some(tree) = rest.strip_prefix("use ") else {
            continue;
        };
        let mut tree = tree.to_string();
        while !tree.contains(';') {
            match lines.next() {
                Some(more) => tree.push_str(more),
                None => break,
            }
        }
        if !only_pub || is_pub {
            out.extend(expand_use(tree.split(';').next().unwrap_or_default()));
        }
    }
    out
}

impl Imports {
    fn of(src: &Path) -> Self {
        let files: Vec<(String, String)> = sources(src)
            .into_iter()
            .map(|(p, t)| {
                let rel = p
                    .strip_prefix(src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, code_of(&t))
            })
            .collect();
        let modules: std::collections::HashMap<Vec<String>, String> = files
            .iter()
            .map(|(rel, _)| (module_path(rel), rel.clone()))
            .collect();
        // (module, name) → the child file that defines a re-exported name
        let mut reexports = std::collections::HashMap::new();
        for (rel, code) in &files {
            let me = module_path(rel);
            for path in use_paths(code, true) {
                let segs: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                let Some(first) = segs.first() else { continue };
                let mut child = me.clone();
                child.push(first.clone());
                if !modules.contains_key(&child) {
                    continue;
                }
                let deepest = (1..segs.len())
                    .rev()
                    .map(|k| [me.clone(), segs[..k].to_vec()].concat())
                    .find_map(|m| modules.get(&m).cloned());
                if let (Some(file), Some(name)) = (deepest, segs.last()) {
                    reexports.insert((me.clone(), name.clone()), file);
                }
            }
        }
        let resolve = |path: &[String]| -> Option<String> {
            (1..=path.len()).rev().find_map(|k| {
                let file = modules.get(&path[..k])?;
                Some(
                    path.get(k)
                        .and_then(|name| reexports.get(&(path[..k].to_vec(), name.clone())))
                        .unwrap_or(file)
                        .clone(),
                )
            })
        };
        let mut edges = std::collections::BTreeMap::new();
        for (rel, code) in &files {
            let me = module_path(rel);
            let is_dir = rel.ends_with("mod.rs") || rel == "lib.rs" || rel == "main.rs";
            let mut paths = use_paths(code, false);
            for start in ["crate::", "super::", "self::"] {
                let mut rest = code.as_str();
                while let Some(at) = rest.find(start) {
                    let ok = at == 0
                        || !(rest.as_bytes()[at - 1].is_ascii_alphanumeric()
                            || rest.as_bytes()[at - 1] == b'_'
                            || rest.as_bytes()[at - 1] == b':');
                    let tail: String = rest[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    if ok {
                        paths.push(tail.clone());
                    }
                    rest = &rest[at + tail.len().max(1)..];
                }
            }
            let mut out = std::collections::BTreeSet::new();
            for path in paths {
                let mut segs: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                if segs.is_empty() {
                    continue;
                }
                // `super` of `a/b.rs` and of `a/b/mod.rs` is `a`
                let base: Vec<String> = match segs[0].as_str() {
                    "crate" => Vec::new(),
                    "super" => {
                        let mut base = me.clone();
                        while segs.first().is_some_and(|s| s == "super") {
                            base.pop();
                            segs.remove(0);
                        }
                        segs.insert(0, String::new());
                        base
                    }
                    "self" => me.clone(),
                    first
                        if modules
                            .contains_key(&[me.clone(), vec![first.to_string()]].concat()) =>
                    {
                        segs.insert(0, String::new());
                        me.clone()
                    }
                    _ => continue,
                };
                let full: Vec<String> = base.into_iter().chain(segs.into_iter().skip(1)).collect();
                let Some(target) = resolve(&full) else {
                    continue;
                };
                let owned = is_dir && module_path(&target).starts_with(&me);
                if target != *rel && !owned {
                    out.insert(target);
                }
            }
            edges.insert(rel.clone(), out);
        }
        Imports { modules, edges }
    }

    /// The import circles: each a set of files that reach one another.
    fn circles(&self) -> Vec<Vec<String>> {
        // Tarjan's strongly connected components
        struct Walk<'a> {
            edges: &'a std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
            index: std::collections::HashMap<&'a str, (usize, usize)>,
            stack: Vec<&'a str>,
            next: usize,
            found: Vec<Vec<String>>,
        }
        impl<'a> Walk<'a> {
            fn visit(&mut self, v: &'a str) {
                self.index.insert(v, (self.next, self.next));
                self.next += 1;
                self.stack.push(v);
                for w in self.edges.get(v).into_iter().flatten() {
                    let w = w.as_str();
                    match self.index.get(w).copied() {
                        None => {
                            self.visit(w);
                            let low = self.index[w].1.min(self.index[v].1);
                            self.index.get_mut(v).unwrap().1 = low;
                        }
                        Some((i, _)) if self.stack.contains(&w) => {
                            let low = i.min(self.index[v].1);
                            self.index.get_mut(v).unwrap().1 = low;
                        }
                        Some(_) => {}
                    }
                }
                let (i, low) = self.index[v];
                if i == low {
                    let mut circle = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        circle.push(w.to_string());
                        if w == v {
                            break;
                        }
                    }
                    if circle.len() > 1 {
                        circle.sort();
                        self.found.push(circle);
                    }
                }
            }
        }
        let mut walk = Walk {
            edges: &self.edges,
            index: Default::default(),
            stack: Vec::new(),
            next: 0,
            found: Vec::new(),
        };
        for v in self.edges.keys() {
            if !walk.index.contains_key(v.as_str()) {
                walk.visit(v);
            }
        }
        walk.found
    }

    /// The imports from files under `from` of files under `to` (folders or
    /// files relative to `src/`).
    fn crossings(&self, from: &str, to: &str) -> Vec<String> {
        self.edges
            .iter()
            .filter(|(f, _)| f.starts_with(from))
            .flat_map(|(f, ts)| {
                ts.iter()
                    .filter(|t| t.starts_with(to))
                    .map(move |t| format!("{f} → {t}"))
            })
            .collect()
    }
}

#[test]
fn no_crate_has_an_import_circle() {
    for krate in [
        "api/src",
        "shared/src",
        "frontend/src",
        "testkit/src",
        "../e2e/src",
    ] {
        let imports = Imports::of(&crates().join(krate));
        assert!(!imports.modules.is_empty(), "{krate}: no modules found");
        assert_eq!(
            imports.circles(),
            Vec::<Vec<String>>::new(),
            "{krate}: files that import one another"
        );
    }
}

#[test]
fn lower_modules_do_not_import_higher_ones() {
    let api = Imports::of(&crates().join("api/src"));
    // only the server mounts the HTTP layer; the app proxy stands on its own
    for area in [
        "accounts",
        "apps",
        "sessions",
        "folders",
        "resources",
        "scheduler",
        "idle",
        "images",
        "store",
        "runtime",
        "services.rs",
    ] {
        assert_eq!(api.crossings(area, "http/"), Vec::<String>::new());
    }
    // agent liveness flows one way: the reconciler asks `resources::agents`
    // and tells the sessions; agents never call back into sessions
    assert_eq!(
        api.crossings("resources/", "sessions/"),
        Vec::<String>::new()
    );
    // the store and the engine know no operation and no shared state
    for low in ["store/", "runtime/"] {
        for high in [
            "services.rs",
            "sessions/",
            "apps/",
            "idle/",
            "scheduler/",
            "resources/",
            "accounts/",
            "folders/",
        ] {
            assert_eq!(api.crossings(low, high), Vec::<String>::new());
        }
    }
    // the shared state holds parts; none of those parts holds it back
    let services = &api.edges["services.rs"];
    for part in services {
        assert!(
            !api.edges[part].contains("services.rs"),
            "{part} is a part of Services and imports it"
        );
    }
    // the dialogs read their target from the context, not from their host;
    // only the whole UI's root mounts them and the detail panel (the first
    // visit's build must not link them)
    let ui = Imports::of(&crates().join("frontend/src"));
    for part in [
        "components/session_dialogs.rs",
        "components/session_detail.rs",
    ] {
        assert_eq!(
            ui.edges
                .iter()
                .filter(|(_, ts)| ts.contains(part))
                .map(|(f, _)| f.clone())
                .collect::<Vec<_>>(),
            vec!["app.rs".to_string()],
            "{part}"
        );
    }
}

#[test]
fn the_import_map_sees_a_circle_and_a_reexport() {
    // the check itself can fail: a fake crate with a circle through a
    // re-export, and a parent that only declares its children
    let dir = std::env::temp_dir().join(format!("berth-arch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "mod inner;\npub use inner::Thing;\n").unwrap();
    std::fs::write(
        dir.join("a/inner.rs"),
        "use crate::b::{self, Other as O};\npub struct Thing;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "use crate::a::Thing;\npub struct Other;\n",
    )
    .unwrap();
    let imports = Imports::of(&dir);
    assert_eq!(imports.edges["b.rs"], ["a/inner.rs".to_string()].into());
    assert_eq!(
        imports.circles(),
        vec![vec!["a/inner.rs".to_string(), "b.rs".to_string()]]
    );
    std::fs::write(dir.join("a/inner.rs"), "pub struct Thing;\n").unwrap();
    assert_eq!(Imports::of(&dir).circles(), Vec::<Vec<String>>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
