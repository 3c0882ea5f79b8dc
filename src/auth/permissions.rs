//! Permission names as users type them (`--permissions read,write,admin`) and as the tables
//! store them (a JSON array of names).

use crate::memory::Permissions;

pub const NAMES: &str = "read, write, admin";

/// Parses a comma-separated list such as `read,write`. Every token needs `read`: the read-only
/// tools are what any session is offered, and `write` or `admin` without it would be a token
/// nobody could use as documented.
pub fn parse_list(list: &str) -> Result<Permissions, String> {
    let mut permissions = Permissions {
        read: false,
        write: false,
        admin: false,
    };
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        set(&mut permissions, name)?;
    }
    check_usable(permissions)?;
    Ok(permissions)
}

fn set(permissions: &mut Permissions, name: &str) -> Result<(), String> {
    match name.to_ascii_lowercase().as_str() {
        "read" => permissions.read = true,
        "write" => permissions.write = true,
        "admin" => permissions.admin = true,
        _ => {
            return Err(format!(
                "'{name}' is not a permission: use a comma-separated list of {NAMES} (for example read,write)"
            ));
        }
    }
    Ok(())
}

/// A token or minted token must at least be able to read.
pub fn check_usable(permissions: Permissions) -> Result<(), String> {
    if permissions.read {
        Ok(())
    } else if permissions.write || permissions.admin {
        Err(format!(
            "{} without read is not a usable set: add read (for example read,{})",
            permissions.names().join(","),
            permissions.names().join(",")
        ))
    } else {
        Err(format!(
            "no permissions given: use a comma-separated list of {NAMES} (for example read,write)"
        ))
    }
}

/// The names as stored: a JSON array, in the order read, write, admin.
pub fn to_json(permissions: Permissions) -> serde_json::Value {
    serde_json::Value::from(permissions.names())
}

/// Reads a stored JSON array; an unknown name means the row was written by something else.
pub fn from_json(value: &serde_json::Value) -> Result<Permissions, String> {
    let names = value
        .as_array()
        .ok_or_else(|| format!("permissions is not a JSON array: {value}"))?;
    let mut permissions = Permissions {
        read: false,
        write: false,
        admin: false,
    };
    for name in names {
        let name = name
            .as_str()
            .ok_or_else(|| format!("permission {name} is not a string"))?;
        set(&mut permissions, name)?;
    }
    Ok(permissions)
}

/// What both allow.
pub fn intersect(a: Permissions, b: Permissions) -> Permissions {
    Permissions {
        read: a.read && b.read,
        write: a.write && b.write,
        admin: a.admin && b.admin,
    }
}

/// True when `inner` allows nothing `outer` does not.
pub fn is_subset(inner: Permissions, outer: Permissions) -> bool {
    intersect(inner, outer) == inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_bad_ones_are_named() {
        assert_eq!(parse_list("read"), Ok(READ_ONLY));
        assert_eq!(parse_list("read,write"), Ok(Permissions::READ_WRITE));
        assert_eq!(parse_list(" Read , WRITE,admin "), Ok(Permissions::ALL));
        assert_eq!(parse_list("read,read,"), Ok(READ_ONLY));
        let cases = [
            ("", "no permissions"),
            (",", "no permissions"),
            ("write", "write without read"),
            ("admin,write", "write,admin without read"),
            ("read,delete", "'delete' is not a permission"),
        ];
        for (input, want) in cases {
            let err = parse_list(input).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    const READ_ONLY: Permissions = Permissions {
        read: true,
        write: false,
        admin: false,
    };

    #[test]
    fn json_round_trips() {
        for p in [READ_ONLY, Permissions::READ_WRITE, Permissions::ALL] {
            assert_eq!(from_json(&to_json(p)), Ok(p));
        }
        assert_eq!(
            to_json(Permissions::READ_WRITE),
            serde_json::json!(["read", "write"])
        );
        assert!(from_json(&serde_json::json!("read")).is_err());
        assert!(from_json(&serde_json::json!(["root"])).is_err());
    }

    #[test]
    fn subsets() {
        assert!(is_subset(READ_ONLY, Permissions::READ_WRITE));
        assert!(!is_subset(Permissions::ALL, Permissions::READ_WRITE));
        assert_eq!(intersect(Permissions::ALL, READ_ONLY), READ_ONLY);
    }
}
