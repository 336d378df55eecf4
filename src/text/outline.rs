//! A Python file's outline, read without parsing it: where each top-level statement starts and
//! ends, and for each top-level class its name, bases and methods.
//!
//! Phase 1 uses it to parse only the statements that can define what the index records and to
//! know every other class by name (see `prefilter`). It follows Python's tokenizer as far as
//! statement boundaries need: strings (prefixes, triple quotes, escapes, f-string replacement
//! fields), comments, brackets and backslash continuations. Where it could still be wrong (a
//! file that does not parse), the partial parse has a syntax error and the caller parses the
//! whole file instead.

use std::ops::Range;

#[derive(Clone, Debug, Default)]
pub struct Outline {
    pub statements: Vec<Statement>,
    /// Deepest bracket nesting seen: very deep files are parsed whole.
    pub max_depth: usize,
}

#[derive(Clone, Debug)]
pub struct Statement {
    /// Whole lines: from the start of the statement's first line (decorators included) to the
    /// start of the next statement's first line, or the end of the file.
    pub range: Range<usize>,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Class(Class),
    Function,
    /// Anything else: imports, assignments, `if`/`try` blocks, expressions; with the classes
    /// defined in its blocks (`if not registered: class Book(AbstractBook): ...`).
    Other(Vec<Class>),
}

#[derive(Clone, Debug, Default)]
pub struct Class {
    pub name: String,
    /// 1-based line of the `class` keyword (as tree-sitter's `class_definition` starts there).
    pub line: usize,
    /// Bases that are dotted names (`models.Model`, `Base`), as tree-sitter's `dotted_name`
    /// reads them; calls, keywords, subscripts and splats are left out.
    pub bases: Vec<String>,
    /// Every identifier between the header's parentheses (`Manager.from_queryset(QS)` gives
    /// `Manager`, `from_queryset`, `QS`).
    pub base_names: Vec<String>,
    /// Methods defined directly in the body (`def`, `async def`, decorated or not).
    pub methods: Vec<String>,
    /// Byte ranges of the statements directly in the body (a method's is its `def` line).
    pub body_lines: Vec<Range<usize>>,
    /// What each of `body_lines` starts: a decorator, a method, or another statement.
    pub body_kinds: Vec<BodyLine>,
}

impl Class {
    /// The statements of the body as members, decorators going with the method below them:
    /// each one's byte range (to the next member's start; the last one's to `end`, the class
    /// statement's end) and whether it is a method.
    pub fn members(&self, end: usize) -> Vec<(Range<usize>, bool)> {
        let mut starts: Vec<(usize, bool)> = Vec::new();
        let mut member_start = None;
        for (line, kind) in self.body_lines.iter().zip(&self.body_kinds) {
            let start = *member_start.get_or_insert(line.start);
            match kind {
                BodyLine::Decorator => {}
                BodyLine::Def | BodyLine::Other => {
                    starts.push((start, *kind == BodyLine::Def));
                    member_start = None;
                }
            }
        }
        (0..starts.len())
            .map(|k| {
                let next = starts.get(k + 1).map_or(end, |m| m.0);
                (starts[k].0..next, starts[k].1)
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLine {
    Decorator,
    Def,
    Other,
}

impl Outline {
    /// Every class the index reads, keyed by (statement index, 0 for the statement's own class
    /// or 1 + its position among the classes nested in the statement's blocks).
    pub fn all_classes(&self) -> impl Iterator<Item = ((usize, usize), &Class)> {
        self.statements.iter().enumerate().flat_map(
            |(i, s)| -> Box<dyn Iterator<Item = ((usize, usize), &Class)>> {
                match &s.kind {
                    Kind::Class(c) => Box::new(std::iter::once(((i, 0), c))),
                    Kind::Other(nested) => {
                        Box::new(nested.iter().enumerate().map(move |(k, c)| ((i, k + 1), c)))
                    }
                    Kind::Function => Box::new(std::iter::empty()),
                }
            },
        )
    }

    /// The top-level classes, with their statement's index.
    pub fn classes(&self) -> impl Iterator<Item = (usize, &Class)> {
        self.statements
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.kind {
                Kind::Class(c) => Some((i, c)),
                _ => None,
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Ident,
    Str,
    Op(u8),
}

#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// One logical line: its tokens, where its first physical line starts and its indentation.
struct Line<'b> {
    line_start: usize,
    end: usize,
    indent: usize,
    tokens: &'b [Token],
}

/// The outline of `src` (BOM-less text).
pub fn outline(src: &str) -> Outline {
    outline_with(src, |_, _, _| {})
}

/// The outline of `src`, showing `observe` every logical line on the way: its byte range (from
/// its first physical line's start), its indentation and its tokens (offsets into `src`).
pub fn outline_with(src: &str, mut observe: impl FnMut(Range<usize>, usize, &[Token])) -> Outline {
    let s = src.as_bytes();
    let mut builder = Builder::new(s);
    let mut scanner = Scanner::new(s);
    while let Some((line_start, indent)) = scanner.next_line_start() {
        scanner.tokens.clear();
        let end = scanner.logical_line();
        let line = Line {
            line_start,
            end,
            indent,
            tokens: &scanner.tokens,
        };
        observe(line_start..end, indent, line.tokens);
        builder.push(&line);
    }
    let mut out = builder.finish();
    out.max_depth = scanner.max_depth;
    out
}

/// Every logical line of `src` with its indentation (columns) and its tokens: the same
/// tokenizer as the outline (strings and comments are single tokens or skipped).
pub fn logical_lines(src: &[u8], mut f: impl FnMut(usize, &[Token])) {
    logical_lines_at(src, |_, indent, tokens| f(indent, tokens));
}

/// [`logical_lines`] with each line's byte range too, as [`outline_with`] shows them.
pub fn logical_lines_at(src: &[u8], mut f: impl FnMut(Range<usize>, usize, &[Token])) {
    let mut scanner = Scanner::new(src);
    while let Some((line_start, indent)) = scanner.next_line_start() {
        scanner.tokens.clear();
        let end = scanner.logical_line();
        f(line_start..end, indent, &scanner.tokens);
    }
}

/// String literals counted by their quote character.
#[derive(Default)]
struct Quotes {
    double: usize,
    single: usize,
}

impl Quotes {
    fn count(&mut self, quote: u8) {
        if quote == b'"' {
            self.double += 1;
        } else {
            self.single += 1;
        }
    }
}

/// The quote most string literals of `src` start with (`"` when tied or none), counting every
/// literal as tree-sitter's `string_start` nodes do: docstrings, each part of a concatenation,
/// strings inside f-string fields; not comments.
pub fn majority_quote(src: &str) -> char {
    let s = src.as_bytes();
    let mut quotes = Quotes::default();
    let mut i = 0;
    while let Some(at) = memchr::memchr3(b'#', b'"', b'\'', &s[i..]) {
        let at = i + at;
        if s[at] == b'#' {
            i = memchr::memchr(b'\n', &s[at..]).map_or(s.len(), |nl| at + nl);
            continue;
        }
        // A prefix right before the quote (`f"`, `rb'`) makes a formatted string.
        let near = at.saturating_sub(3);
        let word_start = s[near..at]
            .iter()
            .rposition(|&b| !is_ident_byte(b))
            .map_or(near, |p| near + p + 1);
        let formatted =
            (word_start > near || near == 0) && string_prefix(&s[word_start..at]).unwrap_or(false);
        i = skip_string(s, at, formatted, &mut quotes);
    }
    if quotes.single > quotes.double {
        '\''
    } else {
        '"'
    }
}

struct Scanner<'s> {
    s: &'s [u8],
    quotes: Quotes,
    i: usize,
    depth: usize,
    max_depth: usize,
    tokens: Vec<Token>,
}

/// A byte of an identifier (or a number): ASCII letters, digits, `_`, and any byte of a
/// multi-byte UTF-8 character (from a table: the hot loops of both prefilters ask per byte).
#[inline]
pub fn is_ident_byte(b: u8) -> bool {
    IDENT[b as usize]
}

/// `is_ident_byte` as a table: letters, digits, `_`, and every byte of a non-ASCII character.
static IDENT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        b += 1;
    }
    table
};

/// `r`, `b`, `f`, `u`, `t` and their pairs, in either case.
fn string_prefix(word: &[u8]) -> Option<bool> {
    if word.is_empty() || word.len() > 2 {
        return None;
    }
    let mut formatted = false;
    for &c in word {
        match c.to_ascii_lowercase() {
            b'r' | b'b' | b'u' => {}
            b'f' | b't' => formatted = true,
            _ => return None,
        }
    }
    Some(formatted)
}

impl<'s> Scanner<'s> {
    fn new(s: &'s [u8]) -> Scanner<'s> {
        Scanner {
            s,
            quotes: Quotes::default(),
            i: 0,
            depth: 0,
            max_depth: 0,
            tokens: Vec::new(),
        }
    }

    /// Skip blank lines and comment lines; return the next logical line's first physical line
    /// start and its indentation (columns, tabs to multiples of 8), leaving `i` on its first
    /// token.
    fn next_line_start(&mut self) -> Option<(usize, usize)> {
        let s = self.s;
        loop {
            let line_start = self.i;
            let mut col = 0;
            while self.i < s.len() {
                match s[self.i] {
                    b' ' => col += 1,
                    b'\t' => col = (col / 8 + 1) * 8,
                    b'\x0c' => col = 0,
                    _ => break,
                }
                self.i += 1;
            }
            if self.i >= s.len() {
                return None;
            }
            match s[self.i] {
                b'#' => self.skip_comment(),
                b'\r' => {}
                b'\n' => {}
                b'\\' if matches!(s.get(self.i + 1), Some(b'\n' | b'\r')) => {
                    // A continuation on an otherwise empty line: the line goes on below.
                    return Some((line_start, col));
                }
                _ => return Some((line_start, col)),
            }
            // Blank or comment-only line: past its end.
            while self.i < s.len() && s[self.i] != b'\n' {
                self.i += 1;
            }
            self.i += 1;
        }
    }

    fn skip_comment(&mut self) {
        self.i = memchr::memchr(b'\n', &self.s[self.i..]).map_or(self.s.len(), |n| self.i + n);
    }

    /// Tokens up to the newline that ends the logical line (outside brackets); returns the
    /// offset after that newline.
    fn logical_line(&mut self) -> usize {
        let s = self.s;
        self.depth = 0;
        while self.i < s.len() {
            let c = s[self.i];
            match c {
                b'\n' => {
                    self.i += 1;
                    if self.depth == 0 {
                        return self.i;
                    }
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => self.i += 1,
                b'#' => self.skip_comment(),
                b'\\' => {
                    // A continuation joins the next line; anything else is stray.
                    self.i += 1;
                    if s.get(self.i) == Some(&b'\r') {
                        self.i += 1;
                    }
                    if s.get(self.i) == Some(&b'\n') {
                        self.i += 1;
                    }
                }
                b'\'' | b'"' => {
                    let start = self.i;
                    self.i = skip_string(s, self.i, false, &mut self.quotes);
                    self.push(Tok::Str, start);
                }
                _ if is_ident_byte(c) => {
                    let start = self.i;
                    while self.i < s.len() && is_ident_byte(s[self.i]) {
                        self.i += 1;
                    }
                    if self.i < s.len()
                        && matches!(s[self.i], b'\'' | b'"')
                        && let Some(formatted) = string_prefix(&s[start..self.i])
                    {
                        self.i = skip_string(s, self.i, formatted, &mut self.quotes);
                        self.push(Tok::Str, start);
                    } else {
                        self.push(Tok::Ident, start);
                    }
                }
                _ => {
                    match c {
                        b'(' | b'[' | b'{' => {
                            self.depth += 1;
                            self.max_depth = self.max_depth.max(self.depth);
                        }
                        b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                        _ => {}
                    }
                    let start = self.i;
                    self.i += 1;
                    self.push(Tok::Op(c), start);
                }
            }
        }
        s.len()
    }

    fn push(&mut self, kind: Tok, start: usize) {
        self.tokens.push(Token {
            kind,
            start,
            end: self.i,
        });
    }
}

/// From the opening quote at `i`: the offset after the string. An unterminated one-line string
/// stops at the end of its line, as Python's tokenizer reports it there.
fn skip_string(s: &[u8], i: usize, formatted: bool, quotes: &mut Quotes) -> usize {
    let quote = s[i];
    quotes.count(quote);
    let triple = s.len() >= i + 3 && s[i + 1] == quote && s[i + 2] == quote;
    let mut i = if triple { i + 3 } else { i + 1 };
    while i < s.len() {
        // Straight to the next byte that can matter.
        let next = if formatted {
            memchr::memchr3(quote, b'\\', b'{', &s[i..]).map(|n| {
                // A newline ends a one-line string before any of them.
                if triple {
                    n
                } else {
                    memchr::memchr(b'\n', &s[i..i + n]).unwrap_or(n)
                }
            })
        } else if triple {
            memchr::memchr2(quote, b'\\', &s[i..])
        } else {
            memchr::memchr3(quote, b'\\', b'\n', &s[i..])
        };
        let Some(n) = next else {
            if !triple && !formatted {
                return s.len();
            }
            // An unterminated string: to the end of its line when one-line, else of the file.
            return if triple {
                s.len()
            } else {
                memchr::memchr(b'\n', &s[i..]).map_or(s.len(), |n| i + n)
            };
        };
        i += n;
        let c = s[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if formatted && c == b'{' {
            if s.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            i = skip_field(s, i + 1, triple, quotes);
            continue;
        }
        if c == quote {
            if !triple {
                return i + 1;
            }
            if s.len() >= i + 3 && s[i + 1] == quote && s[i + 2] == quote {
                return i + 3;
            }
        }
        if c == b'\n' && !triple {
            return i;
        }
        i += 1;
    }
    s.len()
}

/// Inside an f-string replacement field (after its `{`): the offset after its `}`.
fn skip_field(s: &[u8], mut i: usize, triple: bool, quotes: &mut Quotes) -> usize {
    let mut depth = 0usize;
    while i < s.len() {
        let c = s[i];
        match c {
            b'\'' | b'"' => {
                i = skip_string(s, i, false, quotes);
                continue;
            }
            b'\n' if !triple => return i,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' => {
                if depth == 0 {
                    return i + 1;
                }
                depth -= 1;
            }
            b':' if depth == 0 && s.get(i + 1) != Some(&b'=') => {
                return skip_spec(s, i + 1, triple, quotes);
            }
            _ if is_ident_byte(c) => {
                let start = i;
                while i < s.len() && is_ident_byte(s[i]) {
                    i += 1;
                }
                if i < s.len()
                    && matches!(s[i], b'\'' | b'"')
                    && let Some(formatted) = string_prefix(&s[start..i])
                {
                    i = skip_string(s, i, formatted, quotes);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// A format spec (after the field's `:`): literal text with nested fields, up to the `}`.
fn skip_spec(s: &[u8], mut i: usize, triple: bool, quotes: &mut Quotes) -> usize {
    while i < s.len() {
        match s[i] {
            b'{' => {
                i = skip_field(s, i + 1, triple, quotes);
                continue;
            }
            b'}' => return i + 1,
            b'\n' if !triple => return i,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// Groups logical lines into top-level statements.
struct Builder<'s> {
    s: &'s [u8],
    statements: Vec<Statement>,
    /// Where the decorators of the next definition began.
    decorated_from: Option<usize>,
    /// The open blocks around the current line (compound statements whose body goes on).
    blocks: Vec<Block>,
}

struct Block {
    indent: usize,
    kind: BlockKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    /// A class being read: its index in the current statement's `classes` list (0 for a
    /// top-level class), and its body's indentation once seen.
    Class(usize, Option<usize>),
    Def,
    Other,
}

impl<'s> Builder<'s> {
    fn new(s: &'s [u8]) -> Builder<'s> {
        Builder {
            s,
            statements: Vec::new(),
            decorated_from: None,
            blocks: Vec::new(),
        }
    }

    fn text(&self, t: &Token) -> &'s [u8] {
        &self.s[t.start..t.end]
    }

    fn is_word(&self, t: Option<&Token>, word: &[u8]) -> bool {
        t.is_some_and(|t| t.kind == Tok::Ident && self.text(t) == word)
    }

    fn push(&mut self, line: &Line) {
        while self.blocks.last().is_some_and(|b| line.indent <= b.indent) {
            self.blocks.pop();
        }
        let tokens = line.tokens;
        let first = tokens.first();
        let def = self.is_word(first, b"def")
            || (self.is_word(first, b"async") && self.is_word(tokens.get(1), b"def"));
        let class = if self.is_word(first, b"class") {
            self.class_header(line)
        } else {
            None
        };
        let opens = tokens.last().is_some_and(|t| t.kind == Tok::Op(b':'));
        if line.indent > 0 {
            self.body_line(line);
            // A class in an `if`/`try`/... block at module level: the index reads it too.
            let in_blocks = self.blocks.iter().all(|b| b.kind == BlockKind::Other);
            let mut kind = if def {
                BlockKind::Def
            } else {
                BlockKind::Other
            };
            // (Only after an `if`/`try`/... statement: a stray `else:` after a function or a
            // class opens a block too, in a file that does not parse.)
            if let Some(class) = class.filter(|_| in_blocks && !self.blocks.is_empty())
                && let Some(Statement {
                    kind: Kind::Other(nested),
                    ..
                }) = self.statements.last_mut()
            {
                kind = BlockKind::Class(nested.len() + 1, None);
                nested.push(class);
            }
            if opens {
                self.blocks.push(Block {
                    indent: line.indent,
                    kind,
                });
            }
            return;
        }
        if tokens.first().is_some_and(|t| t.kind == Tok::Op(b'@')) {
            self.decorated_from.get_or_insert(line.line_start);
            return;
        }
        let clause = [b"else".as_slice(), b"elif", b"except", b"finally"]
            .iter()
            .any(|w| self.is_word(first, w));
        if clause && self.decorated_from.is_none() && !self.statements.is_empty() {
            // `except:` / `else:`... continue the `try` / `if` / loop above.
            if opens {
                self.blocks.push(Block {
                    indent: 0,
                    kind: BlockKind::Other,
                });
            }
            return;
        }
        let start = self.decorated_from.take().unwrap_or(line.line_start);
        let (kind, block) = match class {
            Some(class) => (Kind::Class(class), BlockKind::Class(0, None)),
            None if def => (Kind::Function, BlockKind::Def),
            None => (Kind::Other(Vec::new()), BlockKind::Other),
        };
        if opens {
            self.blocks.push(Block {
                indent: 0,
                kind: block,
            });
        }
        if let Some(last) = self.statements.last_mut() {
            last.range.end = start;
        }
        self.statements.push(Statement {
            range: start..self.s.len(),
            kind,
        });
    }

    /// `class Name(bases):` (a one-line body has no methods and no statements of interest).
    fn class_header(&self, line: &Line) -> Option<Class> {
        let tokens = line.tokens;
        let name = tokens.get(1).filter(|t| t.kind == Tok::Ident)?;
        let mut class = Class {
            name: String::from_utf8_lossy(self.text(name)).into_owned(),
            // The keyword's offset for now; a line number after `finish`.
            line: tokens[0].start,
            ..Class::default()
        };
        let mut rest = &tokens[2..];
        if rest.first().is_some_and(|t| t.kind == Tok::Op(b'(')) {
            let mut depth = 0usize;
            let mut close = None;
            for (k, t) in rest.iter().enumerate() {
                match t.kind {
                    Tok::Op(b'(' | b'[' | b'{') => depth += 1,
                    Tok::Op(b')' | b']' | b'}') => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            close = Some(k);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let close = close?;
            let inside = &rest[1..close];
            for t in inside {
                if t.kind == Tok::Ident {
                    class
                        .base_names
                        .push(String::from_utf8_lossy(self.text(t)).into_owned());
                }
            }
            for piece in split_top_level(inside) {
                if let Some(dotted) = self.dotted(subscripted(piece)) {
                    class.bases.push(dotted);
                }
            }
            rest = &rest[close + 1..];
        }
        rest.first().filter(|t| t.kind == Tok::Op(b':'))?;
        Some(class)
    }

    /// `a.b.c` as tokens, else None.
    fn dotted(&self, piece: &[Token]) -> Option<String> {
        if piece.len().is_multiple_of(2) {
            return None;
        }
        let mut out = String::new();
        for (k, t) in piece.iter().enumerate() {
            let ok = if k % 2 == 0 {
                t.kind == Tok::Ident && !self.s[t.start].is_ascii_digit()
            } else {
                t.kind == Tok::Op(b'.')
            };
            if !ok {
                return None;
            }
            out.push_str(&String::from_utf8_lossy(self.text(t)));
        }
        Some(out)
    }

    /// A statement directly in the body of the innermost block, when that is a class.
    fn body_line(&mut self, line: &Line) {
        let Some(Block {
            kind: BlockKind::Class(which, body),
            ..
        }) = self.blocks.last_mut()
        else {
            return;
        };
        let which = *which;
        if *body.get_or_insert(line.indent) != line.indent {
            return;
        }
        let Some(st) = self.statements.last_mut() else {
            return;
        };
        let class = match (&mut st.kind, which) {
            (Kind::Class(class), 0) => class,
            (Kind::Other(classes), k) if k > 0 => &mut classes[k - 1],
            _ => return,
        };
        class.body_lines.push(line.line_start..line.end);
        let t = line.tokens;
        let s = self.s;
        let word = |k: usize, w: &[u8]| {
            t.get(k)
                .is_some_and(|t| t.kind == Tok::Ident && &s[t.start..t.end] == w)
        };
        let name_at = if word(0, b"def") {
            Some(1)
        } else if word(0, b"async") && word(1, b"def") {
            Some(2)
        } else {
            None
        };
        if let Some(k) = name_at
            && let Some(name) = t.get(k).filter(|t| t.kind == Tok::Ident)
        {
            class
                .methods
                .push(String::from_utf8_lossy(&s[name.start..name.end]).into_owned());
        }
        class.body_kinds.push(if name_at.is_some() {
            BodyLine::Def
        } else if t.first().is_some_and(|t| t.kind == Tok::Op(b'@')) {
            BodyLine::Decorator
        } else {
            BodyLine::Other
        });
    }

    fn finish(self) -> Outline {
        let mut statements = self.statements;
        // Class keyword offsets → 1-based lines, in one pass over the newlines.
        let mut line = 1;
        let mut counted = 0;
        let s = self.s;
        let mut to_line = |offset: &mut usize| {
            line += memchr::memchr_iter(b'\n', &s[counted..*offset]).count();
            counted = *offset;
            *offset = line;
        };
        for st in &mut statements {
            match &mut st.kind {
                Kind::Class(class) => to_line(&mut class.line),
                Kind::Other(classes) => classes.iter_mut().for_each(|c| to_line(&mut c.line)),
                Kind::Function => {}
            }
        }
        Outline {
            statements,
            max_depth: 0,
        }
    }
}

/// The pieces of a bracket's content between its top-level commas.
/// `Manager["Profile"]` → `Manager` (a generic base, as `syntax::base_name` reads it); any other
/// piece as it is.
fn subscripted(piece: &[Token]) -> &[Token] {
    match piece.iter().position(|t| t.kind == Tok::Op(b'[')) {
        Some(open) if piece.last().is_some_and(|t| t.kind == Tok::Op(b']')) => &piece[..open],
        _ => piece,
    }
}

fn split_top_level(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (k, t) in tokens.iter().enumerate() {
        match t.kind {
            Tok::Op(b'(' | b'[' | b'{') => depth += 1,
            Tok::Op(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            Tok::Op(b',') if depth == 0 => {
                out.push(&tokens[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    if from < tokens.len() {
        out.push(&tokens[from..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(String, &'static str)> {
        let o = outline(src);
        o.statements
            .iter()
            .map(|s| {
                let kind = match &s.kind {
                    Kind::Class(_) => "class",
                    Kind::Function => "def",
                    Kind::Other(_) => "other",
                };
                (src[s.range.clone()].to_string(), kind)
            })
            .collect()
    }

    #[test]
    fn splits_top_level_statements_on_whole_lines() {
        let src = "import os\n\n# a comment\nclass A(B):\n    x = 1\n\n    def f(self):\n        return 2\n# trailing\n\n@deco\ndef g():\n    pass\nx = (1,\n2)\n";
        let k = kinds(src);
        assert_eq!(k.len(), 4);
        assert_eq!(k[0], ("import os\n\n# a comment\n".into(), "other"));
        assert_eq!(k[1].1, "class");
        assert!(k[1].0.ends_with("# trailing\n\n"));
        assert_eq!(k[2], ("@deco\ndef g():\n    pass\n".into(), "def"));
        assert_eq!(k[3], ("x = (1,\n2)\n".into(), "other"));
    }

    #[test]
    fn a_stray_clause_after_a_class_or_function_nests_nothing() {
        // Does not parse; used to panic (a class nested in a block after a class statement).
        for (src, classes) in [
            ("class A: pass\nelse:\n    class B:\n        x = 1\n", 1),
            ("def f(): pass\nexcept:\n    class B:\n        x = 1\n", 0),
        ] {
            assert_eq!(outline(src).all_classes().count(), classes, "{src}");
        }
    }

    #[test]
    fn reads_class_headers_like_tree_sitter() {
        let src = "\n\nclass Book(models.Model, mixins.Timestamped, metaclass=Meta):\n    title = models.CharField()\n\n    @property\n    def label(self):\n        pass\n\n    async def fetch(self):\n        pass\n";
        let o = outline(src);
        let (_, c) = o.classes().next().unwrap();
        assert_eq!(c.name, "Book");
        assert_eq!(c.line, 3);
        assert_eq!(c.bases, ["models.Model", "mixins.Timestamped"]);
        assert_eq!(
            c.base_names,
            [
                "models",
                "Model",
                "mixins",
                "Timestamped",
                "metaclass",
                "Meta"
            ]
        );
        assert_eq!(c.methods, ["label", "fetch"]);
        let body: Vec<&str> = c.body_lines.iter().map(|r| &src[r.clone()]).collect();
        assert_eq!(
            body,
            [
                "    title = models.CharField()\n",
                "    @property\n",
                "    def label(self):\n",
                "    async def fetch(self):\n"
            ]
        );
    }

    #[test]
    fn call_bases_are_names_but_not_dotted_bases() {
        let o = outline("class M(Manager.from_queryset(QS), Generic[T], *extra):\n    pass\n");
        let (_, c) = o.classes().next().unwrap();
        // A generic base is the class subscripted, as the index reads it.
        assert_eq!(c.bases, ["Generic"]);
        assert_eq!(
            c.base_names,
            ["Manager", "from_queryset", "QS", "Generic", "T", "extra"]
        );
    }

    #[test]
    fn strings_and_comments_hide_statements() {
        let src = "x = \"\"\"\nclass Fake(models.Model):\n    pass\n\"\"\"\ny = f'{a[\"k\"]:>{w}} {{class}}'\nz = 'it''s'  # class Nope:\nclass Real:\n    pass\n";
        let k = kinds(src);
        assert_eq!(k.iter().filter(|x| x.1 == "class").count(), 1);
        assert!(k.last().unwrap().0.starts_with("class Real"));
    }

    #[test]
    fn continuations_and_brackets_keep_one_logical_line() {
        let src =
            "x = 1 + \\\n2\nclass A(\n    B,\n    # comment\n    C,\n):\n    def f(self): pass\n";
        let o = outline(src);
        assert_eq!(o.statements.len(), 2);
        let (_, c) = o.classes().next().unwrap();
        assert_eq!(c.bases, ["B", "C"]);
        assert_eq!(c.line, 3);
        assert_eq!(c.methods, ["f"]);
    }

    #[test]
    fn nested_f_strings_and_prefixes() {
        let src = "a = rb'\\''\nb = f\"{x:{'y'}}\" + F'''{\n\"x\"}'''\nclass A: pass\n";
        let k = kinds(src);
        assert_eq!(k.len(), 3);
        assert_eq!(k[2].1, "class");
    }
    #[test]
    fn majority_quote_counts_literals_like_tree_sitter() {
        assert_eq!(majority_quote("x = 'a'\ny = 'b'\nz = \"c\"\n"), '\'');
        assert_eq!(majority_quote("x = 'a'\ny = \"b\"\n"), '"');
        assert_eq!(majority_quote("x = 1  # 'a' 'b'\n"), '"');
        // The field's strings count too; `{{` is not a field.
        assert_eq!(majority_quote("x = f\"{a['k']}{b['k']}\"\n"), '\'');
        assert_eq!(majority_quote("x = \"{a['k']}{b['k']}\"\n"), '"');
        assert_eq!(majority_quote("x = f\"{{a['k']}}\"\n"), '"');
    }
}
