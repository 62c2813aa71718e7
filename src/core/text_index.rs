//! Which records hold each text value of one field: built from a collection in one pass and trusted
//! while the collection's version stands still, so a run of reads with the same equality condition
//! ("state is 发货") answers its total and its page without scanning every record again.
//!
//! Why lazily and not on every write: writes reach a collection from many places (the data API, Flows,
//! scripts, imports, state loads), and each already bumps the collection's version; an index that
//! checks the version needs no hook in any of them. The price is one scan after a write — what every
//! such read paid before.
//!
//! The index points at the records themselves (weakly: it keeps no deleted record alive), so a page is
//! a slice of it, not a lookup of each id in the collection.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::store::Collection;

use super::FastMap;

#[derive(Debug)]
struct TextIndex<V> {
    field: String,
    version: u64,
    /// Value → the records holding it, in id order.
    by_value: FastMap<String, Vec<Weak<V>>>,
}

/// One field's text index of a collection (the field last asked about).
#[derive(Debug)]
pub struct TextIndexCache<V>(Mutex<Option<TextIndex<V>>>);

impl<V> Default for TextIndexCache<V> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<V> TextIndexCache<V> {
    /// How many records hold exactly `value` in `field` (as `text_of` reads a record's field), and
    /// those at positions `skip..skip + take` in id order. `None` when the collection changed under
    /// the page (the caller scans instead).
    pub fn page(
        &self,
        records: &Collection<V>,
        field: &str,
        value: &str,
        text_of: impl Fn(&V) -> Option<&str>,
        skip: usize,
        take: usize,
    ) -> Option<(usize, Vec<Arc<V>>)> {
        let mut cache = self.0.lock();
        let current = records.version();
        if cache.as_ref().is_none_or(|c| c.version != current || c.field != field) {
            let mut by_value: FastMap<String, Vec<Weak<V>>> = FastMap::default();
            let version = records.scan_versioned(|r| {
                if let Some(t) = text_of(r) {
                    match by_value.get_mut(t) {
                        Some(holders) => holders.push(Arc::downgrade(r)),
                        None => {
                            by_value.insert(t.to_owned(), vec![Arc::downgrade(r)]);
                        }
                    }
                }
            });
            *cache = Some(TextIndex { field: field.to_owned(), version, by_value });
        }
        let index = cache.as_ref()?;
        let holders = index.by_value.get(value).map(Vec::as_slice).unwrap_or(&[]);
        if records.version() != index.version {
            return None;
        }
        // The version stood still, so every record indexed is still the collection's.
        let page = holders.iter().skip(skip).take(take).map(Weak::upgrade).collect::<Option<Vec<_>>>()?;
        Some((holders.len(), page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_writes() {
        let c: Collection<String> = Collection::default();
        c.insert_many((0..10).map(|i| (format!("id{i:02}"), if i % 3 == 0 { "a".to_owned() } else { "b".to_owned() })));
        let idx = TextIndexCache::default();
        #[allow(clippy::ptr_arg)] // the collection holds Strings
        fn text(v: &String) -> Option<&str> {
            Some(v.as_str())
        }
        let (total, page) = idx.page(&c, "f", "a", text, 1, 2).expect("page");
        assert_eq!((total, page.iter().map(|v| v.as_str()).collect::<Vec<_>>()), (4, vec!["a", "a"]));
        c.insert("id99", "a".to_owned());
        assert_eq!(idx.page(&c, "f", "a", text, 0, 100).map(|(t, _)| t), Some(5), "a write is seen");
        let removed = c.remove("id00").expect("id00 exists");
        assert_eq!(Arc::strong_count(&removed), 1, "the index keeps no removed record alive");
        assert_eq!(idx.page(&c, "f", "a", text, 0, 100).map(|(t, _)| t), Some(4));
        assert_eq!(idx.page(&c, "f", "zzz", text, 0, 100).map(|(t, p)| (t, p.len())), Some((0, 0)));
        assert_eq!(idx.page(&c, "g", "b", text, 8, 5).map(|(t, p)| (t, p.len())), Some((6, 0)), "past the end");
    }
}
