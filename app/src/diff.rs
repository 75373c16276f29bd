//! A line diff of two texts, for comparing a key's versions: the longest common subsequence of
//! their lines after the common head and tail are set aside. The middle's table is bounded
//! ([`MAX_CELLS`]): two texts whose differing middles are larger than that are not compared
//! line by line (the caller shows both instead), so no value can make the browser build a table
//! of gigabytes.

/// Largest lines-by-lines table built (4 bytes a cell: 4 MB).
pub const MAX_CELLS: usize = 1_000_000;

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// The lines of `old` and `new` as kept, removed and added, in order; `None` when the parts that
/// differ are too large to compare ([`MAX_CELLS`]).
pub fn line_diff(old: &str, new: &str) -> Option<Vec<DiffLine>> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..].iter().rev().zip(b[head..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (mid_a, mid_b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let cells = (mid_a.len() + 1).checked_mul(mid_b.len() + 1)?;
    if cells > MAX_CELLS {
        return None;
    }
    let mut out: Vec<DiffLine> = a[..head].iter().map(|l| DiffLine::Same((*l).to_owned())).collect();
    out.extend(middle(mid_a, mid_b));
    out.extend(a[a.len() - tail..].iter().map(|l| DiffLine::Same((*l).to_owned())));
    Some(out)
}

/// The diff of two runs of lines by their longest common subsequence.
fn middle(a: &[&str], b: &[&str]) -> Vec<DiffLine> {
    let width = b.len() + 1;
    // lcs[i * width + j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len() + b.len()));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_owned()));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            out.push(DiffLine::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::DiffLine::{Added, Removed, Same};
    use super::*;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn a_changed_line_is_removed_then_added_between_kept_lines() {
        let diff = line_diff("a\nb\nc\nd", "a\nB\nc\nd\ne").unwrap();
        assert_eq!(diff, [Same(s("a")), Removed(s("b")), Added(s("B")), Same(s("c")), Same(s("d")), Added(s("e"))]);
    }

    #[test]
    fn equal_and_empty_texts() {
        assert_eq!(line_diff("x\ny", "x\ny").unwrap(), [Same(s("x")), Same(s("y"))]);
        assert_eq!(line_diff("", "").unwrap(), []);
        assert_eq!(line_diff("", "n").unwrap(), [Added(s("n"))]);
        assert_eq!(line_diff("o", "").unwrap(), [Removed(s("o"))]);
    }

    #[test]
    fn the_diff_replays_old_into_new() {
        let old = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}";
        let new = "{\n  \"a\": 1,\n  \"c\": 4,\n  \"d\": 5\n}";
        let diff = line_diff(old, new).unwrap();
        let kept_old: Vec<&str> =
            diff.iter().filter_map(|l| if let Same(t) | Removed(t) = l { Some(t.as_str()) } else { None }).collect();
        let kept_new: Vec<&str> =
            diff.iter().filter_map(|l| if let Same(t) | Added(t) = l { Some(t.as_str()) } else { None }).collect();
        assert_eq!((kept_old.join("\n"), kept_new.join("\n")), (old.to_owned(), new.to_owned()));
        assert_eq!(diff.iter().filter(|l| matches!(l, Same(_))).count(), 3, "{diff:?}");
    }

    #[test]
    fn middles_too_large_are_not_compared_but_large_equal_heads_are() {
        let old: String = (0..2000).map(|i| format!("o{i}\n")).collect();
        let new: String = (0..2000).map(|i| format!("n{i}\n")).collect();
        assert_eq!(line_diff(&old, &new), None);
        let same: String = (0..100_000).map(|i| format!("l{i}\n")).collect();
        let diff = line_diff(&same, &format!("{same}end")).unwrap();
        assert_eq!((diff.len(), diff.last()), (100_001, Some(&Added(s("end")))));
    }
}
