//! A small YAML tree whose nodes remember where they were written.
//!
//! yaml-rust2's own `Yaml` type forgets positions, so this module builds its own tree from the
//! parser's event stream, keeping the line and column of every node and every mapping key. The
//! tree keeps duplicate keys (the decoder reports them with both positions) and supports only
//! what a configuration file needs: one document of scalars, lists and mappings with plain keys.
//! Anchors, aliases and tags are reported as problems. A syntax error ends the parse, because
//! nothing after it can be trusted.
//!
//! The module is public so that other crates reading YAML files of their own (contact flows in
//! `sb-flow`) decode them the same way and report problems with the same positions.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the source text; both numbers start at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    /// The position of the start of the file.
    pub const START: Pos = Pos { line: 1, column: 1 };

    fn from_marker(mark: Marker) -> Pos {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Pos {
            line: u32::try_from(mark.line()).unwrap_or(u32::MAX),
            column: u32::try_from(mark.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

/// One value of the tree and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub kind: Kind,
}

/// The shape of a [`Node`].
#[derive(Debug, Clone)]
pub enum Kind {
    /// An empty value, `~` or `null`.
    Null,
    /// Any other scalar, with its text as written. `quoted` is true for every style except
    /// plain, so that `"5"` can be told apart from `5`.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order, duplicates included.
    Map(Vec<Entry>),
    /// A node that was already reported as a problem (an alias); decoders skip it silently.
    Invalid,
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// A problem found while reading the YAML itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    /// The field path of the node, as far as the tree was built.
    pub path: String,
    pub message: String,
}

/// Appends a field name to a field path such as `queues[1]`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// The result of [`parse`]: the tree if there is one, and the problems found on the way.
#[derive(Debug)]
pub struct Parsed {
    /// `None` after a syntax error or when the file holds no document at all.
    pub root: Option<Node>,
    pub errors: Vec<YamlError>,
    /// Whether a syntax error stopped the parse, so that there is nothing to decode.
    pub broken: bool,
}

impl Node {
    /// Describes the node for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "an empty value".to_owned(),
            Kind::Scalar { text, .. } => format!("{text:?}"),
            Kind::Seq(_) => "a list".to_owned(),
            Kind::Map(_) => "a mapping".to_owned(),
            Kind::Invalid => "an invalid value".to_owned(),
        }
    }
}

/// Parses `text` as a single YAML document.
pub fn parse(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    let mut documents = 0;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            Err(error) => {
                builder.errors.push(YamlError {
                    pos: Pos::from_marker(*error.marker()),
                    path: String::new(),
                    message: syntax_message(error.info()),
                });
                return Parsed { root: None, errors: builder.errors, broken: true };
            }
        };
        let pos = Pos::from_marker(mark);
        match event {
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    builder.error(
                        pos,
                        "the file holds more than one YAML document; \
                         a configuration is a single document",
                    );
                    break;
                }
            }
            Event::Alias(_) => {
                builder.error(pos, "aliases (*name) are not supported; write the value out in full");
                builder.push(Node { pos, kind: Kind::Invalid });
            }
            Event::Scalar(text, style, anchor, tag) => {
                builder.check_anchor_and_tag(pos, anchor, tag.is_some());
                let quoted = style != TScalarStyle::Plain;
                let kind = if !quoted && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                    Kind::Null
                } else {
                    Kind::Scalar { text, quoted }
                };
                builder.push(Node { pos, kind });
            }
            Event::SequenceStart(anchor, tag) => {
                builder.check_anchor_and_tag(pos, anchor, tag.is_some());
                let path = builder.child_path();
                builder.stack.push(Frame::Seq { pos, path, items: Vec::new() });
            }
            Event::MappingStart(anchor, tag) => {
                builder.check_anchor_and_tag(pos, anchor, tag.is_some());
                let path = builder.child_path();
                builder.stack.push(Frame::Map { pos, path, entries: Vec::new(), key: Key::Awaiting });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match builder.stack.pop() {
                    Some(Frame::Seq { pos, items, .. }) => Node { pos, kind: Kind::Seq(items) },
                    Some(Frame::Map { pos, entries, .. }) => {
                        // The parser marks a block mapping where its first value starts; the
                        // first key is where a reader sees the mapping begin.
                        let pos = match entries.first() {
                            Some(first) if first.key_pos < pos => first.key_pos,
                            _ => pos,
                        };
                        Node { pos, kind: Kind::Map(entries) }
                    }
                    None => continue,
                };
                builder.push(node);
            }
        }
    }
    Parsed { root: builder.root, errors: builder.errors, broken: false }
}

/// The message for a syntax error, with a hint for the most common causes.
fn syntax_message(info: &str) -> String {
    let hint = if info.contains("did not find expected key") {
        "; check the indentation of this line and the lines above it"
    } else if info.contains("mapping values are not allowed") {
        "; put quotes around a value that contains \": \""
    } else {
        ""
    };
    format!("YAML syntax error: {info}{hint}")
}

/// A list or mapping whose end has not been seen yet.
#[derive(Debug)]
enum Frame {
    Seq { pos: Pos, path: String, items: Vec<Node> },
    Map { pos: Pos, path: String, entries: Vec<Entry>, key: Key },
}

/// Whether a mapping frame waits for a key or for the value of a key it has.
#[derive(Debug)]
enum Key {
    Awaiting,
    Have(String, Pos),
    /// The key was not a scalar; it was reported and its value is dropped.
    Bad,
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    errors: Vec<YamlError>,
}

impl Builder {
    fn error(&mut self, pos: Pos, message: &str) {
        let path = self.child_path();
        self.errors.push(YamlError { pos, path, message: message.to_owned() });
    }

    /// The field path of the next node to arrive.
    fn child_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { path, items, .. }) => format!("{path}[{}]", items.len()),
            Some(Frame::Map { path, key: Key::Have(key, _), .. }) => join(path, key),
            Some(Frame::Map { path, .. }) => path.clone(),
        }
    }

    fn check_anchor_and_tag(&mut self, pos: Pos, anchor: usize, tagged: bool) {
        if anchor != 0 {
            self.error(pos, "anchors (&name) are not supported; write the value out in full");
        }
        if tagged {
            self.error(pos, "YAML tags (!tag) are not supported; remove the tag");
        }
    }

    /// Adds a finished node to the innermost open list or mapping, or makes it the root.
    fn push(&mut self, mut node: Node) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match frame {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map { entries, key, .. } => match std::mem::replace(key, Key::Awaiting) {
                Key::Awaiting => match node.kind {
                    Kind::Scalar { text, .. } => *key = Key::Have(text, node.pos),
                    Kind::Null => *key = Key::Have(String::new(), node.pos),
                    Kind::Invalid => *key = Key::Bad,
                    Kind::Seq(_) | Kind::Map(_) => {
                        self.error(node.pos, "mapping keys must be plain strings");
                        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                            *key = Key::Bad;
                        }
                    }
                },
                Key::Have(key, key_pos) => {
                    // An empty value is marked where the next token starts, often on the
                    // next line; the key is a better place to point at.
                    if matches!(node.kind, Kind::Null) && node.pos > key_pos {
                        node.pos = key_pos;
                    }
                    entries.push(Entry { key, key_pos, value: node });
                }
                Key::Bad => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let parsed = parse(text);
        assert_eq!(parsed.errors, []);
        parsed.root.expect("a document")
    }

    #[test]
    fn positions_of_block_mappings_are_their_first_keys() {
        let node = root("# comment\ntenant:\n  id: demo\nlist:\n  - id: a\n    x: [1, 2]\n");
        let Kind::Map(entries) = &node.kind else { panic!("expected a mapping") };
        assert_eq!(node.pos, Pos { line: 2, column: 1 });
        assert_eq!(entries[0].value.pos, Pos { line: 3, column: 3 });
        let Kind::Seq(items) = &entries[1].value.kind else { panic!("expected a list") };
        assert_eq!(items[0].pos, Pos { line: 5, column: 5 });
        let Kind::Map(item) = &items[0].kind else { panic!("expected a mapping") };
        assert_eq!(item[1].value.pos, Pos { line: 6, column: 8 });
    }

    #[test]
    fn empty_values_point_at_their_key() {
        let node = root("a:\nb: 1\n");
        let Kind::Map(entries) = &node.kind else { panic!("expected a mapping") };
        assert!(matches!(entries[0].value.kind, Kind::Null));
        assert_eq!(entries[0].value.pos, Pos { line: 1, column: 1 });
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let node = root("a: 1\na: 2\n");
        let Kind::Map(entries) = &node.kind else { panic!("expected a mapping") };
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn quoting_is_remembered() {
        let node = root("a: '5'\nb: 5\nc: ~\n");
        let Kind::Map(entries) = &node.kind else { panic!("expected a mapping") };
        assert!(matches!(&entries[0].value.kind, Kind::Scalar { quoted: true, .. }));
        assert!(matches!(&entries[1].value.kind, Kind::Scalar { quoted: false, .. }));
        assert!(matches!(&entries[2].value.kind, Kind::Null));
    }

    #[test]
    fn problems_are_reported_with_positions() {
        // Each case lists the expected problems as `line:column start-of-message`.
        let cases: &[(&str, &[&str])] = &[
            ("a: &x 1\nb: *x\n", &["1:7 anchors (&name)", "2:4 aliases (*name)"]),
            ("a:\n  b: 1\n c: 2\n", &["3:3 YAML syntax error"]),
            ("a: 1\n---\nb: 2\n", &["2:1 the file holds more than one"]),
            ("? [a]\n: 1\n", &["1:3 mapping keys must be plain"]),
            ("a: !!str 5\n", &["1:10 YAML tags"]),
        ];
        for (text, expect) in cases {
            let errors = parse(text).errors;
            assert_eq!(errors.len(), expect.len(), "for {text:?}: {errors:?}");
            for (error, expect) in errors.iter().zip(expect.iter()) {
                let got = format!("{}:{} {}", error.pos.line, error.pos.column, error.message);
                assert!(got.starts_with(expect), "for {text:?}: {got:?}");
            }
        }
    }

    #[test]
    fn an_empty_file_has_no_root() {
        let parsed = parse("# nothing here\n");
        assert!(parsed.root.is_none());
        assert_eq!(parsed.errors, []);
    }
}
