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
