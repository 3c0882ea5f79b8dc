//! A reader for git's `config` file format, just enough to find `remote.origin.url` and
//! `core.worktree` the way git itself reads them: sections and subsections, case rules, quoting,
//! escapes, comments and line continuations. It never runs `git`.

/// The entries of a git `config` file, in file order. Includes (`include.path`,
/// `includeIf`) and `url.<base>.insteadOf` rewrites are not followed: origin lives in the
/// repository's own config, and the URL normalization already equates the forms a rewrite
/// would produce.
#[derive(Debug, Default)]
pub(super) struct GitConfig {
    entries: Vec<ConfigEntry>,
}

#[derive(Debug)]
struct ConfigEntry {
    /// Lowercased: section names are case-insensitive.
    section: String,
    /// Case-sensitive, except in the legacy `[section.subsection]` form.
    subsection: Option<String>,
    /// Lowercased: key names are case-insensitive.
    key: String,
    /// `None` for a bare key, which git reads as boolean true.
    value: Option<String>,
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

impl GitConfig {
    pub(super) fn parse(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut chars = text.chars().peekable();
        let mut section: Option<(String, Option<String>)> = None;
        let mut entries = Vec::new();
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '#' | ';' => skip_line(&mut chars),
                '[' => {
                    chars.next();
                    section = parse_section_header(&mut chars);
                    if section.is_none() {
                        // Keys under a broken header must not land in the previous section.
                        skip_line(&mut chars);
                    }
                }
                c if c.is_ascii_alphabetic() => {
                    let (key, value) = parse_key_value(&mut chars);
                    if let Some((name, subsection)) = &section {
                        entries.push(ConfigEntry {
                            section: name.clone(),
                            subsection: subsection.clone(),
                            key,
                            value,
                        });
                    }
                }
                _ => skip_line(&mut chars),
            }
        }
        Self { entries }
    }

    pub(super) fn values<'a>(
        &'a self,
        section: &'a str,
        subsection: Option<&'a str>,
        key: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |entry| {
                entry.section == section
                    && entry.subsection.as_deref() == subsection
                    && entry.key == key
            })
            .filter_map(|entry| entry.value.as_deref())
    }

    /// The first non-empty `remote.origin.url`: with several, git fetches from the first.
    pub(super) fn origin_url(&self) -> Option<&str> {
        self.values("remote", Some("origin"), "url")
            .find(|url| !url.trim().is_empty())
    }
}

fn skip_line(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

fn skip_blanks(chars: &mut Chars<'_>) {
    while chars.next_if(|&c| c == ' ' || c == '\t').is_some() {}
}

/// Parses a header after its `[`, up to and including `]`; `None` when it is malformed.
fn parse_section_header(chars: &mut Chars<'_>) -> Option<(String, Option<String>)> {
    let mut name = String::new();
    while let Some(c) = chars.next_if(|&c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        name.push(c);
    }
    if name.is_empty() {
        return None;
    }
    if let Some((section, subsection)) = name.split_once('.') {
        chars.next_if_eq(&']')?;
        return Some((section.to_lowercase(), Some(subsection.to_lowercase())));
    }
    let section = name.to_lowercase();
    skip_blanks(chars);
    if chars.next_if_eq(&']').is_some() {
        return Some((section, None));
    }
    chars.next_if_eq(&'"')?;
    let mut subsection = String::new();
    loop {
        match chars.next_if(|&c| c != '\n')? {
            '"' => break,
            '\\' => subsection.push(chars.next_if(|&c| c != '\n')?),
            c => subsection.push(c),
        }
    }
    chars.next_if_eq(&']')?;
    Some((section, Some(subsection)))
}

/// Parses `key [= value]` and the rest of its line (or lines, with continuations).
fn parse_key_value(chars: &mut Chars<'_>) -> (String, Option<String>) {
    let mut key = String::new();
    while let Some(c) = chars.next_if(|&c| c.is_ascii_alphanumeric() || c == '-') {
        key.push(c.to_ascii_lowercase());
    }
    skip_blanks(chars);
    if chars.next_if_eq(&'=').is_some() {
        (key, Some(parse_value(chars)))
    } else {
        skip_line(chars);
        (key, None)
    }
}

/// Parses a value as git does: surrounding whitespace dropped, inner whitespace kept, `"`
/// quoting, backslash escapes, `#`/`;` comments outside quotes, `\` at the end of a line
/// continuing it.
fn parse_value(chars: &mut Chars<'_>) -> String {
    skip_blanks(chars);
    let mut value = String::new();
    // Whitespace outside quotes waits here until something follows it, so trailing
    // whitespace is dropped.
    let mut pending_blanks = String::new();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match c {
            '\n' => break,
            '#' | ';' if !in_quotes => {
                skip_line(chars);
                break;
            }
            '"' => {
                value.push_str(&pending_blanks);
                pending_blanks.clear();
                in_quotes = !in_quotes;
            }
            '\\' => {
                let escaped = match chars.next() {
                    None => break,
                    Some('\n') => continue,
                    Some('\r') if chars.next_if_eq(&'\n').is_some() => continue,
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('b') => '\u{8}',
                    Some(other) => other,
                };
                value.push_str(&pending_blanks);
                pending_blanks.clear();
                value.push(escaped);
            }
            c if !in_quotes && c.is_whitespace() => pending_blanks.push(c),
            c => {
                value.push_str(&pending_blanks);
                pending_blanks.clear();
                value.push(c);
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::super::ProjectSource;
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn config_parsing_finds_only_origin_url() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "comments and indentation",
                "# a comment\n; another\n  [remote \"origin\"]  # trailing\n\t  url   =   u1   ; note\n",
                Some("u1"),
            ),
            (
                "quoted value",
                "[remote \"origin\"]\n\turl = \"https://github.com/org/repo.git\"\n",
                Some("https://github.com/org/repo.git"),
            ),
            (
                "comment characters inside quotes",
                "[remote \"origin\"]\n\turl = \"/srv/a;b#c\" # real comment\n",
                Some("/srv/a;b#c"),
            ),
            (
                "partly quoted with escapes",
                "[remote \"origin\"]\n\turl = /srv/\"my repo\"\\\"x\n",
                Some("/srv/my repo\"x"),
            ),
            (
                "upstream before origin",
                "[remote \"upstream\"]\n\turl = up\n[remote \"origin\"]\n\turl = or\n",
                Some("or"),
            ),
            ("only upstream", "[remote \"upstream\"]\n\turl = up\n", None),
            (
                "origin after other sections",
                "[core]\n\tbare = false\n\turl = no\n[branch \"main\"]\n\turl = no\n\
                 [remote \"origin\"]\n\tfetch = +refs/heads/*\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "case-insensitive section and key",
                "[REMOTE \"origin\"]\n\tURL = yes\n",
                Some("yes"),
            ),
            (
                "case-sensitive subsection",
                "[remote \"Origin\"]\n\turl = no\n",
                None,
            ),
            (
                "legacy dotted header",
                "[remote.ORIGIN]\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "key on the header line",
                "[remote \"origin\"] url = yes\n",
                Some("yes"),
            ),
            (
                "pushurl only",
                "[remote \"origin\"]\n\tpushurl = no\n",
                None,
            ),
            (
                "first of several urls",
                "[remote \"origin\"]\n\turl = first\n\turl = second\n",
                Some("first"),
            ),
            (
                "repeated section",
                "[remote \"origin\"]\n\tfetch = x\n[core]\n[remote \"origin\"]\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "line continuation",
                "[remote \"origin\"]\n\turl = https://github.com/\\\norg/repo\n",
                Some("https://github.com/org/repo"),
            ),
            (
                "CRLF line endings",
                "[remote \"origin\"]\r\n\turl = yes\r\n",
                Some("yes"),
            ),
            (
                "escaped quote in subsection",
                "[remote \"or\\\"igin\"]\n\turl = no\n",
                None,
            ),
            ("bare key", "[remote \"origin\"]\n\turl\n", None),
            (
                "empty value skipped",
                "[remote \"origin\"]\n\turl =\n\turl = yes\n",
                Some("yes"),
            ),
            (
                "broken header does not inherit",
                "[remote \"origin\"]\n[bad\n\turl = no\n",
                None,
            ),
            ("key before any section", "url = no\n", None),
            (
                "byte order mark",
                "\u{feff}[remote \"origin\"]\nurl = yes",
                Some("yes"),
            ),
            ("empty file", "", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(GitConfig::parse(text).origin_url(), *expected, "{name}");
        }
    }

    #[test]
    fn config_details_pick_the_right_project() {
        let tmp = tempfile::tempdir().unwrap();
        let cases = [
            (
                "# managed by hand\n[core]\n\tbare = false\n[remote \"upstream\"]\n\
                 \turl = git@github.com:upstream/fork.git\n[remote \"origin\"] ; mine\n\
                 \turl = \"git@github.com:Org/Repo.git\" # ssh\n",
                ProjectSource::GitRemote,
            ),
            (
                "[remote \"upstream\"]\n\turl = git@github.com:org/repo.git\n",
                ProjectSource::GitTopLevel,
            ),
            (
                "[remote \"origin\"]\n\turl = \"\"\n",
                ProjectSource::GitTopLevel,
            ),
        ];
        for (index, (config, source)) in cases.into_iter().enumerate() {
            let root = tmp.path().join(format!("repo{index}"));
            make_repo(&root, config);
            let project = derive(&root);
            assert_eq!(project.source, source, "{config}");
            if source == ProjectSource::GitRemote {
                assert_eq!(project.id, expected_id("repo", GITHUB_IDENTITY));
            } else {
                assert_eq!(
                    project.id,
                    expected_id(&format!("repo{index}"), &path_identity(&root))
                );
            }
        }
    }
}
