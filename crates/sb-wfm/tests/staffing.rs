//! Staffing tables: the single-interval request the CLI makes, per-interval requirements,
//! and the exact text and CSV renderings.

use sb_wfm::*;

fn config(model: Model, max_occupancy: Option<&str>, shrinkage: &str) -> StaffingConfig {
    StaffingConfig {
        model,
        target: Target {
            max_occupancy: max_occupancy.map(|m| m.parse().unwrap()),
            ..Target::new("80/20s".parse().unwrap())
        },
        shrinkage: shrinkage.parse().unwrap(),
    }
}

fn single(volume: f64, config: &StaffingConfig) -> StaffingRow {
    let demand = Demand::new("single", "30m".parse().unwrap(), volume, 240.0).unwrap();
    staff(&[demand], config).unwrap().rows.remove(0)
}

#[test]
fn single_interval_like_the_cli() {
    // `switchboard staff --volume 360 --interval 30m --aht 240s --target 80/20s`:
    // A = 360 × 240 / 1800 = 48 Erlangs; Erlang C needs 54 agents (SL 81.72 %, see the
    // Erlang C oracles).
    let row = single(360.0, &config(Model::ErlangC, None, "0%"));
    assert_eq!((row.offered.get(), row.agents, row.scheduled), (48.0, 54, 54));
    // --shrinkage 30%: ceil(54 / 0.7) = ceil(77.14) = 78.
    assert_eq!(single(360.0, &config(Model::ErlangC, None, "30%")).scheduled, 78);
    // --max-occupancy 85%: 48 / 0.85 = 56.5, so 57 agents; ceil(57 / 0.7) = ceil(81.4) = 82.
    let row = single(360.0, &config(Model::ErlangC, Some("85%"), "30%"));
    assert_eq!((row.agents, row.scheduled), (57, 82));
    assert!(row.metrics.occupancy <= 0.85);
    // --patience 60s: Erlang A. With a patience of a quarter of the handle time, callers
    // who wait leave quickly and the queue stays short: 46 agents reach 81.0 % (10.0 % of
    // callers abandon), where Erlang C needs 54. (Figures from this crate's Erlang A, which
    // tests/erlang.rs checks against an independent computation.)
    let patience = Model::ErlangA { patience: "60s".parse().unwrap() };
    let row = single(360.0, &config(patience, None, "0%"));
    assert_eq!(row.agents, 46, "{row:?}");
    assert!((row.metrics.service_level - 0.8105).abs() < 1e-4, "{row:?}");
    assert!((row.metrics.p_abandon - 0.1005).abs() < 1e-4, "{row:?}");
}

#[test]
fn zero_volume_needs_no_agents() {
    let row = single(0.0, &config(Model::ErlangC, Some("85%"), "30%"));
    assert_eq!((row.agents, row.scheduled, row.metrics), (0, 0, Metrics::IDLE));
}

#[test]
fn an_unreachable_interval_names_itself() {
    let demand = Demand::new("2024-03-04T10:00", "30m".parse().unwrap(), 10.0, 240.0).unwrap();
    let error = staff(&[demand], &config(Model::ErlangC, Some("0%"), "0%")).unwrap_err();
    assert!(error.to_string().starts_with("interval 2024-03-04T10:00: no staffing up to "), "{error}");
}

fn table() -> StaffingTable {
    let length: IntervalLength = "30m".parse().unwrap();
    let demands = [
        Demand::new("2024-03-04T08:00", length, 100.0, 180.0).unwrap(),
        Demand::new("2024-03-04T08:30", length, 360.0, 240.0).unwrap(),
        Demand::new("2024-03-04T09:00", length, 0.0, 0.0).unwrap(),
    ];
    staff(&demands, &config(Model::ErlangC, Some("85%"), "30%")).unwrap()
}

#[test]
fn text_table_is_aligned() {
    // First row: the Call Centre Helper example (10 Erlangs, 14 agents, SL 88.8 %, ASA 7.8 s).
    // Second: 48 Erlangs held to 85 % occupancy, 57 agents: C(57, 48) = 0.1452,
    // SL = 1 − 0.1452·e^(−9·20/240) = 93.1 %, ASA = 0.1452 × 240 / 9 = 3.9 s.
    assert_eq!(
        table().to_string(),
        "\
Erlang C, target 80/20s, max occupancy 85%, shrinkage 30%
interval          min  volume  aht_s  erlangs  agents  scheduled      sl  asa_s  occupancy
2024-03-04T08:00   30   100.0  180.0    10.00      14         20   88.8%    7.8      71.4%
2024-03-04T08:30   30   360.0  240.0    48.00      57         82   93.1%    3.9      84.2%
2024-03-04T09:00   30     0.0    0.0     0.00       0          0  100.0%    0.0       0.0%
"
    );
}

#[test]
fn csv_has_one_row_per_interval() {
    let csv = table().to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "interval,length_minutes,volume,aht_seconds,offered_erlangs,agents,scheduled,service_level,asa_seconds,occupancy,p_wait,p_abandon"
    );
    assert_eq!(lines[1], "2024-03-04T08:00,30,100.00,180.0,10.0000,14,20,0.8884,7.84,0.7143,0.1741,0.0000");
    assert_eq!(lines[3], "2024-03-04T09:00,30,0.00,0.0,0.0000,0,0,1.0000,0.00,0.0000,0.0000,0.0000");
    assert_eq!(lines.len(), 4);
}
