//! Phase 2: per-file facts about querysets. Which expressions are querysets of which model,
//! where they are built, what they already load, and which relation paths a loop reads per row.

pub mod classes;
pub mod loops;
pub mod queryset;
pub mod resolve;
pub mod sites;

use crate::index::imports::imports_plain;
use crate::index::{Import, ProjectIndex, Resolution, imports_from};
use crate::syntax::NodeKind;
use crate::syntax::text;
use tree_sitter::{Node, Tree};

pub use loops::{Access, LoopFacts};
pub use queryset::{ChainCall, Queryset};

/// Everything a rule needs to know about the file it looks at.
pub struct FileContext<'a> {
    pub index: &'a ProjectIndex,
    pub src: &'a str,
    pub tree: &'a Tree,
    pub module: String,
    pub imports: Vec<Import>,
    /// The quote the file uses most for strings (new string literals use it), counted when a
    /// fix first asks.
    quote: std::cell::OnceCell<char>,
}

impl<'a> FileContext<'a> {
    pub fn new(
        index: &'a ProjectIndex,
        src: &'a str,
        tree: &'a Tree,
        module: String,
        is_package: bool,
    ) -> FileContext<'a> {
        let mut imports = Vec::new();
        // Imports anywhere in the statements (function-level imports avoid cycles in Django
        // code); expressions are not entered.
        // A statement without the word `import` in its text holds no import: not entered.
        let imports_in = |node: Node| {
            crate::finder!(b"import")
                .find(&src.as_bytes()[node.byte_range()])
                .is_some()
        };
        crate::syntax::walk_named(tree.root_node(), |node| match node.node_kind() {
            _ if !imports_in(node) => false,
            "import_from_statement" => {
                imports_from(node, src, &module, is_package, &mut imports);
                false
            }
            "import_statement" => {
                imports_plain(node, src, &mut imports);
                false
            }
            "module"
            | "block"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "try_statement"
            | "except_clause"
            | "finally_clause"
            | "with_statement"
            | "for_statement"
            | "while_statement" => true,
            _ => false,
        });
        FileContext {
            index,
            src,
            tree,
            module,
            imports,
            quote: std::cell::OnceCell::new(),
        }
    }

    /// The quote the file uses most for strings.
    pub fn quote(&self) -> char {
        *self
            .quote
            .get_or_init(|| crate::text::outline::majority_quote(self.src))
    }

    pub fn text(&self, node: Node) -> &'a str {
        text(node, self.src)
    }

    /// The model a class name used in this file refers to.
    pub fn model_named(&self, local: &str) -> Option<Resolution> {
        // `models.Book`, `shop_models.Book` (a module imported under a name), `a.b.Book`.
        if let Some((head, rest)) = local.split_once('.') {
            let import = self.imports.iter().find(|i| i.local == head)?;
            let (inner, name) = match rest.rsplit_once('.') {
                Some((inner, name)) => (format!(".{inner}"), name),
                None => (String::new(), rest),
            };
            let from = if import.module.is_empty() {
                format!("{}{inner}", import.name)
            } else {
                format!("{}.{}{inner}", import.module, import.name)
            };
            return self.index.resolve_name(name, &self.module, Some(&from));
        }
        let (name, from) = match self.imports.iter().find(|i| i.local == local) {
            Some(import) => (import.name.as_str(), Some(import.module.as_str())),
            None => (local, None),
        };
        self.index.resolve_name(name, &self.module, from)
    }

    /// The name this file can use for a model: imported (under its alias) or defined here.
    pub fn local_name_for(&self, model: crate::index::ModelId) -> Option<String> {
        let m = self.index.model(model);
        if m.module == self.module {
            return Some(m.name.clone());
        }
        self.imports
            .iter()
            .find(|i| {
                i.name == m.name && self.model_named(&i.local).is_some_and(|r| r.id() == model)
            })
            .map(|i| i.local.clone())
    }

    /// A string literal in the file's quote style.
    pub fn string_literal(&self, value: &str) -> String {
        format!("{q}{value}{q}", q = self.quote())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODELS: &str = "from django.db import models\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=9)\n";

    fn with_context(src: &str, module: &str, f: impl FnOnce(&FileContext)) {
        let index = crate::index::index_of("shop/models.py", MODELS);
        let tree = crate::syntax::parse::parse(src).unwrap();
        let ctx = FileContext::new(&index, src, &tree, module.to_string(), false);
        f(&ctx);
    }

    #[test]
    fn imports_anywhere_in_statements_resolve_models_under_their_alias() {
        let src = "from shop.models import Book as B\n\ndef f():\n    from shop.models import Shelf\n    return [B, Shelf]\n\nx = 'from shop.models import Nope'\n";
        with_context(src, "shop.views", |ctx| {
            let names: Vec<&str> = ctx.imports.iter().map(|i| i.local.as_str()).collect();
            assert_eq!(names, ["B", "Shelf"]);
            let book = ctx.model_named("B").expect("B is Book");
            assert_eq!(ctx.index.model(book.id()).name, "Book");
            assert!(ctx.model_named("Nope").is_none());
            assert_eq!(ctx.local_name_for(book.id()).as_deref(), Some("B"));
        });
    }

    #[test]
    fn a_model_not_imported_has_no_local_name() {
        with_context("import os\n", "shop.views", |ctx| {
            let shelf = ctx
                .index
                .resolve_name("Shelf", "shop.models", None)
                .unwrap();
            assert_eq!(ctx.local_name_for(shelf.id()), None);
        });
        // ... except in its own module.
        with_context(MODELS, "shop.models", |ctx| {
            let shelf = ctx.model_named("Shelf").unwrap();
            assert_eq!(ctx.local_name_for(shelf.id()).as_deref(), Some("Shelf"));
        });
    }

    #[test]
    fn new_strings_use_the_files_quote() {
        with_context("a = 'x'\nb = 'y'\nc = \"z\"\n", "shop.views", |ctx| {
            assert_eq!(ctx.string_literal("author"), "'author'");
        });
        with_context("a = \"x\"\n", "shop.views", |ctx| {
            assert_eq!(ctx.string_literal("author"), "\"author\"");
        });
    }
}
