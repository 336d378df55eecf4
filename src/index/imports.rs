//! `from x import y` as the index and the analysis read it: the local name, the module and the
//! original name, relative imports resolved against the importing module.

use crate::syntax::NodeKind;
use crate::syntax::text;
use tree_sitter::Node;

#[derive(Clone, Debug)]
pub struct Import {
    pub local: String,
    pub module: String,
    pub name: String,
}

/// Resolve `from ..x import y` against the importing module.
pub fn absolute_module(importing: &str, relative: &str, is_package: bool) -> String {
    let dots = relative.chars().take_while(|c| *c == '.').count();
    if dots == 0 {
        return relative.to_string();
    }
    let mut base: Vec<&str> = importing.split('.').filter(|s| !s.is_empty()).collect();
    // A module's own package is one level up; a package's `__init__` is its own package.
    let up = if is_package { dots - 1 } else { dots };
    for _ in 0..up {
        base.pop();
    }
    let rest = &relative[dots..];
    if rest.is_empty() {
        base.join(".")
    } else if base.is_empty() {
        rest.to_string()
    } else {
        format!("{}.{}", base.join("."), rest)
    }
}

pub fn imports_from(node: Node, src: &str, module: &str, is_package: bool, out: &mut Vec<Import>) {
    let Some(module_node) = node.child_by_field_id(crate::field!("module_name")) else {
        return;
    };
    let from = absolute_module(module, text(module_node, src), is_package);
    let mut cursor = node.walk();
    for name in node.children_by_field_name("name", &mut cursor) {
        let (original, local) = match name.node_kind() {
            "dotted_name" => (text(name, src).to_string(), text(name, src).to_string()),
            "aliased_import" => {
                let (Some(n), Some(a)) = (
                    name.child_by_field_id(crate::field!("name")),
                    name.child_by_field_id(crate::field!("alias")),
                ) else {
                    continue;
                };
                (text(n, src).to_string(), text(a, src).to_string())
            }
            _ => continue,
        };
        out.push(Import {
            local,
            module: from.clone(),
            name: original,
        });
    }
}

/// `import shop.models as shop_models`: the local name for module `shop.models`, recorded as
/// `from shop import models as shop_models` would be. A plain `import shop.models` binds `shop`
/// (a package, no class of ours by itself): left out.
pub fn imports_plain(node: Node, src: &str, out: &mut Vec<Import>) {
    let mut cursor = node.walk();
    for name in node.children_by_field_name("name", &mut cursor) {
        if name.node_kind() != "aliased_import" {
            continue;
        }
        let (Some(n), Some(a)) = (
            name.child_by_field_id(crate::field!("name")),
            name.child_by_field_id(crate::field!("alias")),
        ) else {
            continue;
        };
        let dotted = text(n, src);
        let (module, last) = dotted.rsplit_once('.').unwrap_or(("", dotted));
        out.push(Import {
            local: text(a, src).to_string(),
            module: module.to_string(),
            name: last.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports() {
        assert_eq!(
            absolute_module("shop.views", ".models", false),
            "shop.models"
        );
        assert_eq!(
            absolute_module("shop.api.views", "..models", false),
            "shop.models"
        );
        assert_eq!(absolute_module("shop", ".models", true), "shop.models");
        assert_eq!(
            absolute_module("shop.views", "django.db", false),
            "django.db"
        );
    }
}
