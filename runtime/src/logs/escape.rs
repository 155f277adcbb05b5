//! JSON string escaping. Every byte of user data goes through here, so a value can never
//! close its string, break the line, or forge a second log line.

use std::fmt::{self, Write};

/// Appends `value` to `out` as a JSON string literal, quotes included. Control characters,
/// quotes, backslashes and the line separators U+2028/U+2029 (which some JavaScript-based
/// readers treat as newlines) are escaped.
pub(crate) fn push_str(out: &mut String, value: &str) {
    out.push('"');
    // Most values (names, kinds, ids) need no escape at all: one scan of the bytes, one copy.
    if !value.bytes().any(may_need_escape) {
        out.push_str(value);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, c) in value.char_indices() {
        let escaped: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => None,
            _ => continue,
        };
        out.push_str(&value[start..i]);
        match escaped {
            Some(s) => out.push_str(s),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&value[start..]);
    out.push('"');
}

/// Whether `byte` may start something [`push_str`] escapes: a control character, a quote, a
/// backslash, DEL, or the first byte of U+2028/U+2029 (0xE2, shared with other characters,
/// which the slow path then leaves alone).
#[inline]
fn may_need_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\' || byte == 0x7f || byte == 0xe2
}

/// A `fmt::Write` that escapes into a JSON string body (no surrounding quotes), so `Display`
/// and `Debug` output is escaped as it is produced, without an intermediate `String`.
pub(crate) struct Escaper<'a>(pub &'a mut String);

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let before = self.0.len();
        push_str(self.0, s);
        // Drop the quotes push_str added around this piece.
        self.0.remove(before);
        self.0.pop();
        Ok(())
    }
}

/// Appends `value` formatted with `Display`/`Debug` as a JSON string literal.
pub(crate) fn push_fmt(out: &mut String, value: fmt::Arguments<'_>) {
    out.push('"');
    let _ = Escaper(out).write_fmt(value);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, s);
        out
    }

    #[test]
    fn hostile_strings_stay_one_json_string() {
        for s in [
            "plain",
            "quote \" and \\ back",
            "line\nbreak\r\n",
            "nul\0bell\x07",
            "\u{2028}",
            "é ✓ 🚀",
            "}\n{\"forged\":1}",
            "binary",
            "\u{7f}del",
            "â€” e2 but not a separator: \u{2010}\u{20ac}",
        ] {
            let out = escaped(s);
            assert!(
                !out.chars()
                    .any(|c| c < ' ' || matches!(c, '\u{7f}' | '\u{2028}' | '\u{2029}')),
                "{out}"
            );
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn formatted_values_are_escaped_too() {
        let mut out = String::new();
        push_fmt(&mut out, format_args!("{:?}", "a\"b\nc"));
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "\"a\\\"b\\nc\"");
    }
}
