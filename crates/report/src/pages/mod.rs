//! The pages, in the order [`all`] renders them. Each module renders one group of pages and
//! their charts from the loaded [`Run`].

pub mod anatomy;
pub mod context;
pub mod cost;
pub mod distance;
pub mod http;
pub mod jwe;
pub mod latency;
pub mod peers;
pub mod revocation;
pub mod scale;
pub mod sizes;
pub mod tenancy;
pub mod verdict;

use crate::File;
use crate::data::{self, Run};
use anyhow::{Context, Result};

/// Every file, in a fixed order.
pub fn all(run: &Run) -> Result<Vec<File>> {
    let mut files = Vec::new();
    let mut add = |name: &str, contents: String| {
        files.push(File {
            name: name.to_owned(),
            contents,
        });
    };
    add("run.md", context::run_md(run));
    add("targets.md", context::targets_md(run));
    add("sizes.md", sizes::md(run));
    add("sizes.svg", sizes::svg(run).context("sizes.svg")?);
    add("facts.md", sizes::facts_md(run));
    add("wire.md", sizes::wire_md(run));
    add("verify.md", cost::verify_md(run));
    add("verify.svg", cost::verify_svg(run).context("verify.svg")?);
    add("issue.md", cost::issue_md(run));
    add("http.md", http::md(run));
    add(
        "throughput.svg",
        http::throughput_svg(run).context("throughput.svg")?,
    );
    add("cpu.svg", http::cpu_svg(run).context("cpu.svg")?);
    add("peers.md", peers::md(run));
    add("capacity.md", latency::capacity_md(run));
    add("latency.md", latency::md(run));
    for scenario in data::scenarios(&run.record.http) {
        let name = latency::svg_name(scenario);
        let svg = latency::svg(run, scenario).with_context(|| name.clone())?;
        add(&name, svg);
    }
    add("distance.md", distance::md(run));
    for scenario in distance::chart_scenarios(run) {
        let name = distance::svg_name(scenario);
        let svg = distance::svg(run, scenario).with_context(|| name.clone())?;
        add(&name, svg);
    }
    add("floors.md", cost::floors_md(run));
    add("loadgen.md", cost::loadgen_md(run));
    add("logins.md", cost::logins_md(run));
    add("revocation.md", revocation::md(run));
    add(
        "revocation.svg",
        revocation::svg(run).context("revocation.svg")?,
    );
    add("anatomy.md", anatomy::md(run));
    add("tenancy.md", tenancy::md(run));
    add("scale-cluster.md", scale::cluster_md(run));
    add("scale-instances.md", scale::instances_md(run));
    add("scale-rotation.md", scale::rotation_page(run));
    add("scale-failover.md", scale::failover_md(run));
    add("jwe.md", jwe::md(run));
    add("calculator-data.js", crate::calculator::js(run));
    for (page, sentences) in verdict::all(run) {
        add(&format!("verdict-{page}.md"), verdict::md(&sentences));
    }
    Ok(files)
}
