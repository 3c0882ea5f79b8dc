//! The builtin model's vectors against model2vec's own Rust implementation (`model2vec-rs`,
//! which keeps the table as stored), on the test model as distilled (int8 with a scale per
//! token) and on the same model stored as float32, which the builtin model quantizes to
//! int8 itself. Texts of every kind a memory holds: prose, code identifiers, paths, CJK,
//! emoji, accents, and texts with little or nothing in them.

use mem0_mcp::embedding::builtin::BuiltinModel;
use model2vec_rs::model::StaticModel;

use crate::support::model::{float32_test_model_dir, test_model_dir};

const TEXTS: &[&str] = &[
    "Deploys go through Fly.io from the main branch",
    "how do we ship a release?",
    "Use `cargo clippy --all-targets -- -D warnings` before every commit",
    "fn parse_database_url(url: &str) -> Result<PgConnectOptions, ConfigError>",
    "src/store/postgres/vectors.rs holds HTTP_TIMEOUT_MS and retryBackoffFactor",
    "数据库迁移在 migrations 目录里；テストは本物のデータベースで",
    "The release party 🎉🚀 is on Friday 🍕",
    "Café naïve résumé: Zürich Straße, São Paulo",
    "?",
    "a",
    "   \t\n  ",
    "",
    "🙂",
    "supercalifragilisticexpialidocious-xyzzy-qwrtp",
    // Special tokens typed as text, and a word past WordPiece's 100-character limit.
    "[CLS] the [MASK] token and [SEP] [PAD] in a sentence",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa deploy",
];

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Every text's vector against the reference's: both zero (nothing known in the text), or
/// a cosine of at least `min`. Returns the lowest cosine seen.
fn compare(dir: &std::path::Path, min: f32) -> f32 {
    let ours = BuiltinModel::load(dir).expect("our loader reads the model");
    let reference = StaticModel::from_pretrained(dir, None, Some(true), None)
        .expect("model2vec-rs reads the model");
    assert_eq!(ours.dims(), reference.dim());
    let mut lowest = 1.0f32;
    for text in TEXTS {
        let theirs = reference.encode_single(text);
        let mine = ours.embed_one(text).expect("embed");
        let zero = |v: &[f32]| v.iter().all(|x| *x == 0.0);
        if zero(&theirs) || zero(&mine) {
            assert!(
                zero(&theirs) && zero(&mine),
                "{text:?}: one implementation found tokens, the other none"
            );
            continue;
        }
        let similarity = cosine(&mine, &theirs);
        assert!(
            similarity >= min,
            "{text:?}: cosine {similarity} with model2vec-rs, below {min} ({})",
            dir.display()
        );
        lowest = lowest.min(similarity);
    }
    lowest
}

#[test]
fn the_int8_test_model_gives_model2vecs_vectors() {
    // Same tokens, same stored values: only the order of float additions may differ.
    let lowest = compare(&test_model_dir(), 0.9999);
    eprintln!("int8 test model: lowest cosine {lowest}");
}

#[test]
fn a_float32_model_quantized_on_load_stays_within_a_cosine_of_0_99() {
    let lowest = compare(&float32_test_model_dir(), 0.99);
    eprintln!("float32 test model, quantized to int8 on load: lowest cosine {lowest}");
}

#[test]
fn texts_that_mean_the_same_are_closer_than_unrelated_ones() {
    let model = BuiltinModel::load(&test_model_dir()).unwrap();
    let v = |t: &str| model.embed_one(t).unwrap();
    let (deploy, ship, cat) = (
        v("Deploys go through Fly.io from the main branch"),
        v("how do we deploy a release to production?"),
        v("The office cat is called Miso"),
    );
    assert!(cosine(&deploy, &ship) > cosine(&deploy, &cat));
    let norm: f32 = deploy.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
}

/// The tokenizer the builtin model builds for a WordPiece model (its own vocabulary under the
/// library's normalizer and pre-tokenizer) against the library's loader of the same file, id
/// for id, over every line of the README and the sample texts: prose, code, tables, links,
/// Unicode.
#[test]
fn the_wordpiece_tokenizer_gives_the_librarys_ids() {
    use mem0_mcp::embedding::tokens::TextTokenizer;

    let bytes = std::fs::read(test_model_dir().join("tokenizer.json")).expect("tokenizer.json");
    let ours = TextTokenizer::from_json(&bytes).expect("our tokenizer loads");
    let mut library = tokenizers::Tokenizer::from_bytes(&bytes).expect("the library loads");
    library.with_truncation(None).expect("no truncation");
    let unknown = library.token_to_id("[UNK]").expect("[UNK]");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut ids = Vec::new();
    let mut compared = 0;
    for text in readme.lines().chain(TEXTS.iter().copied()) {
        ours.ids(text, usize::MAX, &mut ids)
            .expect("ours tokenizes");
        let want: Vec<u32> = library
            .encode_fast(text, false)
            .expect("the library tokenizes")
            .get_ids()
            .iter()
            .copied()
            .filter(|&id| id != unknown)
            .collect();
        assert_eq!(ids, want, "{text:?}");
        compared += 1;
    }
    assert!(compared > 500, "only {compared} texts");
}
