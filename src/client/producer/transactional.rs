//! The transactional producer's settings (KIP-98): `transactional.id` and
//! `transaction.timeout.ms`, with each client's rules.
//!
//! | | Java | librdkafka |
//! |---|---|---|
//! | `transaction.timeout.ms` | 60000 | 60000 |
//! | `enable.idempotence` unset | on, unless `acks`, `retries` or in-flight conflict (1) | on (2) |
//! | `enable.idempotence=false` | refused (1) | refused (3) |
//! | `socket.timeout.ms` | (none) | unset: `transaction.timeout.ms - 100`; above `+ 100`: refused |
//! | `message.timeout.ms` | (Java: `delivery.timeout.ms` stays) | unset: the txn timeout; <= it |
//!
//! (1) "Cannot set a transactional.id without also enabling idempotence." (2) Then an explicit
//! `acks` other than all, `retries=0` or `max.in.flight` over 5 is librdkafka's idempotence error.
//! (3) "`transactional.id` requires `enable.idempotence=true`".
//!
//! Java: `ProducerConfig.postProcessAndValidateIdempotenceConfigs` checks the transactional id
//! after the idempotence conflicts, which is why a conflicting `acks=1` with idempotence unset
//! is reported as a missing idempotence. librdkafka: `rd_kafka_conf_finalize`.
//!
//! In a run, a service's output producer (a consumer group's `output.config`) with a valid
//! `transactional.id` drives transactions (`txn_sender.rs`): the consume-transform-produce loop,
//! one transaction per polled batch, against the transaction coordinator, the markers, the last
//! stable offset and the `read_committed` filter (`broker::transaction`, `txn_routing.rs`,
//! `client::consumer::isolation`). [`ProducerConfig::parse`], used for a producer of its own,
//! checks the settings as the client would, then refuses a valid transactional configuration:
//! such a producer has no transaction boundaries to follow, and must not silently run without
//! transactions.

use crate::client::library::ClientLibrary;
use crate::units::Millis;

use super::config::{ConfigError, ProducerConfig, TransactionalConfig};

impl ProducerConfig {
    /// Parses `settings` (Kafka names, string values) over the defaults of `library`, then
    /// applies the client's conflict rules. A valid `transactional.id` is refused after its
    /// checks: only a service's output producer (a consumer group's `output.config`) runs
    /// transactions, in its consume-transform-produce loop
    /// ([`ProducerConfig::parse_transactional`]); a producer of its own has no transaction
    /// boundaries to follow.
    pub fn parse<K, V>(
        library: ClientLibrary,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ProducerConfig, ConfigError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let config = ProducerConfig::parse_transactional(library, settings)?;
        if config.transactional.is_some() {
            return Err(ConfigError::Unsupported {
                key: "transactional.id".to_string(),
                why: "its settings are valid, but only a service's output producer runs \
                      transactions (put it in a consumer_group's output.config); a producer \
                      of its own has no transaction boundaries to follow: remove it",
            });
        }
        Ok(config)
    }

    /// Like [`ProducerConfig::parse`], but keeps a valid transactional configuration (the
    /// transactional part in [`ProducerConfig::transactional`]).
    pub fn parse_transactional<K, V>(
        library: ClientLibrary,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ProducerConfig, ConfigError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut settings: Vec<(String, String)> = settings
            .into_iter()
            .map(|(k, v)| (k.as_ref().trim().to_string(), v.as_ref().trim().to_string()))
            .collect();
        let Some(id) = given(&settings, "transactional.id").map(str::to_string) else {
            return ProducerConfig::parse_all(library, settings);
        };
        let timeout = transaction_timeout(given(&settings, "transaction.timeout.ms"))?;
        let librdkafka = library == ClientLibrary::Librdkafka;
        match given(&settings, "enable.idempotence") {
            // librdkafka turns idempotence on for a transactional id, unless it was set off.
            None if librdkafka => settings.push(("enable.idempotence".into(), "true".into())),
            Some(v) if librdkafka && v.eq_ignore_ascii_case("false") => {
                return Err(refused(
                    "enable.idempotence",
                    "false",
                    "`transactional.id` requires `enable.idempotence=true`",
                ));
            }
            _ => {}
        }
        let mut config = ProducerConfig::parse_all(library, settings.iter().cloned())?;
        config.transactional = Some(TransactionalConfig {
            transactional_id: id,
            transaction_timeout: timeout,
        });
        if librdkafka {
            librdkafka_timeouts(&settings, &mut config, timeout)?;
        } else if !config.enable_idempotence {
            // Java checks the transactional id after its idempotence conflicts.
            let value = match &config.idempotence_note {
                Some(note) => format!("off: {note}"),
                None => "false".to_string(),
            };
            return Err(refused(
                "enable.idempotence",
                &value,
                "Cannot set a transactional.id without also enabling idempotence.",
            ));
        }
        Ok(config)
    }
}

fn given<'a>(settings: &'a [(String, String)], key: &str) -> Option<&'a str> {
    settings
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `transaction.timeout.ms`: 60000 by default in both clients (librdkafka allows 1000 and up).
fn transaction_timeout(value: Option<&str>) -> Result<Millis, ConfigError> {
    let Some(v) = value else {
        return Ok(Millis(60_000));
    };
    match v.parse::<u64>() {
        Ok(ms) if (1_000..=i32::MAX as u64).contains(&ms) => Ok(Millis(ms)),
        _ => Err(ConfigError::InvalidValue {
            key: "transaction.timeout.ms".to_string(),
            value: v.to_string(),
            expected: "an integer from 1000 to 2147483647",
        }),
    }
}

/// librdkafka fits `socket.timeout.ms` and `message.timeout.ms` into `transaction.timeout.ms`:
/// unset, they are adjusted; set too high, they are an error.
fn librdkafka_timeouts(
    settings: &[(String, String)],
    c: &mut ProducerConfig,
    timeout: Millis,
) -> Result<(), ConfigError> {
    if given(settings, "socket.timeout.ms").is_none() {
        c.socket_timeout = Some(Millis(timeout.0.saturating_sub(100).max(900)));
    } else if let Some(socket) = c.socket_timeout.filter(|t| t.0 > timeout.0 + 100) {
        return Err(refused(
            "socket.timeout.ms",
            &socket.0.to_string(),
            "`socket.timeout.ms` must be set <= `transaction.timeout.ms` + 100",
        ));
    }
    let delivery_set = given(settings, "message.timeout.ms")
        .or(given(settings, "delivery.timeout.ms"))
        .is_some();
    if !delivery_set {
        c.delivery_timeout = timeout;
    } else if c.delivery_timeout > timeout {
        return Err(refused(
            "message.timeout.ms",
            &c.delivery_timeout.0.to_string(),
            "`message.timeout.ms` must be set <= `transaction.timeout.ms`",
        ));
    }
    Ok(())
}

fn refused(key: &'static str, value: &str, message: &'static str) -> ConfigError {
    ConfigError::IdempotenceConflict {
        key,
        value: value.to_string(),
        message,
        fix: "a transactional producer is idempotent: acks=all, retries > 0, at most 5 in flight",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::produce::Acks;

    fn parse(library: ClientLibrary, kv: &[(&str, &str)]) -> Result<ProducerConfig, String> {
        ProducerConfig::parse_transactional(library, kv.iter().copied()).map_err(|e| e.to_string())
    }

    const TXN: (&str, &str) = ("transactional.id", "order-service");

    #[test]
    fn java_needs_idempotence() {
        let c = parse(ClientLibrary::Java4, &[TXN]).unwrap();
        assert!(c.enable_idempotence);
        assert_eq!(c.transactional.unwrap().transaction_timeout, Millis(60_000));
        for bad in [("enable.idempotence", "false"), ("acks", "1")] {
            let e = parse(ClientLibrary::Java4, &[TXN, bad]).unwrap_err();
            assert!(
                e.contains("Cannot set a transactional.id without also enabling idempotence."),
                "{e}"
            );
        }
        let e = parse(
            ClientLibrary::Java4,
            &[TXN, ("max.in.flight.requests.per.connection", "6")],
        );
        assert!(e.unwrap_err().contains("at most 5"));
        let e = parse(
            ClientLibrary::Java4,
            &[TXN, ("acks", "1"), ("enable.idempotence", "true")],
        );
        assert!(e.unwrap_err().contains("Must set acks to all"));
    }

    #[test]
    fn librdkafka_turns_idempotence_on_and_fits_its_timeouts() {
        let c = parse(ClientLibrary::Librdkafka, &[TXN]).unwrap();
        assert!(
            c.enable_idempotence,
            "librdkafka's default is off; a transactional id turns it on"
        );
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.max_in_flight, 5);
        assert_eq!(c.socket_timeout, Some(Millis(59_900)));
        assert_eq!(c.delivery_timeout, Millis(60_000));
        let e = parse(
            ClientLibrary::Librdkafka,
            &[TXN, ("enable.idempotence", "false")],
        );
        assert!(
            e.unwrap_err()
                .contains("requires `enable.idempotence=true`")
        );
        let e = parse(ClientLibrary::Librdkafka, &[TXN, ("acks", "1")]);
        assert!(e.unwrap_err().contains("`acks` must be set to `all`"));
        let e = parse(ClientLibrary::Librdkafka, &[TXN, ("max.in.flight", "10")]);
        assert!(e.unwrap_err().contains("`max.in.flight` must be set <= 5"));
        let e = parse(
            ClientLibrary::Librdkafka,
            &[TXN, ("message.timeout.ms", "90000")],
        );
        assert!(
            e.unwrap_err()
                .contains("`message.timeout.ms` must be set <= `transaction.timeout.ms`")
        );
    }

    #[test]
    fn a_producer_of_its_own_refuses_a_valid_transactional_id_rather_than_ignore_it() {
        let e = ProducerConfig::parse(ClientLibrary::Java4, [TXN]).unwrap_err();
        assert!(
            e.to_string()
                .contains("only a service's output producer runs transactions")
        );
    }
}
