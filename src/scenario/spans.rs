//! Finds the line and column of a key path in TOML text, for error messages.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::Seg;

/// 1-based (line, column) of the byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text.as_bytes()[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

/// The position of the deepest part of `path` that exists in `text` (the key itself when present,
/// else its closest parent), or `None` when the text does not parse.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let table = DeTable::parse(text).ok()?;
    let span = table.span();
    let root = Spanned::new(span, DeValue::Table(table.into_inner()));
    let mut cur: &Spanned<DeValue> = &root;
    let mut best = None;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => match cur.get_ref() {
                DeValue::Table(t) => t.iter().find(|(key, _)| key.get_ref().as_ref() == k.as_str()).map(|(key, v)| {
                    best = Some(key.span().start);
                    v
                }),
                _ => None,
            },
            Seg::Index(i) => match cur.get_ref() {
                DeValue::Array(a) => a.get(*i),
                _ => None,
            },
        };
        match next {
            Some(v) => {
                if matches!(seg, Seg::Index(_)) {
                    best = Some(v.span().start);
                }
                cur = v;
            }
            None => break,
        }
    }
    best.map(|at| line_col(text, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_in_arrays_of_tables() {
        let text = "a = 1\n[[apps]]\nname = \"x\"\n[[apps]]\nname = \"y\"\nid = 3\n";
        let p = vec![Seg::Key("apps".into()), Seg::Index(1), Seg::Key("id".into())];
        assert_eq!(locate(text, &p), Some((6, 1)));
        let missing = vec![Seg::Key("apps".into()), Seg::Index(1), Seg::Key("nope".into())];
        assert_eq!(locate(text, &missing).map(|l| l.0), Some(4));
    }
}
