//! The pipeline file's documentation, generated from its types so it cannot drift: the JSON
//! Schema `cex schema` prints (schemars over the `Raw*` types, their doc comments becoming the
//! descriptions) and `docs/pipeline.md` (`cex schema --markdown`), rendered from that schema.
//! This module owns both renderings and [`unknown_keys`], the walk that checks a file's keys
//! against the schema; what each key means is written once, on its field in `raw.rs`, `kpi.rs`
//! and `report.rs`.

use std::fmt::Write as _;

use schemars::generate::SchemaSettings;
use serde::de::{self, Deserialize, Visitor};
use serde_json::Value;

use super::customers::{RawCustomerColumns, RawCustomers};
use super::kpi::{RawChannelShift, RawKpi, RawUnitCost};
use super::raw::{
    RawColumns, RawDemographic, RawEquality, RawPipeline, RawQuality, RawScale, RawScaleLevel,
    RawService, RawSource, RawYesNo,
};
use super::report::RawReport;

/// The JSON Schema (draft 7, which editors' TOML plugins read) of a pipeline file. TOML has no
/// null, so the `null` schemars gives optional keys is taken out.
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut value = generator.into_root_schema_for::<RawPipeline>().to_value();
    tidy(&mut value);
    value
}

/// [`json_schema`] as pretty JSON, ending with a newline.
pub fn json_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Removes `null` from a generated schema: from `type` lists, `anyOf` alternatives and
/// `default`s (example and enum values are left as they are); a `$ref` with siblings goes into
/// an `allOf`, as draft 7 needs.
fn tidy(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(tidy),
        Value::Object(obj) => {
            for (key, v) in obj.iter_mut() {
                if !matches!(key.as_str(), "examples" | "default" | "enum" | "const") {
                    tidy(v);
                }
            }
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    obj.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
                any.retain(|s| s.get("type").and_then(Value::as_str) != Some("null"));
                if any.len() == 1 {
                    if let Some(Value::Object(only)) = any.pop() {
                        obj.remove("anyOf");
                        for (k, v) in only {
                            obj.entry(k).or_insert(v);
                        }
                    }
                }
            }
            if obj.get("default") == Some(&Value::Null) {
                obj.remove("default");
            }
            // Draft 7 ignores the siblings of a `$ref` (the description): wrap it in `allOf`.
            if obj.len() > 1 {
                if let Some(reference) = obj.remove("$ref") {
                    let one = serde_json::json!({ "$ref": reference });
                    obj.insert("allOf".into(), Value::Array(vec![one]));
                }
            }
        }
        _ => {}
    }
}

/// The definition a schema stands for: itself, or what its `$ref` (alone or as the one `allOf`)
/// points to.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let reference = schema.get("$ref").or_else(|| match schema.get("allOf") {
        Some(Value::Array(all)) if all.len() == 1 => all[0].get("$ref"),
        _ => None,
    });
    match reference.and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|path| {
                path.split('/')
                    .try_fold(root, |v, part| v.get(part))
                    .unwrap_or(schema)
            })
            .unwrap_or(schema),
        None => schema,
    }
}

/// How a key's value is a TOML table of its own (and so a section of the reference).
#[derive(Clone, Copy, PartialEq)]
enum Nesting {
    /// `[path]`
    Table,
    /// `[[path]]`
    ArrayOfTables,
    /// `[path.<name>]`, one per name.
    MapOfTables,
}

/// The table definition a key's schema holds, and how, when it holds one.
fn nested<'a>(root: &'a Value, schema: &'a Value) -> Option<(&'a Value, Nesting)> {
    let is_table = |s: &Value| s.get("properties").is_some();
    let direct = resolve(root, schema);
    if is_table(direct) {
        return Some((direct, Nesting::Table));
    }
    if let Some(items) = direct.get("items").map(|i| resolve(root, i)) {
        if is_table(items) {
            return Some((items, Nesting::ArrayOfTables));
        }
    }
    match direct.get("additionalProperties").map(|a| resolve(root, a)) {
        Some(values) if is_table(values) => Some((values, Nesting::MapOfTables)),
        _ => None,
    }
}

/// A key's type in words: `string`, `list of strings`, `table of lists of strings`...
fn type_words(root: &Value, schema: &Value) -> String {
    let s = resolve(root, schema);
    if let Some(Value::Array(any)) = s.get("anyOf") {
        let words: Vec<String> = any.iter().map(|a| type_words(root, a)).collect();
        return words.join(" or ");
    }
    let plural = |w: String| match w.as_str() {
        "list of strings" => "lists of strings".to_string(),
        _ if w.starts_with("string") => "strings".to_string(),
        _ if w.starts_with("number") => "numbers".to_string(),
        _ if w.starts_with("integer") => "integers".to_string(),
        _ => format!("{w}s"),
    };
    match s.get("type").and_then(Value::as_str) {
        Some("array") => match s.get("items") {
            Some(items) => format!("list of {}", plural(type_words(root, items))),
            None => "list".into(),
        },
        Some("object") => match s.get("additionalProperties") {
            Some(values) if values.is_object() => {
                format!("table of {}", plural(type_words(root, values)))
            }
            _ => "table".into(),
        },
        Some("integer") if s.get("minimum") == Some(&Value::from(0)) => {
            "integer (0 or more)".into()
        }
        Some(t) => t.to_string(),
        None if s.get("properties").is_some() => "table".into(),
        None => "any".into(),
    }
}

/// `a`, `b` or `c` for an enum's values, in code spans.
fn enum_words(values: &[Value]) -> String {
    let names: Vec<String> = values
        .iter()
        .map(|v| {
            format!(
                "`{}`",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            )
        })
        .collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// A JSON value written as TOML (inline tables and arrays), for example lines.
fn toml_value(value: &Value) -> String {
    match value {
        Value::String(s) => toml::Value::String(s.clone()).to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        Value::Null => "\"\"".into(),
        other => other.to_string(),
    }
}

/// A key as TOML writes it: bare when it can be, quoted otherwise (`"85+"`).
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        toml_value(&Value::String(key.to_string()))
    }
}

/// The order a `Raw*` type declares its keys in (serde's field list), so the reference lists
/// them as a pipeline file is written rather than alphabetically.
fn declared<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Fields(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for &mut Fields {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.unwrap_or(&[])
}

/// Each `Raw*` table's keys in declaration order.
fn key_orders() -> Vec<&'static [&'static str]> {
    vec![
        declared::<RawPipeline>(),
        declared::<RawQuality>(),
        declared::<RawScale>(),
        declared::<RawScaleLevel>(),
        declared::<RawDemographic>(),
        declared::<RawSource>(),
        declared::<RawColumns>(),
        declared::<RawService>(),
        declared::<RawYesNo>(),
        declared::<RawKpi>(),
        declared::<RawChannelShift>(),
        declared::<RawUnitCost>(),
        declared::<RawEquality>(),
        declared::<RawReport>(),
        declared::<RawCustomers>(),
        declared::<RawCustomerColumns>(),
    ]
}

/// A table's keys in declaration order (keys of a type missing from [`key_orders`] follow,
/// alphabetically).
fn ordered_keys<'a>(table: &'a Value, orders: &[&'static [&'static str]]) -> Vec<&'a str> {
    let Some(props) = table.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let order: &[&str] = orders
        .iter()
        .find(|fields| fields.len() == props.len() && fields.iter().all(|f| props.contains_key(*f)))
        .map_or(&[], |fields| fields);
    let mut keys: Vec<&str> = order
        .iter()
        .filter_map(|f| props.get_key_value(*f).map(|(k, _)| k.as_str()))
        .collect();
    keys.extend(
        props
            .keys()
            .map(String::as_str)
            .filter(|k| !order.contains(k)),
    );
    keys
}

/// One section of the reference: a TOML table header and the table's definition.
struct Section<'a> {
    /// `[sources.columns]`, `[[sources]]`, or empty for the top level.
    header: String,
    /// The dotted path its keys are under (`sources.columns`), empty at the top level.
    path: String,
    table: &'a Value,
}

/// The sections under `table` (itself first), depth first in key order.
fn sections<'a>(
    root: &'a Value,
    section: Section<'a>,
    orders: &[&'static [&'static str]],
    out: &mut Vec<Section<'a>>,
) {
    let table = section.table;
    let path = section.path.clone();
    out.push(section);
    for key in ordered_keys(table, orders) {
        let Some(schema) = table.get("properties").and_then(|p| p.get(key)) else {
            continue;
        };
        if let Some((child, nesting)) = nested(root, schema) {
            let dotted = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            let (header, child_path) = match nesting {
                Nesting::Table => (format!("[{dotted}]"), dotted),
                Nesting::ArrayOfTables => (format!("[[{dotted}]]"), dotted),
                Nesting::MapOfTables => {
                    let named = format!("{dotted}.<name>");
                    (format!("[{named}]"), named)
                }
            };
            let child_section = Section {
                header,
                path: child_path,
                table: child,
            };
            sections(root, child_section, orders, out);
        }
    }
}

/// A GitHub heading anchor for a section header.
fn anchor(header: &str) -> String {
    header
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The heading of a section.
fn heading(section: &Section) -> String {
    if section.header.is_empty() {
        "Top level".to_string()
    } else {
        format!("`{}`", section.header)
    }
}

/// `docs/pipeline.md`: every key of a pipeline file, one section per table, each key with its
/// type, whether it is required, its default, its description and an example line.
pub fn markdown() -> String {
    let root = json_schema();
    let orders = key_orders();
    let mut all = Vec::new();
    let top = Section {
        header: String::new(),
        path: String::new(),
        table: &root,
    };
    sections(&root, top, &orders, &mut all);
    let heading_of: Vec<(usize, String)> = all
        .iter()
        .map(|s| (s.table as *const Value as usize, heading(s)))
        .collect();

    let mut out = String::new();
    let _ = writeln!(out, "# Pipeline file reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated by `cex schema --markdown` from the pipeline file's types \
         (src/config/raw.rs, kpi.rs, report.rs): do not edit. After changing a key or its doc \
         comment, run `CEX_BLESS=1 cargo test --release --lib pipeline_doc`. -->\n"
    );
    if let Some(d) = root.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{d}\n");
    }
    let _ = writeln!(
        out,
        "`cex schema` prints the same reference as a JSON Schema, for editors: save it (e.g. \
         `cex schema > cex-schema.json`) and put `#:schema ./cex-schema.json` on the first line \
         of the pipeline file (Even Better TOML, taplo).\n"
    );
    for s in &all {
        let h = heading(s);
        let _ = writeln!(out, "- [{h}](#{})", anchor(&h));
    }
    for s in &all {
        let _ = writeln!(out, "\n## {}\n", heading(s));
        if let Some(d) = s.table.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "{d}\n");
        }
        let required: Vec<&str> = s
            .table
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for key in ordered_keys(s.table, &orders) {
            let Some(schema) = s.table.get("properties").and_then(|p| p.get(key)) else {
                continue;
            };
            key_line(
                &mut out,
                &root,
                key,
                schema,
                required.contains(&key),
                &heading_of,
            );
        }
    }
    out
}

/// One key of a section: `- `key` (type, required or default): description` and its example.
fn key_line(
    out: &mut String,
    root: &Value,
    key: &str,
    schema: &Value,
    required: bool,
    headings: &[(usize, String)],
) {
    let description = schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace('\n', " ");
    if let Some((child, nesting)) = nested(root, schema) {
        let kind = match nesting {
            Nesting::Table => "table",
            Nesting::ArrayOfTables => "list of tables",
            Nesting::MapOfTables => "tables by name",
        };
        let see = headings
            .iter()
            .find(|(ptr, _)| *ptr == child as *const Value as usize)
            .map(|(_, h)| format!(", see [{h}](#{})", anchor(h)))
            .unwrap_or_default();
        let need = if required { ", required" } else { "" };
        let _ = writeln!(out, "- **`{key}`** ({kind}{need}{see}): {description}");
        return;
    }
    let resolved = resolve(root, schema);
    let mut facts = vec![type_words(root, schema)];
    let values = schema.get("enum").or(resolved.get("enum"));
    if let Some(Value::Array(values)) = values {
        facts.push(format!("one of {}", enum_words(values)));
    }
    if let Some(Value::Array(values)) = schema.get("propertyNames").and_then(|p| p.get("enum")) {
        facts.push(format!("keys: {}", enum_words(values)));
    }
    if required {
        facts.push("required".into());
    } else if let Some(default) = schema.get("default") {
        facts.push(format!("default `{}`", toml_value(default)));
    } else {
        facts.push("optional".into());
    }
    let _ = writeln!(out, "- **`{key}`** ({}): {description}", facts.join("; "));
    if let Some(example) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        let _ = writeln!(
            out,
            "  Example: `{} = {}`",
            toml_key(key),
            toml_value(example)
        );
    }
}

/// Every key of `file` (a pipeline file read into JSON) the schema does not know, and every
/// value outside a key's `enum`, each as `path: what`; empty for a file of known keys.
pub fn unknown_keys(file: &Value) -> Vec<String> {
    let root = json_schema();
    let mut out = Vec::new();
    walk(&root, &root, file, "", &mut out);
    out
}

fn walk(root: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let s = resolve(root, schema);
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            let props = s.get("properties").and_then(Value::as_object);
            let values = s.get("additionalProperties").filter(|a| a.is_object());
            let names = s.get("propertyNames").or(schema.get("propertyNames"));
            for (k, v) in map {
                if let Some(Value::Array(allowed)) = names.and_then(|n| n.get("enum")) {
                    if !allowed.iter().any(|a| a == k) {
                        out.push(format!("{}: not one of {}", join(k), enum_words(allowed)));
                    }
                }
                match (props.and_then(|p| p.get(k)), values) {
                    (Some(child), _) | (None, Some(child)) => walk(root, child, v, &join(k), out),
                    (None, None) if props.is_some() => {
                        out.push(format!("{}: unknown key", join(k)))
                    }
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.get("items").or(schema.get("items")) {
                for (i, v) in items.iter().enumerate() {
                    walk(root, item, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        Value::String(text) => {
            if let Some(Value::Array(allowed)) = schema.get("enum").or(s.get("enum")) {
                if !allowed.iter().any(|a| a == text) {
                    out.push(format!("{path}: '{text}' is not {}", enum_words(allowed)));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/pipeline.md");
    const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/sample.toml");

    /// Every table of the schema (the root and each definition with properties).
    fn tables(root: &Value) -> Vec<(String, &Value)> {
        let mut out = vec![("(top level)".to_string(), root)];
        if let Some(defs) = root.get("definitions").and_then(Value::as_object) {
            out.extend(
                defs.iter()
                    .filter(|(_, d)| d.get("properties").is_some())
                    .map(|(name, d)| (name.clone(), d)),
            );
        }
        out
    }

    #[test]
    fn pipeline_doc_is_generated_from_the_types() {
        let now = markdown();
        if std::env::var_os("CEX_BLESS").is_some() {
            if let Err(e) = std::fs::write(DOC, &now) {
                panic!("cannot write {DOC}: {e}");
            }
        }
        let written = std::fs::read_to_string(DOC).unwrap_or_default();
        assert!(
            written == now,
            "docs/pipeline.md is not what the pipeline file's types document now; regenerate it \
             with CEX_BLESS=1 cargo test --release --lib pipeline_doc and review the diff"
        );
    }

    #[test]
    fn pipeline_doc_every_key_has_a_description_and_every_value_an_example() {
        let root = json_schema();
        let mut missing = Vec::new();
        for (name, table) in tables(&root) {
            let said = |s: &Value| {
                s.get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| !d.trim().is_empty())
            };
            if !said(table) {
                missing.push(format!("{name}: no description (doc comment on the type)"));
            }
            let Some(props) = table.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (key, schema) in props {
                if !said(schema) {
                    missing.push(format!("{name}.{key}: no description (doc comment)"));
                }
                let example = schema
                    .get("examples")
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty());
                if nested(&root, schema).is_none() && !example {
                    missing.push(format!(
                        "{name}.{key}: no example (#[schemars(extend(\"examples\" = [...]))])"
                    ));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn pipeline_doc_examples_are_keys_the_schema_accepts() {
        // Each example line is TOML, and its value passes the walk of its own table.
        let root = json_schema();
        let mut wrong = Vec::new();
        for (name, table) in tables(&root) {
            let Some(props) = table.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (key, schema) in props {
                let Some(example) = schema
                    .get("examples")
                    .and_then(Value::as_array)
                    .and_then(|e| e.first())
                else {
                    continue;
                };
                let line = format!("{} = {}", toml_key(key), toml_value(example));
                match toml::from_str::<toml::Value>(&line) {
                    Ok(parsed) => {
                        let json = serde_json::to_value(parsed).unwrap_or_default();
                        let mut found = Vec::new();
                        walk(&root, table, &json, name.as_str(), &mut found);
                        wrong.extend(found);
                    }
                    Err(e) => wrong.push(format!("{name}.{key}: `{line}` is not TOML: {e}")),
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn pipeline_doc_sample_pipeline_has_only_known_keys() {
        let text = std::fs::read_to_string(SAMPLE).unwrap_or_default();
        let parsed: toml::Value = match toml::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("{SAMPLE}: {e}"),
        };
        let json = serde_json::to_value(parsed).unwrap_or_default();
        assert!(json.get("sources").is_some(), "sample.toml not read");
        assert_eq!(unknown_keys(&json), Vec::<String>::new());
        // The walk does catch a stray key, a key of the wrong table and a value off its list.
        let mut bad = json.clone();
        bad["lakes"] = Value::from("x");
        bad["sources"][0]["columns"]["queue"] = Value::from("Queue");
        bad["sources"][0]["outcomes"]["hung_up"] = Value::from(vec!["H"]);
        bad["sources"][0]["kind"] = Value::from("call");
        let found = unknown_keys(&bad);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found.contains(&"lakes: unknown key".to_string()),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| f.starts_with("sources[0].columns.queue")),
            "{found:?}"
        );
    }

    #[test]
    fn pipeline_doc_schema_has_no_null_and_lists_named_values() {
        let text = json_text();
        assert!(!text.contains("\"null\""), "TOML has no null");
        let root = json_schema();
        let kind = &root["definitions"]["RawSource"]["properties"]["kind"]["enum"];
        assert_eq!(
            kind,
            &serde_json::json!(super::super::SourceKind::NAMES),
            "{kind}"
        );
        let direction = &root["definitions"]["RawChannelShift"]["properties"]["direction"];
        assert_eq!(
            direction["enum"],
            serde_json::json!(["increase", "reduction", "decrease"])
        );
        assert_eq!(root["properties"]["timezone"]["default"], "Europe/London");
    }
}
