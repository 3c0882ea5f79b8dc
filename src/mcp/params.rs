//! Tool arguments. Numbers and metadata are taken loosely typed (`i64`, any JSON value) so that
//! an out-of-range or wrongly shaped value gets the service's clear message instead of a
//! generic deserialization error.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemoryParams {
    /// The fact to remember, self-contained and specific (1 byte to 32 KiB), e.g. "This repo uses pnpm, not npm".
    pub content: String,
    /// Up to 20 short labels (each at most 64 characters) to filter by later.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// A JSON object (at most 8 KiB) of extra structured facts, e.g. {"source": "review"}.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// When the fact stops being true, as an RFC 3339 time in the future, e.g. "2026-12-31T17:00:00Z"; the memory is then forgotten. Omit for a lasting fact.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchMemoriesParams {
    /// Words to look for (1 to 2048 characters): plain language, identifiers, file names or versions.
    pub query: String,
    /// How many results at most, 1 to 100 (default 10).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Only memories carrying all of these tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMemoriesParams {
    /// Page size, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The next_cursor of the previous page, unchanged; omit for the newest memories.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only memories carrying all of these tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryIdParams {
    /// The memory's id (a UUID, as returned by the other tools).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemoryParams {
    /// The memory's id (a UUID).
    pub id: String,
    /// New content (1 byte to 32 KiB); omit to keep it.
    #[serde(default)]
    pub content: Option<String>,
    /// New tags, replacing the old ones; omit to keep them.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// New metadata object, replacing the old one; omit to keep it.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// New expiry, an RFC 3339 time in the future (e.g. "2026-12-31T17:00:00Z"); null makes the memory last; omit to keep it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(transform = without_default)]
    pub expires_at: Option<Option<String>>,
}

/// Drops the `default: null` serde's `default` implies: for `expires_at` on update, null clears
/// and leaving it out keeps, so null is not what an absent value means.
fn without_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`, by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAllParams {
    /// Must be true: deleting every memory of the scope cannot be undone from here.
    pub confirm: bool,
    /// Only count what would be deleted.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LegacyAddParams {
    /// The text to remember.
    pub text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LegacySearchParams {
    pub query: String,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LegacyHistoryParams {
    pub memory_id: String,
}
