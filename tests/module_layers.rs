//! Every crate of the workspace reads top-down: no import cycle between its source files.
//!
//! A file depends on another when its code names something defined there: a `use` of it, or a
//! path through it (`crate::keys::prefix_end`, `super::csr::Csr`, `build::build_csr`).
//! Re-exports (`pub use`, `pub(crate) use`) are transparent: they make no dependency of their
//! own, and a path through one counts as a dependency on the file that defines the item. Test
//! code (`#[cfg(test)]`) is not part of the layering and is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// The crate roots of the workspace.
const ROOTS: &[&str] = &[
    "kg-store/src/lib.rs",
    "queries/src/lib.rs",
    "datasets/src/lib.rs",
    "trainer/src/lib.rs",
    "experiment/src/lib.rs",
    "testsuite/src/lib.rs",
    "fuzz/src/lib.rs",
    "src/main.rs",
];

#[test]
fn no_crate_has_an_import_cycle_between_its_files() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for root in ROOTS {
        let root = top.join(root);
        if !root.exists() {
            panic!("{} is listed but missing", root.display());
        }
        let krate = Crate::read(&root);
        checked += krate.modules.len();
        let graph = krate.dependencies();
        let name = |f: &Path| f.strip_prefix(top).unwrap_or(f).display().to_string();
        for cycle in cycles(&graph) {
            let mut text = format!("a cycle through {} files:", cycle.len());
            for file in &cycle {
                for (to, via) in &graph[file] {
                    if cycle.contains(to) {
                        text.push_str(&format!("\n  {} -> {} (via {via})", name(file), name(to)));
                    }
                }
            }
            failures.push(text);
        }
    }
    assert!(
        checked > 50,
        "only {checked} modules found: is the walk broken?"
    );
    assert!(
        failures.is_empty(),
        "import cycles between files:\n{}",
        failures.join("\n")
    );
}

/// The checker finds what it exists to find: a cycle through a child's `super::` path and
/// another through a re-export.
#[test]
fn the_checker_sees_cycles_through_super_and_re_exports() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "mod a; mod b; mod c; pub use c::Thing;\n#[cfg(test)] mod tests { use crate::a::X; }",
    );
    write(
        "a/mod.rs",
        "mod inner; pub struct X; fn f() { inner::g(); }",
    );
    write("a/inner.rs", "pub fn g() { let _ = super::X; }");
    write("b.rs", "use crate::Thing; pub struct Y;");
    write("c.rs", "pub struct Thing; fn h(_: crate::b::Y) {}");
    let krate = Crate::read(&dir.path().join("lib.rs"));
    let found: BTreeSet<BTreeSet<String>> = cycles(&krate.dependencies())
        .into_iter()
        .map(|cycle| {
            cycle
                .iter()
                .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect()
        })
        .collect();
    let expected: BTreeSet<BTreeSet<String>> = [
        ["a/mod.rs", "a/inner.rs"].map(String::from).into(),
        ["b.rs", "c.rs"].map(String::from).into(),
    ]
    .into();
    assert_eq!(found, expected);
}

/// File -> the files it depends on, each with the path that makes the dependency.
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

/// A module of the crate: its file and its child modules.
struct Module {
    file: PathBuf,
    children: BTreeMap<String, Vec<String>>,
    /// Re-exported names: name -> the path it stands for (relative to this module).
    reexports: BTreeMap<String, Vec<String>>,
    /// Paths this module's code names, as written (relative to this module).
    paths: Vec<Vec<String>>,
}

struct Crate {
    /// By module path (`[]` for the root).
    modules: BTreeMap<Vec<String>, Module>,
}

impl Crate {
    fn read(root: &Path) -> Self {
        let mut krate = Self {
            modules: BTreeMap::new(),
        };
        krate.read_module(Vec::new(), root, root.parent().unwrap().to_owned());
        krate
    }

    /// Reads the module `path` from `file`, whose child modules live in `dir`.
    fn read_module(&mut self, path: Vec<String>, file: &Path, dir: PathBuf) {
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut module = Module {
            file: file.to_owned(),
            children: BTreeMap::new(),
            reexports: BTreeMap::new(),
            paths: Vec::new(),
        };
        let mut children = Vec::new();
        for item in &ast.items {
            if is_test(item_attrs(item)) {
                continue;
            }
            match item {
                syn::Item::Mod(m) if m.content.is_none() => {
                    let name = m.ident.to_string();
                    let mut child = path.clone();
                    child.push(name.clone());
                    module.children.insert(name.clone(), child.clone());
                    let flat = dir.join(format!("{name}.rs"));
                    let (child_file, child_dir) = if flat.exists() {
                        (flat, dir.join(&name))
                    } else {
                        (dir.join(&name).join("mod.rs"), dir.join(&name))
                    };
                    children.push((child, child_file, child_dir));
                }
                syn::Item::Use(u) if !matches!(u.vis, syn::Visibility::Inherited) => {
                    for (used, rename) in flatten_use(&u.tree) {
                        let name = rename.unwrap_or_else(|| used.last().cloned().unwrap());
                        module.reexports.insert(name, used);
                    }
                }
                _ => {
                    let mut collector = PathCollector::default();
                    collector.visit_item(item);
                    module.paths.extend(collector.paths);
                }
            }
        }
        self.modules.insert(path, module);
        for (child, child_file, child_dir) in children {
            self.read_module(child, &child_file, child_dir);
        }
    }

    /// File -> the files it depends on, each with the first path that names it.
    fn dependencies(&self) -> Graph {
        let mut graph = Graph::new();
        for (path, module) in &self.modules {
            let edges = graph.entry(module.file.clone()).or_default();
            for written in &module.paths {
                if let Some(file) = self.resolve(path, written, 0) {
                    if file != module.file {
                        edges.entry(file).or_insert_with(|| written.join("::"));
                    }
                }
            }
        }
        graph
    }

    /// The file defining what `written` names from inside module `from`; `None` for what lies
    /// outside the crate (another crate, a local name).
    fn resolve(&self, from: &[String], written: &[String], depth: usize) -> Option<PathBuf> {
        if depth > 16 {
            return None; // a re-export loop: rustc would reject it
        }
        let (mut current, rest): (Vec<String>, &[String]) = match written.first()?.as_str() {
            "crate" => (Vec::new(), &written[1..]),
            "self" => (from.to_vec(), &written[1..]),
            "super" => {
                let mut up = from.to_vec();
                let mut rest = written;
                while rest.first().map(String::as_str) == Some("super") {
                    up.pop()?;
                    rest = &rest[1..];
                }
                (up, rest)
            }
            first if self.modules[from].children.contains_key(first) => (from.to_vec(), written),
            _ => return None,
        };
        let mut rest = rest;
        while let Some(segment) = rest.first() {
            let module = &self.modules[&current];
            if let Some(child) = module.children.get(segment) {
                current = child.clone();
                rest = &rest[1..];
            } else if let Some(target) = module.reexports.get(segment) {
                let mut through = target.clone();
                through.extend_from_slice(&rest[1..]);
                return self.resolve(&current, &through, depth + 1);
            } else {
                break;
            }
        }
        Some(self.modules[&current].file.clone())
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[cfg(test)]`, alone or first in an `all(...)`/`any(...)`.
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && {
            let tokens = attr
                .meta
                .require_list()
                .map(|l| l.tokens.to_string())
                .unwrap_or_default();
            tokens == "test" || tokens.starts_with("all (test")
        }
    })
}

/// The paths of a use tree, each with its `as` name.
fn flatten_use(tree: &syn::UseTree) -> Vec<(Vec<String>, Option<String>)> {
    fn walk(
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, Option<String>)>,
    ) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                walk(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) if n.ident == "self" => out.push((prefix.clone(), None)),
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                out.push((path, None));
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                if r.ident != "self" {
                    path.push(r.ident.to_string());
                }
                out.push((path, Some(r.rename.to_string())));
            }
            syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    walk(item, prefix, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, &mut Vec::new(), &mut out);
    out
}

/// Every path in an item's code, and every `use` inside it, skipping test code.
#[derive(Default)]
struct PathCollector {
    paths: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.paths
            .extend(flatten_use(&u.tree).into_iter().map(|(path, _)| path));
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.paths
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    /// `pub(crate)`, `pub(super)`: visibility, not a dependency.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
}

/// The strongly connected components of more than one file, each as a cycle through them.
fn cycles(graph: &Graph) -> Vec<Vec<PathBuf>> {
    // Tarjan's algorithm, iterative enough for module graphs (recursion depth = file count).
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g PathBuf, usize>,
        low: BTreeMap<&'g PathBuf, usize>,
        stack: Vec<&'g PathBuf>,
        on_stack: BTreeSet<&'g PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flat_map(BTreeMap::keys) {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[w].min(s.low[v]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.index[w].min(s.low[v]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.reverse();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}
