//! The token-embedding table of a static model, kept as int8 with one f32 scale per row: a
//! quarter of the memory of f32 (potion-base-8M's 29,528 × 256 table is 7.6 MB instead of
//! 30 MB). An f32 or f16 table is quantized row by row as it is read, so the f32 table never
//! exists in memory, not even while loading; an int8 table (model2vec's own quantized
//! format) is kept as stored. Per-row symmetric quantization (scale = max |x| / 127) is
//! what model2vec-rs's `quantize_int8` does; after mean pooling and normalization it moves
//! a text's vector by well under 1% of cosine.
//!
//! The tensors are model2vec's: `embeddings` (or `0`, or `embedding.weight`: rows × dims),
//! optional `weights` (one factor per token id, multiplied into its row) and optional
//! `mapping` (token id → row, for vocabularies sharing rows).

use half::f16;
use safetensors::Dtype;

use super::weights_file::{Tensor, WeightsFile};

/// Names model2vec gives the table, in the order it looks for them.
const TABLE_NAMES: [&str; 3] = ["embeddings", "0", "embedding.weight"];

/// A quantized token-embedding table.
#[derive(Debug)]
pub struct TokenTable {
    dims: usize,
    /// Row-major, `dims` values per row.
    values: Vec<i8>,
    /// One per row: the row's real values are `values * scale`.
    row_scales: Vec<f32>,
    /// One factor per token id (a token beyond it weighs 1).
    token_weights: Option<Vec<f32>>,
    /// Token id → row (a token beyond it uses its own id).
    token_rows: Option<Vec<usize>>,
}

impl TokenTable {
    /// Reads the table and its optional `weights` and `mapping` from `file`.
    ///
    /// Errors: no table, a table that is not 2-D, or a type model2vec does not store; the
    /// message says which (without the file's name: the caller adds it).
    pub fn read(file: &mut WeightsFile) -> Result<Self, String> {
        let mut table = None;
        for name in TABLE_NAMES {
            if let Some(tensor) = file.tensor(name)? {
                table = Some(tensor);
                break;
            }
        }
        let table = table.ok_or("it holds no `embeddings` tensor")?;
        let [rows, dims] = table.shape[..] else {
            return Err(format!(
                "its `embeddings` tensor has shape {:?}, not rows × dimensions",
                table.shape
            ));
        };
        if dims == 0 {
            return Err("its `embeddings` tensor has no dimensions".into());
        }
        let (values, row_scales) = read_rows(file, &table, rows, dims)?;
        let token_weights = match file.tensor("weights")? {
            Some(t) => Some(decode_floats(&t, &file.read_all(&t)?, "weights")?),
            None => None,
        };
        let token_rows = match file.tensor("mapping")? {
            Some(t) => Some(decode_indices(&t, &file.read_all(&t)?)?),
            None => None,
        };
        Ok(TokenTable {
            dims,
            values,
            row_scales,
            token_weights,
            token_rows,
        })
    }

    /// Dimensions of a row.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Rows in the table.
    pub fn rows(&self) -> usize {
        self.row_scales.len()
    }

    /// Adds `tokens`' rows, each times its weight, into `sum` (which holds `dims` values).
    /// Returns how many tokens were added: a token whose row is outside the table (a
    /// tokenizer that does not match its table) is left out.
    pub fn add_rows(&self, tokens: impl Iterator<Item = u32>, sum: &mut [f32]) -> usize {
        let mut added = 0;
        for token in tokens {
            let token = token as usize;
            let row = self
                .token_rows
                .as_ref()
                .and_then(|rows| rows.get(token).copied())
                .unwrap_or(token);
            let Some(&row_scale) = self.row_scales.get(row) else {
                continue;
            };
            let weight = self
                .token_weights
                .as_ref()
                .and_then(|w| w.get(token).copied())
                .unwrap_or(1.0);
            let scale = row_scale * weight;
            let values = &self.values[row * self.dims..(row + 1) * self.dims];
            for (s, &v) in sum.iter_mut().zip(values) {
                *s += f32::from(v) * scale;
            }
            added += 1;
        }
        added
    }
}

/// Reads the table one row at a time, quantizing f32 and f16 rows as they come.
fn read_rows(
    file: &mut WeightsFile,
    table: &Tensor,
    rows: usize,
    dims: usize,
) -> Result<(Vec<i8>, Vec<f32>), String> {
    let mut values = Vec::with_capacity(rows * dims);
    let mut row_scales = Vec::with_capacity(rows);
    let row_bytes = dims * table.dtype.size();
    let mut row = vec![0f32; dims];
    match table.dtype {
        // Already quantized: the values are the row as stored (a scale per row, if any,
        // is the `weights` tensor's).
        Dtype::I8 => file.for_each_piece(table, row_bytes, |piece| {
            values.extend(piece.iter().map(|&b| b as i8));
            row_scales.push(1.0);
            Ok(())
        })?,
        Dtype::F32 | Dtype::F16 => {
            let half = table.dtype == Dtype::F16;
            file.for_each_piece(table, row_bytes, |piece| {
                if half {
                    let (halves, _) = piece.as_chunks::<2>();
                    for (x, h) in row.iter_mut().zip(halves) {
                        *x = f16::from_le_bytes(*h).to_f32();
                    }
                } else {
                    let (floats, _) = piece.as_chunks::<4>();
                    for (x, f) in row.iter_mut().zip(floats) {
                        *x = f32::from_le_bytes(*f);
                    }
                }
                row_scales.push(quantize_row(&row, &mut values));
                Ok(())
            })?
        }
        other => {
            return Err(format!(
                "its `embeddings` tensor is {other:?}; model2vec stores f32, f16 or int8"
            ));
        }
    }
    Ok((values, row_scales))
}

/// Appends `row` as int8 to `values` and returns its scale: the largest magnitude maps to
/// ±127. A row of zeros (or of non-finite values) is stored as zeros with scale 0.
fn quantize_row(row: &[f32], values: &mut Vec<i8>) -> f32 {
    let max = row.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = max / 127.0;
    if scale > 0.0 && scale.is_finite() {
        values.extend(
            row.iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
        );
        scale
    } else {
        values.extend(std::iter::repeat_n(0, row.len()));
        0.0
    }
}

fn decode_floats(tensor: &Tensor, bytes: &[u8], name: &str) -> Result<Vec<f32>, String> {
    Ok(match tensor.dtype {
        Dtype::F64 => bytes
            .as_chunks::<8>()
            .0
            .iter()
            .map(|b| f64::from_le_bytes(*b) as f32)
            .collect(),
        Dtype::F32 => bytes
            .as_chunks::<4>()
            .0
            .iter()
            .map(|b| f32::from_le_bytes(*b))
            .collect(),
        Dtype::F16 => bytes
            .as_chunks::<2>()
            .0
            .iter()
            .map(|b| f16::from_le_bytes(*b).to_f32())
            .collect(),
        other => return Err(format!("its `{name}` tensor is {other:?}, not floats")),
    })
}

fn decode_indices(tensor: &Tensor, bytes: &[u8]) -> Result<Vec<usize>, String> {
    // A negative index points nowhere: it becomes one past any table, so the token is left
    // out rather than wrapping around to some other row.
    Ok(match tensor.dtype {
        Dtype::I64 => bytes
            .as_chunks::<8>()
            .0
            .iter()
            .map(|b| usize::try_from(i64::from_le_bytes(*b)).unwrap_or(usize::MAX))
            .collect(),
        Dtype::I32 => bytes
            .as_chunks::<4>()
            .0
            .iter()
            .map(|b| usize::try_from(i32::from_le_bytes(*b)).unwrap_or(usize::MAX))
            .collect(),
        other => {
            return Err(format!(
                "its `mapping` tensor is {other:?}, not integer indices"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> tempfile::NamedTempFile {
        let views: Vec<_> = tensors
            .iter()
            .map(|(name, dtype, shape, data)| {
                (
                    name.to_string(),
                    safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap(),
                )
            })
            .collect();
        let out = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(out.path(), safetensors::serialize(views, &None).unwrap()).unwrap();
        out
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn pooled(table: &TokenTable, tokens: &[u32]) -> (Vec<f32>, usize) {
        let mut sum = vec![0.0; table.dims()];
        let n = table.add_rows(tokens.iter().copied(), &mut sum);
        (sum, n)
    }

    #[test]
    fn an_f32_table_is_quantized_per_row_within_half_a_step() {
        let rows = [[0.5f32, -1.0, 0.25], [0.0, 0.0, 0.0], [100.0, 3.0, -7.5]];
        let f = file(&[(
            "embeddings",
            Dtype::F32,
            vec![3, 3],
            f32_bytes(rows.as_flattened()),
        )]);
        let table = TokenTable::read(&mut WeightsFile::open(f.path()).unwrap()).unwrap();
        assert_eq!((table.rows(), table.dims()), (3, 3));
        for (id, row) in rows.iter().enumerate() {
            let (got, n) = pooled(&table, &[id as u32]);
            assert_eq!(n, 1);
            let step = row.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
            for (g, want) in got.iter().zip(row) {
                assert!((g - want).abs() <= step / 2.0 + 1e-6, "{got:?} vs {row:?}");
            }
        }
        // Outside the table: left out, not a panic.
        assert_eq!(pooled(&table, &[7]).1, 0);
    }

    #[test]
    fn int8_rows_are_scaled_by_token_weights_through_the_mapping() {
        let values: Vec<u8> = [1i8, 2, -3, 4].iter().map(|&v| v as u8).collect();
        let weights = f32_bytes(&[2.0, 0.5, 10.0]);
        let mapping: Vec<u8> = [1i64, 0, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
        let f = file(&[
            ("embeddings", Dtype::I8, vec![2, 2], values),
            ("weights", Dtype::F32, vec![3], weights),
            ("mapping", Dtype::I64, vec![3], mapping),
        ]);
        let table = TokenTable::read(&mut WeightsFile::open(f.path()).unwrap()).unwrap();
        // token 0 → row 1 × 2, token 1 → row 0 × 0.5, token 2 → row 1 × 10.
        assert_eq!(pooled(&table, &[0]).0, [-6.0, 8.0]);
        assert_eq!(pooled(&table, &[1]).0, [0.5, 1.0]);
        assert_eq!(pooled(&table, &[0, 2]), (vec![-36.0, 48.0], 2));
    }

    #[test]
    fn an_f16_table_reads_like_its_f32_values() {
        let halves: Vec<u8> = [1.5f32, -2.0, 0.125, 4.0]
            .iter()
            .flat_map(|x| f16::from_f32(*x).to_le_bytes())
            .collect();
        let f = file(&[("0", Dtype::F16, vec![2, 2], halves)]);
        let table = TokenTable::read(&mut WeightsFile::open(f.path()).unwrap()).unwrap();
        let (row, _) = pooled(&table, &[0]);
        assert!(
            (row[0] - 1.5).abs() < 0.01 && (row[1] + 2.0).abs() < 0.01,
            "{row:?}"
        );
    }

    #[test]
    fn a_file_without_a_table_or_with_a_flat_one_is_refused() {
        let f = file(&[("weights", Dtype::F32, vec![1], f32_bytes(&[1.0]))]);
        let err = TokenTable::read(&mut WeightsFile::open(f.path()).unwrap()).unwrap_err();
        assert!(err.contains("no `embeddings` tensor"), "{err}");
        let f = file(&[("embeddings", Dtype::F32, vec![2], f32_bytes(&[1.0, 2.0]))]);
        let err = TokenTable::read(&mut WeightsFile::open(f.path()).unwrap()).unwrap_err();
        assert!(err.contains("not rows × dimensions"), "{err}");
    }
}
