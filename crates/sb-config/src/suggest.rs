//! "Did you mean" suggestions for misspelt names.
//!
//! Unknown fields, references, channels and time zones are compared with the names that would
//! have been accepted, by edit distance (insertions, deletions, substitutions and swaps of two
//! neighbours, ignoring case). A suggestion is only made when it is close enough to be a typo.

/// The suffix ` (did you mean "x"?)` for the closest candidate, or an empty string.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match closest(word, candidates) {
        Some(best) => format!(" (did you mean {best:?}?)"),
        None => String::new(),
    }
}

/// The candidate closest to `word`, if it is within a third of the word's length (at least one
/// edit). Ties go to the earliest candidate.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let d = distance(word, candidate);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance between `a` and `b`, ignoring ASCII case.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Rows i-2, i-1 and i of the dynamic programming table.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases = [
            ("billing", "billing", 0),
            ("billng", "billing", 1),
            ("Billing", "billing", 0),
            ("biling", "billing", 1),
            ("blling", "billing", 1),
            ("bililng", "billing", 1),
            ("ibllng", "billing", 2),
            ("", "abc", 3),
            ("sales", "support", 6),
        ];
        for (a, b, expect) in cases {
            assert_eq!(distance(a, b), expect, "{a} -> {b}");
        }
    }

    #[test]
    fn suggestions() {
        let names = ["billing", "sales", "support", "spanish", "voice"];
        let cases = [
            ("billng", " (did you mean \"billing\"?)"),
            ("Sales", " (did you mean \"sales\"?)"),
            ("suport", " (did you mean \"support\"?)"),
            ("spansih", " (did you mean \"spanish\"?)"),
            ("fax", ""),
            ("v", ""),
            ("german", ""),
        ];
        for (word, expect) in cases {
            assert_eq!(did_you_mean(word, names), expect, "{word}");
        }
    }
}
