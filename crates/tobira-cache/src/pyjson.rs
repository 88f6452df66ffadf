//! Python's `json.dumps` byte for byte (default `ensure_ascii=True`), which
//! botocore uses both to write cache files and to derive their names.

use serde_json::Value;

/// `json.dumps(value, sort_keys=sort, separators=(item, key))`.
pub fn dumps(value: &Value, sort_keys: bool, item_sep: &str, key_sep: &str) -> String {
    let mut out = String::new();
    write(value, sort_keys, item_sep, key_sep, &mut out);
    out
}

/// `json.dumps(value, sort_keys=True)`: `", "` and `": "` separators.
pub fn dumps_sorted(value: &Value) -> String {
    dumps(value, true, ", ", ": ")
}

/// `json.dumps(value, sort_keys=True, separators=(',', ':'))`.
pub fn dumps_sorted_compact(value: &Value) -> String {
    dumps(value, true, ",", ":")
}

fn write(value: &Value, sort: bool, item: &str, key: &str, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write(v, sort, item, key, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if sort {
                // Python sorts str keys by code point, as Rust's str Ord does.
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                string(k, out);
                out.push_str(key);
                write(v, sort, item, key, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string with Python's escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`,
/// `\f`, other controls and every non-ASCII char as `\uXXXX` (UTF-16).
fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_output() {
        // Expected strings produced by CPython 3.11 json.dumps.
        assert_eq!(dumps_sorted(&json!({"b": 1, "a": [null, "x"]})), r#"{"a": [null, "x"], "b": 1}"#);
        assert_eq!(dumps_sorted_compact(&json!({"b": "é", "a": "😀"})), r#"{"a":"\ud83d\ude00","b":"\u00e9"}"#);
        assert_eq!(dumps_sorted(&json!("a\"b\\c\u{1}\u{7f}")), r#""a\"b\\c\u0001\u007f""#);
    }
}
