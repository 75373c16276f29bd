//! Property tests of the parsers of outside input in the domain: key cursors and time cursors
//! (any string a client sends back), import items (any JSON), the import reader (any file, NDJSON
//! or a JSON array) and the prefix range used by every listing. None may panic; what they accept
//! must round-trip; what they refuse is a 400 naming its field.

use domain::DomainError;
use domain::jobs::ImportFormat;
use domain::jobs::transfer::{ItemReader, parse_item};
use domain::sql::{decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor, prefix_upper_bound};
use proptest::prelude::*;
use serde_json::Value;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats that print and parse back exactly (serde_json's float parsing is not exact for
        // every f64, which is serde_json's business, not the reader's).
        (-1_000_000i64..1_000_000).prop_map(|i| Value::from(i as f64 / 8.0)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("key".to_owned()),
                    Just("value".to_owned()),
                    Just("value_base64".to_owned()),
                    Just("base64".to_owned()),
                    Just("metadata".to_owned()),
                    Just("expiration".to_owned()),
                    Just("expiration_ttl".to_owned()),
                    Just("ttl".to_owned()),
                    Just("tags".to_owned()),
                    Just("custom_metadata".to_owned()),
                    ".{0,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[track_caller]
fn refused_with_a_field(err: &DomainError) {
    assert!(matches!(err.status(), 400 | 413), "{err}: {}", err.status());
    assert!(err.field().is_some(), "no field named: {err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn key_cursors_round_trip_and_any_string_is_safe(key in "[^\u{0}]{0,40}", junk in ".{0,60}") {
        prop_assert_eq!(decode_cursor(&encode_cursor(&key)).unwrap(), key);
        match decode_cursor(&junk) {
            Ok(key) => prop_assert_eq!(encode_cursor(&key), junk),
            Err(err) => prop_assert_eq!(err.field(), Some("cursor")),
        }
    }

    #[test]
    fn time_cursors_round_trip_and_any_string_is_safe(at in any::<i64>(), id in ".{0,30}", junk in ".{0,60}") {
        prop_assert_eq!(decode_time_cursor(&encode_time_cursor(at, &id)).unwrap(), (at, id));
        if let Err(err) = decode_time_cursor(&junk) {
            prop_assert_eq!(err.field(), Some("cursor"));
        }
    }

    #[test]
    fn import_items_parse_or_name_their_field(item in json()) {
        if let Err(err) = parse_item(item) {
            refused_with_a_field(&err);
        }
    }

    #[test]
    fn a_prefix_bounds_exactly_the_keys_that_start_with_it(prefix in "\\PC{0,6}", key in "\\PC{0,8}") {
        let starts = key.starts_with(&prefix);
        let in_range = key.as_str() >= prefix.as_str()
            && prefix_upper_bound(&prefix).is_none_or(|upper| key.as_str() < upper.as_str());
        prop_assert_eq!(starts, in_range, "prefix {:?} key {:?}", prefix, key);
    }
}

/// Items as the reader yields them: where, and the JSON or why not.
fn read_all(bytes: &[u8], format: ImportFormat) -> Result<Vec<domain::jobs::transfer::ReadItem>, DomainError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload");
    std::fs::write(&path, bytes).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut reader = ItemReader::open(&path, format).await?;
        let mut items = Vec::new();
        while let Some(item) = reader.next().await? {
            items.push(item);
            assert!(items.len() <= bytes.len() + 1, "more items than bytes");
        }
        Ok(items)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_reader_survives_any_file(bytes in prop::collection::vec(any::<u8>(), 0..400), json in any::<bool>()) {
        let format = if json { ImportFormat::Json } else { ImportFormat::Ndjson };
        if let Err(err) = read_all(&bytes, format) {
            prop_assert!(err.status() < 500, "{}", err);
        }
        let _ = read_all(&bytes, ImportFormat::Auto);
    }

    #[test]
    fn the_reader_yields_every_item_of_a_valid_file(items in prop::collection::vec(json(), 0..8), gap in "[ \t\r\n]{0,3}") {
        let ndjson: String = items.iter().map(|i| format!("{gap}{i}\n")).collect();
        let read = read_all(ndjson.as_bytes(), ImportFormat::Ndjson).unwrap();
        let values: Vec<Value> = read.into_iter().map(|(_, v)| v.unwrap()).collect();
        prop_assert_eq!(&values, &items);
        let array = format!("[{gap}{}{gap}]", items.iter().map(Value::to_string).collect::<Vec<_>>().join(&format!(",{gap}")));
        let read = read_all(array.as_bytes(), ImportFormat::Auto).unwrap();
        let values: Vec<Value> = read.into_iter().map(|(_, v)| v.unwrap()).collect();
        prop_assert_eq!(&values, &items);
    }
}
