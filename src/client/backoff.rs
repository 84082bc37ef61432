//! Exponential backoff with jitter, as Kafka's clients wait between retries (KIP-580,
//! `retry.backoff.ms` / `retry.backoff.max.ms`, Java 3.7+) and between reconnection attempts
//! (`reconnect.backoff.ms` / `reconnect.backoff.max.ms`).
//!
//! Kafka's `ExponentialBackoff(initial, 2, max, 0.2)`: attempt `k` (from 0) waits
//! `initial x 2^k`, capped at `max`, times a factor drawn uniformly from [0.8, 1.2), and never more
//! than `max`. When `max <= initial` the wait is a constant `min(initial, max)` without jitter.
//!
//! Java draws the factor from `ThreadLocalRandom` each time it checks a backoff; the model draws
//! it once per retry from the client's own seeded stream, in parts per million, so that a run is
//! reproducible and floats decide nothing.

use crate::rng::SimRng;
use crate::units::Millis;

/// The jitter's range in parts per million of the exponential value: [0.8, 1.2).
pub const JITTER_PPM: (u64, u64) = (800_000, 1_200_000);

/// The wait before attempt `attempts + 1`, i.e. after `attempts` earlier backoffs.
///
/// ```
/// use kafka_sim::client::backoff::exponential;
/// use kafka_sim::rng::SimRng;
/// use kafka_sim::units::Millis;
/// let mut rng = SimRng::for_component(1, "producer/doc");
/// let wait = exponential(Millis(100), Millis(1000), 2, &mut rng); // 100 x 2^2 = 400, +/- 20%
/// assert!((320..480).contains(&wait.0));
/// ```
pub fn exponential(initial: Millis, max: Millis, attempts: u32, rng: &mut SimRng) -> Millis {
    if max <= initial {
        return Millis(initial.0.min(max.0));
    }
    let term = u128::from(initial.0)
        .checked_shl(attempts.min(64))
        .unwrap_or(u128::MAX)
        .min(u128::from(max.0));
    let factor = rng.between(JITTER_PPM.0, JITTER_PPM.1 - 1);
    let jittered = term * u128::from(factor) / 1_000_000;
    Millis(jittered.min(u128::from(max.0)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_jitter_of_the_exponential_value() {
        let mut rng = SimRng::for_component(3, "producer/backoff");
        for attempts in 0..12u32 {
            let base = (100u64 << attempts).min(1000);
            for _ in 0..200 {
                let w = exponential(Millis(100), Millis(1000), attempts, &mut rng).0;
                assert!(w * 10 >= base * 8, "attempt {attempts}: {w} < 0.8 x {base}");
                assert!(w * 10 < base * 12 && w <= 1000, "attempt {attempts}: {w}");
            }
        }
        assert_eq!(
            exponential(Millis(500), Millis(200), 3, &mut rng),
            Millis(200)
        );
        assert_eq!(exponential(Millis(0), Millis(10), 3, &mut rng), Millis(0));
    }
}
