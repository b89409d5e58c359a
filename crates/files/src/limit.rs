//! Step limits in JSON files: a number, or `null` for none. In memory "no limit" is
//! `u64::MAX` (what the VM takes and the signed vote bytes carry), but 2^64 - 1 is not a
//! number every JSON reader can hold exactly, and `null` says what it means.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(limit: &u64, s: S) -> Result<S::Ok, S::Error> {
    match *limit {
        u64::MAX => s.serialize_none(),
        n => s.serialize_some(&n),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        max_steps: u64,
    }

    #[test]
    fn none_is_null_and_numbers_stay_numbers() {
        for (v, json) in [
            (u64::MAX, r#"{"max_steps":null}"#),
            (1000, r#"{"max_steps":1000}"#),
            (0, r#"{"max_steps":0}"#),
        ] {
            let t = T { max_steps: v };
            assert_eq!(serde_json::to_string(&t).expect("json"), json);
            assert_eq!(serde_json::from_str::<T>(json).expect("parses"), t);
        }
    }
}
