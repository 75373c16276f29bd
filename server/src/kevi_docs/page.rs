//! `GET /docs`: the OpenAPI document rendered as one HTML page, every path and method with its
//! parameters, body and responses, then the schemas. Inline CSS, no script.

use std::fmt::Write as _;

use axum::http::StatusCode;
use serde_json::Value;

use super::OPENAPI_PATH;

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}

const METHOD_ORDER: [&str; 8] = ["get", "head", "post", "put", "patch", "delete", "options", "trace"];

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #fff; --fg: #1d2330; --muted: #5c6677; --line: #d9dee7;
  --panel: #f5f7fa; --code: #eef1f5; --accent: #2f5fd0;
  --get: #1f7a4d; --post: #2f5fd0; --put: #8a5a00; --delete: #b3261e; --options: #5b4bb7; --patch: #6b6b6b; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e4e7ec; --muted: #9aa3b2; --line: #2d333d; --panel: #1b1f26; --code: #232832;
    --accent: #8fb0ff; --get: #5ccf94; --post: #8fb0ff; --put: #e6b450; --delete: #ff8a80; --options: #b4a7ff;
    --patch: #b0b0b0; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.layout { display: grid; grid-template-columns: 270px minmax(0, 1fr); max-width: 1300px; margin: 0 auto; }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; padding: 24px 16px;
  border-right: 1px solid var(--line); font-size: 14px; }
nav h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 18px 0 6px; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: 3px 0; }
nav a { color: var(--fg); text-decoration: none; display: flex; gap: 6px; align-items: baseline; }
nav a:hover { color: var(--accent); }
main { padding: 24px 40px 80px; min-width: 0; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2.group { margin-top: 48px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--code); padding: 1px 5px; border-radius: 4px; }
pre { background: var(--code); padding: 10px 12px; border-radius: 6px; overflow-x: auto; margin: 6px 0 12px; }
pre code { background: none; padding: 0; }
.meta { color: var(--muted); margin: 0 0 20px; }
.op { border: 1px solid var(--line); border-radius: 8px; margin: 22px 0; background: var(--panel); }
.op > header { padding: 12px 16px; border-bottom: 1px solid var(--line); }
.op > header h3 { margin: 0; font-size: 18px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.op > header p { margin: 4px 0 0; color: var(--muted); }
.op .body { padding: 4px 16px 12px; background: var(--bg); border-radius: 0 0 8px 8px; }
.op h4 { margin: 16px 0 6px; font-size: 14px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.method { display: inline-block; min-width: 64px; text-align: center; padding: 2px 8px; border-radius: 4px;
  color: #fff; font: 700 12px/1.6 ui-monospace, Menlo, Consolas, monospace; text-transform: uppercase; }
nav .method { min-width: 52px; font-size: 10px; padding: 0 4px; }
.m-get { background: var(--get); } .m-post { background: var(--post); } .m-put { background: var(--put); }
.m-delete { background: var(--delete); } .m-options { background: var(--options); }
.m-patch, .m-head, .m-trace { background: var(--patch); }
@media (prefers-color-scheme: dark) { .method { color: #111; } }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.req { color: var(--delete); font-size: 12px; }
.status { margin: 10px 0; padding: 8px 12px; border-left: 4px solid var(--line); background: var(--panel); border-radius: 0 6px 6px 0; }
.status h5 { margin: 0 0 4px; font-size: 15px; }
.status p { margin: 2px 0 6px; }
.s2 { border-left-color: var(--get); } .s4 { border-left-color: var(--put); } .s5 { border-left-color: var(--delete); }
.example-name { font-size: 13px; color: var(--muted); margin: 8px 0 0; }
.auth { font-size: 14px; }
@media (max-width: 860px) { .layout { display: block; } nav { position: static; max-height: none; border-right: 0;
  border-bottom: 1px solid var(--line); } main { padding: 16px; } }
"#;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Inline markup of a description: escaped, `code` and **bold**.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{piece}</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

/// A description's blocks: paragraphs (blank lines between) and lists (lines starting with `- `).
fn blocks(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let first_item = lines.iter().position(|l| l.starts_with("- "));
        let (lead, items) = lines.split_at(first_item.unwrap_or(lines.len()));
        if !lead.is_empty() {
            let _ = write!(out, "<p>{}</p>", inline(&lead.join(" ")));
        }
        if !items.is_empty() {
            out.push_str("<ul>");
            let mut current = String::new();
            for line in items {
                if let Some(item) = line.strip_prefix("- ") {
                    if !current.is_empty() {
                        let _ = write!(out, "<li>{}</li>", inline(&current));
                    }
                    current = item.to_owned();
                } else {
                    current.push(' ');
                    current.push_str(line);
                }
            }
            let _ = write!(out, "<li>{}</li></ul>", inline(&current));
        }
    }
    out
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// A schema in a few words, HTML: `string`, `integer (1–1000, default 100)`, a link to a named one.
fn type_label(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(value) = schema.get("const") {
        return format!("<code>{}</code>", escape(&value.to_string()));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return options.iter().map(type_label).collect::<Vec<_>>().join(" or ");
        }
    }
    let mut label = match schema.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!("array of {}", schema.get("items").map(type_label).unwrap_or_else(|| "any".into()))
        }
        Some(Value::String(t)) => escape(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "),
        _ => "any JSON".into(),
    };
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| format!("<code>{}</code>", escape(&v.to_string()))).collect();
        let _ = write!(label, ": {}", values.join(", "));
    }
    let mut notes = Vec::new();
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        notes.push(escape(format));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => notes.push(format!("{min}–{max}")),
        (Some(min), None) => notes.push(format!("≥ {min}")),
        (None, Some(max)) => notes.push(format!("≤ {max}")),
        (None, None) => {}
    }
    match schema.get("minLength").and_then(Value::as_u64) {
        Some(1) => notes.push("not empty".to_owned()),
        Some(min) => notes.push(format!("at least {min} characters")),
        None => {}
    }
    if let Some(default) = schema.get("default") {
        notes.push(format!("default {}", escape(&default.to_string())));
    }
    if !notes.is_empty() {
        let _ = write!(label, " ({})", notes.join(", "));
    }
    label
}

fn pretty(value: &Value) -> String {
    escape(&serde_json::to_string_pretty(value).unwrap_or_default())
}

fn examples_html(media: &Value) -> String {
    let mut out = String::new();
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        for (name, example) in examples {
            let summary = example.get("summary").and_then(Value::as_str).unwrap_or(name);
            let _ = write!(
                out,
                "<p class=\"example-name\">Example: {}</p><pre><code>{}</code></pre>",
                escape(summary),
                pretty(&example["value"])
            );
        }
    }
    if let Some(example) = media.get("example") {
        let _ = write!(out, "<p class=\"example-name\">Example</p><pre><code>{}</code></pre>", pretty(example));
    }
    out
}

fn operation_html(doc: &Value, path: &str, method: &str, op: &Value) -> String {
    let mut out = String::new();
    let id = str_of(op, "operationId");
    let _ = write!(
        out,
        "<section class=\"op\" id=\"op-{id}\"><header><h3><span class=\"method m-{method}\">{method}</span>\
         <code>{path}</code></h3><p>{summary}</p></header><div class=\"body\">",
        id = escape(id),
        method = escape(method),
        path = escape(path),
        summary = inline(str_of(op, "summary")),
    );
    out.push_str(&blocks(str_of(op, "description")));
    let security = op.get("security").or_else(|| doc.get("security")).and_then(Value::as_array);
    let auth = match security {
        Some(options) if !options.is_empty() => {
            let schemes = &doc["components"]["securitySchemes"];
            let options: Vec<String> = options
                .iter()
                .filter_map(Value::as_object)
                .map(|option| {
                    // `KeviToken` before `KeviService`.
                    option
                        .keys()
                        .rev()
                        .map(|k| format!("<code>{}</code>", escape(str_of(&schemes[k], "name"))))
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .collect();
            format!("Authentication: {}.", options.join(" or "))
        }
        _ => "Authentication: none.".to_owned(),
    };
    let _ = write!(out, "<p class=\"auth\">{auth}</p>");
    if let Some(parameters) = op.get("parameters").and_then(Value::as_array).filter(|p| !p.is_empty()) {
        out.push_str(
            "<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>\
             </thead><tbody>",
        );
        for p in parameters {
            let required =
                if p["required"].as_bool().unwrap_or(false) { " <span class=\"req\">required</span>" } else { "" };
            let example = p.get("example").map(|e| format!(" Example: <code>{}</code>.", escape(&e.to_string())));
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                escape(str_of(p, "name")),
                escape(str_of(p, "in")),
                type_label(&p["schema"]),
                inline(str_of(p, "description")),
                example.unwrap_or_default(),
            );
        }
        out.push_str("</tbody></table>");
    }
    if let Some(body) = op.get("requestBody") {
        out.push_str("<h4>Request body</h4>");
        let _ = write!(out, "<p>{}</p>", inline(str_of(body, "description")));
        if let Some(content) = body.get("content").and_then(Value::as_object) {
            for (media_type, media) in content {
                let _ = write!(
                    out,
                    "<p><code>{}</code>{}: {}</p>",
                    escape(media_type),
                    if body["required"].as_bool().unwrap_or(false) { " (required)" } else { "" },
                    type_label(&media["schema"])
                );
                out.push_str(&schema_table(doc, &media["schema"]));
                out.push_str(&examples_html(media));
            }
        }
    }
    out.push_str("<h4>Responses</h4>");
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        let mut statuses: Vec<(&String, &Value)> = responses.iter().collect();
        statuses.sort_by_key(|(status, _)| status.parse::<u16>().unwrap_or(u16::MAX));
        for (status, response) in statuses {
            let code = status.parse::<u16>().unwrap_or(0);
            let _ = write!(
                out,
                "<div class=\"status s{}\" id=\"op-{}-{}\"><h5>{} {}</h5>{}",
                code / 100,
                escape(id),
                escape(status),
                escape(status),
                reason(code),
                blocks(str_of(response, "description")),
            );
            if let Some(headers) = response.get("headers").and_then(Value::as_object) {
                out.push_str("<table><thead><tr><th>Header</th><th>Description</th></tr></thead><tbody>");
                for (name, h) in headers {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td></tr>",
                        escape(name),
                        inline(str_of(h, "description"))
                    );
                }
                out.push_str("</tbody></table>");
            }
            if let Some(content) = response.get("content").and_then(Value::as_object) {
                for (media_type, media) in content {
                    let _ = write!(
                        out,
                        "<p>Body (<code>{}</code>): {}</p>",
                        escape(media_type),
                        type_label(&media["schema"])
                    );
                    out.push_str(&examples_html(media));
                }
            } else {
                out.push_str("<p>No body.</p>");
            }
            out.push_str("</div>");
        }
    }
    out.push_str("</div></section>");
    out
}

/// The properties of an object schema (followed through `$ref`) as a table.
fn schema_table(doc: &Value, schema: &Value) -> String {
    let schema = match ref_name(schema) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    };
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return String::new() };
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = String::from("<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>");
    for (name, property) in properties {
        let mark = if required.contains(&name.as_str()) { " <span class=\"req\">required</span>" } else { "" };
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            type_label(property),
            inline(str_of(property, "description"))
        );
    }
    out.push_str("</tbody></table>");
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push_str("<p>No other fields are accepted.</p>");
    }
    out
}

/// Operations of a tag, in path order and a fixed method order.
fn tagged<'a>(doc: &'a Value, tag: &str) -> Vec<(&'a str, &'static str, &'a Value)> {
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else { return out };
    let mut names: Vec<&String> = paths.keys().collect();
    names.sort();
    for path in names {
        for method in METHOD_ORDER {
            if let Some(op) = paths[path.as_str()].get(method)
                && op["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == tag))
            {
                out.push((path.as_str(), method, op));
            }
        }
    }
    out
}

/// The page: every path and method with its parameters, body and responses, then the schemas.
pub fn render_html(doc: &Value) -> String {
    let title = str_of(&doc["info"], "title");
    let tags: Vec<(&str, &str)> =
        doc["tags"].as_array().into_iter().flatten().map(|t| (str_of(t, "name"), str_of(t, "description"))).collect();
    let mut nav = String::new();
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>{}</h1><p class=\"meta\">Version {} · OpenAPI {} · <a href=\"{OPENAPI_PATH}\">openapi.json</a></p>",
        escape(title),
        escape(str_of(&doc["info"], "version")),
        escape(str_of(doc, "openapi")),
    );
    main.push_str(&blocks(str_of(&doc["info"], "description")));
    nav.push_str("<h2>Overview</h2><ul><li><a href=\"#authentication\">Authentication</a></li></ul>");
    main.push_str(
        "<h2 class=\"group\" id=\"authentication\">Authentication</h2><table><thead><tr><th>Header</th>\
                   <th>Scheme</th><th>Description</th></tr></thead><tbody>",
    );
    if let Some(schemes) = doc["components"]["securitySchemes"].as_object() {
        for (name, scheme) in schemes {
            let _ = write!(
                main,
                "<tr><td><code>{}</code></td><td>{} ({}, in {})</td><td>{}</td></tr>",
                escape(str_of(scheme, "name")),
                escape(name),
                escape(str_of(scheme, "type")),
                escape(str_of(scheme, "in")),
                inline(str_of(scheme, "description")),
            );
        }
    }
    main.push_str("</tbody></table>");
    for (tag, description) in &tags {
        let ops = tagged(doc, tag);
        if ops.is_empty() {
            continue;
        }
        let _ = write!(nav, "<h2>{}</h2><ul>", escape(tag));
        let _ = write!(main, "<h2 class=\"group\" id=\"tag-{0}\">{0}</h2><p>{1}</p>", escape(tag), inline(description));
        for (path, method, op) in ops {
            let _ = write!(
                nav,
                "<li><a href=\"#op-{}\"><span class=\"method m-{method}\">{method}</span><code>{}</code></a></li>",
                escape(str_of(op, "operationId")),
                escape(path),
            );
            main.push_str(&operation_html(doc, path, method, op));
        }
        nav.push_str("</ul>");
    }
    nav.push_str("<h2>Schemas</h2><ul>");
    main.push_str("<h2 class=\"group\" id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(nav, "<li><a href=\"#schema-{0}\">{0}</a></li>", escape(name));
            let _ = write!(
                main,
                "<section class=\"op\" id=\"schema-{0}\"><header><h3>{0}</h3><p>{1}</p></header><div class=\"body\">",
                escape(name),
                inline(str_of(schema, "description")),
            );
            main.push_str(&schema_table(doc, schema));
            main.push_str("</div></section>");
        }
    }
    nav.push_str("</ul>");
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\
         <div class=\"layout\"><nav>{nav}</nav><main>{main}</main></div></body></html>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_and_has_no_script() {
        let html = render_html(&super::super::document());
        assert!(!html.contains("<script"));
        assert!(html.contains("<code>/v1/kv/{key}</code>"));
        assert_eq!(inline("a `<b>` **c**"), "a <code>&lt;b&gt;</code> <strong>c</strong>");
    }
}
