//! A JSON value that borrows from the record it was parsed from, for the platform adapters.
//!
//! The adapters read a record's fields loosely (a string or a number for an id, blanks for
//! absent, unknown fields counted), so they look at a tree of the record rather than a typed
//! struct. `serde_json::Value` builds that tree with one allocation per string and a B-tree per
//! object: in the Pexip adapter a fifth of all instructions went there. This tree borrows every
//! string that has no escape from the record's bytes and keeps an object's members in one `Vec`
//! in the order written.
//!
//! It reads exactly as `serde_json::Value` does: the same parser (`serde_json`'s deserializer,
//! so the same errors, positions and nesting limit), the same numbers ([`serde_json::Number`]),
//! and for a key written twice the last value wins; [`Map::keys_where`] gives each key once,
//! in the sorted order of `serde_json::Map`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// One JSON value; strings borrow from the parsed text where they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Map<'a>),
}

/// A JSON object: its members in the order written, duplicates kept (lookups find the last).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map<'a> {
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Map<'a> {
    /// An empty object.
    pub fn new() -> Map<'a> {
        Map {
            members: Vec::new(),
        }
    }

    /// The value of `key`: the last one when the key is written more than once, as
    /// `serde_json::Map` keeps it.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// True when the object has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.members.iter().any(|(k, _)| k == key)
    }

    /// Every key once, in sorted order (as `serde_json::Map` iterates).
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys_where(|_| true)
    }

    /// Every key for which `keep` holds, once, in sorted order: the same as `keys()` filtered,
    /// but only the keys kept are sorted (the Teams audit looks for the few fields it does not
    /// know; sorting all of a record's keys was 4 % of a scan).
    pub fn keys_where(&self, mut keep: impl FnMut(&str) -> bool) -> impl Iterator<Item = &str> {
        let mut keys: Vec<&str> = self
            .members
            .iter()
            .map(|(k, _)| k.as_ref())
            .filter(|k| keep(k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
    }
}

impl<'a> Value<'a> {
    /// The object, when this is one.
    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an `i64`, when it is an integer that fits ([`Number::as_i64`]).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as an `f64` ([`Number::as_f64`]).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Value<'a> {
        Value::String(Cow::Borrowed(s))
    }
}

impl From<f64> for Value<'_> {
    fn from(f: f64) -> Self {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Parses one JSON text (the whole of `bytes`, blanks around it allowed).
pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Value<'_>> {
    // One check of the whole record is cheaper than serde_json's check of each string; a
    // record that fails it is parsed from the bytes, for serde_json's own error and position.
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// Parses one JSON text held in a string.
pub fn from_str(text: &str) -> serde_json::Result<Value<'_>> {
    serde_json::from_str(text)
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(u.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value<'de>, E> {
        Ok(Value::from(f))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }

    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            list.push(v);
        }
        Ok(Value::Array(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(Key(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        Ok(Value::Object(Map { members }))
    }
}

/// An object key, borrowed when it has no escape (serde's own `Cow<str>` always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text read by serde_json's own `Value`, for comparison.
    fn reference(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    /// Converts this tree to serde_json's, keys deduplicated the way `serde_json::Map` does.
    fn to_serde(v: &Value<'_>) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
            Value::Object(m) => serde_json::Value::Object(
                m.keys()
                    .map(|k| (k.to_string(), to_serde(m.get(k).unwrap())))
                    .collect(),
            ),
        }
    }

    #[test]
    fn reads_as_serde_json_does() {
        for text in [
            r#"{"a":1,"b":"x","a":2,"c":{"d":[1,-2,3.5,1e300,18446744073709551615,true,null]}}"#,
            r#"{"k\u00e4y":"v\"\\al\n","z":{},"y":[],"x":-0.0,"w":12345678901234567890}"#,
            r#"[{"id":1},{"id":"1"},"é",0.1,1.7976931348623157e308]"#,
            r#""just a string""#,
            r#"{"dup":{"a":1},"dup":"last wins","b":1,"B":2}"#,
        ] {
            let ours = from_str(text).unwrap();
            assert_eq!(to_serde(&ours), reference(text), "{text}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let v = from_str(r#"{"plain":"text","esc":"a\tb"}"#).unwrap();
        let m = v.as_object().unwrap();
        assert!(matches!(
            m.get("plain"),
            Some(Value::String(Cow::Borrowed("text")))
        ));
        assert!(matches!(m.get("esc"), Some(Value::String(Cow::Owned(s))) if s == "a\tb"));
        assert!(matches!(&m.members[0].0, Cow::Borrowed("plain")));
    }

    #[test]
    fn duplicate_keys_last_wins_and_keys_sorted_once() {
        let v = from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m.get("b").and_then(Value::as_i64), Some(3));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.keys_where(|k| k != "a").collect::<Vec<_>>(), ["b"]);
        assert!(m.contains_key("a") && !m.contains_key("c"));
    }

    #[test]
    fn errors_are_serde_jsons() {
        for text in [
            "{\"a\":",
            "{\"a\" 1}",
            "[1,]",
            "{\"a\":1} x",
            "\"\\q\"",
            "[1e400]",
            &"[".repeat(200),
        ] {
            let ours = from_str(text).unwrap_err();
            let theirs = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
            assert_eq!(ours.classify(), theirs.classify());
        }
    }
}
