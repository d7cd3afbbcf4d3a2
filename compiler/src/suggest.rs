//! "Did you mean" suggestions: known names close to an unknown one, by edit distance.
//!
//! The distance is the optimal string alignment distance over characters: insertions,
//! deletions, substitutions and swaps of two adjacent characters each count one, so
//! `nmae` is one edit from `name`.

/// At most this many names are suggested.
pub const MAX_SUGGESTIONS: usize = 3;

/// Names longer than this (in characters) get no suggestions, so that comparing
/// user-controlled identifiers stays cheap (edit distance is quadratic).
pub const MAX_NAME_CHARS: usize = 256;

/// The largest edit distance still worth suggesting for a name of `len` characters:
/// one edit per three characters, at least one.
fn max_distance(len: usize) -> usize {
    len.max(3) / 3
}

/// The candidates closest to `name`, at most
/// [`MAX_SUGGESTIONS`], ordered by distance and then by name. A candidate equal to
/// `name` is not a suggestion; duplicates are returned once.
pub fn similar<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Vec::new();
    }
    let limit = max_distance(len);
    let mut found: Vec<(usize, &'a str)> = candidates
        .into_iter()
        .filter(|c| c.len() <= MAX_NAME_CHARS * 4 && *c != name)
        .filter_map(|c| {
            let c_len = c.chars().count();
            // The length difference is a lower bound of the distance.
            if c_len > MAX_NAME_CHARS || c_len.abs_diff(len) > limit {
                return None;
            }
            let d = strsim::osa_distance(name, c);
            (d <= limit).then_some((d, c))
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    found.into_iter().take(MAX_SUGGESTIONS).map(|(_, c)| c).collect()
}

/// A hint for an unknown `name`: "did you mean `x`?" or "did you mean one of `x`,
/// `y`?", or `None` when nothing is close.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let found = similar(name, candidates);
    match found.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => {
            let list: Vec<String> = many.iter().map(|c| format!("`{c}`")).collect();
            Some(format!("did you mean one of {}?", list.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_first_then_by_name() {
        let names = ["greeting", "greet", "great", "grease", "get", "other", "greet"];
        assert_eq!(similar("gret", names), ["get", "great", "greet"]);
        assert_eq!(similar("greet", names), ["great"]);
        assert_eq!(similar("greting", names), ["greeting"]);
        assert_eq!(similar("zzzzzz", names), Vec::<&str>::new());
        assert_eq!(similar("x", ["y", "xy", "ab"]), ["xy", "y"]);
        assert_eq!(similar("nmae", ["name", "nam", "mane"]), ["name"]);
    }

    #[test]
    fn hint_text() {
        assert_eq!(did_you_mean("nmae", ["name", "other"]).as_deref(), Some("did you mean `name`?"));
        assert_eq!(did_you_mean("ab", ["ac", "xb"]).as_deref(), Some("did you mean one of `ac`, `xb`?"));
        assert_eq!(did_you_mean("abc", ["xyz"]), None);
        assert_eq!(did_you_mean("abc", []), None);
    }

    #[test]
    fn multibyte_and_long_names() {
        assert_eq!(similar("naïve", ["naive"]), ["naive"]);
        let long = "a".repeat(MAX_NAME_CHARS + 1);
        assert!(similar(&long, [long.as_str()]).is_empty());
    }
}
