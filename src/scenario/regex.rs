//! A small backtracking regular-expression matcher for `$regex:` patterns in
//! scenario files (the crate has no regex dependency, and scenario patterns
//! are short). Supported: literals, `.`, `\d \D \w \W \s \S`, escaped
//! punctuation, classes `[a-z_]` / `[^...]`, anchors `^ $`, groups `( )` and
//! `(?: )`, alternation `|`, and greedy `* + ? {n} {n,} {n,m}`. Matching is a
//! search (unanchored) unless the pattern uses `^` / `$`.

#[derive(Debug, Clone)]
pub struct Regex {
    source: String,
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class {
        items: Vec<ClassItem>,
        negated: bool,
    },
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: Option<usize>,
    },
}

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

impl ClassItem {
    fn matches(&self, c: char) -> bool {
        match *self {
            ClassItem::Range(a, b) => a <= c && c <= b,
            ClassItem::Digit(neg) => c.is_ascii_digit() != neg,
            ClassItem::Word(neg) => (c.is_alphanumeric() || c == '_') != neg,
            ClassItem::Space(neg) => c.is_whitespace() != neg,
        }
    }
}

impl Regex {
    /// Compile `pattern`; the error says what is wrong and where (character index).
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut p = Parser {
            chars: &chars,
            pos: 0,
        };
        let node = p.alt()?;
        if p.pos < chars.len() {
            return Err(format!("unbalanced `)` at character {}", p.pos + 1));
        }
        Ok(Regex {
            source: pattern.to_string(),
            node,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        (0..=chars.len()).any(|start| m(&self.node, &chars, start, &mut |_| true))
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alt(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap()
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap(),
            _ => Node::Concat(items),
        })
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                let start = self.pos;
                let close = self.chars[start..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|i| start + i);
                let Some(close) = close else { return Ok(atom) };
                let inner: String = self.chars[start + 1..close].iter().collect();
                let parse = |s: &str| {
                    s.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("bad repetition {{{inner}}}"))
                };
                let (min, max) = match inner.split_once(',') {
                    None => {
                        let n = parse(&inner)?;
                        (n, Some(n))
                    }
                    Some((a, "")) => (parse(a)?, None),
                    Some((a, b)) => (parse(a)?, Some(parse(b)?)),
                };
                self.pos = close;
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if matches!(atom, Node::Start | Node::End | Node::Empty) {
            return Err(format!("nothing to repeat at character {}", self.pos));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn atom(&mut self) -> Result<Node, String> {
        let c = self.peek().unwrap();
        self.pos += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.chars[self.pos..].starts_with(&['?', ':']) {
                    self.pos += 2;
                }
                let inner = self.alt()?;
                if self.peek() != Some(')') {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                inner
            }
            '[' => self.class()?,
            '\\' => match self.escape()? {
                Ok(ch) => Node::Char(ch),
                Err(item) => Node::Class {
                    items: vec![item],
                    negated: false,
                },
            },
            '*' | '+' | '?' => return Err(format!("nothing to repeat at character {}", self.pos)),
            c => Node::Char(c),
        })
    }

    /// After a backslash: a literal character or a class shorthand.
    fn escape(&mut self) -> Result<Result<char, ClassItem>, String> {
        let c = self.peek().ok_or("trailing backslash")?;
        self.pos += 1;
        Ok(match c {
            'd' => Err(ClassItem::Digit(false)),
            'D' => Err(ClassItem::Digit(true)),
            'w' => Err(ClassItem::Word(false)),
            'W' => Err(ClassItem::Word(true)),
            's' => Err(ClassItem::Space(false)),
            'S' => Err(ClassItem::Space(true)),
            'n' => Ok('\n'),
            't' => Ok('\t'),
            'r' => Ok('\r'),
            c if c.is_ascii_alphanumeric() => return Err(format!("unknown escape \\{c}")),
            c => Ok(c),
        })
    }

    fn class(&mut self) -> Result<Node, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or("missing `]`")?;
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = if c == '\\' {
                match self.escape()? {
                    Ok(ch) => ch,
                    Err(item) => {
                        items.push(item);
                        continue;
                    }
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let mut hi = self.peek().unwrap();
                self.pos += 1;
                if hi == '\\' {
                    hi = self
                        .escape()?
                        .map_err(|_| "a class shorthand cannot end a range".to_string())?;
                }
                if hi < lo {
                    return Err(format!("bad range {lo}-{hi}"));
                }
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Range(lo, lo));
            }
        }
        Ok(Node::Class { items, negated })
    }
}

/// Match `node` at `i`, then call `k` with the end position.
fn m(node: &Node, s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match node {
        Node::Empty => k(i),
        Node::Char(c) => s.get(i) == Some(c) && k(i + 1),
        Node::Any => i < s.len() && s[i] != '\n' && k(i + 1),
        Node::Class { items, negated } => {
            i < s.len() && items.iter().any(|it| it.matches(s[i])) != *negated && k(i + 1)
        }
        Node::Start => i == 0 && k(i),
        Node::End => i == s.len() && k(i),
        Node::Concat(items) => concat(items, s, i, k),
        Node::Alt(branches) => branches.iter().any(|b| m(b, s, i, k)),
        Node::Repeat { node, min, max } => repeat(node, *min, *max, 0, s, i, k),
    }
}

fn concat(items: &[Node], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match items.split_first() {
        None => k(i),
        Some((first, rest)) => m(first, s, i, &mut |j| concat(rest, s, j, k)),
    }
}

fn repeat(
    node: &Node,
    min: usize,
    max: Option<usize>,
    count: usize,
    s: &[char],
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    // Greedy: try one more repetition first (never an empty one, to stop loops).
    if max.is_none_or(|mx| count < mx)
        && m(node, s, i, &mut |j| {
            j > i && repeat(node, min, max, count + 1, s, j, k)
        })
    {
        return true;
    }
    count >= min && k(i)
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn is(p: &str, t: &str) -> bool {
        Regex::new(p).unwrap().is_match(t)
    }

    #[test]
    fn literals_classes_and_anchors() {
        assert!(is("abc", "xxabcxx"));
        assert!(!is("^abc$", "xxabcxx"));
        assert!(is("^\\d{4}-\\d{2}-\\d{2}T", "2024-05-01T10:00:00Z"));
        assert!(!is("^\\d{4}-", "24-05"));
        assert!(is("^[a-f0-9]+$", "deadbeef"));
        assert!(!is("^[^0-9]+$", "abc1"));
        assert!(is("^(graphql-ws|wamp\\.2\\.json)$", "wamp.2.json"));
        assert!(!is("^(graphql-ws|wamp\\.2\\.json)$", "wampx2.json"));
        assert!(is("^a.c$", "abc"));
        assert!(is("^$", ""));
        assert!(is("^(?:ab)*c?$", "ababc"));
        assert!(is("^x{2,3}$", "xxx"));
        assert!(!is("^x{2,3}$", "xxxx"));
        assert!(is("é+", "caféé"));
        assert!(is("^[\\w-]+$", "graphql-ws"));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for p in ["(", "a)", "*a", "[abc", "\\q", "x{"] {
            let r = Regex::new(p);
            if p == "x{" {
                // An unclosed brace is a literal, as in most engines.
                assert!(r.unwrap().is_match("x{"));
            } else {
                assert!(r.is_err(), "{p} should be rejected");
            }
        }
    }
}
