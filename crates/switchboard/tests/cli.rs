//! The command line as a user meets it: help texts and `config check` results and exit codes.

mod common;

use std::process::Command;

use common::switchboard;

#[test]
fn config_check_accepts_the_examples() {
    let (code, out) = switchboard(&["config", "check", "examples/demo.yaml", "examples/large-500.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("examples/demo.yaml: ok ("), "{out}");
    assert!(out.contains("500 agents"), "{out}");
}

#[test]
fn config_check_reports_every_error_and_fails() {
    let (code, out) = switchboard(&["config", "check", "crates/sb-config/test_data/bad/several-errors.yaml"]);
    assert_eq!(code, 1, "{out}");
    let errors = out.lines().filter(|l| l.contains(": error: ")).count();
    assert!(errors >= 5, "every problem is reported, not just the first: {out}");
    assert!(out.contains("several-errors.yaml:13:5: error: queues[0].skils"), "{out}");
}

#[test]
fn config_check_of_a_missing_file_names_it() {
    let (code, out) = switchboard(&["config", "check", "no/such/file.yaml"]);
    assert_eq!(code, 1);
    assert!(out.contains("no/such/file.yaml"), "{out}");
}

#[test]
fn help_explains_each_command() {
    let (code, out) = switchboard(&["--help"]);
    assert_eq!(code, 0);
    for command in ["serve", "config", "bench"] {
        assert!(out.contains(command), "--help lists {command}: {out}");
    }
    let (_, serve) = switchboard(&["serve", "--help"]);
    assert!(serve.contains("--database") && serve.contains("postgres://"), "{serve}");
    let (_, bench) = switchboard(&["bench", "routing", "--help"]);
    assert!(bench.contains("--waiting") && bench.contains("naive"), "{bench}");
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn staff_finds_the_textbook_answer() {
    // 100 calls in 30 minutes of 180 s each is 10 Erlangs: 14 agents reach 80 % in 20 s
    // (the worked example of callcentrehelper.com's "Erlang C formula - made simple").
    let (code, out) = switchboard(&["staff", "--volume", "100", "--aht", "180s", "--target", "80/20s"]);
    assert_eq!(code, 0, "{out}");
    let row = out.lines().find(|l| l.starts_with("one 30m interval")).expect("a result row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert!(cells.contains(&"14"), "14 agents: {row}");
    assert!(row.contains("88.8%"), "service level 88.8 %: {row}");
}

#[test]
fn staff_rejects_a_malformed_target_and_names_it() {
    let (code, out) = switchboard(&["staff", "--volume", "100", "--aht", "180s", "--target", "eighty"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--target") && out.contains("eighty"), "{out}");
}

#[test]
fn forecast_then_staff_writes_tables_and_charts() {
    let dir = scratch("forecast");
    let forecast = dir.join("forecast.csv");
    let (code, out) = switchboard(&[
        "forecast",
        "--history",
        "crates/sb-wfm/test_data/history-sample.csv",
        "--days",
        "2",
        "--out",
        forecast.to_str().unwrap(),
        "--chart",
        dir.join("forecast.svg").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("wape") && out.contains("Chosen:"), "{out}");
    let csv = std::fs::read_to_string(&forecast).unwrap();
    assert_eq!(csv.lines().next(), Some("interval_start,volume,aht_seconds"));
    assert_eq!(csv.lines().count(), 1 + 2 * 48, "two days of 30-minute intervals");
    assert!(std::fs::read_to_string(dir.join("forecast.svg")).unwrap().starts_with("<svg"));

    let (code, out) = switchboard(&[
        "staff",
        "--demand",
        forecast.to_str().unwrap(),
        "--csv",
        dir.join("staff.csv").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(dir.join("staff.csv")).unwrap().lines().count(), 1 + 2 * 48);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn regression_a_closed_stdout_lost_the_chart() {
    // `switchboard staff ... | head -1` used to panic on the closed pipe before the chart was
    // written.
    let dir = scratch("pipe");
    let chart = dir.join("staff.svg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["staff", "--volume", "100", "--aht", "180s", "--chart", chart.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(std::fs::read_to_string(&chart).unwrap().starts_with("<svg"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn simulate_the_demo_and_report_a_bad_scenario() {
    let dir = scratch("simulate");
    let out_dir = dir.join("out");
    let (code, out) = switchboard(&[
        "simulate",
        "--config",
        "examples/demo.yaml",
        "--scenario",
        "examples/demo-scenario.yaml",
        "--replications",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all queues") && out.contains("definitions:"), "{out}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["replications"], 2);
    assert!(summary["total"]["offered"].as_f64().unwrap() > 100.0, "{summary}");
    // The demo offers sales callers a call back: some take it, and agents make them.
    assert!(out.contains("called back") && out.contains("call-back wait"), "{out}");
    assert!(summary["queues"][1]["called_back"].as_f64().unwrap() > 0.0, "{summary}");
    assert!(summary["total"]["callbacks_answered"].as_f64().unwrap() > 0.0, "{summary}");
    let csv = std::fs::read_to_string(out_dir.join("intervals.csv")).unwrap();
    assert!(
        csv.starts_with("interval,queue,offered,") && csv.lines().next().unwrap().ends_with(",callback_wait_seconds")
    );
    assert!(std::fs::read_to_string(out_dir.join("chart.svg")).unwrap().starts_with("<svg"));

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "intervals: 2\nstreams:\n  - queue: biling\n    channel: voice\n    arrivals: 1\n    handle_time: {fixed: 1m}\n").unwrap();
    let (code, out) = switchboard(&["simulate", "-c", "examples/demo.yaml", "-s", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bad.yaml:3:12: error: streams[0].queue: unknown queue \"biling\""), "{out}");
    // The diagnostics are printed as they are: each line starts with the file, not with a
    // second "error:".
    assert!(out.starts_with(bad.to_str().unwrap()) && out.trim_end().ends_with("1 error"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flow_check_accepts_the_example_against_the_demo_tenant() {
    let (code, out) =
        switchboard(&["flow", "check", "examples/flows/main-menu.yaml", "--config", "examples/demo.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("examples/flows/main-menu.yaml: ok (flow main-menu version"), "{out}");
}

#[test]
fn flow_check_reports_problems_and_fails() {
    let (code, out) = switchboard(&["flow", "check", "crates/sb-flow/test_data/bad/unreachable-node.yaml"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unreachable-node.yaml:") && out.contains("cannot be reached"), "{out}");
    // Names outside the flow are checked against the tenant when one is given.
    let scratch = std::env::temp_dir().join(format!("sb-flow-cli-{}.yaml", std::process::id()));
    let flow = "flow: f\nversion: 1\nstart: q\nnodes:\n  q: {queue: biling}\n";
    std::fs::write(&scratch, flow).unwrap();
    let (code, out) = switchboard(&["flow", "check", scratch.to_str().unwrap(), "--config", "examples/demo.yaml"]);
    let _ = std::fs::remove_file(&scratch);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unknown queue \"biling\"") && out.contains("billing"), "{out}");
}

#[test]
fn flow_run_walks_a_call_through_the_menu() {
    let (code, out) = switchboard(&["flow", "run", "examples/flows/main-menu.yaml", "--digits", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("caller presses 2"), "{out}");
    assert!(out.contains("transfer to queue"), "{out}");
    let (code, closed) = switchboard(&["flow", "run", "examples/flows/main-menu.yaml", "--closed"]);
    assert_eq!(code, 0);
    assert!(closed.contains("closed"), "{closed}");
    assert_ne!(out, closed);
    let (code, out) = switchboard(&["flow", "run", "examples/flows/main-menu.yaml", "--digits", "1,x"]);
    assert_eq!(code, 1);
    assert!(out.contains("--digits: 'x' is not a key"), "{out}");
}

#[test]
fn migrate_import_asterisk_writes_a_tenant_that_loads_and_never_overwrites() {
    let dir = scratch("migrate");
    let out = dir.join("acme.yaml");
    let report = dir.join("report.txt");
    let queues = "crates/sb-migrate/test_data/asterisk/queues.conf";
    let args = |force: bool| {
        let mut args = vec!["migrate", "import", "asterisk", "--queues", queues, "--tenant-id", "acme"];
        args.extend([
            "--time-zone",
            "Europe/Berlin",
            "-o",
            out.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ]);
        if force {
            args.push("--force");
        }
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| switchboard(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let (code, printed) = run(args(false));
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("9 mapped, 7 approximated, 11 not translated, 5 rejected"), "{printed}");
    assert!(printed.contains("queues.conf:34: line: expected \"key = value\""), "{printed}");
    let (code, checked) = switchboard(&["config", "check", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{checked}");
    assert!(checked.contains("2 queues, 4 agents"), "{checked}");
    assert!(std::fs::read_to_string(&report).unwrap().contains("approximated (7):"));
    // A second run does not replace what the first wrote, unless told to.
    let (code, refused) = run(args(false));
    assert_eq!(code, 1, "{refused}");
    assert!(refused.contains("exists; pass --force"), "{refused}");
    assert_eq!(run(args(true)).0, 0);
}

#[test]
fn migrate_import_asterisk_turns_the_dialplan_menus_into_flows_that_check() {
    let dir = scratch("dialplan");
    let out = dir.join("acme.yaml");
    let (code, printed) = switchboard(&[
        "migrate",
        "import",
        "asterisk",
        "--queues",
        "crates/sb-migrate/test_data/asterisk/queues.conf",
        "--extensions",
        "crates/sb-migrate/test_data/asterisk/extensions.conf",
        "--tenant-id",
        "acme",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("extensions.conf:44: [broken] exten => 1: expected"), "{printed}");
    let tenant = std::fs::read_to_string(&out).unwrap();
    assert!(tenant.ends_with("voice:\n  numbers:\n    - {number: \"5550100\", flow: ivr-main.yaml}\n"), "{tenant}");
    for flow in ["ivr-main.yaml", "ivr-billing.yaml"] {
        let path = dir.join(flow);
        let (code, checked) =
            switchboard(&["flow", "check", path.to_str().unwrap(), "--config", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{checked}");
    }
    // A tenant file named like a flow would be replaced by it: refused before writing.
    let clash = scratch("dialplan-clash").join("ivr-main.yaml");
    let (code, refused) = switchboard(&[
        "migrate",
        "import",
        "asterisk",
        "--queues",
        "crates/sb-migrate/test_data/asterisk/queues.conf",
        "--extensions",
        "crates/sb-migrate/test_data/asterisk/extensions.conf",
        "--tenant-id",
        "acme",
        "-o",
        clash.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{refused}");
    assert!(refused.contains("ivr-main.yaml would be written twice"), "{refused}");
    assert!(!clash.exists());
    // A dry run of the menu: 2 leads to the sales team's queue.
    let (code, run) = switchboard(&["flow", "run", dir.join("ivr-main.yaml").to_str().unwrap(), "--digits", "2"]);
    assert_eq!(code, 0, "{run}");
    assert!(run.contains("sales-team"), "{run}");
}

#[test]
fn migrate_import_csv_writes_a_tenant_that_loads_and_reports_bad_rows() {
    let dir = scratch("csv");
    let out = dir.join("mitel.yaml");
    let data = "crates/sb-migrate/test_data/generic";
    let (code, printed) = switchboard(&[
        "migrate",
        "import",
        "csv",
        "--skills",
        &format!("{data}/skills.csv"),
        "--queues",
        &format!("{data}/queues.csv"),
        "--agents",
        &format!("{data}/agents.csv"),
        "--tenant-id",
        "mitel",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("generic/queues.csv:6: row: a quoted field is not closed (field 1)"), "{printed}");
    assert!(printed.contains("9 mapped, 2 approximated, 1 not translated, 11 rejected"), "{printed}");
    let (code, checked) = switchboard(&["config", "check", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{checked}");
    assert!(checked.contains("3 queues, 3 agents"), "{checked}");
    let (code, none) = switchboard(&["migrate", "import", "csv", "--tenant-id", "x", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{none}");
    assert!(none.contains("give at least one of --skills, --queues and --agents"), "{none}");
}

#[test]
fn migrate_import_uccx_reads_the_admin_api_json() {
    let dir = scratch("uccx");
    let out = dir.join("cisco.yaml");
    let json = "crates/sb-migrate/test_data/cisco/uccx.json";
    let (code, printed) = switchboard(&[
        "migrate",
        "import",
        "uccx",
        "--json",
        json,
        "--tenant-id",
        "cisco",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("resource akumar: skill \"Legacy_French\" is not among the skills"), "{printed}");
    let (code, checked) = switchboard(&["config", "check", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{checked}");
    assert!(checked.contains("3 queues, 5 agents"), "{checked}");
    // A syntax error is named with its line and column.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"skills\": {\"skill\": [\n  {\"skillId\": 1,}\n]}}").unwrap();
    let (code, printed) = switchboard(&[
        "migrate",
        "import",
        "uccx",
        "--skills",
        bad.to_str().unwrap(),
        "--tenant-id",
        "cisco",
        "-o",
        dir.join("other.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("bad.json:2:17: trailing comma"), "{printed}");
    assert!(!printed.contains("at line"), "{printed}");
}

#[test]
fn migrate_history_cucm_stores_hunt_pilot_calls_once_under_the_mapped_queues() {
    let dir = scratch("cucm");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let cdr = "crates/sb-migrate/test_data/cisco/cdr_StandAloneCluster_01_202612011000_1";
    let args = ["migrate", "history", "cucm", cdr, "-d", &database, "--tenant", "cisco", "--queue-map", "5000=sales"];
    let (code, first) = switchboard(&args);
    assert_eq!(code, 0, "{first}");
    assert!(first.contains("11 records, 8 calls through a hunt pilot (8 new, 0 already stored), 2 other records left out, 2 lines rejected"), "{first}");
    assert!(
        first
            .contains("rejected: crates/sb-migrate/test_data/cisco/cdr_StandAloneCluster_01_202612011000_1:9: record:"),
        "{first}"
    );
    let (code, again) = switchboard(&args);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("(0 new, 8 already stored)"), "{again}");
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "cisco", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let queues: Vec<&str> = table.lines().skip(1).filter_map(|l| l.split_whitespace().next()).take(2).collect();
    assert_eq!(queues, ["5100", "sales"], "{table}");
    let (code, bad) =
        switchboard(&["migrate", "history", "cucm", cdr, "-d", &database, "--tenant", "c", "--queue-map", "5000"]);
    assert_eq!(code, 1, "{bad}");
    assert!(bad.contains("--queue-map \"5000\": expected LEGACY=QUEUE"), "{bad}");
}

#[test]
fn migrate_import_avaya_turns_sat_screens_into_a_tenant_and_vdn_flows() {
    let dir = scratch("avaya");
    let out = dir.join("avaya.yaml");
    let sat = "crates/sb-migrate/test_data/avaya/sat.txt";
    let (code, printed) =
        switchboard(&["migrate", "import", "avaya", "--sat", sat, "--tenant-id", "avaya", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("vdn-3000.yaml: a flow that passes `switchboard flow check`"), "{printed}");
    let tenant = std::fs::read_to_string(&out).unwrap();
    assert!(tenant.contains("    - {number: \"3000\", flow: vdn-3000.yaml}"), "{tenant}");
    // The main line's menu: 2 leads to the billing line's queue; silence to sales.
    let flow = dir.join("vdn-3000.yaml");
    let (code, run) = switchboard(&["flow", "run", flow.to_str().unwrap(), "--digits", "2"]);
    assert_eq!(code, 0, "{run}");
    assert!(run.contains("billing"), "{run}");
    let (code, run) = switchboard(&["flow", "run", flow.to_str().unwrap()]);
    assert_eq!(code, 0, "{run}");
    assert!(run.contains("sales"), "{run}");
}

#[test]
fn migrate_history_cms_stores_interval_figures_once_and_the_baseline_reads_them() {
    let dir = scratch("cms");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let hsplit = "crates/sb-migrate/test_data/avaya/hsplit.csv";
    let args = [
        "migrate",
        "history",
        "cms",
        "--hsplit",
        hsplit,
        "--time-zone",
        "America/New_York",
        "-d",
        &database,
        "--tenant",
        "avaya",
        "--queue-map",
        "1=sales",
        "--queue-map",
        "2=support",
    ];
    let (code, first) = switchboard(&args);
    assert_eq!(code, 0, "{first}");
    assert!(
        first.contains("16 interval rows (16 new, 0 already stored), 264 calls offered, 1 rows rejected"),
        "{first}"
    );
    assert!(first.contains("hsplit.csv:13: row: 6 fields, the header has 15"), "{first}");
    let (code, again) = switchboard(&args);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("(0 new, 16 already stored)"), "{again}");
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "avaya", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let sales: Vec<&str> = table.lines().find(|l| l.starts_with("sales")).unwrap().split_whitespace().collect();
    assert_eq!(sales, ["sales", "184", "168", "14", "75.0%", "16s", "249s", "-"], "{table}");
    assert!(table.contains("at CMS's own threshold (20s, 30s)"), "{table}");
    // Two skills mapped to one queue add up, rather than the second being lost.
    let merged = format!("sqlite:{}", dir.join("merged.db").display());
    let args = [
        "migrate",
        "history",
        "cms",
        "--hsplit",
        hsplit,
        "-d",
        &merged,
        "--tenant",
        "avaya",
        "--queue-map",
        "1=all",
        "--queue-map",
        "2=all",
    ];
    let (code, out) = switchboard(&args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("16 interval rows (16 new, 0 already stored), 264 calls offered"), "{out}");
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &merged, "--tenant", "avaya", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let all: Vec<&str> = table.lines().find(|l| l.starts_with("all")).unwrap().split_whitespace().collect();
    assert_eq!(&all[..4], ["all", "264", "240", "20"], "{table}");
}

#[test]
fn migrate_recordings_seals_checks_and_indexes_each_file_once() {
    let dir = scratch("recordings");
    let legacy = dir.join("legacy");
    std::fs::create_dir_all(legacy.join("2026/12")).unwrap();
    // Synthetic recordings: a WAV-like header and more than one 64 KiB chunk of samples.
    let recording = |seed: u8| -> Vec<u8> {
        let mut bytes = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        bytes.extend((0..150_000u32).map(|i| (i as u8).wrapping_mul(seed)));
        bytes
    };
    std::fs::write(legacy.join("2026/12/1700000000.42.wav"), recording(3)).unwrap();
    std::fs::write(legacy.join("2026/12/1700000100.43.wav"), recording(5)).unwrap();
    std::fs::write(legacy.join("notes.wav"), b"short").unwrap();
    let index = dir.join("index.csv");
    std::fs::write(
        &index,
        "file,call_id,started,agent,caller,queue\n\
         2026/12/1700000000.42.wav,1700000000.42,2026-12-01T09:00:05Z,1001,+4930111,support\n\
         2026/12/1700000100.43.wav,1700000100.43,1796115700,1002,,sales\n\
         \"broken,1\n",
    )
    .unwrap();
    let key = dir.join("recordings.key");
    let (code, out) = switchboard(&["migrate", "key", "-o", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = switchboard(&["migrate", "key", "-o", key.to_str().unwrap()]);
    assert_eq!(code, 1, "a key is never replaced: {out}");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let store = dir.join("recordings");
    let args = [
        "migrate",
        "recordings",
        "--from",
        legacy.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
        "--to",
        store.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "-d",
        &database,
        "--tenant",
        "acme",
    ];
    let (code, first) = switchboard(&args);
    assert_eq!(code, 0, "{first}");
    assert!(
        first.contains(
            "3 files (3 sealed and checked, 0 already imported, 0 failed), 2 with index entries, 1 index rows rejected"
        ),
        "{first}"
    );
    assert!(first.contains("index.csv:4: a quoted field is not closed"), "{first}");
    let (code, again) = switchboard(&args);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("(0 sealed and checked, 3 already imported, 0 failed)"), "{again}");
    let index = sb_storage::open(&database).unwrap().legacy_recordings("acme").unwrap();
    let entries: Vec<_> = index
        .iter()
        .map(|r| (r.source_path.as_str(), r.call_id.as_deref(), r.started_ms, r.queue.as_deref()))
        .collect();
    assert_eq!(
        entries,
        [
            ("2026/12/1700000000.42.wav", Some("1700000000.42"), Some(1_796_115_605_000), Some("support")),
            ("2026/12/1700000100.43.wav", Some("1700000100.43"), Some(1_796_115_700_000), Some("sales")),
            ("notes.wav", None, None, None),
        ]
    );
    assert_eq!(index[2].size, 5);
    // The sealed copies hold no plaintext, and open to the very bytes.
    let mut sealed = Vec::new();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(store.join("legacy")).unwrap() {
        for file in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            found.push(file.unwrap().path());
        }
    }
    assert_eq!(found.len(), 3);
    let original = recording(3);
    let mut matched = 0;
    for path in &found {
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"RIFF"), "{} is not sealed", path.display());
        let out = dir.join("opened.wav");
        let _ = std::fs::remove_file(&out);
        let (code, printed) = switchboard(&[
            "migrate",
            "open-recording",
            path.to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{printed}");
        if std::fs::read(&out).unwrap() == original {
            matched += 1;
        }
        sealed.push(bytes);
    }
    assert_eq!(matched, 1, "one sealed file is the first recording");
    // A changed sealed file does not open, and says so.
    let victim = &found[0];
    let mut bytes = std::fs::read(victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(victim, bytes).unwrap();
    let out = dir.join("tampered.wav");
    let (code, printed) = switchboard(&[
        "migrate",
        "open-recording",
        victim.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("does not authenticate"), "{printed}");
    assert!(!out.exists(), "nothing is written of a recording that does not open");
}

#[test]
fn migrate_history_master_csv_adds_the_queue_calls_the_queue_log_lacks() {
    let dir = scratch("master-csv");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let log = "crates/sb-migrate/test_data/asterisk/queue_log";
    let cdr = "crates/sb-migrate/test_data/asterisk/Master.csv";
    let args = [
        "migrate",
        "history",
        "asterisk",
        "--queue-log",
        log,
        "--master-csv",
        cdr,
        "--loguniqueid",
        "--time-zone",
        "Europe/Berlin",
        "-d",
        &database,
        "--tenant",
        "acme",
    ];
    let (code, first) = switchboard(&args);
    assert_eq!(code, 0, "{first}");
    assert!(
        first.contains("6 records, 4 queue calls (1 in the queue_log already, 3 new, 0 already stored), 1 calls through no queue, 3 lines rejected"),
        "{first}"
    );
    assert!(
        first.contains("rejected: crates/sb-migrate/test_data/asterisk/Master.csv:6: record: start \"yesterday\""),
        "{first}"
    );
    let (code, again) = switchboard(&args);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("(1 in the queue_log already, 0 new, 3 already stored)"), "{again}");
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "acme", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    // support: the queue_log's 4 stays and Master.csv's 2; the service level only of the 4.
    let support: Vec<&str> = table.lines().find(|l| l.starts_with("support")).unwrap().split_whitespace().collect();
    assert_eq!(&support[..5], ["support", "6", "3", "3", "75.0%"], "{table}");
    // Without uniqueids Master.csv cannot be matched with the queue_log: refused.
    let (code, refused) =
        switchboard(&["migrate", "history", "asterisk", "--master-csv", cdr, "-d", &database, "--tenant", "acme"]);
    assert_eq!(code, 1, "{refused}");
    assert!(refused.contains("pass --loguniqueid, or import only one of the two"), "{refused}");
    // Master.csv first, then the queue_log: the call both have still counts once.
    let other = format!("sqlite:{}", dir.join("other.db").display());
    let first =
        ["migrate", "history", "asterisk", "--master-csv", cdr, "--loguniqueid", "-d", &other, "--tenant", "acme"];
    assert_eq!(switchboard(&first).0, 0);
    assert_eq!(
        switchboard(&["migrate", "history", "asterisk", "--queue-log", log, "-d", &other, "--tenant", "acme"]).0,
        0
    );
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &other, "--tenant", "acme", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let support: Vec<&str> = table.lines().find(|l| l.starts_with("support")).unwrap().split_whitespace().collect();
    assert_eq!(&support[..2], ["support", "6"], "{table}");
}

#[test]
fn migrate_history_avaya_cdr_reads_the_customized_layout() {
    let dir = scratch("avaya-cdr");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let args = [
        "migrate",
        "history",
        "avaya-cdr",
        "--layout",
        "crates/sb-migrate/test_data/avaya/cdr-layout.txt",
        "--cdr",
        "crates/sb-migrate/test_data/avaya/cdr.txt",
        "--time-zone",
        "America/New_York",
        "-d",
        &database,
        "--tenant",
        "avaya",
        "--queue-map",
        "3000=sales",
    ];
    let (code, first) = switchboard(&args);
    assert_eq!(code, 0, "{first}");
    assert!(
        first.contains(
            "11 records, 6 calls to VDNs (6 new, 0 already stored), 5 other records left out, 2 lines rejected"
        ),
        "{first}"
    );
    assert!(first.contains("cdr.txt:12: record: date \"133124\" is not a date as mmddyy"), "{first}");
    let (code, again) = switchboard(&args);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("(0 new, 6 already stored)"), "{again}");
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "avaya", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let sales: Vec<&str> = table.lines().find(|l| l.starts_with("sales")).unwrap().split_whitespace().collect();
    assert_eq!(&sales[..5], ["sales", "4", "3", "1", "-"], "no service level without queue times: {table}");
}

#[test]
fn migrate_history_twice_adds_nothing_and_the_baseline_reads_it() {
    let dir = scratch("history");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let log = "crates/sb-migrate/test_data/asterisk/queue_log";
    let import =
        || switchboard(&["migrate", "history", "asterisk", "--queue-log", log, "-d", &database, "--tenant", "acme"]);
    let (code, first) = import();
    assert_eq!(code, 0, "{first}");
    assert!(first.contains("23 lines, 5 stays in queues (5 new, 0 already stored)"), "{first}");
    assert!(first.contains("queue_log:21: line: the time \"yesterday\" is not seconds since 1970"), "{first}");
    let (code, again) = import();
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("5 stays in queues (0 new, 5 already stored)"), "{again}");
    let out = dir.join("baseline");
    let (code, table) =
        switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "acme", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let support = table.lines().find(|l| l.starts_with("support")).unwrap_or_default();
    let columns: Vec<&str> = support.split_whitespace().collect();
    assert_eq!(columns, ["support", "4", "3", "1", "75.0%", "11s", "180s", "75.0%"], "{table}");
    assert!(table.contains("definitions: offered: contacts arriving in the interval"), "{table}");
    let csv = std::fs::read_to_string(out.join("baseline.csv")).unwrap();
    assert!(csv.contains("support,total,4,3,1,0.7500,10.6667,180.0000,0.7500"), "{csv}");
    assert!(std::fs::read_to_string(out.join("baseline.svg")).unwrap().contains("<svg"));
    // Without history the baseline says what to do.
    let (code, empty) = switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "other"]);
    assert_eq!(code, 1);
    assert!(empty.contains("run `switchboard migrate history` first"), "{empty}");
}

#[test]
fn migrate_replay_compares_the_legacy_queue_with_the_new_configuration_under_stress() {
    let dir = scratch("replay");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let tenant = dir.join("acme.yaml");
    let queues = "crates/sb-migrate/test_data/asterisk/queues.conf";
    let (code, out) = switchboard(&[
        "migrate",
        "import",
        "asterisk",
        "--queues",
        queues,
        "--tenant-id",
        "acme",
        "-o",
        tenant.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let log = "crates/sb-migrate/test_data/asterisk/queue_log";
    let (code, out) =
        switchboard(&["migrate", "history", "asterisk", "--queue-log", log, "-d", &database, "--tenant", "acme"]);
    assert_eq!(code, 0, "{out}");
    let out_dir = dir.join("replay");
    let (code, table) = switchboard(&[
        "migrate",
        "replay",
        "-c",
        tenant.to_str().unwrap(),
        "-d",
        &database,
        "--stress",
        "1,2",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{table}");
    // The legacy "sales" queue is not in the new configuration (it became "sales-team").
    assert!(table.contains("left out: 1 legacy calls of queue \"sales\""), "{table}");
    let row = |run: &str| -> Vec<String> {
        let line = table.lines().find(|l| l.starts_with("support") && l.contains(run)).unwrap_or_default();
        line.split_whitespace().map(str::to_owned).collect()
    };
    // Legacy: 4 calls, 3 answered within the queue's 60 s, 1 abandoned.
    assert_eq!(row("legacy"), ["support", "legacy", "4", "75.0%", "11s", "25.0%"], "{table}");
    assert_eq!(row("new @1x")[3], "4", "{table}");
    assert_eq!(row("new @2x")[3], "8", "twice the calls: {table}");
    let csv = std::fs::read_to_string(out_dir.join("replay.csv")).unwrap();
    assert!(csv.starts_with("queue,run,offered,service_level,asa_s,abandon_rate\nsupport,legacy,4,0.7500"), "{csv}");
    assert!(std::fs::read_to_string(out_dir.join("replay.svg")).unwrap().contains("<svg"));
    // With a roster, only its shifts are staffed: the legacy calls came at about 22:15 UTC
    // on a Tuesday, so a weekday morning roster answers none of them, and an evening one all.
    let replay_with = |hours: &str| {
        let roster = dir.join(format!("roster-{}.yaml", &hours[..2]));
        std::fs::write(
            &roster,
            format!("shifts:\n  - {{agents: [\"1001\", \"1002\", \"1003\"], days: mon-fri, hours: \"{hours}\"}}\n"),
        )
        .unwrap();
        let (code, table) = switchboard(&[
            "migrate",
            "replay",
            "-c",
            tenant.to_str().unwrap(),
            "-d",
            &database,
            "--stress",
            "1",
            "--roster",
            roster.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{table}");
        assert!(table.contains("logged in as"), "{table}");
        let line = table.lines().find(|l| l.starts_with("support") && l.contains("new @1x")).unwrap().to_owned();
        line.split_whitespace().map(str::to_owned).collect::<Vec<_>>()
    };
    let morning = replay_with("08:00-12:00");
    assert_eq!((morning[4].as_str(), morning[6].as_str()), ("0.0%", "100.0%"), "no one staffed at 22:00: {morning:?}");
    let evening = replay_with("20:00-24:00");
    assert_eq!(evening[6].as_str(), "0.0%", "no abandons when staffed: {evening:?}");
}

#[test]
fn a_backup_restores_and_a_corrupted_file_is_found() {
    let dir = scratch("backup");
    let database = format!("sqlite:{}", dir.join("state.db").display());
    let log = "crates/sb-migrate/test_data/asterisk/queue_log";
    let (code, out) =
        switchboard(&["migrate", "history", "asterisk", "--queue-log", log, "-d", &database, "--tenant", "acme"]);
    assert_eq!(code, 0, "{out}");
    let recordings = dir.join("recordings");
    std::fs::create_dir_all(recordings.join("2026")).unwrap();
    std::fs::write(recordings.join("conversation-1.wav"), b"RIFF one").unwrap();
    std::fs::write(recordings.join("2026/voicemail-2.wav"), b"RIFF two").unwrap();
    let backup = dir.join("backup");
    let (code, out) = switchboard(&[
        "migrate",
        "backup",
        "-d",
        &database,
        "--recordings",
        recordings.to_str().unwrap(),
        "-o",
        backup.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 files"), "{out}");
    let verify = || switchboard(&["migrate", "verify", backup.to_str().unwrap()]);
    let (code, out) = verify();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("database.sqlite restores: tenants acme"), "{out}");
    assert!(out.contains("3 files as in the manifest, 0 problems"), "{out}");
    // A recording changed after the backup is found, by name.
    std::fs::write(backup.join("recordings/2026/voicemail-2.wav"), b"RIFF tw0").unwrap();
    let (code, out) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED recordings/2026/voicemail-2.wav: SHA-256"), "{out}");
    // So is a damaged database, which also no longer restores.
    let db = backup.join("database.sqlite");
    let mut bytes = std::fs::read(&db).unwrap();
    for page in bytes.chunks_mut(4096) {
        page[100..200].fill(0xA5);
    }
    std::fs::write(&db, bytes).unwrap();
    let (code, out) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED database.sqlite: SHA-256"), "{out}");
    assert!(out.contains("FAILED database.sqlite does not restore"), "{out}");
    // A backup never overwrites one.
    let (code, out) = switchboard(&["migrate", "backup", "-d", &database, "-o", backup.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("exists; a backup goes to a new directory"), "{out}");
}
