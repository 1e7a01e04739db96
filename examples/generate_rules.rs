//! Generates a large, valid policy set for timing `semslo lint`, `semslo check` and hot
//! reloads of `semslo serve`.
//!
//! ```text
//! cargo run --release --example generate_rules -- /tmp/rules-1000 --rules 1000 --files 10
//! ```
//!
//! Writes `rules_NN.slo` files and their reference data under `data/` into the directory.
//! The rules read the fields of the procurement runs in `examples/procurement/runs.jsonl`,
//! so `semslo check` on those runs gives a mix of verdicts. Rule kinds rotate through
//! field comparisons, membership in reference tables (a CSV table, an effective-dated CSV
//! table and a text set), regexes, quantifiers over `steps` and `checkpoints`, `when`
//! conditions, and arithmetic with `within`. The output depends on the arguments only: no
//! randomness and no wall clock.
//!
//! The set declares no waivers and no `mode ... until DATE`, because `semslo lint` judges
//! their dates against today's date, and no `test` blocks.

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Writes a policy set of generated rules into a directory.
#[derive(Parser)]
struct Arguments {
    /// Directory to write the policy set into. It is created if missing.
    directory: PathBuf,
    /// Number of rules to generate.
    #[arg(long, default_value_t = 1000)]
    rules: usize,
    /// Number of `.slo` files the rules are spread over (at most one per rule).
    #[arg(long, default_value_t = 10)]
    files: usize,
    /// Replace the `rules_*.slo` files an earlier run wrote. The `data/` files are always rewritten.
    #[arg(long)]
    overwrite: bool,
}

const CATEGORIES: [&str; 20] = [
    "batteries",
    "cleaning_supplies",
    "copy_paper",
    "desks",
    "forklift_parts",
    "gloves",
    "hard_hats",
    "headsets",
    "keyboards",
    "labels",
    "laptops",
    "monitors",
    "network_cables",
    "office_chairs",
    "packing_tape",
    "pallets",
    "printers",
    "safety_vests",
    "shrink_wrap",
    "toner",
];
const STEP_NAMES: [&str; 7] =
    ["request_intake", "catalog_search", "vendor_selection", "quote", "pricing_review", "create_po", "submit_po"];
const TOOLS: [&str; 7] =
    ["intake.parse", "catalog.search", "vendor.rank", "vendor.quote", "human.review", "erp.create_po", "erp.submit_po"];
const OWNERS: [&str; 4] = ["procurement-operations", "category-management", "finance-controls", "platform-quality"];
const SEVERITIES: [&str; 3] = ["critical", "major", "minor"];
const SEGMENTS: [&str; 4] = ["sourcing", "pricing", "ordering", "approval"];
const COUNTRIES: [&str; 5] = ["US", "CA", "MX", "DE", "GB"];
const CURRENCIES: [&str; 4] = ["USD", "CAD", "EUR", "GBP"];
/// Number of rule kinds `generate_rule` rotates through.
const RULE_KINDS: usize = 14;

/// Reference table or top-level `let` that a file may declare. A file declares only those
/// its rules read, so `semslo lint` reports no unused declaration.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Declaration {
    Vendors,
    DeprioritizedVendors,
    PriceBands,
    ApprovalLimits,
    Currencies,
    BigOrder,
}

impl Declaration {
    fn text(self) -> &'static str {
        match self {
            Declaration::Vendors => "use \"data/vendors.csv\" as vendors key vendor_id",
            Declaration::DeprioritizedVendors => {
                "use \"data/deprioritized_vendors.csv\" as deprioritized_vendors key vendor_id effective since..until"
            }
            Declaration::PriceBands => "use \"data/price_bands.csv\" as price_bands key category",
            Declaration::ApprovalLimits => {
                "use \"data/approval_limits.csv\" as approval_limits key workflow effective since..until"
            }
            Declaration::Currencies => "use \"data/currencies.txt\" as currencies",
            Declaration::BigOrder => "let big_order = 10000",
        }
    }
}

/// One generated rule: its text and the declarations it reads.
struct GeneratedRule {
    text: String,
    declarations: Vec<Declaration>,
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    match run(&arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("generate_rules: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(arguments: &Arguments) -> Result<(), Box<dyn Error>> {
    if arguments.rules == 0 {
        return Err("--rules must be at least 1: a policy set without rules does not load".into());
    }
    if arguments.files == 0 {
        return Err("--files must be at least 1".into());
    }
    prepare_directory(&arguments.directory, arguments.overwrite)?;
    write_reference_data(&arguments.directory.join("data"))?;

    let file_count = arguments.files.min(arguments.rules);
    let rules_per_file = arguments.rules.div_ceil(file_count);
    for file_index in 0..file_count {
        let first = file_index * rules_per_file;
        let last = (first + rules_per_file).min(arguments.rules);
        let text = policy_file(file_index, first..last);
        let path = arguments.directory.join(format!("rules_{file_index:02}.slo"));
        fs::write(&path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    println!("wrote {} rules in {file_count} files to {}", arguments.rules, arguments.directory.display());
    Ok(())
}

/// Creates the directory, or removes the `rules_*.slo` files an earlier run wrote when
/// `overwrite` is set. Any other file in it is an error, so stale rules never join the set.
fn prepare_directory(directory: &Path, overwrite: bool) -> Result<(), Box<dyn Error>> {
    fs::create_dir_all(directory.join("data"))
        .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    let mut earlier_files = Vec::new();
    for entry in fs::read_dir(directory)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name == "data" && path.is_dir() {
            continue;
        }
        if name.starts_with("rules_") && name.ends_with(".slo") {
            earlier_files.push(path);
        } else {
            return Err(format!(
                "{} contains {name}, which this generator did not write; use an empty directory",
                directory.display()
            )
            .into());
        }
    }
    if !earlier_files.is_empty() && !overwrite {
        return Err(
            format!("{} already holds generated rules; pass --overwrite to replace them", directory.display()).into()
        );
    }
    for path in earlier_files {
        fs::remove_file(&path).map_err(|error| format!("cannot remove {}: {error}", path.display()))?;
    }
    Ok(())
}

fn write_reference_data(data: &Path) -> Result<(), Box<dyn Error>> {
    let mut vendors = String::from("vendor_id,vendor_name,country,tier\n");
    for number in 1..=60 {
        let country = COUNTRIES[number % COUNTRIES.len()];
        let tier = ["gold", "silver", "bronze"][number % 3];
        writeln!(vendors, "V-{number:02},Vendor {number:02},{country},{tier}")?;
    }

    // Rows of one vendor never overlap in time, which `semslo lint` checks.
    let deprioritized = "vendor_id,reason,since,until\n\
        V-04,volume moved to a preferred vendor,2025-06-01,\n\
        V-09,repeated late deliveries,2024-11-01,\n\
        V-13,open quality dispute,2025-02-01,2025-09-01\n\
        V-17,contract not renewed,2025-06-01,\n\
        V-28,invoicing errors,2025-03-15,2025-05-15\n\
        V-28,repeated late deliveries,2025-08-01,\n\
        V-41,prices above contract terms,2025-07-01,\n";

    let mut price_bands = String::from("category,min,max\n");
    for (index, category) in CATEGORIES.iter().enumerate() {
        let minimum = 1 + index * 7;
        let maximum = minimum * 40 + 100;
        writeln!(price_bands, "{category},{minimum}.00,{maximum}.00")?;
    }

    let approval_limits = "workflow,limit,since,until\n\
        procurement,10000,2025-01-01,2025-10-01\n\
        procurement,15000,2025-10-01,\n";

    let mut currencies = String::from("# ISO 4217 codes the ERP accepts.\n");
    for currency in CURRENCIES {
        writeln!(currencies, "{currency}")?;
    }

    let files = [
        ("vendors.csv", vendors.as_str()),
        ("deprioritized_vendors.csv", deprioritized),
        ("price_bands.csv", price_bands.as_str()),
        ("approval_limits.csv", approval_limits),
        ("currencies.txt", currencies.as_str()),
    ];
    for (name, text) in files {
        let path = data.join(name);
        fs::write(&path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(())
}

/// Returns the text of one policy file holding the rules with the given global indexes.
fn policy_file(file_index: usize, rule_indexes: std::ops::Range<usize>) -> String {
    let rules: Vec<GeneratedRule> = rule_indexes.map(generate_rule).collect();
    let mut declarations: Vec<Declaration> = rules.iter().flat_map(|rule| rule.declarations.iter().copied()).collect();
    declarations.sort();
    declarations.dedup();

    let mut text = format!(
        "# Generated by examples/generate_rules.rs for performance measurements.\npolicy generated_{file_index:02}\n\n"
    );
    for declaration in declarations {
        text.push_str(declaration.text());
        text.push('\n');
    }
    text.push_str("event time outcome.created_at\n\n");
    for rule in &rules {
        text.push_str(&rule.text);
        text.push('\n');
    }
    if file_index == 0 {
        text.push_str(
            "slo generated_orders_correct {\n  \
             title     \"Purchase orders break no critical generated rule\"\n  \
             objective 99% over 28d\n  \
             valid     when outcome.type == \"purchase_order\"\n  \
             good      when no critical rule fails\n  \
             minimum   20 runs\n  \
             alert page   when burn rate > 14.4 over 1h and 5m\n  \
             by outcome.category\n}\n",
        );
    }
    text
}

/// Generates rule `index`: its kind is `index % RULE_KINDS`, and its parameters (category,
/// step, limits, tolerances) vary with `index`, so no two rules have the same text.
fn generate_rule(index: usize) -> GeneratedRule {
    let kind = index % RULE_KINDS;
    let variant = index / RULE_KINDS;
    let category = CATEGORIES[(index + variant) % CATEGORIES.len()];
    let step_index = (index + 3 * variant) % STEP_NAMES.len();
    let step = STEP_NAMES[step_index];
    let tool = TOOLS[step_index];
    let mut declarations = Vec::new();

    let (name, title, body) = match kind {
        0 => {
            let cap = 500 + (variant % 50) * 100;
            (
                format!("quantity_cap_{index:04}"),
                format!("Orders of {category} stay at or below {cap} units"),
                format!("  when     outcome.category == \"{category}\"\n  expect   outcome.quantity <= {cap}\n"),
            )
        }
        1 => {
            declarations.push(Declaration::PriceBands);
            (
                format!("unit_price_in_band_{index:04}"),
                format!("The unit price of {category} lies inside its price band"),
                format!(
                    "  when     outcome.type == \"purchase_order\" and outcome.category == \"{category}\"\n  \
                     let band = price_bands[outcome.category]\n  \
                     expect   outcome.unit_price between band.min and band.max\n"
                ),
            )
        }
        2 => {
            declarations.push(Declaration::Vendors);
            let countries = &COUNTRIES[..2 + variant % 3];
            let list = countries.iter().map(|country| format!("\"{country}\"")).collect::<Vec<_>>().join(", ");
            (
                format!("vendor_country_allowed_{index:04}"),
                format!("Vendors for {category} are listed and based in {}", countries.join(", ")),
                format!(
                    "  when     outcome.category == \"{category}\"\n  \
                     expect   outcome.vendor.id in vendors\n  \
                     expect   vendors[outcome.vendor.id].country in [{list}]\n"
                ),
            )
        }
        3 => {
            declarations.push(Declaration::DeprioritizedVendors);
            let threshold = 100 * (variant % 40);
            (
                format!("vendor_not_deprioritized_{index:04}"),
                format!("Orders above {threshold} never go to a deprioritized vendor"),
                format!(
                    "  when     outcome.type == \"purchase_order\" and outcome.total > {threshold}\n  \
                     expect   outcome.vendor.id not in deprioritized_vendors\n"
                ),
            )
        }
        4 => {
            let prefix = category[..3].to_uppercase();
            let digits = 3 + variant % 3;
            (
                format!("sku_format_{index:04}"),
                format!("SKUs of {category} start with {prefix} or another catalog prefix"),
                format!(
                    "  when     outcome.category == \"{category}\"\n  \
                     expect   outcome.sku matches /({prefix}|[A-Z]{{3}})-[0-9]{{{digits},5}}/\n"
                ),
            )
        }
        5 => (
            format!("step_succeeded_{index:04}"),
            format!("The {step} step ran and succeeded"),
            format!("  expect   any s in steps where s.name == \"{step}\" satisfies s.status == \"ok\"\n"),
        ),
        6 => {
            let milliseconds = 1000 * (5 + variant % 30);
            (
                format!("tool_latency_{index:04}"),
                format!("Every {tool} call answered within {milliseconds} ms"),
                format!(
                    "  expect   all s in steps where s.tool == \"{tool}\" satisfies s.latency_ms <= {milliseconds}\n"
                ),
            )
        }
        7 => (
            format!("no_step_errors_{index:04}"),
            format!("No {step} step of a {category} order ended in an error"),
            format!(
                "  when     outcome.category == \"{category}\"\n  \
                 expect   none s in steps where s.name == \"{step}\" satisfies s.status == \"error\"\n"
            ),
        ),
        8 => {
            let tolerance_cents = 1 + variant % 9;
            (
                format!("total_matches_lines_{index:04}"),
                format!("Totals of {category} orders equal unit price times quantity"),
                format!(
                    "  when     outcome.category == \"{category}\"\n  \
                     expect   outcome.total == outcome.unit_price * outcome.quantity within 0.0{tolerance_cents}\n"
                ),
            )
        }
        9 => {
            let percent = 1 + variant % 5;
            (
                format!("total_near_quote_{index:04}"),
                format!("The created order total is within {percent}% of the computed total"),
                format!(
                    "  when     outcome.total > 0\n  \
                     expect   (first s in steps where s.name == \"create_po\").output.total\n           \
                     within {percent}% of outcome.unit_price * outcome.quantity\n"
                ),
            )
        }
        10 => {
            declarations.push(Declaration::ApprovalLimits);
            let factor = format!("{}.{}", 1 + variant % 3, variant % 10);
            (
                format!("large_order_reviewed_{index:04}"),
                format!("Orders above {factor} times the approval limit were reviewed before submission"),
                format!(
                    "  let limit = approval_limits[workflow].limit\n  \
                     when     outcome.total > limit * {factor}\n  \
                     expect   any c in checkpoints satisfies c.name == \"pricing_review\" and c.decision == \"approved\"\n  \
                     expect   (first s in steps where s.name == \"pricing_review\")\n           \
                     before (first s in steps where s.name == \"submit_po\")\n"
                ),
            )
        }
        11 => {
            let hours = 1 + variant % 6;
            (
                format!("run_duration_{index:04}"),
                format!("Runs of {category} orders finish within {hours} hours"),
                format!(
                    "  when     outcome.category == \"{category}\" and agent.model starts with \"llm-\"\n  \
                     expect   finished_at - started_at <= {hours}h\n"
                ),
            )
        }
        12 => {
            declarations.push(Declaration::Currencies);
            let failures = variant % 3;
            (
                format!("currency_and_retries_{index:04}"),
                format!("{category} orders use an accepted currency and at most {failures} failed steps"),
                format!(
                    "  when     outcome.category == \"{category}\"\n  \
                     expect   outcome.currency in currencies\n  \
                     expect   (count s in steps where s.status != \"ok\") <= {failures}\n"
                ),
            )
        }
        _ => {
            declarations.push(Declaration::BigOrder);
            let multiple = 1 + variant % 4;
            (
                format!("big_order_po_number_{index:04}"),
                format!("Orders above {multiple} times the big-order size carry a PO number of this year"),
                format!(
                    "  when     outcome.total > big_order * {multiple}\n  \
                     expect   outcome.po_number matches /PO-20[0-9]{{2}}-[0-9]{{6}}/i\n  \
                     expect   outcome.po_number starts with \"PO-\"\n"
                ),
            )
        }
    };

    let severity = SEVERITIES[index % SEVERITIES.len()];
    let owner = OWNERS[(index / 3) % OWNERS.len()];
    let segment = SEGMENTS[(index / 5) % SEGMENTS.len()];
    // Two rules in 25 run in a trial mode.
    let mode = match index % 25 {
        7 => "  mode     warn\n",
        19 => "  mode     shadow\n",
        _ => "",
    };
    let text = format!(
        "rule {name} {{\n  title    \"{title}\"\n  severity {severity}\n{mode}  segment  {segment}\n  owner    \"{owner}\"\n{body}}}\n"
    );
    GeneratedRule { text, declarations }
}
