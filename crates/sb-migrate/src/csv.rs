//! Reading CSV lines (RFC 4180 without line breaks inside fields): fields separated by a
//! delimiter, optionally in double quotes, with `""` for a quote inside quotes.

/// The fields of one line, or why it cannot be read.
pub fn fields(line: &str, delimiter: char) -> Result<Vec<String>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        // Spaces before an opening quote are allowed, as many exports write them.
        while chars.peek() == Some(&' ') {
            field.push(' ');
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            field.clear();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("a quoted field is not closed (field {})", out.len() + 1)),
                }
            }
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(c) if c == delimiter => out.push(field),
                Some(c) => return Err(format!("{c:?} after the closing quote of field {}", out.len() + 1)),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field);
                        return Ok(out);
                    }
                    Some(c) if c == delimiter => break,
                    Some('"') => return Err(format!("a quote inside unquoted field {}", out.len() + 1)),
                    Some(c) => field.push(c),
                }
            }
            out.push(field);
        }
    }
}

/// A CSV file's header: the column of each name (compared case-insensitively, trimmed).
#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    pub fn new(fields: &[String]) -> Header {
        // A spreadsheet's UTF-8 export may start with a byte-order mark.
        Header { names: fields.iter().map(|f| f.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect() }
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The value of column `name` in `row`, trimmed; `None` when the column is absent or
    /// the value empty.
    pub fn get<'r>(&self, row: &'r [String], name: &str) -> Option<&'r str> {
        let value = row.get(self.column(name)?)?.trim();
        (!value.is_empty()).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_plain_fields() {
        let f = |line: &str| fields(line, ',');
        assert_eq!(f("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(f(r#""a, b","say ""hi""",3"#).unwrap(), ["a, b", "say \"hi\"", "3"]);
        assert_eq!(f(r#"1, "x" ,2"#).unwrap(), ["1", "x", "2"]);
        assert_eq!(f("").unwrap(), [""]);
        assert_eq!(f("a,b\r").unwrap(), ["a", "b"]);
        assert_eq!(f(r#""open,1"#).unwrap_err(), "a quoted field is not closed (field 1)");
        assert_eq!(f(r#""a"b,1"#).unwrap_err(), "'b' after the closing quote of field 1");
        assert_eq!(f(r#"a"b,1"#).unwrap_err(), "a quote inside unquoted field 1");
        assert_eq!(fields("a;b", ';').unwrap(), ["a", "b"]);
        let header = Header::new(&fields("\u{feff}id,Name", ',').unwrap());
        assert_eq!((header.column("id"), header.column("name")), (Some(0), Some(1)));
    }
}
