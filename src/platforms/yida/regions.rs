//! Region names for `CitySelectField`: written as codes (`["120000", "120100", "120102"]`), read back
//! as names (`["天津市", "天津市", "河东区"]`), as the remote API page's "Form Data Format Description as
//! Return Value" documents.
//!
//! `regions.tsv` holds the National Bureau of Statistics' 2023 division codes (provinces, cities and
//! districts) as six-digit codes, taken from the `china-division` 2.7.0 package (WTFPL). Provinces
//! and cities are padded with zeros (`110000`, `110100`); the city level of a municipality or of the
//! counties a province governs directly carries the province's name, as Yida shows it.

use std::collections::HashMap;
use std::sync::LazyLock;

static TABLE: &str = include_str!("regions.tsv");

static NAMES: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| TABLE.lines().filter_map(|line| line.split_once('\t')).collect());

/// The name of a region code, if it is one.
pub fn name(code: &str) -> Option<&'static str> {
    NAMES.get(code).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pages_example_reads_as_names() {
        let names: Vec<_> = ["120000", "120100", "120102"].iter().filter_map(|c| super::name(c)).collect();
        assert_eq!(names, ["天津市", "天津市", "河东区"]);
        assert_eq!(super::name("110101"), Some("东城区"));
        assert_eq!(super::name("999999"), None);
        assert!(super::NAMES.len() > 3000);
    }
}
