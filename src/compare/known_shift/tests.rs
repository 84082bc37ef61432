use std::path::PathBuf;

use super::*;
use crate::scenario::ScenarioFile;

/// The timing inputs of `scenarios/<name>.toml`, variant `variant`.
fn timing(name: &str, variant: &str) -> GroupTiming {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let s = ScenarioFile::parse(&path, text)
        .and_then(|f| f.resolve(Some(variant)))
        .unwrap();
    GroupTiming::from_scenario(&s).unwrap()
}

fn reassign(broker: BrokerModel, name: &str, variant: &str) -> Window {
    reassignment(broker, &timing(name, variant)).expect("modelled")
}

#[test]
fn the_inputs_come_from_the_scenario() {
    let g = timing("crash_vs_close", "kill");
    assert_eq!(
        g,
        GroupTiming {
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: 3_000,
            initial_delay_ms: 3_000,
            members: 2,
            departure: Some((Leaving::Crash, 60_000)),
        }
    );
    assert_eq!(
        timing("stop_one_of_three", "close").departure,
        Some((Leaving::Close, 20_000))
    );
}

/// Kafka's model gives the simulator's own figures (sim-traces/), within its few ms of round
/// trips: the shift is computed against the same mechanics the simulator runs.
#[test]
fn kafkas_model_gives_the_simulated_figures() {
    let kafka = BrokerModel::Kafka;
    let first = first_assignment(kafka, &timing("crash_vs_close", "kill"));
    assert_eq!(first, Window::at(6_006));
    for (name, variant, sim) in [
        ("crash_vs_close", "kill", 9_012),
        ("crash_vs_close", "close", 3_005),
        ("session_timeout_quiz_4c_6p", "kill-at-30000", 9_010),
        ("session_timeout_quiz_4c_6p", "kill-at-31000", 11_010),
        ("session_timeout_quiz_4c_6p", "kill-at-32000", 10_010),
        ("stop_one_of_three", "crash", 43_012),
        ("stop_one_of_three", "close", 1_012),
    ] {
        let w = reassign(kafka, name, variant);
        assert!(w.holds(sim, 10), "{name} {variant}: {w:?} vs {sim}");
    }
}

/// The 16192 ms on the mock cluster: S − a + b + (S − 1000) + ε with a = 2940 (the
/// member's heartbeats start at its assignment, 3.06 s) and b = 125 ms of the 1 s session tick.
#[test]
fn the_mock_crash_figure_is_the_session_tick_plus_the_flat_window() {
    let w = reassign(BrokerModel::Mock, "crash_vs_close", "kill");
    assert_eq!(w.low_ms, 10_000 - 2_940 + 9_000 + 7);
    assert_eq!(w.high_ms - w.low_ms, 999, "b is under the 1 s tick");
    assert_eq!(16_192 - w.low_ms, 125, "b of the observed run");
    let t = tolerances(BrokerModel::Mock, &timing("crash_vs_close", "kill"));
    let allow = t.get(Metric::Reassignment);
    assert_eq!((allow.shift_ms, allow.within_ms), (7_555, 800));
    let off = 16_192 - 9_012 - allow.shift_ms;
    assert!(off.unsigned_abs() <= allow.within_ms, "{off}");
    // The same model in the other kills: one shift for every S = 10000, H = 3000 kill.
    for variant in ["kill-at-30000", "kill-at-31000", "kill-at-32000"] {
        let g = timing("session_timeout_quiz_4c_6p", variant);
        let shift = tolerances(BrokerModel::Mock, &g)
            .get(Metric::Reassignment)
            .shift_ms;
        assert!((7_550..=7_560).contains(&shift), "{variant}: {shift}");
    }
}

/// The 12068 ms first assignment on the mock cluster is the SyncGroup race, not a shift:
/// the normal figure is D plus the start (3.06 s); the race adds another S − 1000.
#[test]
fn the_mock_first_assignment_figure_is_the_sync_race() {
    let g = timing("crash_vs_close", "kill");
    let normal = first_assignment(BrokerModel::Mock, &g);
    assert!(normal.holds(3_060, 0), "{normal:?}");
    assert_eq!(mock_first_assignment_after_sync_race(&g), 12_068);
    let allow = tolerances(BrokerModel::Mock, &g).get(Metric::FirstAssignment);
    let off = 12_068 - 6_006 - allow.shift_ms;
    assert!(
        off.unsigned_abs() > allow.within_ms,
        "the race must not pass as noise"
    );
    let off = 3_062 - 6_006 - allow.shift_ms;
    assert!(off.unsigned_abs() <= allow.within_ms);
}

/// The 13066 ms on tansu: the survivor (grid 5.06 s, the first join's leader) finds the
/// dead member (grid 6.06 s, retried once at sync) silent for more than S at its heartbeat of
/// 68.06 s, 8060 ms after the crash, then its rejoin is held S/2 = 5 × 1 s.
#[test]
fn the_tansu_crash_figure_is_a_survivor_heartbeat_plus_the_join_hold() {
    let g = timing("crash_vs_close", "kill");
    assert_eq!(tansu_hold(10_000), 5_005);
    let first = first_assignment(BrokerModel::Tansu, &g);
    assert_eq!(first.low_ms, 5_060);
    let observed = tansu_crash(&g, first.low_ms, 60_000).unwrap();
    assert_eq!(
        observed,
        Window {
            low_ms: 13_066,
            high_ms: 17_066
        }
    );
    let allow = tolerances(BrokerModel::Tansu, &g).get(Metric::Reassignment);
    assert_eq!((allow.shift_ms, allow.within_ms), (6_054, 2_300));
    let off = 13_066 - 9_012 - allow.shift_ms;
    assert!(off.unsigned_abs() <= allow.within_ms, "{off}");
    // Without the S/2 hold the figure would be 5 s earlier: outside.
    let off = 13_066 - 5_005 - 9_012 - allow.shift_ms;
    assert!(off.unsigned_abs() > allow.within_ms, "{off}");
}

/// tansu holds the first JoinGroup S/2: with `stop_one_of_three`'s 45 s session the member
/// leaves at 20 s, before anyone is assigned, so there is no reassignment to compare.
#[test]
fn a_departure_before_the_first_assignment_is_not_compared() {
    let g = timing("stop_one_of_three", "close");
    assert_eq!(first_assignment(BrokerModel::Tansu, &g).low_ms, 55 + 23_023);
    assert_eq!(reassignment(BrokerModel::Tansu, &g), None);
    let mock = reassignment(BrokerModel::Mock, &g).unwrap();
    assert_eq!(
        mock,
        Window {
            low_ms: 44_057,
            high_ms: 44_157
        }
    );
    let t = tolerances(BrokerModel::Tansu, &g);
    assert_eq!(
        t.get(Metric::Reassignment),
        Tolerances::default().get(Metric::Reassignment)
    );
}

#[test]
fn kafka_needs_no_shift() {
    let g = timing("session_timeout_quiz_4c_6p", "kill-at-31000");
    assert_eq!(tolerances(BrokerModel::Kafka, &g), Tolerances::default());
    assert_eq!("tansu".parse::<BrokerModel>(), Ok(BrokerModel::Tansu));
    assert!("redpanda".parse::<BrokerModel>().is_err());
}
