//! Lookups in a key-sorted map by keys that come in key order (the walk's), in
//! amortised constant time: one step along the map per key rather than a search
//! from the root, which at 50,000 keys is about sixteen string comparisons each.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::iter::Peekable;

/// Walks a map alongside a sorted sequence of keys; a key out of order falls back
/// to an ordinary lookup, so the answers never depend on the order.
pub(crate) struct SortedLookup<'a, V> {
    map: &'a BTreeMap<String, V>,
    ahead: Peekable<btree_map::Iter<'a, String, V>>,
    /// The last map key stepped over: every key up to it is behind the cursor.
    passed: Option<&'a str>,
}

impl<'a, V> SortedLookup<'a, V> {
    pub(crate) fn new(map: &'a BTreeMap<String, V>) -> Self {
        Self {
            map,
            ahead: map.iter().peekable(),
            passed: None,
        }
    }

    /// The value of `key`, as `map.get(key)`.
    pub(crate) fn get(&mut self, key: &str) -> Option<&'a V> {
        if self.passed.is_some_and(|passed| key <= passed) {
            return self.map.get(key);
        }
        while let Some((k, v)) = self.ahead.peek() {
            match k.as_str().cmp(key) {
                std::cmp::Ordering::Less => {
                    self.passed = Some(k.as_str());
                    self.ahead.next();
                }
                std::cmp::Ordering::Equal => return Some(*v),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_get_in_any_order() {
        let map: BTreeMap<String, u32> = ["b", "d", "f", "h"]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), i as u32))
            .collect();
        let keys = [
            "a", "b", "c", "d", "d", "g", "h", "i", "b", "e", "f", "a", "h",
        ];
        let mut lookup = SortedLookup::new(&map);
        for key in keys {
            assert_eq!(lookup.get(key), map.get(key), "{key}");
        }
    }
}
