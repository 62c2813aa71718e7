//! JSON Schema pieces for `lowcode-emu export-schema`: what editors check while a scenario is typed —
//! the accepted words of a field, or the shape of an id. Loading checks the same rules with located errors.

use schemars::{json_schema, Schema};

/// A string that is one of `words` (loading also accepts other capitalisations where it says so).
pub fn one_of(words: &[&str], description: &str) -> Schema {
    json_schema!({ "type": "string", "enum": words, "description": description })
}

/// A string matching `pattern` (an ECMA-262 regular expression).
pub fn pattern(pattern: &str, description: &str) -> Schema {
    json_schema!({ "type": "string", "pattern": pattern, "description": description })
}
