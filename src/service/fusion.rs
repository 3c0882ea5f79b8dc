//! Reciprocal rank fusion: two rankings of memories become one. A memory's fused score is
//! the sum over the rankings it appears in of `1 / (K + rank)` (rank from 1), so agreement
//! between the lexical and the vector ranking counts for more than either alone, and neither
//! side's raw scores need to be comparable (Cormack, Clarke and Büttcher, SIGIR 2009).

use uuid::Uuid;

/// The usual constant: damps the weight of the very first ranks.
pub const K: f64 = 60.0;

/// The fused ranking of `lexical` and `vector` (each best first, no repeats), best first, with
/// scores scaled to 0..=1 (1: first in both). Equal scores go to the memory closer in meaning
/// (the vector side has a similarity floor, so its first ranks are related to the query, while a
/// lexical match may share only a common word), then keep the lexical order.
pub fn fuse(lexical: &[Uuid], vector: &[Uuid]) -> Vec<(Uuid, f64)> {
    let mut fused: Vec<(Uuid, f64)> = Vec::with_capacity(lexical.len() + vector.len());
    for ranking in [vector, lexical] {
        for (rank, id) in ranking.iter().enumerate() {
            let score = 1.0 / (K + rank as f64 + 1.0);
            match fused.iter_mut().find(|(seen, _)| seen == id) {
                Some((_, total)) => *total += score,
                None => fused.push((*id, score)),
            }
        }
    }
    let best = 2.0 / (K + 1.0);
    // A stable sort keeps first-seen order (vector, then lexical) among equal scores.
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused.into_iter().map(|(id, s)| (id, s / best)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn agreement_wins_and_either_side_alone_still_counts() {
        let [a, b, c, d] = ids(4).try_into().unwrap();
        // b is second in both, a first lexically only, d first by meaning only.
        let fused = fuse(&[a, b, c], &[d, b]);
        let order: Vec<Uuid> = fused.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, vec![b, d, a, c]);
        assert!(fused[0].1 < 1.0 && fused[0].1 > fused[1].1);
        assert_eq!(
            fused[1].1, fused[2].1,
            "rank 1 on one side scores the same on either"
        );
    }

    #[test]
    fn one_side_empty_keeps_the_other_order_and_top_of_both_is_one() {
        let [a, b, c] = ids(3).try_into().unwrap();
        let order: Vec<Uuid> = fuse(&[a, b, c], &[]).iter().map(|(id, _)| *id).collect();
        assert_eq!(order, vec![a, b, c]);
        let order: Vec<Uuid> = fuse(&[], &[c, a]).iter().map(|(id, _)| *id).collect();
        assert_eq!(order, vec![c, a]);
        assert_eq!(fuse(&[a], &[a])[0].1, 1.0);
        assert!(fuse(&[], &[]).is_empty());
    }
}
