//! Reading the stored manifest (version 2) straight into a [`Manifest`]: each
//! record becomes its [`ObjectRecord`] as it is parsed, its header pair taken from
//! the table read before it, with no list of stored records in between (at 50,000
//! files that list is about 5 MB held beside the manifest while it is built).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Manifest, ObjectRecord};

/// (Content-Type, Cache-Control) pairs, by index.
type Headers = [(Arc<str>, Arc<str>)];

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Version,
    Generation,
    StartedNs,
    Headers,
    Objects,
    PendingInvalidation,
    #[serde(other)]
    Other,
}

/// Reads the stored manifest's JSON object.
pub(super) struct Reader;

impl<'de> Visitor<'de> for Reader {
    type Value = Manifest;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stored manifest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Manifest, A::Error> {
        let (mut version, mut generation, mut started_ns) = (None, None, None);
        let (mut headers, mut objects, mut pending) = (None::<Vec<_>>, None, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Version => version = Some(map.next_value::<u32>()?),
                Field::Generation => generation = Some(map.next_value::<u64>()?),
                Field::StartedNs => started_ns = Some(map.next_value::<u64>()?),
                Field::Headers => headers = Some(map.next_value()?),
                Field::Objects => {
                    // encode_manifest writes the table first.
                    let table = headers
                        .as_deref()
                        .ok_or_else(|| de::Error::custom("objects before their header table"))?;
                    objects = Some(map.next_value_seed(Records(table))?);
                }
                Field::PendingInvalidation => pending = Some(map.next_value::<Vec<String>>()?),
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        version.ok_or_else(|| de::Error::missing_field("version"))?;
        headers.ok_or_else(|| de::Error::missing_field("headers"))?;
        let objects: Vec<(String, ObjectRecord)> =
            objects.ok_or_else(|| de::Error::missing_field("objects"))?;
        Ok(Manifest {
            version: 1,
            generation: generation.ok_or_else(|| de::Error::missing_field("generation"))?,
            started_ns: started_ns.ok_or_else(|| de::Error::missing_field("started_ns"))?,
            // Stored in key order: the map is built in one pass.
            objects: BTreeMap::from_iter(objects),
            pending_invalidation: pending
                .ok_or_else(|| de::Error::missing_field("pending_invalidation"))?,
        })
    }
}

/// The records' array, each record made as it is read.
struct Records<'h>(&'h Headers);

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = Vec<(String, ObjectRecord)>;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = Vec<(String, ObjectRecord)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of object records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(record) = seq.next_element_seed(Record(self.0))? {
            records.push(record);
        }
        Ok(records)
    }
}

/// One record: `[key, ETag, MD5 or "" when equal to the ETag, size, file time,
/// index in the header table]`.
struct Record<'h>(&'h Headers);

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = (String, ObjectRecord);

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = (String, ObjectRecord);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("[key, etag, md5, size, mtime_ns, headers index]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let next = |n: usize| de::Error::invalid_length(n, &self);
        let key: String = seq.next_element()?.ok_or_else(|| next(0))?;
        let etag: String = seq.next_element()?.ok_or_else(|| next(1))?;
        let md5: String = seq.next_element()?.ok_or_else(|| next(2))?;
        let size: u64 = seq.next_element()?.ok_or_else(|| next(3))?;
        let mtime_ns: u64 = seq.next_element()?.ok_or_else(|| next(4))?;
        let at: usize = seq.next_element()?.ok_or_else(|| next(5))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(next(7));
        }
        let Some((content_type, cache_control)) = self.0.get(at) else {
            return Err(de::Error::custom(format!(
                "{key}: no headers at index {at}"
            )));
        };
        let md5 = if md5.is_empty() { etag.clone() } else { md5 };
        let record = ObjectRecord {
            etag,
            md5,
            size,
            mtime_ns,
            content_type: content_type.clone(),
            cache_control: cache_control.clone(),
        };
        Ok((key, record))
    }
}
