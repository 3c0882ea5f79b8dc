//! Reading tensors out of a `model.safetensors` file a piece at a time, so that loading a
//! model never holds the whole file in memory: only its JSON header (a few hundred bytes),
//! then one row of a tensor at a time through a small buffer. The header is parsed by the
//! `safetensors` crate; the layout (8-byte little-endian header length, the header, then the
//! tensors' bytes at the offsets it gives) is that crate's format.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use safetensors::Dtype;
use safetensors::tensor::{Metadata, TensorInfo};

/// Longest header accepted, in bytes: a model2vec file's is under 1 KB; this bounds what a
/// corrupt length field can make us allocate.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Bytes read from the file per system call while streaming a tensor.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// An open safetensors file whose header has been read.
#[derive(Debug)]
pub struct WeightsFile {
    path: PathBuf,
    reader: BufReader<File>,
    metadata: Metadata,
    /// Where the tensors' bytes start (after the length field and the header).
    data_start: u64,
    /// How many bytes of tensor data the file holds.
    data_len: u64,
}

/// One tensor's place in the file, checked against the file's size.
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape, outermost dimension first.
    pub shape: Vec<usize>,
    offset: u64,
    len: u64,
}

impl Tensor {
    /// Number of elements (the product of the shape).
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

impl WeightsFile {
    /// Opens `path` and reads its header.
    ///
    /// Errors: the file cannot be read, or its header is not a safetensors header; the
    /// message says which.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let file_len = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .len();
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        let mut len_field = [0u8; 8];
        reader.read_exact(&mut len_field).map_err(|e| {
            format!(
                "{} is too short for a safetensors file: {e}",
                path.display()
            )
        })?;
        let header_len = u64::from_le_bytes(len_field);
        if header_len > MAX_HEADER_BYTES || header_len + 8 > file_len {
            return Err(format!(
                "{} is not a safetensors file (its header length field says {header_len} bytes; the file holds {file_len})",
                path.display()
            ));
        }
        let mut header = vec![0u8; header_len as usize];
        reader
            .read_exact(&mut header)
            .map_err(|e| format!("cannot read the header of {}: {e}", path.display()))?;
        let metadata: Metadata = serde_json::from_slice(&header)
            .map_err(|e| format!("{} has no valid safetensors header: {e}", path.display()))?;
        Ok(WeightsFile {
            path: path.to_owned(),
            reader,
            metadata,
            data_start: 8 + header_len,
            data_len: file_len - 8 - header_len,
        })
    }

    /// The tensor called `name`, if the file holds one.
    ///
    /// Errors: its offsets fall outside the file or disagree with its shape and type.
    pub fn tensor(&self, name: &str) -> Result<Option<Tensor>, String> {
        let Some(info) = self.metadata.info(name) else {
            return Ok(None);
        };
        let TensorInfo {
            dtype,
            shape,
            data_offsets: (begin, end),
        } = info.clone();
        let expected = shape
            .iter()
            .try_fold(dtype.size(), |n, d| n.checked_mul(*d));
        if begin > end || end as u64 > self.data_len || expected != Some(end - begin) {
            return Err(format!(
                "the tensor `{name}` in {} is damaged (shape {shape:?} of {dtype:?} at bytes {begin}..{end} of {})",
                self.path.display(),
                self.data_len
            ));
        }
        Ok(Some(Tensor {
            dtype,
            shape,
            offset: begin as u64,
            len: (end - begin) as u64,
        }))
    }

    /// Calls `each` with consecutive pieces of `tensor`'s bytes, `piece_len` bytes each (the
    /// last may be shorter), reusing one buffer.
    ///
    /// Errors: the file could not be read; `each`'s own error stops the walk.
    pub fn for_each_piece(
        &mut self,
        tensor: &Tensor,
        piece_len: usize,
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let piece_len = piece_len.max(1);
        self.reader
            .seek(SeekFrom::Start(self.data_start + tensor.offset))
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        let mut piece = vec![0u8; piece_len];
        let mut left = tensor.len;
        while left > 0 {
            let n = piece_len.min(usize::try_from(left).unwrap_or(usize::MAX));
            self.reader
                .read_exact(&mut piece[..n])
                .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
            each(&piece[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// The whole of a small tensor (per-token weights or a token mapping), as bytes.
    ///
    /// Errors: the file could not be read.
    pub fn read_all(&mut self, tensor: &Tensor) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::with_capacity(tensor.len as usize);
        self.for_each_piece(tensor, READ_BUFFER_BYTES, |piece| {
            bytes.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> tempfile::NamedTempFile {
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(name, dtype, shape, data)| {
                (
                    name.to_string(),
                    safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap(),
                )
            })
            .collect();
        let bytes = safetensors::serialize(views, &None).unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        file
    }

    #[test]
    fn streams_a_tensor_in_pieces_and_reads_a_small_one_whole() {
        let table: Vec<u8> = (0..24u8).collect();
        let file = write(&[
            ("embeddings", Dtype::I8, vec![3, 8], table.clone()),
            ("weights", Dtype::F32, vec![3], [0, 0, 128, 63].repeat(3)),
        ]);
        let mut weights = WeightsFile::open(file.path()).unwrap();
        let tensor = weights.tensor("embeddings").unwrap().unwrap();
        assert_eq!(
            (tensor.dtype, tensor.shape.clone()),
            (Dtype::I8, vec![3, 8])
        );
        let mut pieces = Vec::new();
        weights
            .for_each_piece(&tensor, 10, |p| {
                pieces.push(p.to_vec());
                Ok(())
            })
            .unwrap();
        assert_eq!(pieces.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 4]);
        assert_eq!(pieces.concat(), table);
        let small = weights.tensor("weights").unwrap().unwrap();
        assert_eq!(weights.read_all(&small).unwrap().len(), 12);
        assert!(weights.tensor("mapping").unwrap().is_none());
    }

    #[test]
    fn refuses_what_is_not_a_safetensors_file() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"{\"embeddings\": 1}").unwrap();
        let err = WeightsFile::open(file.path()).unwrap_err();
        assert!(err.contains("is not a safetensors file"), "{err}");

        std::fs::write(file.path(), [2u8, 0, 0, 0, 0, 0, 0, 0, b'[', b']']).unwrap();
        let err = WeightsFile::open(file.path()).unwrap_err();
        assert!(err.contains("no valid safetensors header"), "{err}");
    }
}
