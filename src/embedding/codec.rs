//! How a vector is stored: its f32 components, little-endian, one after another (a
//! 256-dimension vector is 1,024 bytes).

/// The stored form of `vector`.
pub fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The vector stored as `bytes`; `None` if the length is not a whole number of f32s.
pub fn decode(bytes: &[u8]) -> Option<Vec<f32>> {
    let (chunks, rest) = bytes.as_chunks::<4>();
    rest.is_empty()
        .then(|| chunks.iter().map(|c| f32::from_le_bytes(*c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_a_torn_vector() {
        let v = vec![0.5, -1.25, f32::MIN_POSITIVE, 3.0e7];
        assert_eq!(decode(&encode(&v)), Some(v));
        assert_eq!(decode(&[1, 2, 3]), None);
        assert_eq!(decode(&[]), Some(vec![]));
    }
}
