//! Macros that write the tests around a scenario.

/// For each `scenario` (an `async fn scenario(backend: Backend)` in the calling module), a
/// module of the same name holding two tests, `sqlite` and `postgres`, that run it on each
/// backend: `behaviour::dedup::sqlite`, `behaviour::dedup::postgres`. A filter on `sqlite` or
/// `postgres` runs one backend's half of the suite.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                use $crate::support::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$scenario(Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$scenario(Backend::Postgres).await;
                }
            }
        )*
    };
}
