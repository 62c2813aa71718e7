//! Value templates, as scenario steps and outbound calls write them: a string that is exactly
//! `"{{a.b.0}}"` keeps the variable's JSON type; `"x {{a}} y"` renders text (null as empty). Names a
//! platform gives meaning to (`$user`, `$now` …) are resolved by the caller's `special`.

use serde_json::{Map, Value};

use super::keypath::json_at;

/// Resolves the names a platform defines for its templates (`$user` …); `None` for the others.
pub type Special<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// A value as text (templates, CSV cells, query strings): null is empty, strings are bare.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `a.b.0.c` over the variables (a special name first); null where the path leads nowhere.
fn lookup(path: &str, vars: &Map<String, Value>, special: Special) -> Value {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let root = special(head).or_else(|| vars.get(head).cloned()).unwrap_or(Value::Null);
    if rest.is_empty() {
        return root;
    }
    json_at(&root, rest).cloned().unwrap_or(Value::Null)
}

/// Renders a template value (strings, and strings inside arrays and objects) against the variables.
pub fn render(t: &Value, vars: &Map<String, Value>, special: Special) -> Value {
    match t {
        Value::String(s) => {
            let trimmed = s.trim();
            if let Some(inner) = trimmed.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
                if !inner.contains("{{") && !inner.contains("}}") {
                    return lookup(inner.trim(), vars, special);
                }
            }
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let Some(len) = rest[start + 2..].find("}}") else { break };
                out.push_str(&rest[..start]);
                out.push_str(&text(&lookup(rest[start + 2..start + 2 + len].trim(), vars, special)));
                rest = &rest[start + 2 + len + 2..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| render(v, vars, special)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), render(v, vars, special))).collect()),
        other => other.clone(),
    }
}

/// Renders every value of a map of templates.
pub fn render_map(t: &Map<String, Value>, vars: &Map<String, Value>, special: Special) -> Map<String, Value> {
    t.iter().map(|(k, v)| (k.clone(), render(v, vars, special))).collect()
}

/// No special names.
pub fn plain(_: &str) -> Option<Value> {
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::render;

    fn vars() -> Map<String, Value> {
        json!({ "a": { "b": [10, { "c": "deep" }] }, "n": 3, "s": "text", "nil": null }).as_object().cloned().unwrap_or_default()
    }

    fn robot(name: &str) -> Option<Value> {
        (name == "$userName").then(|| json!("robot"))
    }

    #[test]
    fn whole_templates_keep_types_and_embedded_ones_render_text() {
        let v = vars();
        assert_eq!(render(&json!("{{n}}"), &v, &robot), json!(3));
        assert_eq!(render(&json!(" {{ a.b.1.c }} "), &v, &robot), json!("deep"));
        assert_eq!(render(&json!("n={{n}}, s={{s}}, nil={{nil}}, x={{missing.y}}"), &v, &robot), json!("n=3, s=text, nil=, x="));
        assert_eq!(render(&json!({ "k": ["{{a.b.0}}", 1] }), &v, &robot), json!({ "k": [10, 1] }));
        assert_eq!(render(&json!("{{$userName}}"), &v, &robot), json!("robot"));
        assert_eq!(render(&json!("open {{ never closed"), &v, &robot), json!("open {{ never closed"));
    }

    proptest! {
        /// Any text renders without panicking; text without `{{` comes back unchanged.
        #[test]
        fn any_template_renders(s in "[a-z{} .0-9$]{0,40}") {
            let out = render(&Value::String(s.clone()), &vars(), &robot);
            if !s.contains("{{") {
                prop_assert_eq!(out, Value::String(s));
            }
        }
    }
}
