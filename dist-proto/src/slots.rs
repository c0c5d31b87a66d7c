//! The slots of an atom cache, made as they are first used: 2048 slots in
//! 64 chunks of 32, each chunk allocated when a slot of it is first
//! written. A connection that refers to a few atoms holds a few chunks,
//! not the whole cache (32 KiB a side, most of an idle connection's
//! memory when it was allocated up front). A lookup costs one more load
//! than in a flat array.

/// Segments in the cache.
pub const SEGMENTS: usize = 8;
/// Entries per segment.
pub const SEGMENT_SIZE: usize = 256;
/// Slots in the cache (8 segments of 256).
pub(crate) const SLOTS: usize = SEGMENTS * SEGMENT_SIZE;
/// Slots per chunk: the largest array `Default` is implemented for.
pub(crate) const CHUNK: usize = 32;
const CHUNKS: usize = SLOTS / CHUNK;

/// Chunks of type `C`, each holding [`CHUNK`] slots; slot `s` is entry
/// `s % CHUNK` of chunk `s / CHUNK`.
#[derive(Clone, Debug)]
pub(crate) struct Chunks<C> {
    chunks: [Option<Box<C>>; CHUNKS],
}

impl<C: Default> Chunks<C> {
    /// No chunk made yet.
    pub(crate) fn new() -> Chunks<C> {
        Chunks {
            chunks: std::array::from_fn(|_| None),
        }
    }

    /// The chunk of `slot` and the slot's place in it, if the chunk was
    /// made. `slot` is below [`SLOTS`].
    #[inline]
    pub(crate) fn get(&self, slot: usize) -> Option<(&C, usize)> {
        self.chunks[slot / CHUNK]
            .as_deref()
            .map(|chunk| (chunk, slot % CHUNK))
    }

    /// The chunk of `slot`, made now if it was not, and the slot's place
    /// in it.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: usize) -> (&mut C, usize) {
        let chunk = &mut self.chunks[slot / CHUNK];
        let chunk = match chunk {
            Some(made) => made,
            None => make(chunk),
        };
        (chunk, slot % CHUNK)
    }

    /// The chunks made so far.
    #[cfg(test)]
    pub(crate) fn made(&self) -> usize {
        self.chunks.iter().filter(|c| c.is_some()).count()
    }
}

/// Makes the chunk in `place`, out of the way of the lookups.
#[cold]
#[inline(never)]
fn make<C: Default>(place: &mut Option<Box<C>>) -> &mut C {
    place.insert(Box::default())
}
