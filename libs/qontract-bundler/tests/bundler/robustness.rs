//! Property test of the loader: arbitrary and mutated input never panics, and every failure
//! is a YAML error (never a crash). Deterministic pseudo-random cases (xorshift), so a failure
//! is reproducible from its case number.

use qontract_bundler::yaml11;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Real datafiles of the sample app-interface as seeds.
fn seeds() -> Vec<String> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/sample-app-interface/data");
    let mut out = Vec::new();
    let mut stack = vec![data];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
    }
    out.sort();
    assert!(out.len() > 10, "sample data not found");
    out
}

const FRAGMENTS: &[&str] = &[
    ":",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "? ",
    "|\n",
    ">-\n",
    "'",
    "\"",
    "\\u",
    "0o17",
    "0x1F",
    "0755",
    "1:30",
    "1e9",
    ".inf",
    "~",
    "yes",
    "2026-11-28",
    "\t",
    "\n  ",
    "<<: *a\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "#",
    "\u{feff}",
    "\u{0}",
    "é",
    "😀",
];

fn mutate(rng: &mut XorShift, text: &str) -> String {
    let mut bytes: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if !bytes.is_empty() => {
                let end = (at + rng.below(20)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            1 => {
                let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                for (i, c) in frag.chars().enumerate() {
                    bytes.insert((at + i).min(bytes.len()), c);
                }
            }
            2 => bytes.truncate(at),
            _ => {
                if at < bytes.len() {
                    bytes[at] = char::from_u32(rng.below(0x80) as u32).unwrap_or(' ');
                }
            }
        }
    }
    bytes.into_iter().collect()
}

#[test]
fn loader_never_panics_on_mutated_datafiles() {
    let seeds = seeds();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0;
    for case in 0..3000 {
        let seed = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        let result = std::panic::catch_unwind(|| yaml11::load(&input).map(|_| ()));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                errors += 1;
                assert!(
                    !e.to_string().is_empty(),
                    "case {case}: empty error message"
                );
            }
            Err(_) => panic!("case {case}: the loader panicked on:\n{input}"),
        }
    }
    // The mutations must actually produce invalid documents, or this test proves nothing.
    assert!(
        errors > 100,
        "only {errors} of 3000 mutated documents were rejected"
    );
}

#[test]
fn loader_never_panics_on_random_bytes() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for case in 0..3000 {
        let len = rng.below(200);
        let input: String = (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    FRAGMENTS[rng.below(FRAGMENTS.len())].to_owned()
                } else {
                    char::from_u32(rng.below(0x250) as u32)
                        .unwrap_or('x')
                        .to_string()
                }
            })
            .collect();
        if std::panic::catch_unwind(|| yaml11::load(&input).map(|_| ())).is_err() {
            panic!("case {case}: the loader panicked on {input:?}");
        }
    }
}
