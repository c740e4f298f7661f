//! `run.json` read into [`RunRecord`] and written back is the same JSON: no field is lost,
//! renamed or added by the types (a committed run folder is the fixture).

use authbench_spec::RunRecord;
use std::path::Path;

#[test]
fn committed_run_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/2026-12-07-vm-2/run.json");
    let text = std::fs::read_to_string(&path).expect("the committed run folder");
    let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let record: RunRecord = serde_json::from_str(&text).expect("a RunRecord");
    let again = serde_json::to_value(&record).expect("serializes");
    assert!(
        again == file,
        "run.json does not round-trip through RunRecord"
    );
}
