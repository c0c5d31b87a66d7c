//! The library's layers, read from its sources: every `crate::` (and
//! `super::`) path names a module; no module may name one in a layer
//! above its own, and the modules may not import each other in a cycle.
//!
//! Layers, bottom up, as ARCHITECTURE.md draws them: `data`, `state`,
//! `runtime`, `net`, `features`, then the facade (`node.rs`, `builder.rs`,
//! `lib.rs`). The `cnode` tool lives in its own crate, `cnode-cli`.
//! Comments and `#[cfg(test)]` modules at the end of a file are left out:
//! a doc link or a test is no import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom up; a top-level module not named here is the facade.
const LAYERS: [&str; 5] = ["data", "state", "runtime", "net", "features"];

/// A module: its path from the crate root, e.g. `["state", "table"]`.
type Module = Vec<String>;

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let graph = graph();
    let mut upward = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            if layer(to) > layer(from) {
                upward.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_modules_import_each_other_in_a_cycle() {
    let graph = graph();
    if let Some(cycle) = find_cycle(&graph) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_checks_see_cycles_and_upward_imports() {
    let m = |path: &str| -> Module { path.split("::").map(str::to_owned).collect() };
    let mut graph = BTreeMap::new();
    graph.insert(m("state::a"), BTreeSet::from([m("state::b")]));
    graph.insert(m("state::b"), BTreeSet::from([m("data::c")]));
    graph.insert(m("data::c"), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    graph.insert(m("data::c"), BTreeSet::from([m("state::a")]));
    let cycle = find_cycle(&graph).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(layer(&m("data::c")) < layer(&m("state::a")));
    assert!(layer(&m("node")) > layer(&m("features::rpc")));
    let source = "use crate::state::table::{ProcessTable, X};\n\
                  // crate::features::rpc in a comment\n\
                  fn f() { crate::net::dial::start(); super::peers::x(); }\n\
                  #[cfg(test)]\nmod tests { use crate::node::Node; }\n";
    let modules = BTreeSet::from([
        m("state::table"),
        m("state::peers"),
        m("net::dial"),
        m("features::rpc"),
        m("node"),
    ]);
    let edges = edges(&m("state::registry"), source, &modules);
    let expected = BTreeSet::from([m("state::table"), m("net::dial"), m("state::peers")]);
    assert_eq!(edges, expected);
}

/// Every module of the library and the modules it names.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let modules: BTreeMap<Module, PathBuf> = files
        .into_iter()
        .filter_map(|file| Some((module_of(&root, &file)?, file)))
        .collect();
    assert!(modules.len() > 20, "the sources were found: {modules:?}");
    let names: BTreeSet<Module> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(module, file)| {
            let source = std::fs::read_to_string(file).expect("a source file reads");
            (module.clone(), edges(module, &source, &names))
        })
        .collect()
}

/// The `.rs` files under `dir`.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source folder reads") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The module a library file holds.
fn module_of(root: &Path, file: &Path) -> Option<Module> {
    let relative = file.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    match last.as_str() {
        "mod.rs" | "lib.rs" => {}
        file => parts.push(file.trim_end_matches(".rs").to_owned()),
    }
    Some(parts)
}

/// The modules of `modules` that `source` (the text of `module`) names
/// through `crate::` or `super::` paths, itself left out.
fn edges(module: &Module, source: &str, modules: &BTreeSet<Module>) -> BTreeSet<Module> {
    let code = code_only(source);
    let mut found = BTreeSet::new();
    for (start, prefix) in [("crate::", Vec::new()), ("super::", parent(module))] {
        for (at, _) in code.match_indices(start) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + start.len()..];
            for path in expand(rest) {
                let mut target = prefix.clone();
                target.extend(path);
                // The longest prefix of the path that is a module.
                while !target.is_empty() && !modules.contains(&target) {
                    target.pop();
                }
                if !target.is_empty() && &target != module {
                    found.insert(target);
                }
            }
        }
    }
    found
}

/// The parent of a file's module, which `super::` names.
fn parent(module: &Module) -> Module {
    let mut parent = module.clone();
    parent.pop();
    parent
}

/// The paths at the start of `rest` (after `crate::`): one, or one per
/// member of a `{...}` group.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    let head: Vec<String> = rest[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if rest[end..].starts_with('{') && rest[..end].ends_with("::") {
        let group = &rest[end + 1..];
        let close = group.find('}').unwrap_or(group.len());
        return group[..close]
            .split(',')
            .map(|member| {
                let member = member.trim();
                let name_end = member
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(member.len());
                let mut path = head.clone();
                if name_end > 0 && &member[..name_end] != "self" {
                    path.push(member[..name_end].to_owned());
                }
                path
            })
            .collect();
    }
    vec![head]
}

/// `source` without comments and without a trailing `#[cfg(test)]` module.
fn code_only(source: &str) -> String {
    let body = source
        .find("#[cfg(test)]\nmod tests")
        .map_or(source, |at| &source[..at]);
    body.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A module's layer: its index in [`LAYERS`], or the facade above them.
fn layer(module: &Module) -> usize {
    let top = module.first().map(String::as_str).unwrap_or_default();
    LAYERS
        .iter()
        .position(|layer| *layer == top)
        .unwrap_or(LAYERS.len())
}

/// A cycle of the graph, its first module repeated at the end; `None` if
/// there is none.
fn find_cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&Module, Mark> = BTreeMap::new();
    for start in graph.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // Depth first, without recursion: the path and each step's
        // remaining targets.
        let mut path: Vec<&Module> = vec![start];
        let mut pending: Vec<Vec<&Module>> = vec![targets(graph, start)];
        marks.insert(start, Mark::Open);
        loop {
            while pending.last().is_some_and(Vec::is_empty) {
                pending.pop();
                if let Some(done) = path.pop() {
                    marks.insert(done, Mark::Done);
                }
            }
            let Some(next) = pending.last_mut().and_then(Vec::pop) else {
                break;
            };
            match marks.get(next) {
                Some(Mark::Open) => {
                    let from = path.iter().position(|m| *m == next).unwrap_or(0);
                    let mut cycle: Vec<Module> =
                        path[from..].iter().map(|m| (*m).clone()).collect();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    marks.insert(next, Mark::Open);
                    path.push(next);
                    pending.push(targets(graph, next));
                }
            }
        }
    }
    None
}

/// The modules `module` names, as a stack to pop.
fn targets<'a>(graph: &'a BTreeMap<Module, BTreeSet<Module>>, module: &Module) -> Vec<&'a Module> {
    graph
        .get(module)
        .map(|t| t.iter().collect())
        .unwrap_or_default()
}
