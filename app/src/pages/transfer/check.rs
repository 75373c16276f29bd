//! The browser's check of an import file before it is uploaded.

/// What the browser makes of a file before it is uploaded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportCheck {
    /// "JSON" or "NDJSON".
    pub format: &'static str,
    /// Items read (of the part read, for a large file).
    pub items: usize,
    /// The first five items: name and the start of the value.
    pub preview: Vec<(String, String)>,
    /// What is wrong, item by item (the first twenty).
    pub problems: Vec<String>,
    /// Only the start of the file was checked.
    pub partial: bool,
}

const MAX_PROBLEMS: usize = 20;

/// Checks an import file's text the way the server will: JSON (an array) when it starts with
/// `[`, NDJSON otherwise; each item an object with a `name` (or `key`) and a `value` (or
/// `value_base64`). `complete` is false when `text` is only the start of the file.
pub fn check_import(text: &str, complete: bool) -> ImportCheck {
    let mut check = ImportCheck { partial: !complete, ..Default::default() };
    let item = |check: &mut ImportCheck, where_: String, value: &serde_json::Value| {
        check.items += 1;
        let problem = match value {
            serde_json::Value::Object(map) => {
                let name = map.get("name").or_else(|| map.get("key"));
                match name {
                    None => Some("missing \"name\" (or \"key\")".to_owned()),
                    Some(n) if !n.is_string() => Some("\"name\" is not a string".to_owned()),
                    Some(n) if !map.contains_key("value") && !map.contains_key("value_base64") => {
                        Some(format!("{}: missing \"value\" (or \"value_base64\")", n.as_str().unwrap_or_default()))
                    }
                    Some(n) => {
                        if check.preview.len() < 5 {
                            let value = match map.get("value").or_else(|| map.get("value_base64")) {
                                Some(serde_json::Value::String(s)) => s.clone(),
                                Some(other) => other.to_string(),
                                None => String::new(),
                            };
                            let short: String = value.chars().take(60).collect();
                            let short = if short.len() < value.len() { format!("{short}…") } else { short };
                            check.preview.push((n.as_str().unwrap_or_default().to_owned(), short));
                        }
                        None
                    }
                }
            }
            _ => Some("not a JSON object".to_owned()),
        };
        if let Some(problem) = problem
            && check.problems.len() < MAX_PROBLEMS
        {
            check.problems.push(format!("{where_}: {problem}"));
        }
    };
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        check.format = "JSON";
        if !complete {
            return check;
        }
        match serde_json::from_str::<Vec<serde_json::Value>>(trimmed) {
            Ok(items) => {
                for (i, value) in items.iter().enumerate() {
                    item(&mut check, format!("item {}", i + 1), value);
                }
            }
            Err(err) => check.problems.push(format!("not valid JSON: {err}")),
        }
    } else {
        check.format = "NDJSON";
        let mut lines: Vec<&str> = text.lines().collect();
        if !complete {
            // The last line may be cut short.
            lines.pop();
        }
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(value) => item(&mut check, format!("line {}", i + 1), &value),
                Err(err) => {
                    check.items += 1;
                    if check.problems.len() < MAX_PROBLEMS {
                        check.problems.push(format!("line {}: not valid JSON: {err}", i + 1));
                    }
                }
            }
        }
        if check.items == 0 && check.problems.is_empty() {
            check.problems.push("the file holds no items".to_owned());
        }
    }
    check
}

#[cfg(test)]
mod tests {
    use super::check_import;

    #[test]
    fn ndjson_is_previewed_and_checked_line_by_line() {
        let text = "{\"name\":\"a\",\"value\":\"1\"}\n{\"key\":\"b\",\"value\":\"2\"}\nnope\n{\"value\":\"x\"}\n{\"name\":\"c\"}\n";
        let check = check_import(text, true);
        assert_eq!(check.format, "NDJSON");
        assert_eq!(check.items, 5);
        assert_eq!(check.preview, vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(check.problems.len(), 3);
        assert!(check.problems[0].starts_with("line 3: not valid JSON"));
        assert_eq!(check.problems[1], "line 4: missing \"name\" (or \"key\")");
        assert_eq!(check.problems[2], "line 5: c: missing \"value\" (or \"value_base64\")");
    }

    #[test]
    fn json_arrays_and_cut_files() {
        let check = check_import("[{\"name\":\"a\",\"value_base64\":\"AA==\"}, 3]", true);
        assert_eq!(check.format, "JSON");
        assert_eq!(check.problems, vec!["item 2: not a JSON object".to_owned()]);
        assert!(!check_import("[1, 2", true).problems.is_empty());
        // A cut NDJSON file drops its last, partial line.
        let check = check_import("{\"name\":\"a\",\"value\":\"1\"}\n{\"name\":\"b\",\"va", false);
        assert!(check.problems.is_empty() && check.partial);
        assert_eq!(check.items, 1);
    }
}
