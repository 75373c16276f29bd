//! The domain crate's design, checked on its source: its modules form layers (no module reaches,
//! directly or through others, back into one that uses it), and every write of keys, versions,
//! details, namespace counters and audit rows goes through the one write transaction
//! (`domain::write::WriteTxn`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the source folder is readable") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to (`store/sql.rs` -> `store`), `None` for `lib.rs`.
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(root).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib").then_some(name)
}

/// The source without comments, so that a doc link does not count as a dependency.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier_at(text: &str) -> String {
    text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The top-level modules named after `crate::` in `code`, including those in `crate::{a, b::c}`.
fn crate_references(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => item.push(c),
                }
            }
            items.push(item);
            for item in items {
                found.insert(identifier_at(item.trim()));
            }
        } else {
            found.insert(identifier_at(rest));
        }
    }
    found.retain(|name| modules.contains(name));
    found
}

/// module -> the modules it uses.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = source_root();
    let all = files(&root);
    let modules: BTreeSet<String> = all.iter().filter_map(|f| module_of(&root, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &all {
        let Some(module) = module_of(&root, file) else { continue };
        let code = code_of(&std::fs::read_to_string(file).expect("a readable source file"));
        let used = crate_references(&code, &modules);
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(used.into_iter().filter(|m| *m != module));
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    let mut seen = BTreeSet::new();
    walk(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn the_modules_form_layers_without_a_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("write") && graph.contains_key("sql"), "the layers this test knows are there");
    let cycles: Vec<String> =
        graph.keys().filter_map(|module| cycle_from(&graph, module)).map(|cycle| cycle.join(" -> ")).collect();
    let drawn: Vec<String> = graph
        .iter()
        .map(|(module, uses)| format!("{module} -> {}", uses.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    assert!(
        cycles.is_empty(),
        "modules that reach back into themselves:\n{}\n\ngraph:\n{}",
        cycles.join("\n"),
        drawn.join("\n")
    );
}

#[test]
fn the_bottom_layers_know_no_feature() {
    let graph = module_graph();
    let features = ["audit", "catalog", "jobs", "kv", "services", "store", "tokens", "auth"];
    for bottom in ["sql", "error", "limits", "model", "db", "actor", "entity", "write"] {
        let uses = graph.get(bottom).cloned().unwrap_or_default();
        let wrong: Vec<&String> = uses.iter().filter(|m| features.contains(&m.as_str())).collect();
        assert!(wrong.is_empty(), "{bottom} uses the feature modules {wrong:?}");
    }
}

/// What only the write transaction may do to the tables that hold keys, versions, details,
/// namespace counters and the audit log.
const WRITES_OWNED_BY_WRITE_TXN: [&str; 20] = [
    "INSERT INTO audit_log",
    "DELETE FROM audit_log",
    "INSERT INTO key_versions",
    "DELETE FROM key_versions",
    "INSERT INTO key_details",
    "DELETE FROM {table}",
    "DELETE FROM key_details",
    "INSERT INTO key_tags",
    "DELETE FROM key_tags",
    "kv_entry::Entity::insert",
    "kv_entry::Entity::update",
    "kv_entry::Entity::delete",
    "namespace::Column::KeyCount",
    "UPDATE namespaces",
    "namespace::Entity::insert",
    "namespace::Entity::update",
    "namespace::Entity::delete",
    "audit_log::Entity::insert",
    "audit_log::Entity::update",
    "audit_log::Entity::delete",
];

#[test]
fn only_the_write_transaction_writes_keys_versions_details_counters_and_audit_rows() {
    let root = source_root();
    let mut found = Vec::new();
    for file in files(&root) {
        if file.ends_with("write.rs")
            || file.ends_with("entity.rs")
            || file.parent().is_some_and(|p| p.ends_with("entity"))
        {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("a readable source file"));
        for pattern in WRITES_OWNED_BY_WRITE_TXN {
            if code.contains(pattern) {
                found.push(format!("{}: {pattern}", file.strip_prefix(&root).unwrap_or(&file).display()));
            }
        }
    }
    assert!(found.is_empty(), "writes outside domain::write:\n{}", found.join("\n"));
}

#[test]
fn the_checks_see_what_they_look_for() {
    let modules: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let used = crate_references("use crate::{a::X, b};\nlet y = crate::c::f(); // crate::d", &modules);
    assert_eq!(used, modules);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), ["b".to_owned()].into()),
        ("b".to_owned(), ["c".to_owned()].into()),
        ("c".to_owned(), ["a".to_owned()].into()),
    ]
    .into();
    assert_eq!(cycle_from(&graph, "a"), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(code_of("x // crate::a"), "x ");
}
