//! Score fusion: the lexical and the vector side's view of each candidate become one score.
//! A memory's fused score is a weighted sum of its lexical score (0..1, the share of the
//! query's weight it matches) and its cosine similarity to the query rescaled from the model's
//! floor (`(cos - floor) / (1 - floor)`, clamped to 0..1), with the vector side weighted by the
//! model's [`Embedder::vector_weight`](crate::embedding::Embedder::vector_weight).
//!
//! Why scores, not ranks: reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009)
//! gives the first lexical result as much weight as the first vector result whatever they
//! matched, so a memory sharing one common word with the question pushed the one that answers
//! it down. A score says how much matched: a lexical hit on one word of a long question scores
//! low, a memory holding every word (an identifier, a file name) scores near 1 and stays first.
//! The convex combination of normalized scores follows Bruch, Gai and Ingber, "An Analysis of
//! Fusion Functions for Hybrid Retrieval" (ACM TOIS 2023); the weights and floors are measured
//! on the dev split of `scripts/search_set.py` with `scripts/fusion-tune.py`.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// How one model's similarities count in fusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorScale {
    /// Cosine similarity that counts as nothing (the model's
    /// [`min_similarity`](crate::embedding::Embedder::min_similarity)).
    pub floor: f32,
    /// Share of the fused score given to the vector side (0..=1); the lexical side gets the
    /// rest.
    pub weight: f64,
}

/// The fused ranking of the candidates, best first, each with its score (0..=1; 1: every
/// query word matched and identical in meaning).
///
/// `lexical` is the lexical side's ranking, best first, with scores in 0..1 (higher scores
/// outside that range are clamped). `similarities` holds the cosine similarity to the query of
/// every candidate that has a vector of the current model: the nearest memories and the
/// lexical candidates alike, in any order; a memory only in `similarities` is a candidate when
/// it is at least the floor. Equal scores keep the lexical order, then the closer in meaning.
pub fn fuse(
    lexical: &[(Uuid, f64)],
    similarities: &[(Uuid, f32)],
    scale: VectorScale,
) -> Vec<(Uuid, f64)> {
    let weight = scale.weight.clamp(0.0, 1.0);
    let meaning = |cos: f32| {
        let span = f64::from(1.0 - scale.floor).max(f64::EPSILON);
        (f64::from(cos - scale.floor) / span).clamp(0.0, 1.0)
    };
    let cosine: HashMap<Uuid, f32> = similarities.iter().copied().collect();
    let mut fused: Vec<(Uuid, f64, f32)> = Vec::with_capacity(lexical.len() + similarities.len());
    let mut seen: HashSet<Uuid> = HashSet::with_capacity(fused.capacity());
    for (id, score) in lexical {
        if !seen.insert(*id) {
            continue;
        }
        let cos = cosine.get(id).copied();
        let vector = cos.map(meaning).unwrap_or(0.0);
        let total = (1.0 - weight) * score.clamp(0.0, 1.0) + weight * vector;
        fused.push((*id, total, cos.unwrap_or(f32::MIN)));
    }
    let mut by_meaning: Vec<(Uuid, f32)> = similarities
        .iter()
        .copied()
        .filter(|(id, cos)| *cos >= scale.floor && !seen.contains(id))
        .collect();
    by_meaning.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (id, cos) in by_meaning {
        if seen.insert(id) {
            fused.push((id, weight * meaning(cos), cos));
        }
    }
    // A stable sort keeps the lexical order, then the vector order, among equal scores.
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused
        .into_iter()
        .map(|(id, score, _)| (id, score))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCALE: VectorScale = VectorScale {
        floor: 0.2,
        weight: 0.5,
    };

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    fn order(fused: &[(Uuid, f64)]) -> Vec<Uuid> {
        fused.iter().map(|(id, _)| *id).collect()
    }

    #[test]
    fn a_full_lexical_match_stays_first_over_anything_found_by_meaning_alone() {
        let [exact, near, nearer] = ids(3).try_into().unwrap();
        // An identifier: one memory holds it all, the vector side prefers others.
        let fused = fuse(
            &[(exact, 1.0)],
            &[(nearer, 0.9), (near, 0.7), (exact, 0.1)],
            SCALE,
        );
        assert_eq!(order(&fused), vec![exact, nearer, near]);
        assert!((fused[0].1 - 0.5).abs() < 1e-9, "{fused:?}");
        assert!((fused[1].1 - 0.5 * 0.7 / 0.8).abs() < 1e-6, "{fused:?}");
    }

    #[test]
    fn a_weak_lexical_match_yields_to_the_memory_closer_in_meaning() {
        let [common_word, answer] = ids(2).try_into().unwrap();
        // The question shares one common word with an unrelated memory, and none with the
        // answer: rank fusion put the common word first, scores put the answer first.
        let fused = fuse(
            &[(common_word, 0.15)],
            &[(answer, 0.6), (common_word, 0.25)],
            SCALE,
        );
        assert_eq!(order(&fused), vec![answer, common_word]);
    }

    #[test]
    fn agreement_counts_for_more_than_either_side_alone() {
        let [both, words_only, meaning_only] = ids(3).try_into().unwrap();
        let fused = fuse(
            &[(words_only, 0.7), (both, 0.6)],
            &[(meaning_only, 0.8), (both, 0.7)],
            SCALE,
        );
        assert_eq!(order(&fused), vec![both, meaning_only, words_only]);
        assert!(fused.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(fused.iter().all(|(_, s)| (0.0..=1.0).contains(s)));
    }

    #[test]
    fn the_weight_moves_trust_between_the_sides() {
        let [words, meaning] = ids(2).try_into().unwrap();
        let lexical = [(words, 0.6)];
        let similarities = [(meaning, 0.8), (words, 0.3)];
        let trust_words = VectorScale {
            floor: 0.2,
            weight: 0.3,
        };
        let trust_meaning = VectorScale {
            floor: 0.2,
            weight: 0.7,
        };
        assert_eq!(
            order(&fuse(&lexical, &similarities, trust_words)),
            vec![words, meaning]
        );
        assert_eq!(
            order(&fuse(&lexical, &similarities, trust_meaning)),
            vec![meaning, words]
        );
    }

    #[test]
    fn under_the_floor_meaning_adds_nothing_and_finds_nothing() {
        let [lexical_hit, unrelated] = ids(2).try_into().unwrap();
        let fused = fuse(
            &[(lexical_hit, 0.4)],
            &[(unrelated, 0.19), (lexical_hit, 0.1)],
            SCALE,
        );
        assert_eq!(order(&fused), vec![lexical_hit], "{fused:?}");
        assert!((fused[0].1 - 0.2).abs() < 1e-9);
    }

    #[test]
    fn one_side_empty_keeps_the_other_order_and_equal_scores_keep_the_lexical_order() {
        let [a, b, c] = ids(3).try_into().unwrap();
        assert_eq!(
            order(&fuse(&[(a, 0.5), (b, 0.5), (c, 0.2)], &[], SCALE)),
            vec![a, b, c]
        );
        assert_eq!(
            order(&fuse(&[], &[(a, 0.3), (c, 0.9), (b, 0.5)], SCALE)),
            vec![c, b, a]
        );
        let perfect = fuse(&[(a, 1.0)], &[(a, 1.0)], SCALE);
        assert!((perfect[0].1 - 1.0).abs() < 1e-9);
        assert!(fuse(&[], &[], SCALE).is_empty());
        // Out-of-range scores and a repeated id do not break the order or the range.
        let odd = fuse(&[(a, 1.7), (a, 0.1), (b, -0.3)], &[], SCALE);
        assert_eq!(order(&odd), vec![a, b]);
        assert!(odd.iter().all(|(_, s)| (0.0..=1.0).contains(s)));
    }
}
