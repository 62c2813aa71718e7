//! Key paths into a structured document (`apps[0].entries[1].widgets[2].type`) and where an array item
//! came from. The scenario layer turns them into file:line:column; definitions in `core` (workflow
//! graphs) use them to say which of their parts is wrong without knowing what file they came from.

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_owned())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// Builds a path: `path!["apps", 0usize, "name"]`.
#[macro_export]
macro_rules! path {
    ($($s:expr),* $(,)?) => { vec![$($crate::core::keypath::Seg::from($s)),*] };
}

/// `a.b[0].c`
pub fn render_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Where an array item came from: source file index and its index in that file's array, so problems
/// found after several files were merged still point at the right line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub index: usize,
}

/// The value at a dotted path in a JSON value (`result.items.0.id`: object keys and array indexes).
pub fn json_at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').filter(|s| !s.is_empty()).try_fold(v, |cur, key| match cur {
        serde_json::Value::Object(m) => m.get(key),
        serde_json::Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The values an answer holds at each named key path (`var ← "data.items.0.id"`), null where a path
/// leads nowhere: how call nodes and Rest actions map an answer into variables.
pub fn pick(paths: &std::collections::BTreeMap<String, String>, answer: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    paths.iter().map(|(var, key)| (var.clone(), json_at(answer, key).cloned().unwrap_or(serde_json::Value::Null))).collect()
}

#[cfg(test)]
mod json_at_tests {
    use serde_json::json;

    #[test]
    fn answer_paths() {
        let v = json!({ "result": { "code": "OK", "items": [{ "id": 7 }] } });
        assert_eq!(super::json_at(&v, "result.code"), Some(&json!("OK")));
        assert_eq!(super::json_at(&v, "result.items.0.id"), Some(&json!(7)));
        assert_eq!(super::json_at(&v, "result.nope"), None);
    }
}
