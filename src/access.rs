//! Who acts and what they may do: [`Principal`] and its [`Permissions`]. This module is the one
//! owner of the permission names: how users type them (`--permissions read,write,admin`), how
//! the token tables store them (a JSON array of names), and the rules that combine them (a
//! minted token gets the intersection with its parent; every usable set includes `read`).
//! It sits below the memory service, the store and authentication, which all import it.

/// The permission names, as help texts and error messages list them.
pub const NAMES: &str = "read, write, admin";

/// What the caller may do, carried with every call.
///
/// `read` allows the read-only tools; `write` allows adding, changing and deleting memories;
/// `admin` allows changing or deleting other users' memories in the shared (global) pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    /// The read-only tools (search, list, get, history, status).
    pub read: bool,
    /// Adding, changing and deleting memories.
    pub write: bool,
    /// Changing or deleting other users' memories in the shared pool.
    pub admin: bool,
}

/// Why a list of permission names cannot be used. The messages name the bad input and say what
/// to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionsError {
    /// A name that is not `read`, `write` or `admin`.
    #[error(
        "'{0}' is not a permission: use a comma-separated list of {NAMES} (for example read,write)"
    )]
    Unknown(String),
    /// `write` or `admin` (the names given) without `read`.
    #[error("{names} without read is not a usable set: add read (for example read,{names})")]
    WithoutRead { names: String },
    /// No name at all.
    #[error("no permissions given: use a comma-separated list of {NAMES} (for example read,write)")]
    Empty,
    /// A stored value that is not a JSON array (the row was written by something else).
    #[error("permissions is not a JSON array: {0}")]
    NotAnArray(String),
    /// A stored array element that is not a string.
    #[error("permission {0} is not a string")]
    NotAString(String),
}

impl Permissions {
    /// Nothing: not usable by itself, the start of parsing and intersecting.
    pub const NONE: Permissions = Permissions {
        read: false,
        write: false,
        admin: false,
    };
    /// `read`: what `--read-only` gives.
    pub const READ_ONLY: Permissions = Permissions {
        read: true,
        ..Permissions::NONE
    };
    /// `read,write`: what a new token gets by default.
    pub const READ_WRITE: Permissions = Permissions {
        write: true,
        ..Permissions::READ_ONLY
    };
    /// `read,write,admin`: what the embedded database's owner has without a token.
    pub const ALL: Permissions = Permissions {
        admin: true,
        ..Permissions::READ_WRITE
    };

    /// The names of the granted permissions, in the order read, write, admin.
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.read {
            names.push("read");
        }
        if self.write {
            names.push("write");
        }
        if self.admin {
            names.push("admin");
        }
        names
    }

    /// Parses a comma-separated list such as `read,write` (case-insensitive, blanks and empty
    /// items ignored). Every token needs `read`: the read-only tools are what any session is
    /// offered, and `write` or `admin` without it would be a token nobody could use as
    /// documented.
    pub fn parse_list(list: &str) -> Result<Permissions, PermissionsError> {
        let mut permissions = Permissions::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            permissions.grant(name)?;
        }
        permissions.check_usable()?;
        Ok(permissions)
    }

    fn grant(&mut self, name: &str) -> Result<(), PermissionsError> {
        match name.to_ascii_lowercase().as_str() {
            "read" => self.read = true,
            "write" => self.write = true,
            "admin" => self.admin = true,
            _ => return Err(PermissionsError::Unknown(name.to_owned())),
        }
        Ok(())
    }

    /// A token or a minted token must at least be able to read.
    pub fn check_usable(self) -> Result<(), PermissionsError> {
        if self.read {
            Ok(())
        } else if self.write || self.admin {
            Err(PermissionsError::WithoutRead {
                names: self.names().join(","),
            })
        } else {
            Err(PermissionsError::Empty)
        }
    }

    /// The names as the token tables store them: a JSON array, in the order read, write, admin.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::Value::from(self.names())
    }

    /// Reads a stored JSON array of names; an unknown name means the row was written by
    /// something else. The set is not checked for usability: a stored row is what it is.
    pub fn from_json(value: &serde_json::Value) -> Result<Permissions, PermissionsError> {
        let names = value
            .as_array()
            .ok_or_else(|| PermissionsError::NotAnArray(value.to_string()))?;
        let mut permissions = Permissions::NONE;
        for name in names {
            let name = name
                .as_str()
                .ok_or_else(|| PermissionsError::NotAString(name.to_string()))?;
            permissions.grant(name)?;
        }
        Ok(permissions)
    }

    /// What both allow.
    pub fn intersect(self, other: Permissions) -> Permissions {
        Permissions {
            read: self.read && other.read,
            write: self.write && other.write,
            admin: self.admin && other.admin,
        }
    }

    /// True when `self` allows nothing `outer` does not.
    pub fn is_subset_of(self, outer: Permissions) -> bool {
        self.intersect(outer) == self
    }
}

/// Who acts: the user, what they may do, and the display id of the token they used, if any
/// (`mcp_` and 8 characters, or `mcp_…/jwt-…` for a minted token; never a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The acting user (see the table of user-id roles in the memory module).
    pub user_id: String,
    /// What they may do.
    pub permissions: Permissions,
    /// The token they used; `None` for the embedded database's owner without a token.
    pub token_display_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_bad_ones_are_named() {
        let read_only = Permissions::READ_ONLY;
        assert_eq!(Permissions::parse_list("read"), Ok(read_only));
        assert_eq!(
            Permissions::parse_list("read,write"),
            Ok(Permissions::READ_WRITE)
        );
        assert_eq!(
            Permissions::parse_list(" Read , WRITE,admin "),
            Ok(Permissions::ALL)
        );
        assert_eq!(Permissions::parse_list("read,read,"), Ok(read_only));
        let cases = [
            ("", "no permissions"),
            (",", "no permissions"),
            ("write", "write without read"),
            ("admin,write", "write,admin without read"),
            ("read,delete", "'delete' is not a permission"),
        ];
        for (input, want) in cases {
            let err = Permissions::parse_list(input).unwrap_err().to_string();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn json_round_trips() {
        for p in [
            Permissions::READ_ONLY,
            Permissions::READ_WRITE,
            Permissions::ALL,
        ] {
            assert_eq!(Permissions::from_json(&p.to_json()), Ok(p));
        }
        assert_eq!(
            Permissions::READ_WRITE.to_json(),
            serde_json::json!(["read", "write"])
        );
        assert!(Permissions::from_json(&serde_json::json!("read")).is_err());
        assert!(Permissions::from_json(&serde_json::json!(["root"])).is_err());
    }

    #[test]
    fn subsets() {
        assert!(Permissions::READ_ONLY.is_subset_of(Permissions::READ_WRITE));
        assert!(!Permissions::ALL.is_subset_of(Permissions::READ_WRITE));
        assert_eq!(
            Permissions::ALL.intersect(Permissions::READ_ONLY),
            Permissions::READ_ONLY
        );
    }
}
