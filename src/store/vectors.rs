//! The embedding vectors of memories, as the store keeps them: one row per memory in
//! `memory_vectors`, dropped with the memory (a foreign key) and when its content changes (a
//! trigger), so a stored vector always describes the memory's current content. Vectors are
//! bytes here; what they mean is the memory service's business.

use uuid::Uuid;

/// A vector to store for a memory.
#[derive(Debug, Clone, Copy)]
pub struct VectorRecord<'a> {
    /// The memory it describes.
    pub memory_id: Uuid,
    /// The model that made it (see `crate::service::semantic`), e.g. `builtin:0123abcd`.
    pub model: &'a str,
    /// The content hash of the text that was embedded: if the memory no longer has it, nothing
    /// is stored.
    pub content_hash: &'a str,
    /// The vector, encoded (little-endian f32).
    pub vector: &'a [u8],
}

/// A scope's vectors of one model, as stored.
#[derive(Debug, Clone)]
pub struct StoredVector {
    pub memory_id: Uuid,
    pub vector: Vec<u8>,
}

/// Changes whenever a scope's vectors of one model change: the count, and the largest write
/// sequence number (every write takes a new, larger one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VectorStamp {
    pub count: i64,
    pub last_seq: i64,
}

/// A memory that has no vector of the current model yet (for `reindex`).
#[derive(Debug, Clone)]
pub struct Unembedded {
    pub memory_id: Uuid,
    pub content: String,
    pub content_hash: String,
}

/// Which memories `reindex` works through.
#[derive(Debug, Clone, Copy)]
pub struct UnembeddedFilter<'a> {
    /// Only this project (of every user); `None`: every project.
    pub project: Option<&'a str>,
    /// Vectors of this model count; any other model's do not.
    pub model: &'a str,
    /// Only memories whose id sorts after this one (keyset paging).
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: u32,
}
