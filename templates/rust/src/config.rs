//! Runtime configuration: the spec's values, overridden by environment variables.
//!
//! | variable | default | valid values |
//! |---|---|---|
//! | `HOST` | `0.0.0.0` | an address to bind |
//! | `PORT` | spec `port` | integer 1..65535 |
//! | `WS_MAX_PAYLOAD` | spec `maxPayload` | integer bytes, 1..1099511627776 |
//! | `WS_PING_INTERVAL` | spec `pingInterval` | integer milliseconds, 1..86400000 |
//! | `WS_COMPRESSION` | spec `compression.enabled` | `true` or `false` (also `1`/`0`) |
//!
//! An invalid value stops start-up with a [`ConfigError`] naming the variable,
//! the value and what is expected.

use crate::spec;
use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

/// Largest `WS_MAX_PAYLOAD` accepted: 1 TiB.
const MAX_PAYLOAD_LIMIT: u64 = 1 << 40;

/// Largest `WS_PING_INTERVAL` accepted: one day, in milliseconds.
const PING_INTERVAL_LIMIT: u64 = 86_400_000;

/// The settings the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind (`HOST`).
    pub host: String,
    /// Port to bind (`PORT`).
    pub port: u16,
    /// Largest message accepted, in bytes (`WS_MAX_PAYLOAD`); larger ones close with 1009.
    pub max_payload: u64,
    /// Heartbeat period (`WS_PING_INTERVAL`).
    pub ping_interval: Duration,
    /// Whether permessage-deflate is offered to clients (`WS_COMPRESSION`).
    pub compression: bool,
}

/// An environment variable whose value the server cannot run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    var: &'static str,
    value: String,
    expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}={:?}: expected {}",
            self.var, self.value, self.expected
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|var| std::env::var_os(var))
    }

    /// Reads the configuration through `lookup`: the environment, or a map in tests.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Config, ConfigError> {
        let host = match lookup("HOST") {
            None => "0.0.0.0".to_string(),
            Some(raw) => {
                let value = raw.to_string_lossy().into_owned();
                if value.trim().is_empty() || raw.to_str().is_none() {
                    return Err(invalid(
                        "HOST",
                        value,
                        "an address to bind, such as 127.0.0.1",
                    ));
                }
                value
            }
        };
        let port = integer(&lookup, "PORT", u64::from(spec::PORT), u64::from(u16::MAX))?;
        Ok(Config {
            host,
            port: u16::try_from(port).expect("PORT is checked against u16::MAX"),
            max_payload: integer(
                &lookup,
                "WS_MAX_PAYLOAD",
                spec::MAX_PAYLOAD,
                MAX_PAYLOAD_LIMIT,
            )?,
            ping_interval: Duration::from_millis(integer(
                &lookup,
                "WS_PING_INTERVAL",
                spec::PING_INTERVAL_MS,
                PING_INTERVAL_LIMIT,
            )?),
            compression: boolean(&lookup, "WS_COMPRESSION", spec::COMPRESSION)?,
        })
    }
}

/// An integer from 1 to `max`, digits only; `default` when the variable is unset.
fn integer(
    lookup: &impl Fn(&str) -> Option<OsString>,
    var: &'static str,
    default: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = lookup(var) else {
        return Ok(default);
    };
    let value = raw.to_string_lossy();
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<u64>() {
        Ok(n) if digits && (1..=max).contains(&n) => Ok(n),
        _ => Err(invalid(
            var,
            value.into_owned(),
            format!("an integer from 1 to {max}"),
        )),
    }
}

/// `true`/`false` or `1`/`0`; `default` when the variable is unset.
fn boolean(
    lookup: &impl Fn(&str) -> Option<OsString>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(raw) = lookup(var) else {
        return Ok(default);
    };
    match raw.to_str() {
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        _ => Err(invalid(
            var,
            raw.to_string_lossy().into_owned(),
            "true or false (or 1 or 0)",
        )),
    }
}

fn invalid(var: &'static str, value: String, expected: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        value,
        expected: expected.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|var| {
            vars.iter()
                .find(|(name, _)| *name == var)
                .map(|(_, value)| OsString::from(value))
        })
    }

    fn error(vars: &[(&str, &str)]) -> String {
        config(vars).expect_err("the value is invalid").to_string()
    }

    #[test]
    fn defaults_come_from_the_spec() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(config.host, "0.0.0.0");
        assert_eq!(config.port, spec::PORT);
        assert_eq!(config.max_payload, spec::MAX_PAYLOAD);
        assert_eq!(
            config.ping_interval,
            Duration::from_millis(spec::PING_INTERVAL_MS)
        );
        assert_eq!(config.compression, spec::COMPRESSION);
    }

    #[test]
    fn variables_override_the_spec() {
        let config = config(&[
            ("HOST", "127.0.0.1"),
            ("PORT", "9001"),
            ("WS_MAX_PAYLOAD", "1024"),
            ("WS_PING_INTERVAL", "250"),
            ("WS_COMPRESSION", "1"),
        ])
        .expect("valid values");
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 9001);
        assert_eq!(config.max_payload, 1024);
        assert_eq!(config.ping_interval, Duration::from_millis(250));
        assert!(config.compression);
    }

    #[test]
    fn invalid_values_name_the_variable_the_value_and_the_range() {
        assert_eq!(
            error(&[("WS_MAX_PAYLOAD", "abc")]),
            "invalid WS_MAX_PAYLOAD=\"abc\": expected an integer from 1 to 1099511627776"
        );
        assert_eq!(
            error(&[("PORT", "70000")]),
            "invalid PORT=\"70000\": expected an integer from 1 to 65535"
        );
        assert_eq!(
            error(&[("WS_PING_INTERVAL", "-5")]),
            "invalid WS_PING_INTERVAL=\"-5\": expected an integer from 1 to 86400000"
        );
        assert_eq!(
            error(&[("WS_COMPRESSION", "maybe")]),
            "invalid WS_COMPRESSION=\"maybe\": expected true or false (or 1 or 0)"
        );
        assert!(error(&[("PORT", "")]).starts_with("invalid PORT=\"\""));
        assert!(error(&[("PORT", "0")]).starts_with("invalid PORT=\"0\""));
        assert!(error(&[("PORT", "+80")]).starts_with("invalid PORT=\"+80\""));
        assert!(
            error(&[("WS_MAX_PAYLOAD", "1099511627777")]).starts_with("invalid WS_MAX_PAYLOAD")
        );
        assert!(error(&[("HOST", "")]).starts_with("invalid HOST=\"\""));
    }
}
