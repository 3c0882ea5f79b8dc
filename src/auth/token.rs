//! The token itself: `mcp_` followed by 43 URL-safe base64 characters (32 bytes from the
//! operating system's random generator). The plaintext lives only in a [`Token`], whose `Debug`
//! and `Display` show the display id and nothing more; the database keeps its [`TokenHash`]
//! (defined by the store, which owns what is stored).

use std::fmt;

use base64::Engine;

use crate::store::TokenHash;

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "mcp_";
/// Characters after the prefix: 32 bytes in unpadded URL-safe base64.
const BODY_CHARS: usize = 43;
const RANDOM_BYTES: usize = 32;
/// The display id is the token's first 12 characters: the prefix and 8 more.
pub const DISPLAY_ID_CHARS: usize = TOKEN_PREFIX.len() + 8;

/// A plaintext token. Read the value with [`Token::expose`], which makes every use visible.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// Why a string is not a token. The message never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    #[error("it does not start with mcp_")]
    Prefix,
    #[error(
        "it has {0} characters after mcp_ instead of 43, so it was probably not copied completely"
    )]
    Length(usize),
    #[error("it contains characters a token never has (only A-Z, a-z, 0-9, - and _)")]
    Alphabet,
}

impl Token {
    /// A new random token.
    pub fn generate() -> Result<Token, getrandom::Error> {
        let mut bytes = [0u8; RANDOM_BYTES];
        getrandom::fill(&mut bytes)?;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Ok(Token(format!("{TOKEN_PREFIX}{body}")))
    }

    /// Checks the format only; whether the token exists is the database's business.
    pub fn parse(value: &str) -> Result<Token, TokenFormatError> {
        let body = value
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(TokenFormatError::Prefix)?;
        if !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(TokenFormatError::Alphabet);
        }
        if body.len() != BODY_CHARS {
            return Err(TokenFormatError::Length(body.len()));
        }
        Ok(Token(value.to_owned()))
    }

    /// True when the value has the shape of a token (a cheap test before [`Token::parse`]).
    pub fn looks_like_one(value: &str) -> bool {
        value.starts_with(TOKEN_PREFIX)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// `mcp_` and the next 8 characters: enough to tell tokens apart in lists and logs, far too
    /// little to guess the rest.
    pub fn display_id(&self) -> String {
        self.0[..DISPLAY_ID_CHARS].to_owned()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}…)", self.display_id())
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.display_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 4 + 43);
        assert_eq!(Token::parse(a.expose()), Ok(a.clone()));
        assert_eq!(a.display_id(), &a.expose()[..12]);
        assert_eq!(a.hash().as_str().len(), 64);
        assert_eq!(a.hash(), Token::parse(a.expose()).unwrap().hash());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn formatting_shows_only_the_display_id() {
        let token = Token::generate().unwrap();
        for shown in [format!("{token:?}"), format!("{token}")] {
            assert!(shown.contains(&token.display_id()), "{shown}");
            assert!(!shown.contains(token.expose()), "{shown}");
            assert!(!shown.contains(&token.expose()[12..20]), "{shown}");
        }
    }

    #[test]
    fn parse_names_what_is_wrong() {
        let good = format!("mcp_{}", "A".repeat(43));
        assert!(Token::parse(&good).is_ok());
        let cases = [
            ("abc", TokenFormatError::Prefix),
            ("MCP_", TokenFormatError::Prefix),
            ("mcp_abc", TokenFormatError::Length(3)),
            (&good[..40], TokenFormatError::Length(36)),
            (&format!("{good}x"), TokenFormatError::Length(44)),
            (
                &format!("mcp_{}+", "A".repeat(42)),
                TokenFormatError::Alphabet,
            ),
            (
                &format!("mcp_{} ", "A".repeat(42)),
                TokenFormatError::Alphabet,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Token::parse(input), Err(want), "{input}");
        }
    }
}
