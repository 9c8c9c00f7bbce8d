//! Writing the tenant file: just enough YAML, with every string quoted when it needs to be.

/// `text` as a YAML scalar: plain when it is a safe word, double-quoted otherwise.
pub(crate) fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !text.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-')
        && !["true", "false", "yes", "no", "null", "on", "off", "y", "n"].contains(&text.to_ascii_lowercase().as_str());
    if plain {
        return text.to_owned();
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push(' '),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_when_needed() {
        assert_eq!(scalar("support"), "support");
        assert_eq!(scalar("1001"), "\"1001\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("Alice \"Al\" Smith"), "\"Alice \\\"Al\\\" Smith\"");
        assert_eq!(scalar(""), "\"\"");
    }
}
