//! Which records hold each text value of one field: built from a collection in one pass and trusted
//! while the collection's version stands still, so a run of reads with the same equality condition
//! ("state is 发货") answers its total and its page without scanning every record again.
//!
//! Why lazily and not on every write: writes reach a collection from many places (the data API, Flows,
//! scripts, imports, state loads), and each already bumps the collection's version; an index that
//! checks the version needs no hook in any of them. The price is one scan after a write.
//!
//! The index points at the records themselves (weakly: it keeps no deleted record alive) beside their
//! ids, so a page is a slice of it found by binary search, not a lookup of each id in the collection.

use std::borrow::Cow;
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};

use super::store::Collection;
use super::FastMap;

#[derive(Debug)]
struct Holder<V> {
    id: Arc<str>,
    record: Weak<V>,
}

#[derive(Debug)]
struct TextIndex<V> {
    field: String,
    version: u64,
    /// Value → the records holding it, in id order.
    by_value: FastMap<String, Vec<Holder<V>>>,
}

impl<V> TextIndex<V> {
    /// Whether the index answers for `field` of `records` as they are now.
    fn serves(&self, records: &Collection<V>, field: &str) -> bool {
        self.field == field && self.version == records.version()
    }

    fn holders(&self, value: &str) -> &[Holder<V>] {
        self.by_value.get(value).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// One field's text index of a collection (the field last asked about).
#[derive(Debug)]
pub struct TextIndexCache<V> {
    index: RwLock<Option<TextIndex<V>>>,
    /// The collection version a cursor page last scanned at, and how many records such pages have
    /// scanned at it (see [`TextIndexCache::page_after`]).
    stale_scans: Mutex<(u64, u64)>,
}

impl<V> Default for TextIndexCache<V> {
    fn default() -> Self {
        Self { index: RwLock::new(None), stale_scans: Mutex::new((0, 0)) }
    }
}

impl<V> TextIndexCache<V> {
    /// How many records hold exactly `value` in `field` (as `text_of` reads a record's field), and
    /// those at positions `skip..skip + take` in id order. A stale index is rebuilt first: a caller
    /// that needs the total scans every record anyway. `None` when the collection changed under the
    /// page (the caller scans instead).
    pub fn page(
        &self,
        records: &Collection<V>,
        field: &str,
        value: &str,
        text_of: impl Fn(&V) -> Option<Cow<'_, str>>,
        skip: usize,
        take: usize,
    ) -> Option<(usize, Vec<Arc<V>>)> {
        self.build_if_stale(records, field, text_of);
        let index = self.index.read();
        let index = index.as_ref().filter(|i| i.serves(records, field))?;
        let holders = index.holders(value);
        // The version stood still, so every record indexed is still the collection's.
        let page = holders.iter().skip(skip).take(take).map(|h| h.record.upgrade()).collect::<Option<Vec<_>>>()?;
        Some((holders.len(), page))
    }

    /// Up to `limit` records with id after `after`, in id order, that hold exactly `value` in `field`
    /// and that `keep` accepts — the cursor page of `Collection::page_after` for a filter that implies
    /// "`field` is `value`".
    ///
    /// Such a page scans only until it is full, often far fewer records than the collection holds, so
    /// a stale index is rebuilt only once the pages scanned since the last write add up to the
    /// collection's size. A build costs about one full scan: reads between writes never pay more than
    /// twice what scanning alone would, and a run of reads with no write soon pages from the index.
    #[allow(clippy::too_many_arguments)] // one page's whole question
    pub fn page_after(
        &self,
        records: &Collection<V>,
        field: &str,
        value: &str,
        text_of: impl Fn(&V) -> Option<Cow<'_, str>>,
        after: Option<&str>,
        limit: usize,
        mut keep: impl FnMut(&V) -> bool,
    ) -> Vec<Arc<V>> {
        let holds = |r: &V| text_of(r).is_some_and(|t| t == value);
        if !self.is_fresh(records, field) {
            let version = records.version();
            let worth_building = {
                let mut scans = self.stale_scans.lock();
                if scans.0 != version {
                    *scans = (version, 0);
                }
                scans.1 >= records.len() as u64
            };
            if !worth_building {
                let mut scanned = 0u64;
                let page = records.page_after(after, limit, |r| {
                    scanned += 1;
                    holds(r) && keep(r)
                });
                let mut scans = self.stale_scans.lock();
                if scans.0 == version {
                    scans.1 += scanned;
                }
                return page;
            }
            self.build_if_stale(records, field, &text_of);
        }
        let page = self.indexed_after(records, field, value, after, limit, &mut keep);
        page.unwrap_or_else(|| records.page_after(after, limit, |r| holds(r) && keep(r)))
    }

    fn indexed_after(
        &self,
        records: &Collection<V>,
        field: &str,
        value: &str,
        after: Option<&str>,
        limit: usize,
        keep: &mut impl FnMut(&V) -> bool,
    ) -> Option<Vec<Arc<V>>> {
        let index = self.index.read();
        let index = index.as_ref().filter(|i| i.serves(records, field))?;
        let holders = index.holders(value);
        let start = after.map_or(0, |a| holders.partition_point(|h| &*h.id <= a));
        let mut page = Vec::with_capacity(limit.min(holders.len() - start));
        for h in &holders[start..] {
            if page.len() == limit {
                break;
            }
            // A record gone since the version check: the caller scans instead.
            let record = h.record.upgrade()?;
            if keep(&record) {
                page.push(record);
            }
        }
        Some(page)
    }

    fn is_fresh(&self, records: &Collection<V>, field: &str) -> bool {
        self.index.read().as_ref().is_some_and(|i| i.serves(records, field))
    }

    fn build_if_stale(&self, records: &Collection<V>, field: &str, text_of: impl Fn(&V) -> Option<Cow<'_, str>>) {
        if self.is_fresh(records, field) {
            return;
        }
        // Built under the write lock: readers of this index wait for one build rather than each
        // making their own.
        let mut index = self.index.write();
        if index.as_ref().is_some_and(|i| i.serves(records, field)) {
            return;
        }
        let mut by_value: FastMap<String, Vec<Holder<V>>> = FastMap::default();
        let version = records.scan_keyed_versioned(|id, r| {
            if let Some(t) = text_of(r) {
                let holder = Holder { id: id.clone(), record: Arc::downgrade(r) };
                match by_value.get_mut(t.as_ref()) {
                    Some(holders) => holders.push(holder),
                    None => {
                        by_value.insert(t.into_owned(), vec![holder]);
                    }
                }
            }
        });
        *index = Some(TextIndex { field: field.to_owned(), version, by_value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::ptr_arg)] // the collection holds Strings
    fn text(v: &String) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(v.as_str()))
    }

    fn ten() -> Collection<String> {
        let c: Collection<String> = Collection::default();
        c.insert_many((0..10).map(|i| (format!("id{i:02}"), if i % 3 == 0 { "a".to_owned() } else { "b".to_owned() })));
        c
    }

    #[test]
    fn pages_follow_writes() {
        let c = ten();
        let idx = TextIndexCache::default();
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

    /// Cursor pages answer exactly what a scan answers, before the index is built (while scanning is
    /// cheaper), once it is, and after writes make it stale.
    #[test]
    fn cursor_pages_match_a_scan() {
        let c = ten();
        let idx = TextIndexCache::default();
        let ids = |page: Vec<Arc<String>>| page.iter().map(|v| Arc::as_ptr(v) as usize).collect::<Vec<_>>();
        let check = |idx: &TextIndexCache<String>, c: &Collection<String>| {
            for after in [None, Some("id00"), Some("id04"), Some("id055"), Some("id09"), Some("zz")] {
                for limit in [1, 2, 10] {
                    let scanned = c.page_after(after, limit, |v| v == "a");
                    let paged = idx.page_after(c, "f", "a", text, after, limit, |_| true);
                    assert_eq!(ids(paged), ids(scanned), "after {after:?}, limit {limit}");
                }
            }
        };
        check(&idx, &c);
        assert!(idx.is_fresh(&c, "f"), "pages that scanned the collection's size build the index");
        check(&idx, &c);
        c.insert("id055", "a".to_owned());
        c.remove("id06");
        assert!(!idx.is_fresh(&c, "f"));
        check(&idx, &c);
        // `keep` still applies to what the index finds.
        let odd = idx.page_after(&c, "f", "a", text, None, 10, |v| !std::ptr::eq(v, &*c.get("id03").expect("id03")));
        assert_eq!(odd.len(), 3);
    }
}
