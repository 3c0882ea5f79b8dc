//! Table-driven tests of the whole resolution: every layer of the precedence and every
//! conflict. The keychain is the `keyring-core` mock store (in memory).

use super::*;
use std::fs;

struct World {
    dir: tempfile::TempDir,
    env: Environment,
    flags: Flags,
    keychain: Keychain,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("cwd")).unwrap();
        fs::create_dir_all(dir.path().join("confdir")).unwrap();
        let mut env = Environment::new();
        env.insert(
            "MEM0_DATA_DIR".into(),
            dir.path().join("data").display().to_string(),
        );
        World {
            dir,
            env,
            flags: Flags::new(),
            keychain: Keychain::with_store(keyring_core::mock::Store::new().unwrap()),
        }
    }

    fn cwd(&self) -> PathBuf {
        self.dir.path().join("cwd")
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    fn flag(mut self, name: &'static str, value: &str) -> Self {
        self.flags.insert(name, value.into());
        self
    }

    fn keychain(self, name: SecretName, value: &str) -> Self {
        self.keychain.set(name, &Secret::new(value)).unwrap();
        self
    }

    /// Writes a file; one in the working directory is also trusted, as the user would (see
    /// [`World::untrusted`] for one that is not).
    fn file(self, relative: &str, text: &str) -> Self {
        let world = self.untrusted(relative, text);
        if relative.starts_with("cwd/") {
            let confdir = world.dir.path().join("confdir");
            let mut store = trust::TrustStore::load(Some(&confdir));
            store.trust(&trust::Read::file(&world.dir.path().join(relative)).unwrap());
            store.save(&confdir).unwrap();
        }
        world
    }

    fn untrusted(self, relative: &str, text: &str) -> Self {
        let path = self.dir.path().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        self
    }

    fn path(&self, relative: &str) -> String {
        self.dir.path().join(relative).display().to_string()
    }

    fn load(&self) -> Result<Loaded, String> {
        load_from(
            &self.flags,
            &self.env,
            &self.cwd(),
            Some(&self.dir.path().join("confdir")),
            &self.keychain,
        )
        .map_err(|e| e.to_string())
    }

    fn value(&self, name: &str) -> (Option<String>, Option<Source>) {
        let loaded = self.load().unwrap();
        (
            loaded.resolved.get(name).map(str::to_owned),
            loaded.resolved.source(name),
        )
    }
}

#[test]
fn plain_setting_precedence_flag_env_config_dotenv_default() {
    let config = r#"{"storage": {"max_memories_per_context": 30}}"#;
    let cases: Vec<(World, &str, Source)> = vec![
        (World::new(), "1000", Source::Default),
        (
            World::new().file("cwd/.env", "MEM0_MAX_MEMORIES_PER_CONTEXT=40\n"),
            "40",
            Source::Dotenv,
        ),
        (
            World::new()
                .file("cwd/.env", "MEM0_MAX_MEMORIES_PER_CONTEXT=40\n")
                .file("cwd/mem0.config.json", config),
            "30",
            Source::Config,
        ),
        (
            World::new()
                .file("cwd/mem0.config.json", config)
                .env("MEM0_MAX_MEMORIES_PER_CONTEXT", "20"),
            "20",
            Source::Env,
        ),
    ];
    for (world, want, source) in cases {
        assert_eq!(
            world.value("MEM0_MAX_MEMORIES_PER_CONTEXT"),
            (Some(want.into()), Some(source))
        );
    }
    let flagged = World::new()
        .env("PROJECT_ID_MODE", "global")
        .flag("PROJECT_ID_MODE", "manual")
        .flag("PROJECT_ID", "p1");
    assert_eq!(
        flagged.value("PROJECT_ID_MODE"),
        (Some("manual".into()), Some(Source::Flag))
    );
    assert_eq!(
        flagged.load().unwrap().settings.project_mode,
        ProjectMode::Manual
    );
}

#[test]
fn secret_precedence_env_file_keychain_dotenv() {
    let name = SecretName::DbPassword;
    let base = || World::new().env("MEM0_DB_HOST", "localhost");
    let cases: Vec<(World, &str, Source)> = vec![
        (
            base().file("cwd/.env", "MEM0_DB_PASSWORD=from-dotenv\n"),
            "from-dotenv",
            Source::Dotenv,
        ),
        (
            base()
                .file("cwd/.env", "MEM0_DB_PASSWORD=from-dotenv\n")
                .keychain(name, "from-keychain"),
            "from-keychain",
            Source::Keychain,
        ),
        {
            let w = base()
                .keychain(name, "from-keychain")
                .file("secrets/pw", "from-file\n");
            let p = w.path("secrets/pw");
            (
                w.env("MEM0_DB_PASSWORD_FILE", &p),
                "from-file",
                Source::File,
            )
        },
        (
            base()
                .keychain(name, "from-keychain")
                .env("MEM0_DB_PASSWORD", "from-env"),
            "from-env",
            Source::Env,
        ),
    ];
    for (world, want, source) in cases {
        let loaded = world.load().unwrap();
        assert_eq!(loaded.resolved.secret(name).unwrap().expose(), want);
        assert_eq!(loaded.resolved.source("MEM0_DB_PASSWORD"), Some(source));
        let DatabaseTarget::Postgres(url) = &loaded.settings.database else {
            panic!("postgres")
        };
        assert!(
            url.connection_string().expose().contains(want),
            "the password reaches the URL"
        );
    }
}

#[test]
fn secret_file_trims_one_newline_and_warns_when_shared() {
    let world = World::new().file("pw", "line\n\n");
    let path = world.path("pw");
    let world = world.env("MEM0_JWT_SECRET_FILE", &path);
    let err = world.load().unwrap_err();
    assert!(err.contains("at least 32"), "{err}");

    let world = World::new().file("jwt", &format!("{}\n", "k".repeat(40)));
    let path = world.path("jwt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let loaded = world.env("MEM0_JWT_SECRET_FILE", &path).load().unwrap();
    assert_eq!(loaded.settings.jwt_secret.unwrap().expose(), "k".repeat(40));
    #[cfg(unix)]
    assert!(
        loaded
            .resolved
            .warnings
            .iter()
            .any(|w| w.sentence().contains("chmod 600"))
    );
}

#[test]
fn dotenv_in_cwd_beats_config_dir_and_never_the_environment() {
    let world = World::new()
        .file("cwd/.env", "MEM0_USER_ID=from-cwd\n")
        .file(
            "confdir/.env",
            "MEM0_USER_ID=from-confdir\nPROJECT_ID=from-confdir\n",
        );
    assert_eq!(world.value("MEM0_USER_ID").0.as_deref(), Some("from-cwd"));
    assert_eq!(world.value("PROJECT_ID").0.as_deref(), Some("from-confdir"));
    let world = world.env("MEM0_USER_ID", "from-env");
    assert_eq!(
        world.value("MEM0_USER_ID"),
        (Some("from-env".into()), Some(Source::Env))
    );
}

#[test]
fn config_file_is_found_by_flag_env_cwd_then_config_dir() {
    let body = |n: u32| format!(r#"{{"server": {{"timeout": {n}}}}}"#);
    let w = World::new().file("confdir/mem0.config.json", &body(1));
    assert_eq!(w.value("MEM0_TIMEOUT").0.as_deref(), Some("1"));
    let w = w.file("cwd/mem0.config.json", &body(2));
    assert_eq!(w.value("MEM0_TIMEOUT").0.as_deref(), Some("2"));
    let w = w.file("elsewhere/a.json", &body(3));
    let p = w.path("elsewhere/a.json");
    let w = w.env("MEM0_CONFIG", &p);
    assert_eq!(w.value("MEM0_TIMEOUT").0.as_deref(), Some("3"));
    let w = w.file("elsewhere/b.json", &body(4));
    let p = w.path("elsewhere/b.json");
    let w = w.flag("MEM0_CONFIG", &p);
    assert_eq!(w.value("MEM0_TIMEOUT").0.as_deref(), Some("4"));
    assert!(
        w.load()
            .unwrap()
            .resolved
            .config_path
            .unwrap()
            .ends_with("b.json")
    );
}

#[test]
fn conflicts_fail_with_one_sentence_naming_both_sides() {
    let cases: Vec<(World, &str)> = vec![
        {
            let w = World::new().file("pw", "x\n");
            let p = w.path("pw");
            (
                w.env("MEM0_DB_PASSWORD", "y")
                    .env("MEM0_DB_PASSWORD_FILE", &p)
                    .env("MEM0_DB_HOST", "h"),
                "both MEM0_DB_PASSWORD and MEM0_DB_PASSWORD_FILE are set in the environment",
            )
        },
        (
            World::new().env("MEM0_TOKEN_FILE", "/nonexistent/token"),
            "MEM0_TOKEN_FILE points at /nonexistent/token, which cannot be read",
        ),
        {
            let w = World::new().file("empty", "\n");
            let p = w.path("empty");
            (w.env("MEM0_TOKEN_FILE", &p), "which is empty")
        },
        (
            World::new().file(
                "cwd/mem0.config.json",
                r#"{"security": {"jwt_secret_source": "keychain"}}"#,
            ),
            "security.jwt_secret_source (MEM0_JWT_SECRET_SOURCE) is the OS keychain, but nothing is there",
        ),
        (
            World::new()
                .file(
                    "cwd/mem0.config.json",
                    r#"{"security": {"jwt_secret_source": "file"}}"#,
                )
                .env("MEM0_JWT_SECRET", &"s".repeat(40)),
            "MEM0_JWT_SECRET comes from the environment (env), but security.jwt_secret_source (MEM0_JWT_SECRET_SOURCE) says it must come from a *_FILE secret file",
        ),
        (
            World::new()
                .env("MEM0_DB_SECRET_SOURCE", "keychain")
                .env("MEM0_DATABASE_URL", "postgresql://u:pw@h/d"),
            "MEM0_DATABASE_URL comes from the environment (env), but storage.auth_method",
        ),
        (
            World::new()
                .file(
                    "cwd/mem0.config.json",
                    r#"{"security": {"database_auth_method": "peer"}}"#,
                )
                .env("MEM0_DATABASE_URL", "postgresql://u:pw@h/d"),
            "is peer, but the connection carries a password",
        ),
        (
            World::new()
                .file(
                    "cwd/mem0.config.json",
                    r#"{"security": {"database_auth_method": "cert"}}"#,
                )
                .env("MEM0_DATABASE_URL", "postgresql://u@h/d"),
            "no client certificate",
        ),
        (
            World::new().file("cwd/mem0.config.json", r#"{"server": {"tiemout": 3}}"#),
            "unknown key 'server.tiemout' in the config file",
        ),
        (
            World::new().file(
                "cwd/mem0.config.json",
                r#"{"storage": {"database_url": "postgresql://u:pw@h/d"}}"#,
            ),
            "storage.database_url in the config file",
        ),
        (
            World::new().env("MEM0_JWT_SECRET", "short"),
            "MEM0_JWT_SECRET (from env) is 5 bytes",
        ),
        (
            World::new().env("MEM0_CONFIG", "/nonexistent/mem0.config.json"),
            "does not exist",
        ),
        (
            World::new().env("MEM0_DB_SECRET_SOURCE", "vault"),
            "is 'vault'",
        ),
        (
            World::new().file("cwd/mem0.config.json", r#"{"server": {"timeout": 0}}"#),
            "server.timeout in the config file is '0'",
        ),
    ];
    for (world, want) in cases {
        match (world.load(), want) {
            (Ok(_), want) => panic!("expected an error containing {want:?}"),
            (Err(err), want) => {
                assert!(err.contains(want), "want {want:?}, got: {err}");
                assert!(!err.contains("\n"), "one sentence: {err}");
                assert!(!err.contains(":pw@"), "no secret in: {err}");
            }
        }
    }
}

#[test]
fn an_environment_rule_ignores_the_keychain() {
    let loaded = World::new()
        .env("MEM0_DB_SECRET_SOURCE", "environment")
        .keychain(SecretName::DbPassword, "pw-in-keychain")
        .env("MEM0_DB_HOST", "h")
        .load()
        .unwrap();
    let DatabaseTarget::Postgres(url) = loaded.settings.database else {
        panic!()
    };
    assert_eq!(url.connection_string().expose(), "postgresql://h/");
}

#[test]
fn a_password_free_url_is_not_bound_by_the_secret_source_rule() {
    let w = World::new()
        .file("pw", "s3cret\n")
        .env("MEM0_DB_SECRET_SOURCE", "file")
        .env("MEM0_DATABASE_URL", "postgresql://me@db/mem0");
    let p = w.path("pw");
    let loaded = w.env("MEM0_DB_PASSWORD_FILE", &p).load().unwrap();
    let DatabaseTarget::Postgres(url) = loaded.settings.database else {
        panic!()
    };
    assert_eq!(
        url.connection_string().expose(),
        "postgresql://me:s3cret@db/mem0"
    );
}

#[test]
fn an_unavailable_keychain_is_skipped() {
    let mut w = World::new();
    w.keychain = Keychain::disabled("no D-Bus");
    let loaded = w.env("MEM0_USER_ID", "me").load().unwrap();
    assert!(loaded.settings.token.is_none());
    let mut w = World::new();
    w.keychain = Keychain::disabled("no D-Bus");
    let err = w
        .env("MEM0_JWT_SECRET_SOURCE", "keychain")
        .load()
        .unwrap_err();
    assert!(err.contains("cannot be used (no D-Bus)"), "{err}");
}

#[test]
fn defaults_use_the_embedded_database() {
    let loaded = World::new().load().unwrap();
    let s = loaded.settings;
    assert!(matches!(s.database, DatabaseTarget::Sqlite(ref p) if p.ends_with("data/mem0.db")));
    assert_eq!(s.project_mode, ProjectMode::Auto);
    assert_eq!(s.max_memories_per_context, 1000);
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert!(s.backup_enabled);
    assert_eq!(s.http_port, 13370);
}

#[test]
fn errors_carry_what_failed_and_the_fix_apart() {
    let world = World::new().env("MEM0_TIMEOUT", "soon");
    let error = load_from(
        &world.flags,
        &world.env,
        &world.cwd(),
        None,
        &world.keychain,
    )
    .unwrap_err();
    assert_eq!(error.problem.what, "MEM0_TIMEOUT (from env) is 'soon'");
    assert_eq!(error.problem.fix, "use a whole number from 1 to 3600");
    assert_eq!(
        error.to_string(),
        "MEM0_TIMEOUT (from env) is 'soon': use a whole number from 1 to 3600"
    );
}

#[test]
fn project_files_count_only_when_trusted_and_unchanged() {
    let hostile_env = "PROJECT_ID_MODE=global\nMEM0_LOG=trace\nMEM0_DB_SSLMODE=disable\n";
    let w = World::new()
        .untrusted("cwd/.env", hostile_env)
        .untrusted("cwd/mem0.config.json", r#"{"server": {"timeout": 7}}"#);
    let loaded = w.load().unwrap();
    assert_eq!(loaded.settings.project_mode, ProjectMode::Auto);
    assert_eq!(loaded.resolved.source("MEM0_LOG"), Some(Source::Default));
    assert_eq!(loaded.resolved.get("MEM0_TIMEOUT"), Some("10"));
    assert_eq!(loaded.resolved.ignored.len(), 2);
    assert!(
        loaded
            .resolved
            .ignored
            .iter()
            .all(|i| i.reason == trust::Distrust::Untrusted)
    );
    assert!(
        loaded
            .resolved
            .warnings
            .iter()
            .any(|w| w.fix.contains("mem0-mcp trust /")),
        "{:?}",
        loaded.resolved.warnings
    );
    // Trusted: used; changed afterwards: ignored again, saying so.
    let w = w.file("cwd/.env", hostile_env);
    assert_eq!(w.load().unwrap().settings.project_mode, ProjectMode::Global);
    let w = w.untrusted("cwd/.env", "PROJECT_ID_MODE=manual\nPROJECT_ID=x\n");
    let loaded = w.load().unwrap();
    assert_eq!(loaded.settings.project_mode, ProjectMode::Auto);
    assert!(
        loaded
            .resolved
            .ignored
            .iter()
            .any(|i| i.reason == trust::Distrust::Changed && i.path.ends_with(".env"))
    );
    // One too large to check is ignored too, and does not stop anything.
    let w = World::new().untrusted(
        "cwd/.env",
        &format!("PROJECT_ID_MODE=global\n#{}\n", "x".repeat(2 << 20)),
    );
    let loaded = w.load().unwrap();
    assert_eq!(loaded.settings.project_mode, ProjectMode::Auto);
    assert_eq!(
        loaded.resolved.ignored[0].reason,
        trust::Distrust::Unreadable
    );
    // The config directory's own files need no trust.
    let w = World::new().untrusted("confdir/.env", "PROJECT_ID_MODE=global\n");
    assert_eq!(w.load().unwrap().settings.project_mode, ProjectMode::Global);
}

#[test]
fn secret_files_are_read_relative_to_the_file_that_names_them() {
    let w = World::new()
        .file("confdir/jwt", &format!("{}\n", "j".repeat(40)))
        .untrusted("confdir/.env", "MEM0_JWT_SECRET_FILE=jwt\n");
    assert_eq!(
        w.load().unwrap().settings.jwt_secret.unwrap().expose(),
        "j".repeat(40)
    );
    // So is a config file a .env names.
    let w = World::new()
        .file("confdir/team.json", r#"{"server": {"timeout": 42}}"#)
        .untrusted("confdir/.env", "MEM0_CONFIG=team.json\n");
    assert_eq!(w.value("MEM0_TIMEOUT").0.as_deref(), Some("42"));
    // A trusted project .env may not climb out of its directory.
    let w = World::new()
        .file("key", "private key\n")
        .file("cwd/.env", "MEM0_DB_PASSWORD_FILE=../key\nMEM0_DB_HOST=h\n");
    let err = w.load().unwrap_err();
    assert!(err.contains("names a file outside that directory"), "{err}");
    assert!(!err.contains("private key"), "{err}");
}

#[test]
fn trusted_proxies_are_addresses_or_networks() {
    let world = World::new().env("MEM0_HTTP_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1");
    let loaded = world.load().unwrap();
    let nets: Vec<String> = loaded
        .settings
        .http_trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);

    for bad in ["proxy.example.com", "10.0.0.0/33", "10.0.0.1-10.0.0.9"] {
        let error = World::new()
            .env("MEM0_HTTP_TRUSTED_PROXIES", &format!("127.0.0.1,{bad}"))
            .load()
            .unwrap_err();
        assert!(
            error.contains(&format!("has '{bad}', which is neither an IP address"))
                && error.contains("e.g. 127.0.0.1,10.0.0.0/8"),
            "{error}"
        );
    }
}
