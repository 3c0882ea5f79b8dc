//! One scope's memories as an inverted index in memory, ranked by BM25 (Robertson and Zaragoza,
//! "The Probabilistic Relevance Framework: BM25 and Beyond", 2009; the idf form Lucene uses,
//! which never goes negative). A word that most memories hold weighs little, a rare one much;
//! repeats count with diminishing returns; long memories are not favoured for being long.
//!
//! Query words match a memory's terms exactly, or as a prefix (three bytes or more) at a lower
//! weight. Literal fragments (`pnpm-lock.yaml`, `v1.2.3`) are terms of their own, found as
//! case-insensitive substrings of the content. The ranking depends only on the scope's
//! memories and the query, never on the backend or the order rows arrive in, so both backends
//! rank alike.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::analyze::Analyzer;
use crate::store::{ScopeStamp, SearchDocument};

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalization (0: none, 1: full).
const B: f64 = 0.75;
/// How much a term that only starts with the query word counts, against an exact match.
const PREFIX_WEIGHT: f64 = 0.5;
/// Shortest query word (in bytes) that also matches as a prefix: `go` must not find every
/// `google` and `golang`.
const MIN_PREFIX_BYTES: usize = 3;

/// A memory's analysis: (term id, count) pairs, how many terms in all, the lowercase content.
type Analysed = (Box<[(u32, u32)]>, u32, Box<str>);

/// One memory as the index holds it.
#[derive(Debug)]
struct Doc {
    id: Uuid,
    content_hash: Box<str>,
    /// Lowercase content, for literal fragments.
    content_lower: Box<str>,
    tags: Box<[String]>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    /// (term id, how often), each term once.
    terms: Box<[(u32, u32)]>,
    /// How many terms the memory has, repeats counted.
    len: u32,
    /// False once deleted or replaced by an edit (its postings stay until the next rebuild).
    live: bool,
}

/// A ranked memory: its id and a score from 0 to 1, the share of the query's full weight it
/// matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: Uuid,
    pub score: f64,
}

/// The index of one scope as it was at `stamp`.
#[derive(Debug)]
pub struct ScopeIndex {
    stamp: ScopeStamp,
    dict: BTreeMap<Box<str>, u32>,
    /// Per term id: (doc, how often).
    postings: Vec<Vec<(u32, u32)>>,
    docs: Vec<Doc>,
    /// Where each live memory is in `docs`.
    by_id: HashMap<Uuid, u32>,
    /// Live memories, and their terms in all.
    live: usize,
    live_len: u64,
}

/// How one write changed a scope, to bring its index up to date without reading the scope.
#[derive(Debug)]
pub enum Change {
    /// A memory was stored.
    Added(SearchDocument),
    /// A memory's content, tags or expiry changed: it is now this.
    Edited(SearchDocument),
    /// A memory was deleted.
    Removed(Uuid),
}

impl ScopeIndex {
    /// Indexes `documents` (the scope at `stamp`). A memory `previous` already indexed with the
    /// same content hash is not analysed again.
    pub fn build(
        stamp: ScopeStamp,
        documents: Vec<SearchDocument>,
        previous: Option<&ScopeIndex>,
        analyzer: &Analyzer,
    ) -> ScopeIndex {
        // The previous dictionary is kept (its term ids stay valid for reused memories) unless
        // edits have left it mostly terms no memory holds any more.
        let reuse = previous.filter(|p| {
            let live = p.postings.iter().filter(|list| !list.is_empty()).count();
            p.dict.len() <= 2 * live + 1024
        });
        let mut index = ScopeIndex {
            stamp,
            dict: reuse.map(|p| p.dict.clone()).unwrap_or_default(),
            postings: Vec::new(),
            docs: Vec::with_capacity(documents.len()),
            by_id: HashMap::with_capacity(documents.len()),
            live: 0,
            live_len: 0,
        };
        for document in documents {
            let known = reuse
                .and_then(|p| p.by_id.get(&document.id).map(|&d| &p.docs[d as usize]))
                .filter(|old| *old.content_hash == *document.content_hash);
            let (terms, len, content_lower) = match known {
                Some(old) => (old.terms.clone(), old.len, old.content_lower.clone()),
                None => index.analyse(&document.content, analyzer),
            };
            index.push(document, terms, len, content_lower);
        }
        // Every term has its (maybe empty) list, so any term id the dictionary gives is valid.
        index.postings.resize_with(index.dict.len(), Vec::new);
        index
    }

    /// The terms of `content` as (term id, count), adding new terms to the dictionary; how
    /// many terms in all; the content in lowercase.
    fn analyse(&mut self, content: &str, analyzer: &Analyzer) -> Analysed {
        let words = analyzer.document_terms(content);
        let mut counts: Vec<(u32, u32)> = Vec::new();
        for word in &words {
            let next = self.dict.len() as u32;
            let id = *self.dict.entry(word.as_str().into()).or_insert(next);
            match counts.iter_mut().find(|(t, _)| *t == id) {
                Some((_, n)) => *n += 1,
                None => counts.push((id, 1)),
            }
        }
        (
            counts.into_boxed_slice(),
            words.len() as u32,
            content.to_lowercase().into_boxed_str(),
        )
    }

    /// Appends a live memory with its analysed terms (replacing one of the same id).
    fn push(
        &mut self,
        document: SearchDocument,
        terms: Box<[(u32, u32)]>,
        len: u32,
        content_lower: Box<str>,
    ) {
        self.remove(document.id);
        let d = self.docs.len() as u32;
        if self.postings.len() < self.dict.len() {
            self.postings.resize_with(self.dict.len(), Vec::new);
        }
        for &(term, count) in terms.iter() {
            self.postings[term as usize].push((d, count));
        }
        self.by_id.insert(document.id, d);
        self.live += 1;
        self.live_len += u64::from(len);
        self.docs.push(Doc {
            id: document.id,
            content_hash: document.content_hash.into_boxed_str(),
            content_lower,
            tags: document.tags.into_boxed_slice(),
            created_at: document.created_at,
            expires_at: document.expires_at,
            terms,
            len,
            live: true,
        });
    }

    /// Marks the memory `id` deleted; false if the index does not hold it.
    fn remove(&mut self, id: Uuid) -> bool {
        let Some(d) = self.by_id.remove(&id) else {
            return false;
        };
        let doc = &mut self.docs[d as usize];
        doc.live = false;
        self.live -= 1;
        self.live_len -= u64::from(doc.len);
        true
    }

    /// Applies one write made by this process, and moves the stamp by what that write did to
    /// the scope's counters (see `Lexical::note`).
    pub fn apply(&mut self, change: Change, analyzer: &Analyzer) {
        let (memories, changes) = match change {
            Change::Added(document) | Change::Edited(document) => {
                let added = !self.by_id.contains_key(&document.id);
                let (terms, len, content_lower) = self.analyse(&document.content, analyzer);
                self.push(document, terms, len, content_lower);
                (i64::from(added), 1)
            }
            Change::Removed(id) => {
                self.remove(id);
                (-1, 1)
            }
        };
        self.stamp.memories += memories;
        self.stamp.changes += changes;
    }

    /// True when deleted and replaced memories outnumber the live ones: time to rebuild.
    pub fn is_mostly_dead(&self) -> bool {
        self.docs.len() - self.live > self.live.max(1024)
    }

    /// The scope's stamp when it was indexed.
    pub fn stamp(&self) -> ScopeStamp {
        self.stamp
    }

    /// How many memories the index holds, deleted ones included until the next rebuild.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// The memories matching any of `words` (index terms, see [`Analyzer::query_terms`]) or
    /// `fragments` (lowercase literals), unexpired at `now`, carrying every one of `tags`, best
    /// first: score, then newest, then id (both descending). At most `limit`.
    pub fn search(
        &self,
        words: &[String],
        fragments: &[String],
        tags: &[String],
        now: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Hit> {
        let n = self.live;
        if n == 0 || limit == 0 {
            return Vec::new();
        }
        let avg_len = (self.live_len as f64 / n as f64).max(1.0);
        let mut scores = vec![0f64; self.docs.len()];
        let mut tf = vec![0f64; self.docs.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut hits: Vec<u32> = Vec::new();
        let mut full_weight = 0.0;
        let mut add_term = |tf: &mut [f64], touched: &mut Vec<u32>| {
            let df = touched.len() as f64;
            let idf = (1.0 + (n as f64 - df + 0.5) / (df + 0.5)).ln();
            full_weight += idf * (K1 + 1.0);
            for &d in touched.iter() {
                let d = d as usize;
                if scores[d] == 0.0 {
                    hits.push(d as u32);
                }
                let norm = K1 * (1.0 - B + B * f64::from(self.docs[d].len) / avg_len);
                scores[d] += idf * tf[d] * (K1 + 1.0) / (tf[d] + norm);
                tf[d] = 0.0;
            }
            touched.clear();
        };
        for word in words {
            for (term, weight) in self.matching_terms(word) {
                for &(d, count) in &self.postings[term as usize] {
                    if !self.docs[d as usize].live {
                        continue;
                    }
                    if tf[d as usize] == 0.0 {
                        touched.push(d);
                    }
                    tf[d as usize] += weight * f64::from(count);
                }
            }
            add_term(&mut tf, &mut touched);
        }
        for fragment in fragments {
            for (d, doc) in self.docs.iter().enumerate() {
                if doc.live && doc.content_lower.contains(fragment.as_str()) {
                    touched.push(d as u32);
                    tf[d] = 1.0;
                }
            }
            add_term(&mut tf, &mut touched);
        }
        let mut ranked: Vec<(f64, &Doc)> = hits
            .into_iter()
            .map(|d| (scores[d as usize], &self.docs[d as usize]))
            .filter(|(_, doc)| doc.expires_at.is_none_or(|at| at > now))
            .filter(|(_, doc)| tags.iter().all(|t| doc.tags.contains(t)))
            .collect();
        let order = |a: &(f64, &Doc), b: &(f64, &Doc)| {
            b.0.total_cmp(&a.0)
                .then(b.1.created_at.cmp(&a.1.created_at))
                .then(b.1.id.cmp(&a.1.id))
        };
        if ranked.len() > limit {
            ranked.select_nth_unstable_by(limit - 1, order);
            ranked.truncate(limit);
        }
        ranked.sort_unstable_by(order);
        ranked
            .into_iter()
            .map(|(score, doc)| Hit {
                id: doc.id,
                score: if full_weight > 0.0 {
                    (score / full_weight).min(1.0)
                } else {
                    0.0
                },
            })
            .collect()
    }

    /// The index terms a query word matches, each with its weight: itself, and (for words of
    /// [`MIN_PREFIX_BYTES`] or more) every longer term it starts.
    fn matching_terms<'a>(&'a self, word: &'a str) -> impl Iterator<Item = (u32, f64)> + 'a {
        let exact = self.dict.get(word).map(|&id| (id, 1.0));
        let longer = (word.len() >= MIN_PREFIX_BYTES)
            .then(|| {
                self.dict
                    .range::<str, _>((std::ops::Bound::Excluded(word), std::ops::Bound::Unbounded))
                    .take_while(move |(term, _)| term.starts_with(word))
                    .map(|(_, &id)| (id, PREFIX_WEIGHT))
            })
            .into_iter()
            .flatten();
        exact.into_iter().chain(longer)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::store::SearchTerms;

    fn doc(n: u128, content: &str, tags: &[&str], age_minutes: i64) -> SearchDocument {
        SearchDocument {
            id: Uuid::from_u128(n),
            content: content.into(),
            content_hash: format!("hash of {content}"),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: Utc::now() - TimeDelta::minutes(age_minutes),
            expires_at: None,
        }
    }

    fn ranked(index: &ScopeIndex, query: &str, tags: &[&str]) -> Vec<u128> {
        let analyzer = Analyzer::default();
        let terms = SearchTerms::parse(query);
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        index
            .search(
                &analyzer.query_terms(query),
                &terms.fragments,
                &tags,
                Utc::now(),
                10,
            )
            .into_iter()
            .map(|h| h.id.as_u128())
            .collect()
    }

    fn build(docs: Vec<SearchDocument>) -> ScopeIndex {
        ScopeIndex::build(ScopeStamp::default(), docs, None, &Analyzer::default())
    }

    #[test]
    fn a_rare_word_outweighs_common_ones() {
        let mut docs: Vec<SearchDocument> = (0..20)
            .map(|i| doc(i, "the team decided the release date", &[], 10))
            .collect();
        docs.push(doc(99, "Maria prefers a quiet release", &[], 30));
        let index = build(docs);
        let found = ranked(
            &index,
            "What did Maria's team decide about the release?",
            &[],
        );
        assert_eq!(found[0], 99);
        assert_eq!(found.len(), 10);
    }

    #[test]
    fn exact_words_before_prefixes_and_stems_meet() {
        let index = build(vec![
            doc(1, "configuration lives in etc", &[], 1),
            doc(2, "the config file", &[], 2),
            doc(3, "we were deploying on friday", &[], 3),
            doc(4, "go is the language", &[], 4),
            doc(5, "google docs", &[], 5),
        ]);
        assert_eq!(ranked(&index, "config", &[]), [2, 1]);
        assert_eq!(ranked(&index, "deploys", &[]), [3]);
        // Two letters match only themselves.
        assert_eq!(ranked(&index, "go", &[]), [4]);
    }

    #[test]
    fn fragments_tags_expiry_and_ties() {
        let mut expired = doc(3, "see file-17.yaml", &[], 3);
        expired.expires_at = Some(Utc::now() - TimeDelta::minutes(1));
        let index = build(vec![
            doc(1, "see file-17.yaml for the ports", &["ops"], 1),
            doc(2, "file 17 and a yaml file", &[], 2),
            expired,
            doc(4, "ports are fixed", &["ops"], 4),
            doc(5, "ports are fixed", &["ops"], 4),
        ]);
        assert_eq!(ranked(&index, "file-17.yaml", &[]), [1, 2]);
        assert_eq!(ranked(&index, "ports", &["ops"]), [5, 4, 1]);
        assert!(ranked(&index, "ports", &["dev"]).is_empty());
    }

    #[test]
    fn a_rebuild_reuses_unchanged_memories_and_ranks_the_same() {
        let analyzer = Analyzer::default();
        let docs = vec![
            doc(1, "pnpm is the package manager", &[], 1),
            doc(2, "deploys go through fly", &[], 2),
        ];
        let first = ScopeIndex::build(ScopeStamp::default(), docs.clone(), None, &analyzer);
        let mut edited = docs.clone();
        edited[1] = doc(2, "deploys go through render", &[], 2);
        edited.push(doc(3, "pnpm workspaces hold the apps", &[], 3));
        let second = ScopeIndex::build(
            ScopeStamp::default(),
            edited.clone(),
            Some(&first),
            &analyzer,
        );
        let fresh = ScopeIndex::build(ScopeStamp::default(), edited, None, &analyzer);
        for query in ["pnpm", "fly", "render", "deploys pnpm"] {
            assert_eq!(
                ranked(&second, query, &[]),
                ranked(&fresh, query, &[]),
                "{query}"
            );
        }
        assert!(ranked(&second, "fly", &[]).is_empty());
    }

    #[test]
    fn writes_applied_in_place_rank_as_a_rebuild_does() {
        let analyzer = Analyzer::default();
        let docs = vec![
            doc(1, "pnpm is the package manager", &[], 1),
            doc(2, "deploys go through fly", &[], 2),
            doc(3, "the release train leaves on fridays", &[], 3),
        ];
        let mut patched = ScopeIndex::build(
            ScopeStamp {
                memories: 3,
                changes: 7,
            },
            docs.clone(),
            None,
            &analyzer,
        );
        patched.apply(
            Change::Added(doc(4, "pnpm workspaces hold the apps", &[], 0)),
            &analyzer,
        );
        patched.apply(
            Change::Edited(doc(2, "deploys go through render", &[], 2)),
            &analyzer,
        );
        patched.apply(Change::Removed(Uuid::from_u128(3)), &analyzer);
        assert_eq!(
            patched.stamp(),
            ScopeStamp {
                memories: 3,
                changes: 10
            }
        );
        let fresh = build(vec![
            doc(1, "pnpm is the package manager", &[], 1),
            doc(2, "deploys go through render", &[], 2),
            doc(4, "pnpm workspaces hold the apps", &[], 0),
        ]);
        for query in [
            "pnpm",
            "fly",
            "render",
            "release fridays",
            "deploys pnpm apps",
        ] {
            let a = patched.search(&analyzer.query_terms(query), &[], &[], Utc::now(), 10);
            let b = fresh.search(&analyzer.query_terms(query), &[], &[], Utc::now(), 10);
            assert_eq!(a, b, "{query}");
        }
    }
}
