//! Where Django looks for templates, read from the settings module: `TEMPLATES` (`DIRS`,
//! `APP_DIRS` of the `DjangoTemplates` backends) and `INSTALLED_APPS`. Folder expressions are
//! evaluated the few ways settings write them (`BASE_DIR / "templates"`,
//! `os.path.join(BASE_DIR, "templates")`, `Path(__file__).resolve().parent.parent`).

use crate::syntax::NodeKind;
use crate::syntax::{call_args, dotted_name, is_true, last_segment, string_value, text, unparen};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use tree_sitter::Node;

/// A folder expression, kept unevaluated until every module-level name is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathExpr {
    /// The settings file itself (`__file__`).
    File,
    Literal(String),
    Name(String),
    Parent(Box<PathExpr>),
    Join(Box<PathExpr>, Vec<PathExpr>),
}

#[derive(Clone, Debug, Default)]
pub struct RawSettings {
    /// The settings file, relative to the project root.
    pub path: PathBuf,
    /// Module-level `NAME = <folder expression>`.
    pub names: Vec<(String, PathExpr)>,
    pub dirs: Vec<PathExpr>,
    pub app_dirs: bool,
    /// A `TEMPLATES` setting with a Django templates backend was found.
    pub templates: bool,
    pub installed_apps: Vec<String>,
}

pub(super) fn extract(relative: &Path, root: Node, src: &str) -> Option<RawSettings> {
    let mut raw = RawSettings {
        path: relative.to_path_buf(),
        ..RawSettings::default()
    };
    let mut found = false;
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        let Some(assign) = stmt
            .named_child(0)
            .filter(|a| matches!(a.node_kind(), "assignment" | "augmented_assignment"))
        else {
            continue;
        };
        let (Some(left), Some(right)) = (
            assign.child_by_field_id(crate::field!("left")),
            assign.child_by_field_id(crate::field!("right")),
        ) else {
            continue;
        };
        let right = unparen(right);
        match text(left, src) {
            "TEMPLATES" => {
                found = true;
                templates(right, src, &mut raw);
            }
            "INSTALLED_APPS" => {
                found = true;
                apps(right, src, &mut raw.installed_apps);
            }
            name if left.node_kind() == "identifier" => {
                if let Some(expr) = path_expr(right, src) {
                    raw.names.push((name.to_string(), expr));
                }
            }
            _ => {}
        }
    }
    found.then_some(raw)
}

fn apps(node: Node, src: &str, out: &mut Vec<String>) {
    match node.node_kind() {
        "list" | "tuple" => {
            let mut cursor = node.walk();
            for item in node.named_children(&mut cursor) {
                if let Some(s) = string_value(item, src) {
                    out.push(s);
                }
            }
        }
        "binary_operator" => {
            for side in ["left", "right"] {
                if let Some(n) = node.child_by_field_name(side) {
                    apps(unparen(n), src, out);
                }
            }
        }
        _ => {}
    }
}

fn templates(node: Node, src: &str, raw: &mut RawSettings) {
    if !matches!(node.node_kind(), "list" | "tuple") {
        return;
    }
    let mut cursor = node.walk();
    for backend in node.named_children(&mut cursor) {
        if backend.node_kind() != "dictionary" {
            continue;
        }
        let mut is_django = false;
        let mut dirs = Vec::new();
        let mut app_dirs = false;
        let mut inner = backend.walk();
        for pair in backend.named_children(&mut inner) {
            if pair.node_kind() != "pair" {
                continue;
            }
            let (Some(key), Some(value)) = (
                pair.child_by_field_id(crate::field!("key"))
                    .and_then(|k| string_value(k, src)),
                pair.child_by_field_id(crate::field!("value")).map(unparen),
            ) else {
                continue;
            };
            match key.as_str() {
                "BACKEND" => {
                    is_django =
                        string_value(value, src).is_some_and(|b| b.ends_with("DjangoTemplates"))
                }
                "APP_DIRS" => app_dirs = is_true(value),
                "DIRS" if matches!(value.node_kind(), "list" | "tuple") => {
                    let mut c = value.walk();
                    for item in value.named_children(&mut c) {
                        if let Some(e) = path_expr(unparen(item), src) {
                            dirs.push(e);
                        }
                    }
                }
                _ => {}
            }
        }
        if is_django {
            raw.templates = true;
            raw.app_dirs |= app_dirs;
            raw.dirs.extend(dirs);
        }
    }
}

/// Read an expression as a folder, if it is written one of the usual ways.
fn path_expr(node: Node, src: &str) -> Option<PathExpr> {
    let node = unparen(node);
    if let Some(s) = string_value(node, src) {
        return Some(PathExpr::Literal(s));
    }
    match node.node_kind() {
        "identifier" if text(node, src) == "__file__" => Some(PathExpr::File),
        "identifier" => Some(PathExpr::Name(text(node, src).to_string())),
        "attribute" => {
            let object = node.child_by_field_id(crate::field!("object"))?;
            match text(node.child_by_field_id(crate::field!("attribute"))?, src) {
                "parent" => Some(PathExpr::Parent(Box::new(path_expr(object, src)?))),
                _ => None,
            }
        }
        "binary_operator" => {
            let op = node.child_by_field_id(crate::field!("operator"))?;
            if text(op, src) != "/" {
                return None;
            }
            let left = path_expr(node.child_by_field_id(crate::field!("left"))?, src)?;
            let right = path_expr(node.child_by_field_id(crate::field!("right"))?, src)?;
            Some(PathExpr::Join(Box::new(left), vec![right]))
        }
        "call" => {
            let function = node.child_by_field_id(crate::field!("function"))?;
            let args = call_args(node, src);
            if function.node_kind() == "attribute" {
                let object = function.child_by_field_id(crate::field!("object"))?;
                let method = text(function.child_by_field_id(crate::field!("attribute"))?, src);
                match method {
                    "resolve" | "absolute" | "expanduser" => return path_expr(object, src),
                    "joinpath" => {
                        let base = path_expr(object, src)?;
                        let parts = args
                            .positional
                            .iter()
                            .map(|a| path_expr(*a, src))
                            .collect::<Option<Vec<_>>>()?;
                        return Some(PathExpr::Join(Box::new(base), parts));
                    }
                    _ => {}
                }
            }
            let callee = dotted_name(function, src)?;
            let first = args.positional.first().copied();
            match last_segment(&callee) {
                "Path" | "PurePath" | "abspath" | "realpath" | "normpath" | "str" | "fspath" => {
                    path_expr(first?, src)
                }
                "dirname" => Some(PathExpr::Parent(Box::new(path_expr(first?, src)?))),
                "join" if callee.contains("path") => {
                    let mut parts = args
                        .positional
                        .iter()
                        .map(|a| path_expr(*a, src))
                        .collect::<Option<Vec<_>>>()?;
                    if parts.is_empty() {
                        return None;
                    }
                    let base = parts.remove(0);
                    Some(PathExpr::Join(Box::new(base), parts))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Evaluate a folder expression to a path relative to the project root (None when it leaves
/// the project or uses something we cannot read).
pub fn evaluate(
    expr: &PathExpr,
    settings_file: &Path,
    names: &HashMap<&str, &PathExpr>,
    depth: usize,
) -> Option<PathBuf> {
    if depth > 16 {
        return None;
    }
    let value = match expr {
        PathExpr::File => settings_file.to_path_buf(),
        PathExpr::Literal(s) => {
            let p = PathBuf::from(s);
            if p.is_absolute() {
                return None;
            }
            p
        }
        PathExpr::Name(n) => evaluate(names.get(n.as_str())?, settings_file, names, depth + 1)?,
        PathExpr::Parent(inner) => {
            let p = evaluate(inner, settings_file, names, depth + 1)?;
            p.parent()?.to_path_buf()
        }
        PathExpr::Join(base, parts) => {
            let mut p = evaluate(base, settings_file, names, depth + 1)?;
            for part in parts {
                let PathExpr::Literal(s) = part else {
                    p.push(evaluate(part, settings_file, names, depth + 1)?);
                    continue;
                };
                if Path::new(s).is_absolute() {
                    return None;
                }
                p.push(s);
            }
            p
        }
    };
    normalize(&value)
}

/// Fold `.` and `..` away; None when `..` climbs above the project root.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(s) => out.push(s),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(code: &str) -> Vec<PathBuf> {
        let tree = crate::syntax::parse::parse(code).unwrap();
        let raw = extract(Path::new("proj/settings.py"), tree.root_node(), code).unwrap();
        let names: HashMap<&str, &PathExpr> =
            raw.names.iter().map(|(n, e)| (n.as_str(), e)).collect();
        raw.dirs
            .iter()
            .filter_map(|d| evaluate(d, &raw.path, &names, 0))
            .collect()
    }

    #[test]
    fn base_dir_forms() {
        let code = r#"
import os
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
OLD = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates", os.path.join(OLD, "shared", "tpl"), "rel/dir"],
    "APP_DIRS": True,
}]
"#;
        assert_eq!(
            dirs(code),
            vec![
                PathBuf::from("templates"),
                PathBuf::from("shared/tpl"),
                PathBuf::from("rel/dir")
            ]
        );
    }
}
