//! graphql-js "Did you mean ...?" suggestions (`suggestionList` + `didYouMean`).

/// Options within the lexical-distance threshold of `input`, closest first.
pub(crate) fn suggestion_list<'o>(input: &str, options: &[&'o str]) -> Vec<&'o str> {
    let threshold = input.chars().count() * 4 / 10 + 1;
    let mut scored: Vec<(usize, &str)> = options
        .iter()
        .filter_map(|o| distance(input, o, threshold).map(|d| (d, *o)))
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().map(|(_, o)| o).collect()
}

/// Damerau-Levenshtein (optimal string alignment) distance, case-insensitive tie at 1.
fn distance(input: &str, option: &str, threshold: usize) -> Option<usize> {
    if input == option {
        return Some(0);
    }
    let input_lower = input.to_lowercase();
    let option_lower = option.to_lowercase();
    if input_lower == option_lower {
        return Some(1);
    }
    let mut a: Vec<char> = option_lower.chars().collect();
    let mut b: Vec<char> = input_lower.chars().collect();
    if a.len() < b.len() {
        std::mem::swap(&mut a, &mut b);
    }
    if a.len() - b.len() > threshold {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let mut rows = vec![vec![0usize; m + 1]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        let mut smallest = i;
        rows[i % 3][0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut cell = (rows[(i - 1) % 3][j] + 1)
                .min(rows[i % 3][j - 1] + 1)
                .min(rows[(i - 1) % 3][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cell = cell.min(rows[(i - 2) % 3][j - 2] + 1);
            }
            smallest = smallest.min(cell);
            rows[i % 3][j] = cell;
        }
        if smallest > threshold {
            return None;
        }
    }
    let d = rows[n % 3][m];
    (d <= threshold).then_some(d)
}

/// `" Did you mean \"a\", \"b\", or \"c\"?"` (at most five), or `""`.
pub(crate) fn did_you_mean(suggestions: &[&str]) -> String {
    did_you_mean_with(None, suggestions)
}

/// [`did_you_mean`] with a sub-message (`to use an inline fragment on`).
pub(crate) fn did_you_mean_with(sub: Option<&str>, suggestions: &[&str]) -> String {
    let selected: Vec<String> = suggestions
        .iter()
        .take(5)
        .map(|s| format!("\"{s}\""))
        .collect();
    let lead = match sub {
        Some(sub) => format!(" Did you mean {sub} "),
        None => " Did you mean ".to_owned(),
    };
    match selected.as_slice() {
        [] => String::new(),
        [one] => format!("{lead}{one}?"),
        [a, b] => format!("{lead}{a} or {b}?"),
        [init @ .., last] => format!("{lead}{}, or {last}?", init.join(", ")),
    }
}
