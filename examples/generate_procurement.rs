//! Generates the synthetic procurement example: purchase-order runs of a procurement
//! agent with known injected policy violations, and the verdicts a correct checker
//! must report for them.
//!
//! ```text
//! cargo run --release --example generate_procurement -- --runs 1000 --seed 7 --out examples/procurement
//! ```
//!
//! Writes `runs.jsonl` (one run record per line) and `expected.json` (verdict counts per
//! rule, failing run ids, traps, label noise) into `--out`. The reference data is read
//! from `--data`, the CSVs next to the procurement policy, so the verdicts follow the
//! tables the policy loads. The output is a function of the arguments, the CSVs and
//! `Cargo.lock` alone: a ChaCha8 generator seeded with `--seed`, no wall clock, money
//! in integer cents, and JSON keys in a fixed order.
//!
//! Verdicts come from what was injected into each run, not from checking the output,
//! so the counts can test the checker. The rules and their semantics:
//!
//! | rule | pass when | skip / error |
//! | --- | --- | --- |
//! | `vendor_not_deprioritized` | `outcome.vendor.id` has no row in `deprioritized_vendors.csv` whose `since..until` contains `outcome.created_at` | never |
//! | `unit_price_within_band` | `outcome.unit_price` within the inclusive band of `outcome.category` | error: category not in `price_bands.csv`, or no `unit_price` |
//! | `vendor_chosen_from_current_catalog` | some `vendor_selection` step has `output.catalog == "approved-2025"` | never |
//! | `total_matches_lines` | `abs(total - unit_price * quantity) <= 0.01` | error: no `unit_price` |
//! | `large_orders_reviewed` | an approved `pricing_review` checkpoint, and a `pricing_review` step before `submit_po` | skip: `total <= limit` at `created_at` |
//! | `sku_format` | `outcome.sku` matches `^[A-Z]{3}-[0-9]{5}$` | never |
//!
//! Dates in the CSVs stand for midnight UTC; `since` is inclusive and `until` exclusive.

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, Utc};
use clap::Parser;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};

type Cents = i64;
type BoxError = Box<dyn Error>;

// Shares of injected violations, per run unless stated otherwise. Each is drawn
// independently, so about 80 % of runs pass every rule. Trap runs (6 % of 1,000)
// get none of them, so the shares over all runs are a little lower.
const SHARE_DEPRIORITIZED_VENDOR: f64 = 0.04;
const SHARE_PRICE_OUT_OF_BAND: f64 = 0.035;
const SHARE_WRONG_CATALOG: f64 = 0.035;
const SHARE_TOTAL_MISMATCH: f64 = 0.035;
/// Share of the runs that `large_orders_reviewed` applies to, not of all runs.
const SHARE_REVIEW_FAULT_OF_LARGE: f64 = 0.15;
const SHARE_BAD_SKU: f64 = 0.03;
const SHARE_UNKNOWN_CATEGORY: f64 = 0.01;
const SHARE_MISSING_UNIT_PRICE: f64 = 0.005;
const SHARE_RETRIED_STEP: f64 = 0.02;
const SHARE_BUDGET_CHECK: f64 = 0.04;
const SHARE_LABELLED: f64 = 0.30;
const SHARE_LABEL_NOISE: f64 = 0.05;
/// One trap run of each kind per this many runs, and at least one of each.
const RUNS_PER_TRAP: usize = 250;

/// Upper bound on the units in one order line, so cheap items do not reach huge totals.
const MAX_QUANTITY: i64 = 20_000;

#[derive(Parser)]
#[command(about = "Generate the synthetic procurement runs and their expected verdicts")]
struct Args {
    /// Number of runs to generate.
    #[arg(long, default_value_t = 1000)]
    runs: usize,
    /// Seed of the ChaCha8 random generator. The same seed gives the same bytes.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Directory that receives `runs.jsonl` and `expected.json`.
    #[arg(long, default_value = "examples/procurement")]
    out: PathBuf,
    /// Directory with the procurement reference data CSVs.
    #[arg(long, default_value = "policies/procurement/data")]
    data: PathBuf,
}

fn main() -> ExitCode {
    match generate(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &Args) -> Result<(), BoxError> {
    check_exact_money_output()?;
    let data = ReferenceData::load(&args.data)?;

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let plans = plan_runs(args.runs, &data, &mut rng);
    let mut runs = Vec::with_capacity(plans.len());
    let mut truths = Vec::with_capacity(plans.len());
    for (index, plan) in plans.iter().enumerate() {
        let (run, truth) = build_run(index + 1, plan, &data, &mut rng);
        runs.push(run);
        truths.push(truth);
    }

    fs::create_dir_all(&args.out).map_err(|error| format!("failed to create `{}`: {error}", args.out.display()))?;
    let runs_path = args.out.join("runs.jsonl");
    write_file(&runs_path, |file| {
        for run in &runs {
            serde_json::to_writer(&mut *file, run)?;
            file.write_all(b"\n")?;
        }
        Ok(())
    })?;
    let expected = summarize(args, &runs, &truths);
    write_file(&args.out.join("expected.json"), |file| {
        serde_json::to_writer_pretty(&mut *file, &expected)?;
        file.write_all(b"\n")?;
        Ok(())
    })?;
    Ok(())
}

/// Fails unless serde_json writes decimal numbers as given, which needs its
/// `arbitrary_precision` feature (enabled by the library's dependency on it).
/// Without it `4260.00` would be written as `4260.0` through an f64.
fn check_exact_money_output() -> Result<(), BoxError> {
    let written = money(dollars(4_260)).to_string();
    if written != "4260.00" {
        return Err(
            format!("serde_json wrote `4260.00` as `{written}`: enable its `arbitrary_precision` feature").into()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Rules and verdicts
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rule {
    VendorNotDeprioritized,
    UnitPriceWithinBand,
    VendorChosenFromCurrentCatalog,
    TotalMatchesLines,
    LargeOrdersReviewed,
    SkuFormat,
}

impl Rule {
    const ALL: [Rule; 6] = [
        Rule::VendorNotDeprioritized,
        Rule::UnitPriceWithinBand,
        Rule::VendorChosenFromCurrentCatalog,
        Rule::TotalMatchesLines,
        Rule::LargeOrdersReviewed,
        Rule::SkuFormat,
    ];

    fn name(self) -> &'static str {
        match self {
            Rule::VendorNotDeprioritized => "vendor_not_deprioritized",
            Rule::UnitPriceWithinBand => "unit_price_within_band",
            Rule::VendorChosenFromCurrentCatalog => "vendor_chosen_from_current_catalog",
            Rule::TotalMatchesLines => "total_matches_lines",
            Rule::LargeOrdersReviewed => "large_orders_reviewed",
            Rule::SkuFormat => "sku_format",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Pass,
    Fail,
    Skip,
    Error,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
        }
    }
}

/// An injected violation: its kind, the step whose output first carries the offending
/// value, and that value. Both are `None` when the violation is an absence or an order
/// of steps rather than a value.
#[derive(Clone, Debug)]
struct Fault {
    kind: &'static str,
    entered_at: Option<&'static str>,
    offending: Option<Value>,
}

/// The known verdicts of one run, with the injected violation behind each failure.
struct Truth {
    verdicts: [Verdict; 6],
    faults: [Option<Fault>; 6],
    trap: Option<TrapKind>,
    label: Option<LabelTruth>,
    /// The vendor has a row in `deprioritized_vendors.csv`, but none in force at `created_at`.
    listed_vendor_not_in_force: bool,
}

impl Truth {
    fn has_fail(&self) -> bool {
        self.verdicts.contains(&Verdict::Fail)
    }

    fn has_error(&self) -> bool {
        self.verdicts.contains(&Verdict::Error)
    }
}

struct LabelTruth {
    expert_marked_correct: bool,
    noisy: bool,
}

// ---------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------

struct Vendor {
    id: String,
    name: String,
}

#[derive(Clone, Copy)]
struct Band {
    min: Cents,
    max: Cents,
}

/// One row of `deprioritized_vendors.csv`: the vendor is deprioritized from `since`
/// (inclusive) until `until` (exclusive), or for good when `until` is empty.
struct Deprioritization {
    vendor_id: String,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

impl Deprioritization {
    fn contains(&self, at: DateTime<Utc>) -> bool {
        self.since <= at && self.until.is_none_or(|until| at < until)
    }
}

/// One row of `approval_limits.csv`: orders above `limit` need a pricing review.
struct ApprovalLimit {
    limit: Cents,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

struct ReferenceData {
    vendors: Vec<Vendor>,
    bands: BTreeMap<String, Band>,
    deprioritized: Vec<Deprioritization>,
    limits: Vec<ApprovalLimit>,
}

#[derive(Deserialize)]
struct VendorRow {
    vendor_id: String,
    vendor_name: String,
}

#[derive(Deserialize)]
struct BandRow {
    category: String,
    min: String,
    max: String,
}

#[derive(Deserialize)]
struct DeprioritizedRow {
    vendor_id: String,
    since: String,
    until: String,
}

#[derive(Deserialize)]
struct LimitRow {
    workflow: String,
    limit: String,
    since: String,
    until: String,
}

impl ReferenceData {
    fn load(dir: &Path) -> Result<Self, BoxError> {
        let vendors = read_csv(&dir.join("vendors.csv"), |row: VendorRow| {
            Ok(Vendor { id: row.vendor_id, name: row.vendor_name })
        })?;
        let bands = read_csv(&dir.join("price_bands.csv"), |row: BandRow| {
            let band = Band { min: parse_cents(&row.min)?, max: parse_cents(&row.max)? };
            Ok((row.category, band))
        })?;
        let deprioritized = read_csv(&dir.join("deprioritized_vendors.csv"), |row: DeprioritizedRow| {
            Ok(Deprioritization {
                vendor_id: row.vendor_id,
                since: parse_date(&row.since)?,
                until: parse_optional_date(&row.until)?,
            })
        })?;
        let limits = read_csv(&dir.join("approval_limits.csv"), |row: LimitRow| {
            let limit = ApprovalLimit {
                limit: parse_cents(&row.limit)?,
                since: parse_date(&row.since)?,
                until: parse_optional_date(&row.until)?,
            };
            Ok((row.workflow, limit))
        })?;

        let data = ReferenceData {
            vendors,
            bands: bands.into_iter().collect(),
            deprioritized,
            limits: limits.into_iter().filter(|(workflow, _)| workflow == WORKFLOW).map(|(_, limit)| limit).collect(),
        };
        data.validate()?;
        Ok(data)
    }

    /// Checks that the in-code category profiles and the CSVs describe the same categories.
    fn validate(&self) -> Result<(), BoxError> {
        for category in CATEGORIES {
            let listed = self.bands.contains_key(category.name);
            if listed && category.unlisted_price.is_some() {
                return Err(format!(
                    "category `{}` is in price_bands.csv, but the generator uses it for runs whose category has no band",
                    category.name
                )
                .into());
            }
            if !listed && category.unlisted_price.is_none() {
                return Err(format!("category `{}` is missing from price_bands.csv", category.name).into());
            }
        }
        for name in self.bands.keys() {
            if !CATEGORIES.iter().any(|category| category.name == name) {
                return Err(format!("category `{name}` in price_bands.csv has no generator profile").into());
            }
        }
        if self.vendors.len() < 20 {
            return Err("vendors.csv needs at least 20 vendors".into());
        }
        Ok(())
    }

    fn is_deprioritized(&self, vendor_id: &str, at: DateTime<Utc>) -> bool {
        self.deprioritized.iter().any(|row| row.vendor_id == vendor_id && row.contains(at))
    }

    fn is_listed(&self, vendor_id: &str) -> bool {
        self.deprioritized.iter().any(|row| row.vendor_id == vendor_id)
    }

    fn vendor_index(&self, vendor_id: &str) -> usize {
        self.vendors
            .iter()
            .position(|vendor| vendor.id == vendor_id)
            .unwrap_or_else(|| panic!("deprioritized vendor `{vendor_id}` is not in vendors.csv"))
    }

    /// Returns the approval limit in force at `at`.
    fn limit_at(&self, at: DateTime<Utc>) -> Cents {
        self.limits
            .iter()
            .find(|row| row.since <= at && row.until.is_none_or(|until| at < until))
            .map(|row| row.limit)
            .unwrap_or_else(|| panic!("approval_limits.csv has no limit in force at {at}"))
    }

    fn band(&self, category: &Category) -> Option<Band> {
        self.bands.get(category.name).copied()
    }
}

/// Reads every row of a CSV file with a header and converts it, naming the file and
/// line of the first row that fails.
fn read_csv<Row: for<'de> Deserialize<'de>, Item>(
    path: &Path,
    convert: impl Fn(Row) -> Result<Item, BoxError>,
) -> Result<Vec<Item>, BoxError> {
    let failed = |error: &dyn std::fmt::Display| format!("failed to read `{}`: {error}", path.display());
    let mut reader = csv::Reader::from_path(path).map_err(|error| failed(&error))?;
    let mut items = Vec::new();
    for (index, row) in reader.deserialize().enumerate() {
        let row = row.map_err(|error| failed(&error))?;
        // Line 1 is the header.
        let item = convert(row).map_err(|error| failed(&format!("line {}: {error}", index + 2)))?;
        items.push(item);
    }
    Ok(items)
}

/// Parses a non-negative decimal with at most two fraction digits (`14.2`, `10000`) into cents.
fn parse_cents(text: &str) -> Result<Cents, BoxError> {
    let invalid = || format!("invalid amount `{text}`: expected digits with at most 2 decimals");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 || !(whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())) {
        return Err(invalid().into());
    }
    let whole: Cents = whole.parse().map_err(|_| invalid())?;
    let fraction: Cents = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
    Ok(whole * 100 + fraction)
}

/// Parses a `YYYY-MM-DD` date into midnight UTC of that day.
fn parse_date(text: &str) -> Result<DateTime<Utc>, BoxError> {
    let date =
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|error| format!("invalid date `{text}`: {error}"))?;
    Ok(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

fn parse_optional_date(text: &str) -> Result<Option<DateTime<Utc>>, BoxError> {
    if text.is_empty() { Ok(None) } else { parse_date(text).map(Some) }
}

// ---------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------

/// Generator profile of a category: SKU prefix, request wording and department.
struct Category {
    name: &'static str,
    sku_prefix: &'static str,
    /// Plural item description used in the request text.
    item: &'static str,
    department: &'static str,
    /// Price range of a category deliberately left out of `price_bands.csv`, whose runs
    /// are `error` for `unit_price_within_band`. `None` for a category with a band.
    unlisted_price: Option<(Cents, Cents)>,
}

const fn listed(
    name: &'static str,
    sku_prefix: &'static str,
    item: &'static str,
    department: &'static str,
) -> Category {
    Category { name, sku_prefix, item, department, unlisted_price: None }
}

const CATEGORIES: &[Category] = &[
    listed("pallets", "PAL", "EUR pallets", "warehouse"),
    listed("gloves", "GLV", "boxes of nitrile gloves", "safety"),
    listed("toner", "TON", "toner cartridges", "it"),
    listed("laptops", "LAP", "laptops", "it"),
    listed("monitors", "MON", "27-inch monitors", "it"),
    listed("copy_paper", "PAP", "reams of copy paper", "facilities"),
    listed("office_chairs", "CHR", "office chairs", "facilities"),
    listed("desks", "DSK", "standing desks", "facilities"),
    listed("network_cables", "CBL", "Cat6 patch cables", "it"),
    listed("batteries", "BAT", "AA batteries", "facilities"),
    listed("safety_vests", "VST", "high-visibility vests", "safety"),
    listed("hard_hats", "HAT", "hard hats", "safety"),
    listed("cleaning_supplies", "CLN", "cleaning supply kits", "facilities"),
    listed("printers", "PRN", "laser printers", "it"),
    listed("keyboards", "KBD", "keyboards", "it"),
    listed("headsets", "HDS", "headsets", "it"),
    listed("forklift_parts", "FRK", "forklift replacement parts", "warehouse"),
    listed("labels", "LBL", "shipping labels", "warehouse"),
    listed("packing_tape", "TAP", "rolls of packing tape", "warehouse"),
    listed("shrink_wrap", "WRP", "rolls of shrink wrap", "warehouse"),
    Category {
        name: "drones",
        sku_prefix: "DRN",
        item: "inventory drones",
        department: "warehouse",
        unlisted_price: Some((dollars(350), dollars(2_800))),
    },
    Category {
        name: "coffee_machines",
        sku_prefix: "CFE",
        item: "coffee machines",
        department: "facilities",
        unlisted_price: Some((dollars(80), dollars(1_500))),
    },
    Category {
        name: "lab_reagents",
        sku_prefix: "RGT",
        item: "lab reagent kits",
        department: "lab",
        unlisted_price: Some((dollars(20), dollars(600))),
    },
];

fn listed_categories() -> impl Iterator<Item = (usize, &'static Category)> {
    CATEGORIES.iter().enumerate().filter(|(_, category)| category.unlisted_price.is_none())
}

fn listed_category_count() -> usize {
    listed_categories().count()
}

/// Returns whether the vendor at row `vendor` of `vendors.csv` sells the listed
/// category at index `category` of `CATEGORIES`. Each vendor sells three categories, so each
/// category has nine vendors when there are 60.
fn sells(vendor: usize, category: usize) -> bool {
    let count = listed_category_count();
    [0, 7, 13].iter().any(|shift| (vendor + shift) % count == category)
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

const WORKFLOW: &str = "procurement";

fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_opt(hour, minute, 0))
        .expect("valid calendar time")
        .and_utc()
}

/// Returns the first and last `outcome.created_at` (UTC). The margins keep every run's local date
/// and its start and finish inside 2025-03-01..2025-12-31 for all three offsets.
fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc(2025, 3, 1, 6, 0), utc(2025, 12, 31, 18, 0))
}

fn random_time(rng: &mut ChaCha8Rng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = rng.random_range(from.timestamp()..=to.timestamp());
    DateTime::from_timestamp(seconds, 0).expect("timestamp inside 2025")
}

/// The UTC offset a run's timestamps are written in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Offset {
    Utc,
    PlusTwo,
    MinusFive,
}

impl Offset {
    fn random(rng: &mut ChaCha8Rng) -> Offset {
        match rng.random_range(0..100) {
            0..75 => Offset::Utc,
            75..90 => Offset::PlusTwo,
            _ => Offset::MinusFive,
        }
    }

    fn format(self, at: DateTime<Utc>) -> String {
        let hours = match self {
            Offset::Utc => return at.to_rfc3339_opts(SecondsFormat::Secs, true),
            Offset::PlusTwo => 2,
            Offset::MinusFive => -5,
        };
        let offset = FixedOffset::east_opt(hours * 3600).expect("offset within a day");
        at.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

// ---------------------------------------------------------------------------
// Traps: runs at the edges of a rule, which a checker gets wrong with sloppy semantics
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TrapKind {
    /// A listed vendor, ordered before its first `since`.
    VendorBeforeSince,
    /// A listed vendor, ordered after its only interval's `until`.
    VendorAfterUntil,
    /// A vendor listed twice, ordered between its two intervals.
    VendorBetweenIntervals,
    /// Local date is the `since` day (+02:00), but the UTC instant is the day before.
    VendorSinceLocalDateOnly,
    /// Local date is the day before `since` (-05:00), but the UTC instant is on or after it.
    VendorSinceUtcOnly,
    PriceAtBandMin,
    PriceAtBandMax,
    /// `total == unit_price * quantity` exactly, where an f64 product has rounding noise.
    ExactDecimalTotal,
    /// `total` is one cent off the product, which f64 subtraction puts above 0.01.
    OneCentRounding,
    /// A total between the old and the new limit after the raise, without review.
    MidTotalAfterRaise,
    /// A total between the old and the new limit before the raise, reviewed.
    MidTotalBeforeRaiseReviewed,
    /// A total between the old and the new limit before the raise, without review.
    MidTotalBeforeRaiseUnreviewed,
    /// A total exactly equal to the limit in force, without review.
    TotalEqualsLimit,
    /// Local date 2025-09-30 (-05:00), UTC instant on 2025-10-01 when the limit is 15,000.
    LimitRaiseInUtcOnly,
    /// Local date 2025-10-01 (+02:00), UTC instant on 2025-09-30 when the limit is 10,000.
    LimitRaiseInLocalTimeOnly,
}

impl TrapKind {
    const ALL: [TrapKind; 15] = [
        TrapKind::VendorBeforeSince,
        TrapKind::VendorAfterUntil,
        TrapKind::VendorBetweenIntervals,
        TrapKind::VendorSinceLocalDateOnly,
        TrapKind::VendorSinceUtcOnly,
        TrapKind::PriceAtBandMin,
        TrapKind::PriceAtBandMax,
        TrapKind::ExactDecimalTotal,
        TrapKind::OneCentRounding,
        TrapKind::MidTotalAfterRaise,
        TrapKind::MidTotalBeforeRaiseReviewed,
        TrapKind::MidTotalBeforeRaiseUnreviewed,
        TrapKind::TotalEqualsLimit,
        TrapKind::LimitRaiseInUtcOnly,
        TrapKind::LimitRaiseInLocalTimeOnly,
    ];

    fn name(self) -> &'static str {
        match self {
            TrapKind::VendorBeforeSince => "listed_vendor_before_since",
            TrapKind::VendorAfterUntil => "listed_vendor_after_until",
            TrapKind::VendorBetweenIntervals => "listed_vendor_between_intervals",
            TrapKind::VendorSinceLocalDateOnly => "since_day_in_local_time_only",
            TrapKind::VendorSinceUtcOnly => "since_day_in_utc_only",
            TrapKind::PriceAtBandMin => "unit_price_equals_band_min",
            TrapKind::PriceAtBandMax => "unit_price_equals_band_max",
            TrapKind::ExactDecimalTotal => "exact_decimal_product",
            TrapKind::OneCentRounding => "total_one_cent_off",
            TrapKind::MidTotalAfterRaise => "between_limits_after_raise_unreviewed",
            TrapKind::MidTotalBeforeRaiseReviewed => "between_limits_before_raise_reviewed",
            TrapKind::MidTotalBeforeRaiseUnreviewed => "between_limits_before_raise_unreviewed",
            TrapKind::TotalEqualsLimit => "total_equals_limit",
            TrapKind::LimitRaiseInUtcOnly => "limit_raise_day_in_utc_only",
            TrapKind::LimitRaiseInLocalTimeOnly => "limit_raise_day_in_local_time_only",
        }
    }

    fn rule(self) -> Rule {
        match self {
            TrapKind::VendorBeforeSince
            | TrapKind::VendorAfterUntil
            | TrapKind::VendorBetweenIntervals
            | TrapKind::VendorSinceLocalDateOnly
            | TrapKind::VendorSinceUtcOnly => Rule::VendorNotDeprioritized,
            TrapKind::PriceAtBandMin | TrapKind::PriceAtBandMax => Rule::UnitPriceWithinBand,
            TrapKind::ExactDecimalTotal | TrapKind::OneCentRounding => Rule::TotalMatchesLines,
            TrapKind::MidTotalAfterRaise
            | TrapKind::MidTotalBeforeRaiseReviewed
            | TrapKind::MidTotalBeforeRaiseUnreviewed
            | TrapKind::TotalEqualsLimit
            | TrapKind::LimitRaiseInUtcOnly
            | TrapKind::LimitRaiseInLocalTimeOnly => Rule::LargeOrdersReviewed,
        }
    }

    /// Returns whether the trap's run has no pricing review although its total is above
    /// the old limit.
    fn is_unreviewed_mid_total(self) -> bool {
        matches!(
            self,
            TrapKind::MidTotalAfterRaise
                | TrapKind::MidTotalBeforeRaiseUnreviewed
                | TrapKind::LimitRaiseInUtcOnly
                | TrapKind::LimitRaiseInLocalTimeOnly
        )
    }
}

/// Parameters fixed before a run is built: event time, offset, trap kind and the
/// vendor the trap needs.
struct Plan {
    created_at: DateTime<Utc>,
    offset: Offset,
    trap: Option<TrapKind>,
    vendor: Option<usize>,
}

/// Plans `count` runs, sorted by `created_at` so run ids follow event time.
fn plan_runs(count: usize, data: &ReferenceData, rng: &mut ChaCha8Rng) -> Vec<Plan> {
    let (from, to) = window();
    let mut plans: Vec<Plan> = (0..count)
        .map(|_| Plan { created_at: random_time(rng, from, to), offset: Offset::random(rng), trap: None, vendor: None })
        .collect();

    let per_kind = (count / RUNS_PER_TRAP).max(1);
    let mut indices: Vec<usize> = (0..count).collect();
    indices.shuffle(rng);
    let trap_kinds = TrapKind::ALL.iter().flat_map(|kind| std::iter::repeat_n(*kind, per_kind));
    for (index, kind) in indices.into_iter().zip(trap_kinds) {
        plans[index] = plan_trap(kind, data, rng);
    }

    plans.sort_by_key(|plan| plan.created_at);
    plans
}

fn plan_trap(kind: TrapKind, data: &ReferenceData, rng: &mut ChaCha8Rng) -> Plan {
    let (from, to) = window();
    let raise = utc(2025, 10, 1, 0, 0);
    let mut plan = Plan { created_at: from, offset: Offset::random(rng), trap: Some(kind), vendor: None };
    match kind {
        TrapKind::VendorBeforeSince
        | TrapKind::VendorAfterUntil
        | TrapKind::VendorBetweenIntervals
        | TrapKind::VendorSinceLocalDateOnly
        | TrapKind::VendorSinceUtcOnly => {
            let (vendor, created_at, offset) = plan_vendor_trap(kind, data, rng);
            plan.vendor = Some(vendor);
            plan.created_at = created_at;
            if let Some(offset) = offset {
                plan.offset = offset;
            }
        }
        TrapKind::PriceAtBandMin
        | TrapKind::PriceAtBandMax
        | TrapKind::ExactDecimalTotal
        | TrapKind::OneCentRounding
        | TrapKind::TotalEqualsLimit => plan.created_at = random_time(rng, from, to),
        TrapKind::MidTotalAfterRaise => plan.created_at = random_time(rng, raise + TimeDelta::hours(6), to),
        TrapKind::MidTotalBeforeRaiseReviewed | TrapKind::MidTotalBeforeRaiseUnreviewed => {
            plan.created_at = random_time(rng, utc(2025, 6, 1, 0, 0), raise - TimeDelta::hours(6));
        }
        TrapKind::LimitRaiseInUtcOnly => {
            plan.created_at = random_time(rng, raise, raise + TimeDelta::minutes(4 * 60 + 59));
            plan.offset = Offset::MinusFive;
        }
        TrapKind::LimitRaiseInLocalTimeOnly => {
            plan.created_at = random_time(rng, raise - TimeDelta::hours(2), raise - TimeDelta::seconds(1));
            plan.offset = Offset::PlusTwo;
        }
    }
    plan
}

/// A span of order times for a vendor trap, and the offset the run must be written in.
struct TrapWindow {
    vendor: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    offset: Option<Offset>,
}

/// Picks a listed vendor and an order time that is just outside (or, for
/// `VendorSinceUtcOnly`, just inside) one of its intervals.
fn plan_vendor_trap(
    kind: TrapKind,
    data: &ReferenceData,
    rng: &mut ChaCha8Rng,
) -> (usize, DateTime<Utc>, Option<Offset>) {
    let (from, to) = window();
    let margin = TimeDelta::days(1);
    let mut candidates = Vec::new();
    for row in &data.deprioritized {
        let vendor = data.vendor_index(&row.vendor_id);
        let earlier = latest_until_before(data, &row.vendor_id, row.since);
        let later = earliest_since_after(data, &row.vendor_id, row.since);
        let since_in_window = row.since > from + margin;
        let span = |start, end, offset| TrapWindow { vendor, start, end, offset };
        match kind {
            TrapKind::VendorBeforeSince if since_in_window && earlier.is_none() => {
                candidates.push(span(from, row.since - TimeDelta::hours(1), None));
            }
            TrapKind::VendorAfterUntil | TrapKind::VendorBetweenIntervals => {
                let Some(until) = row.until.filter(|until| *until < to - margin) else {
                    continue;
                };
                let between = kind == TrapKind::VendorBetweenIntervals;
                match later {
                    Some(next) if between => candidates.push(span(until, next - TimeDelta::hours(1), None)),
                    None if !between => candidates.push(span(until, to, None)),
                    _ => {}
                }
            }
            // An earlier interval that ends exactly at `since` would make the two hours
            // before `since` deprioritized too, so such a row cannot serve.
            TrapKind::VendorSinceLocalDateOnly if since_in_window && earlier.is_none_or(|end| end < row.since) => {
                let start = row.since - TimeDelta::hours(2);
                let end = row.since - TimeDelta::seconds(1);
                candidates.push(span(start, end, Some(Offset::PlusTwo)));
            }
            TrapKind::VendorSinceUtcOnly if since_in_window => {
                let end = row.since + TimeDelta::minutes(4 * 60 + 59);
                candidates.push(span(row.since, end, Some(Offset::MinusFive)));
            }
            _ => {}
        }
    }
    let window = candidates
        .choose(rng)
        .unwrap_or_else(|| panic!("deprioritized_vendors.csv has no vendor for trap `{}`", kind.name()));
    (window.vendor, random_time(rng, window.start, window.end), window.offset)
}

fn latest_until_before(data: &ReferenceData, vendor_id: &str, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    data.deprioritized
        .iter()
        .filter(|row| row.vendor_id == vendor_id && row.since < at)
        .filter_map(|row| row.until)
        .max()
}

fn earliest_since_after(data: &ReferenceData, vendor_id: &str, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    data.deprioritized.iter().filter(|row| row.vendor_id == vendor_id && row.since > at).map(|row| row.since).min()
}

// ---------------------------------------------------------------------------
// Injected violations
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PriceFault {
    AboveBand,
    BelowBand,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CatalogFault {
    /// Searched and selected from last year's catalog.
    PreviousCatalog,
    /// Typed the vendor in by hand, so there is no `vendor_selection` step.
    ManualVendorEntry,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TotalFault {
    VatAdded,
    /// The PO quantity lost or gained a digit while the total kept the requested one.
    QuantityMismatch,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ReviewFault {
    Missing,
    RejectedButSubmitted,
    AfterSubmit,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SkuFault {
    Lowercase,
    TrailingSpace,
    FourDigits,
    SixDigits,
}

/// The violations and error causes drawn for one run. The review fault is drawn
/// later, once the total shows whether `large_orders_reviewed` applies.
#[derive(Default)]
struct Injections {
    vendor: bool,
    price: Option<PriceFault>,
    catalog: Option<CatalogFault>,
    total: Option<TotalFault>,
    sku: Option<SkuFault>,
    unknown_category: bool,
    missing_unit_price: bool,
}

impl Injections {
    fn draw(rng: &mut ChaCha8Rng) -> Injections {
        let mut injections = Injections {
            vendor: rng.random_bool(SHARE_DEPRIORITIZED_VENDOR),
            price: rng
                .random_bool(SHARE_PRICE_OUT_OF_BAND)
                .then(|| if rng.random_bool(0.6) { PriceFault::AboveBand } else { PriceFault::BelowBand }),
            catalog: rng.random_bool(SHARE_WRONG_CATALOG).then(|| {
                if rng.random_bool(0.7) { CatalogFault::PreviousCatalog } else { CatalogFault::ManualVendorEntry }
            }),
            total: rng
                .random_bool(SHARE_TOTAL_MISMATCH)
                .then(|| if rng.random_bool(0.6) { TotalFault::VatAdded } else { TotalFault::QuantityMismatch }),
            sku: rng.random_bool(SHARE_BAD_SKU).then(|| {
                *[SkuFault::Lowercase, SkuFault::TrailingSpace, SkuFault::FourDigits, SkuFault::SixDigits]
                    .choose(rng)
                    .expect("non-empty")
            }),
            unknown_category: rng.random_bool(SHARE_UNKNOWN_CATEGORY),
            missing_unit_price: rng.random_bool(SHARE_MISSING_UNIT_PRICE),
        };
        // Without a band or a unit price the rules that read them are `error`, so a
        // price or total fault would not show as a failure.
        if injections.unknown_category || injections.missing_unit_price {
            injections.price = None;
        }
        if injections.missing_unit_price {
            injections.total = None;
        }
        injections
    }
}

// ---------------------------------------------------------------------------
// The order: category, vendor, price, quantity, total
// ---------------------------------------------------------------------------

struct Order {
    category: &'static Category,
    vendor: usize,
    unit_price: Cents,
    requested_quantity: i64,
    /// Quantity written on the PO. It differs from the request only for `QuantityMismatch`.
    quantity: i64,
    total: Cents,
    sku: String,
}

/// Category, unit price and quantity before any fault is applied.
struct Lines {
    category: usize,
    unit_price: Cents,
    quantity: i64,
}

fn choose_lines(plan: &Plan, injections: &Injections, data: &ReferenceData, rng: &mut ChaCha8Rng) -> Lines {
    let limit = data.limit_at(plan.created_at);
    match plan.trap {
        Some(TrapKind::ExactDecimalTotal) => {
            search_lines(data, rng, |price, quantity| f64_product_text(price, quantity) != cents_text(price * quantity))
        }
        Some(TrapKind::OneCentRounding) => search_lines(data, rng, |price, quantity| {
            f64_difference_exceeds_cent(price, quantity, price * quantity - 1)
        }),
        Some(TrapKind::TotalEqualsLimit) => lines_totalling(limit, data, rng),
        Some(kind) if kind.rule() == Rule::LargeOrdersReviewed => {
            lines_between(dollars(10_000) + 1, dollars(15_000), data, rng)
        }
        _ => {
            let category = choose_category(plan, injections, rng);
            let unit_price = match (plan.trap, data.band(&CATEGORIES[category])) {
                (Some(TrapKind::PriceAtBandMin), Some(band)) => band.min,
                (Some(TrapKind::PriceAtBandMax), Some(band)) => band.max,
                (_, Some(band)) => rng.random_range(band.min..=band.max),
                (_, None) => {
                    let (min, max) = CATEGORIES[category].unlisted_price.expect("unlisted category has a range");
                    rng.random_range(min..=max)
                }
            };
            let quantity = quantity_for(draw_target_total(rng), unit_price);
            Lines { category, unit_price, quantity }
        }
    }
}

fn choose_category(plan: &Plan, injections: &Injections, rng: &mut ChaCha8Rng) -> usize {
    if injections.unknown_category {
        let unlisted: Vec<usize> =
            (0..CATEGORIES.len()).filter(|index| CATEGORIES[*index].unlisted_price.is_some()).collect();
        return *unlisted.choose(rng).expect("some categories are unlisted");
    }
    let sold: Vec<usize> = listed_categories()
        .map(|(index, _)| index)
        .filter(|category| plan.vendor.is_none_or(|vendor| sells(vendor, *category)))
        .collect();
    *sold.choose(rng).expect("every vendor sells a listed category")
}

/// Draws an order total: small (55 %), medium (25 %) or above 10,200 (20 %).
fn draw_target_total(rng: &mut ChaCha8Rng) -> Cents {
    match rng.random_range(0..100) {
        0..55 => rng.random_range(dollars(40)..dollars(2_500)),
        55..80 => rng.random_range(dollars(2_500)..dollars(9_800)),
        _ => rng.random_range(dollars(10_200)..dollars(90_000)),
    }
}

fn quantity_for(target_total: Cents, unit_price: Cents) -> i64 {
    (target_total / unit_price).clamp(1, MAX_QUANTITY)
}

/// Draws a listed category, an in-band price and a small quantity that satisfy `accept`.
fn search_lines(data: &ReferenceData, rng: &mut ChaCha8Rng, accept: impl Fn(Cents, i64) -> bool) -> Lines {
    let categories: Vec<usize> = listed_categories().map(|(index, _)| index).collect();
    for _ in 0..10_000 {
        let category = *categories.choose(rng).expect("listed categories");
        let band = data.band(&CATEGORIES[category]).expect("listed category has a band");
        let unit_price = rng.random_range(band.min..=band.max.min(band.min + dollars(50)));
        let quantity = rng.random_range(2..=60);
        if accept(unit_price, quantity) {
            return Lines { category, unit_price, quantity };
        }
    }
    panic!("no order lines satisfy the trap condition in 10,000 draws");
}

/// Picks lines whose product is exactly `total`, with an in-band price.
fn lines_totalling(total: Cents, data: &ReferenceData, rng: &mut ChaCha8Rng) -> Lines {
    let mut options = Vec::new();
    for (category, profile) in listed_categories() {
        let band = data.band(profile).expect("listed category has a band");
        for quantity in [4, 5, 8, 10, 12, 16, 20, 24, 25, 40, 50, 60, 75, 80, 100, 125, 200, 250, 400, 500, 1000] {
            let unit_price = total / quantity;
            if unit_price * quantity == total && band.min <= unit_price && unit_price <= band.max {
                options.push(Lines { category, unit_price, quantity });
            }
        }
    }
    let index = rng.random_range(0..options.len());
    options.swap_remove(index)
}

/// Draws lines with an in-band price whose product is in `min..=max` cents.
fn lines_between(min: Cents, max: Cents, data: &ReferenceData, rng: &mut ChaCha8Rng) -> Lines {
    let categories: Vec<usize> = listed_categories()
        .map(|(index, _)| index)
        .filter(|index| data.band(&CATEGORIES[*index]).is_some_and(|band| band.max >= dollars(100)))
        .collect();
    for _ in 0..10_000 {
        let category = *categories.choose(rng).expect("some bands reach 100.00");
        let band = data.band(&CATEGORIES[category]).expect("listed category has a band");
        let unit_price = rng.random_range(band.min..=band.max);
        let quantity = quantity_for(rng.random_range(min..=max), unit_price);
        if (min..=max).contains(&(unit_price * quantity)) {
            return Lines { category, unit_price, quantity };
        }
    }
    panic!("no order lines total between {min} and {max} cents in 10,000 draws");
}

/// Chooses the vendor: the trap's vendor, a vendor deprioritized at order time for a
/// vendor fault, or else one that sells the category and is not deprioritized.
fn choose_vendor(
    plan: &Plan,
    injections: &Injections,
    category: usize,
    data: &ReferenceData,
    rng: &mut ChaCha8Rng,
) -> usize {
    if let Some(vendor) = plan.vendor {
        return vendor;
    }
    let at = plan.created_at;
    let unlisted = CATEGORIES[category].unlisted_price.is_some();
    let candidates = |require_sells: bool| -> Vec<usize> {
        (0..data.vendors.len())
            .filter(|vendor| data.is_deprioritized(&data.vendors[*vendor].id, at) == injections.vendor)
            .filter(|vendor| unlisted || !require_sells || sells(*vendor, category))
            .collect()
    };
    let mut pool = candidates(true);
    if pool.is_empty() {
        pool = candidates(false);
    }
    *pool.choose(rng).unwrap_or_else(|| panic!("no vendor fits the order at {at}"))
}

fn build_order(plan: &Plan, injections: &Injections, data: &ReferenceData, rng: &mut ChaCha8Rng) -> Order {
    let lines = choose_lines(plan, injections, data, rng);
    let category = &CATEGORIES[lines.category];
    let unit_price = match (injections.price, data.band(category)) {
        (Some(fault), Some(band)) => out_of_band_price(fault, band, rng),
        _ => lines.unit_price,
    };
    let vendor = choose_vendor(plan, injections, lines.category, data, rng);

    let requested_quantity = lines.quantity;
    let product = unit_price * requested_quantity;
    let (quantity, total) = match injections.total {
        Some(TotalFault::VatAdded) => {
            let rate = *[19, 20, 21].choose(rng).expect("non-empty");
            (requested_quantity, round_div(product * (100 + rate), 100))
        }
        Some(TotalFault::QuantityMismatch) if requested_quantity >= 20 => (requested_quantity / 10, product),
        Some(TotalFault::QuantityMismatch) => (requested_quantity * 10, product),
        None if plan.trap == Some(TrapKind::OneCentRounding) => (requested_quantity, product - 1),
        None if injections.missing_unit_price => (requested_quantity, (round_div(product, 100) * 100).max(100)),
        None => (requested_quantity, product),
    };

    let sku = make_sku(category, injections.sku, rng);
    Order { category, vendor, unit_price, requested_quantity, quantity, total, sku }
}

/// Draws a price outside the band, never a whole number of dollars, so it cannot equal an
/// integer (a quantity or a count) that an earlier step printed.
fn out_of_band_price(fault: PriceFault, band: Band, rng: &mut ChaCha8Rng) -> Cents {
    let mut price = match fault {
        PriceFault::AboveBand => band.max * rng.random_range(125..=300) / 100 + rng.random_range(1..=99),
        PriceFault::BelowBand => (band.min * rng.random_range(20..=80) / 100).max(1),
    };
    if price % 100 == 0 {
        price += if fault == PriceFault::AboveBand { 7 } else { -3 };
    }
    assert!(price > 0 && (price > band.max || price < band.min), "out-of-band price {price} is in its band");
    price
}

fn make_sku(category: &Category, fault: Option<SkuFault>, rng: &mut ChaCha8Rng) -> String {
    let digits: u32 = rng.random_range(10_000..100_000);
    let prefix = category.sku_prefix;
    match fault {
        None => format!("{prefix}-{digits:05}"),
        Some(SkuFault::Lowercase) => format!("{}-{digits:05}", prefix.to_lowercase()),
        Some(SkuFault::TrailingSpace) => format!("{prefix}-{digits:05} "),
        Some(SkuFault::FourDigits) => format!("{prefix}-{}", digits / 10),
        Some(SkuFault::SixDigits) => format!("{prefix}-{digits:05}{}", digits % 10),
    }
}

/// Divides and rounds half up. Both arguments are non-negative here.
fn round_div(numerator: i64, denominator: i64) -> i64 {
    (numerator + denominator / 2) / denominator
}

// ---------------------------------------------------------------------------
// Money as JSON and the f64 comparisons that pick the arithmetic traps
// ---------------------------------------------------------------------------

const fn dollars(amount: i64) -> Cents {
    amount * 100
}

fn cents_text(cents: Cents) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Converts cents to a JSON number with exactly two decimals, e.g. `4260.00`.
fn money(cents: Cents) -> Number {
    Number::from_str(&cents_text(cents)).expect("a decimal is a valid JSON number")
}

/// Formats `price * quantity` as an f64 checker would print it, to pick the exact-product trap.
fn f64_product_text(price: Cents, quantity: i64) -> String {
    let product = (price as f64 / 100.0) * quantity as f64;
    let text = format!("{product}");
    match text.split_once('.') {
        Some((_, fraction)) if fraction.len() > 2 => text,
        _ => format!("{product:.2}"),
    }
}

/// Returns whether an f64 checker would find `total` more than 0.01 from the product,
/// although the exact difference is at most one cent.
fn f64_difference_exceeds_cent(price: Cents, quantity: i64, total: Cents) -> bool {
    let product = (price as f64 / 100.0) * quantity as f64;
    (total as f64 / 100.0 - product).abs() > 0.01
}

// ---------------------------------------------------------------------------
// Run records
// ---------------------------------------------------------------------------

#[derive(Serialize)]
struct Run {
    run_id: String,
    workflow: &'static str,
    started_at: String,
    finished_at: String,
    agent: Agent,
    request: Request,
    steps: Vec<Step>,
    outcome: Outcome,
    checkpoints: Vec<Checkpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Labels>,
}

#[derive(Serialize)]
struct Agent {
    model: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Request {
    requester: String,
    department: &'static str,
    need: String,
}

#[derive(Serialize)]
struct Step {
    name: &'static str,
    status: &'static str,
    tool: &'static str,
    latency_ms: i64,
    input: Value,
    output: Value,
}

#[derive(Serialize)]
struct Outcome {
    #[serde(rename = "type")]
    kind: &'static str,
    po_number: String,
    vendor: VendorRef,
    sku: String,
    category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_price: Option<Number>,
    quantity: i64,
    total: Number,
    currency: &'static str,
    created_at: String,
}

#[derive(Serialize)]
struct VendorRef {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct Checkpoint {
    name: &'static str,
    decision: &'static str,
    reviewer: &'static str,
    seconds_spent: i64,
}

#[derive(Serialize)]
struct Labels {
    expert_verdict: &'static str,
    note: &'static str,
}

/// Position and decision of the pricing review in a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Review {
    None,
    BeforeCreate(&'static str),
    AfterSubmit,
}

/// Builds one run, retrying with fresh draws in the rare case that an offending value
/// also shows up, by coincidence, in an earlier step's output than the one it was
/// injected into.
fn build_run(number: usize, plan: &Plan, data: &ReferenceData, rng: &mut ChaCha8Rng) -> (Run, Truth) {
    loop {
        let (run, truth) = try_build_run(number, plan, data, rng);
        let attributable = truth.faults.iter().flatten().all(|fault| match &fault.offending {
            Some(value) => first_step_carrying(&run.steps, value) == fault.entered_at,
            None => true,
        });
        if attributable {
            return (run, truth);
        }
    }
}

fn try_build_run(number: usize, plan: &Plan, data: &ReferenceData, rng: &mut ChaCha8Rng) -> (Run, Truth) {
    let injections = if plan.trap.is_some() { Injections::default() } else { Injections::draw(rng) };
    let order = build_order(plan, &injections, data, rng);

    let limit = data.limit_at(plan.created_at);
    let review_applies = order.total > limit;
    let review_fault = draw_review_fault(plan, review_applies, rng);
    let review = choose_review(plan, review_applies, review_fault, order.total, rng);

    let po_number = format!("PO-2025-{:06}", 40_000 + number);
    let mut record = RunBuilder::new(number, plan, &order, rng);
    record.push_intake(&order, rng);
    record.push_sourcing(&order, injections.catalog, data, rng);
    let vendor = &data.vendors[order.vendor];
    record.push_quote(&order, vendor, injections.missing_unit_price, rng);
    if rng.random_bool(SHARE_BUDGET_CHECK) {
        record.push_human_check(
            "budget_check",
            "role:finance",
            if rng.random_bool(0.8) { "approved" } else { "modified" },
            &order,
            rng,
        );
    }
    if let Review::BeforeCreate(decision) = review {
        record.push_human_check("pricing_review", "role:buyer", decision, &order, rng);
    }
    record.push_create(&order, &po_number, rng);
    record.push_submit(&po_number, rng);
    if review == Review::AfterSubmit {
        record.push_human_check("pricing_review", "role:buyer", "approved", &order, rng);
    }
    if rng.random_bool(SHARE_RETRIED_STEP) {
        record.insert_failed_attempt(rng);
    }

    let (verdicts, faults) = verdicts(&injections, review_applies, review_fault, &order, data, plan);
    let listed_vendor_not_in_force = data.is_listed(&vendor.id) && !data.is_deprioritized(&vendor.id, plan.created_at);
    let mut truth = Truth { verdicts, faults, trap: plan.trap, label: None, listed_vendor_not_in_force };
    let labels = draw_labels(&truth, rng);
    truth.label = labels
        .as_ref()
        .map(|(labels, noisy)| LabelTruth { expert_marked_correct: labels.expert_verdict == "correct", noisy: *noisy });
    let agent = agent_at(plan.created_at, rng);
    let outcome = Outcome {
        kind: "purchase_order",
        po_number: po_number.clone(),
        vendor: VendorRef { id: vendor.id.clone(), name: vendor.name.clone() },
        sku: order.sku.clone(),
        category: order.category.name,
        unit_price: (!injections.missing_unit_price).then(|| money(order.unit_price)),
        quantity: order.quantity,
        total: money(order.total),
        currency: "USD",
        created_at: plan.offset.format(plan.created_at),
    };
    let run = record.finish(plan, agent, outcome, labels.map(|(labels, _)| labels));
    (run, truth)
}

fn draw_review_fault(plan: &Plan, applies: bool, rng: &mut ChaCha8Rng) -> Option<ReviewFault> {
    match plan.trap {
        Some(kind) if kind.is_unreviewed_mid_total() && applies => Some(ReviewFault::Missing),
        Some(_) => None,
        None if applies && rng.random_bool(SHARE_REVIEW_FAULT_OF_LARGE) => Some(match rng.random_range(0..10) {
            0..4 => ReviewFault::Missing,
            4..7 => ReviewFault::RejectedButSubmitted,
            _ => ReviewFault::AfterSubmit,
        }),
        None => None,
    }
}

/// Decides the pricing review. Orders that the rule applies to get an approved review
/// unless a review fault was drawn. Buyers also review some orders below the limit,
/// such as totals above 10,000 after the raise, which does not change the verdict.
fn choose_review(plan: &Plan, applies: bool, fault: Option<ReviewFault>, total: Cents, rng: &mut ChaCha8Rng) -> Review {
    let optional_decision = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.8) { "approved" } else { "modified" }
    };
    match (fault, plan.trap) {
        (Some(ReviewFault::Missing), _) => Review::None,
        (Some(ReviewFault::RejectedButSubmitted), _) => Review::BeforeCreate("rejected"),
        (Some(ReviewFault::AfterSubmit), _) => Review::AfterSubmit,
        (None, Some(kind)) if kind.is_unreviewed_mid_total() || kind == TrapKind::TotalEqualsLimit => Review::None,
        (None, Some(TrapKind::MidTotalBeforeRaiseReviewed)) => Review::BeforeCreate("approved"),
        (None, _) if applies => Review::BeforeCreate("approved"),
        (None, _) if total > dollars(10_000) && rng.random_bool(0.3) => Review::BeforeCreate(optional_decision(rng)),
        (None, _) if total > dollars(5_000) && rng.random_bool(0.05) => Review::BeforeCreate(optional_decision(rng)),
        (None, _) => Review::None,
    }
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

const SITES: &[&str] =
    &["Rotterdam DC", "Leeds warehouse", "Austin office", "Monterrey plant", "Gdansk hub", "Toronto office"];

/// Collects the steps and checkpoints of one run in execution order.
struct RunBuilder {
    run_id: String,
    steps: Vec<Step>,
    checkpoints: Vec<Checkpoint>,
    request: Request,
    need_by: String,
    catalog: &'static str,
}

impl RunBuilder {
    fn new(number: usize, plan: &Plan, order: &Order, rng: &mut ChaCha8Rng) -> RunBuilder {
        let site = *SITES.choose(rng).expect("non-empty");
        let need_by = (plan.created_at + TimeDelta::days(rng.random_range(7..=30))).format("%Y-%m-%d").to_string();
        let request = Request {
            requester: format!("u-{:04}", rng.random_range(1000..1400)),
            department: order.category.department,
            need: format!(
                "{}, quantity {}, for {site}, needed by {need_by}",
                order.category.item, order.requested_quantity
            ),
        };
        RunBuilder {
            run_id: format!("po-{number:06}"),
            steps: Vec::new(),
            checkpoints: Vec::new(),
            request,
            need_by,
            catalog: "approved-2025",
        }
    }

    fn push(&mut self, name: &'static str, tool: &'static str, latency_ms: i64, input: Value, output: Value) {
        self.steps.push(Step { name, status: "ok", tool, latency_ms, input, output });
    }

    fn push_intake(&mut self, order: &Order, rng: &mut ChaCha8Rng) {
        let input = json!({ "text": self.request.need });
        let output = json!({
            "category": order.category.name,
            "quantity": order.requested_quantity,
            "need_by": self.need_by,
        });
        self.push("request_intake", "intake.parse", rng.random_range(300..1500), input, output);
    }

    /// Pushes the catalog search and the vendor selection (or the manual entry that
    /// replaces it). The catalog search result count avoids the order's quantities, so
    /// a wrong quantity first appears where it was injected.
    fn push_sourcing(
        &mut self,
        order: &Order,
        fault: Option<CatalogFault>,
        data: &ReferenceData,
        rng: &mut ChaCha8Rng,
    ) {
        if fault == Some(CatalogFault::PreviousCatalog) {
            self.catalog = "approved-2024";
        }
        let mut results = rng.random_range(3..=40);
        while results == order.quantity || results == order.requested_quantity {
            results += 41;
        }
        let input = json!({ "query": order.category.item, "category": order.category.name });
        let output = json!({ "catalog": self.catalog, "results": results });
        self.push("catalog_search", "catalog.search", rng.random_range(400..3000), input, output);

        let vendor = &data.vendors[order.vendor];
        if fault == Some(CatalogFault::ManualVendorEntry) {
            let input = json!({ "category": order.category.name, "reason": "no catalog match accepted" });
            let output = json!({ "vendor_id": vendor.id, "vendor_name": vendor.name, "entered_by": "agent" });
            self.push("manual_vendor_entry", "procurement.form", rng.random_range(1000..5000), input, output);
        } else {
            let input = json!({ "category": order.category.name, "catalog": self.catalog, "candidates": results });
            let output = json!({ "catalog": self.catalog, "vendor_id": vendor.id, "vendor_name": vendor.name });
            self.push("vendor_selection", "vendor.rank", rng.random_range(500..2500), input, output);
        }
    }

    /// Pushes the quote. Without a unit price the vendor quoted a lump sum for the line.
    fn push_quote(&mut self, order: &Order, vendor: &Vendor, missing_unit_price: bool, rng: &mut ChaCha8Rng) {
        let input = json!({
            "vendor_id": vendor.id,
            "category": order.category.name,
            "quantity": order.requested_quantity,
        });
        let output = if missing_unit_price {
            json!({ "sku": order.sku, "lump_sum": money(order.total), "currency": "USD" })
        } else {
            json!({ "sku": order.sku, "unit_price": money(order.unit_price), "currency": "USD" })
        };
        self.push("quote", "vendor.quote", rng.random_range(800..4000), input, output);
    }

    /// Pushes a human step and its checkpoint.
    fn push_human_check(
        &mut self,
        name: &'static str,
        reviewer: &'static str,
        decision: &'static str,
        order: &Order,
        rng: &mut ChaCha8Rng,
    ) {
        let seconds_spent = rng.random_range(45..=1800);
        let input = json!({ "po_total": money(order.total), "currency": "USD" });
        let mut output = json!({ "decision": decision, "reviewer": reviewer });
        if decision == "rejected" {
            output["comment"] = json!("unit price above the last contract price");
        }
        self.push(name, "human.review", seconds_spent * 1000, input, output);
        self.checkpoints.push(Checkpoint { name, decision, reviewer, seconds_spent });
    }

    fn push_create(&mut self, order: &Order, po_number: &str, rng: &mut ChaCha8Rng) {
        let input = json!({ "sku": order.sku, "quantity": order.requested_quantity, "currency": "USD" });
        let output = json!({ "po_number": po_number, "quantity": order.quantity, "total": money(order.total) });
        self.push("create_po", "erp.create_po", rng.random_range(300..1200), input, output);
    }

    fn push_submit(&mut self, po_number: &str, rng: &mut ChaCha8Rng) {
        let input = json!({ "po_number": po_number });
        let output = json!({ "status": "submitted" });
        self.push("submit_po", "erp.submit_po", rng.random_range(200..900), input, output);
    }

    /// Inserts a failed attempt of one automated step right before the step, which then
    /// reads as its successful repeat. The failed attempt's output carries only an
    /// error message, so it never carries an order value.
    fn insert_failed_attempt(&mut self, rng: &mut ChaCha8Rng) {
        let retryable: Vec<usize> = (0..self.steps.len())
            .filter(|index| {
                matches!(
                    self.steps[*index].name,
                    "catalog_search" | "vendor_selection" | "quote" | "create_po" | "submit_po"
                )
            })
            .collect();
        let index = *retryable.choose(rng).expect("every run has a quote step");
        let original = &self.steps[index];
        let (status, message) = if rng.random_bool(0.5) {
            ("retried", "timed out after 30000 ms")
        } else {
            ("error", "upstream returned HTTP 503")
        };
        let attempt = Step {
            name: original.name,
            status,
            tool: original.tool,
            latency_ms: if status == "retried" { 30_000 } else { rng.random_range(50..400) },
            input: original.input.clone(),
            output: json!({ "error": message }),
        };
        self.steps.insert(index, attempt);
    }

    /// Assembles the run. `started_at` and `finished_at` follow from the step latencies
    /// around `outcome.created_at`, the moment `create_po` finished.
    fn finish(self, plan: &Plan, agent: Agent, outcome: Outcome, labels: Option<Labels>) -> Run {
        let create_index = self.steps.iter().rposition(|step| step.name == "create_po").expect("create_po step");
        let before_ms: i64 = self.steps[..=create_index].iter().map(|step| step.latency_ms).sum();
        let after_ms: i64 = self.steps[create_index + 1..].iter().map(|step| step.latency_ms).sum();
        let started_at = plan.created_at - TimeDelta::seconds(ceil_seconds(before_ms));
        let finished_at = plan.created_at + TimeDelta::seconds(ceil_seconds(after_ms).max(1));
        Run {
            run_id: self.run_id,
            workflow: WORKFLOW,
            started_at: plan.offset.format(started_at),
            finished_at: plan.offset.format(finished_at),
            agent,
            request: self.request,
            steps: self.steps,
            outcome,
            checkpoints: self.checkpoints,
            labels,
        }
    }
}

fn ceil_seconds(milliseconds: i64) -> i64 {
    (milliseconds + 999) / 1000
}

/// Picks the agent release in production at `at`. About one run in ten goes to the small model.
fn agent_at(at: DateTime<Utc>, rng: &mut ChaCha8Rng) -> Agent {
    let version = if at < utc(2025, 6, 16, 0, 0) {
        "2.3.1"
    } else if at < utc(2025, 10, 20, 0, 0) {
        "2.4.0"
    } else {
        "2.5.2"
    };
    let model = match version {
        _ if rng.random_bool(0.1) => "llm-small-2025-04",
        "2.3.1" => "llm-large-2025-01",
        _ => "llm-large-2025-06",
    };
    Agent { model, version }
}

/// Returns the name of the first step whose output contains `value` anywhere, numbers
/// compared as decimals (`40` equals `40.00`).
fn first_step_carrying(steps: &[Step], value: &Value) -> Option<&'static str> {
    steps.iter().find(|step| contains_value(&step.output, value)).map(|step| step.name)
}

fn contains_value(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Object(map) => map.values().any(|child| contains_value(child, needle)),
        Value::Array(items) => items.iter().any(|child| contains_value(child, needle)),
        Value::Number(number) => match needle {
            Value::Number(wanted) => decimal(number) == decimal(wanted),
            _ => false,
        },
        other => other == needle,
    }
}

fn decimal(number: &Number) -> Decimal {
    Decimal::from_str(&number.to_string()).expect("generated numbers are plain decimals")
}

// ---------------------------------------------------------------------------
// Verdicts and labels
// ---------------------------------------------------------------------------

/// Derives each rule's verdict from what was injected into the run.
fn verdicts(
    injections: &Injections,
    review_applies: bool,
    review_fault: Option<ReviewFault>,
    order: &Order,
    data: &ReferenceData,
    plan: &Plan,
) -> ([Verdict; 6], [Option<Fault>; 6]) {
    let mut verdicts = [Verdict::Pass; 6];
    let mut faults: [Option<Fault>; 6] = Default::default();
    let manual_entry = injections.catalog == Some(CatalogFault::ManualVendorEntry);
    let vendor_step = if manual_entry { "manual_vendor_entry" } else { "vendor_selection" };

    let vendor_id = &data.vendors[order.vendor].id;
    if injections.vendor || plan.trap == Some(TrapKind::VendorSinceUtcOnly) {
        faults[Rule::VendorNotDeprioritized.index()] =
            Some(value_fault("deprioritized_vendor", vendor_step, json!(vendor_id)));
    }
    if let Some(fault) = injections.price {
        let kind = if fault == PriceFault::AboveBand { "above_band" } else { "below_band" };
        faults[Rule::UnitPriceWithinBand.index()] = Some(value_fault(kind, "quote", json!(money(order.unit_price))));
    }
    faults[Rule::VendorChosenFromCurrentCatalog.index()] = injections.catalog.map(|fault| match fault {
        CatalogFault::PreviousCatalog => value_fault("approved_2024_catalog", "catalog_search", json!("approved-2024")),
        CatalogFault::ManualVendorEntry => {
            Fault { kind: "manual_vendor_entry", entered_at: Some("manual_vendor_entry"), offending: None }
        }
    });
    faults[Rule::TotalMatchesLines.index()] = injections.total.map(|fault| match fault {
        TotalFault::VatAdded => value_fault("vat_added", "create_po", json!(money(order.total))),
        TotalFault::QuantityMismatch => value_fault("quantity_mismatch", "create_po", json!(order.quantity)),
    });
    faults[Rule::LargeOrdersReviewed.index()] = review_fault.map(|fault| match fault {
        ReviewFault::Missing => Fault { kind: "no_pricing_review", entered_at: None, offending: None },
        ReviewFault::RejectedButSubmitted => {
            value_fault("review_rejected_but_submitted", "pricing_review", json!("rejected"))
        }
        ReviewFault::AfterSubmit => Fault { kind: "review_after_submit", entered_at: None, offending: None },
    });
    faults[Rule::SkuFormat.index()] = injections.sku.map(|fault| {
        let kind = match fault {
            SkuFault::Lowercase => "lowercase",
            SkuFault::TrailingSpace => "trailing_space",
            SkuFault::FourDigits | SkuFault::SixDigits => "wrong_digit_count",
        };
        value_fault(kind, "quote", json!(order.sku))
    });

    for rule in Rule::ALL {
        if faults[rule.index()].is_some() {
            verdicts[rule.index()] = Verdict::Fail;
        }
    }
    if injections.unknown_category || injections.missing_unit_price {
        verdicts[Rule::UnitPriceWithinBand.index()] = Verdict::Error;
    }
    if injections.missing_unit_price {
        verdicts[Rule::TotalMatchesLines.index()] = Verdict::Error;
    }
    if !review_applies {
        verdicts[Rule::LargeOrdersReviewed.index()] = Verdict::Skip;
    }
    (verdicts, faults)
}

fn value_fault(kind: &'static str, step: &'static str, value: Value) -> Fault {
    Fault { kind, entered_at: Some(step), offending: Some(value) }
}

/// Draws the expert label of a labelled run: the truth, flipped for label noise.
fn draw_labels(truth: &Truth, rng: &mut ChaCha8Rng) -> Option<(Labels, bool)> {
    if !rng.random_bool(SHARE_LABELLED) {
        return None;
    }
    let noisy = rng.random_bool(SHARE_LABEL_NOISE);
    let incorrect = truth.has_fail();
    let note = match (incorrect, noisy) {
        (false, false) => {
            *["matches policy", "checked vendor and price", "standard reorder"].choose(rng).expect("non-empty")
        }
        (true, false) => failure_note(truth),
        (false, true) => *["price looked high", "unexpected vendor"].choose(rng).expect("non-empty"),
        (true, true) => "looks fine",
    };
    let marked_correct = incorrect == noisy;
    let expert_verdict = if marked_correct { "correct" } else { "incorrect" };
    Some((Labels { expert_verdict, note }, noisy))
}

fn failure_note(truth: &Truth) -> &'static str {
    let first = Rule::ALL.into_iter().find(|rule| truth.verdicts[rule.index()] == Verdict::Fail);
    match first.expect("an incorrect run has a failing rule") {
        Rule::VendorNotDeprioritized => "vendor is deprioritized",
        Rule::UnitPriceWithinBand => "unit price outside the category's band",
        Rule::VendorChosenFromCurrentCatalog => "vendor not taken from the current catalog",
        Rule::TotalMatchesLines => "total does not match price times quantity",
        Rule::LargeOrdersReviewed => "large order without an approved pricing review",
        Rule::SkuFormat => "malformed SKU",
    }
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// Creates `path` and fills it through `write`, naming the path in any error.
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let with_path = |error: &dyn std::fmt::Display| format!("failed to write `{}`: {error}", path.display());
    let file = fs::File::create(path).map_err(|error| with_path(&error))?;
    let mut writer = BufWriter::new(file);
    write(&mut writer).map_err(|error| with_path(&*error))?;
    writer.flush().map_err(|error| with_path(&error))?;
    Ok(())
}

fn summarize(args: &Args, runs: &[Run], truths: &[Truth]) -> Value {
    let mut rules = Map::new();
    for rule in Rule::ALL {
        rules.insert(rule.name().to_string(), summarize_rule(rule, runs, truths));
    }
    let listed_vendor_passes: Vec<&str> = runs
        .iter()
        .zip(truths)
        .filter(|(_, truth)| truth.listed_vendor_not_in_force)
        .map(|(run, _)| run.run_id.as_str())
        .collect();
    rules[Rule::VendorNotDeprioritized.name()]["pass_with_listed_vendor_run_ids"] = json!(listed_vendor_passes);

    let steps: Vec<&Step> = runs.iter().flat_map(|run| &run.steps).collect();
    let ok_steps = steps.iter().filter(|step| step.status == "ok").count();
    let retried_runs = runs.iter().filter(|run| run.steps.iter().any(|step| step.status != "ok")).count();

    let traps: Vec<Value> = runs
        .iter()
        .zip(truths)
        .filter_map(|(run, truth)| {
            let kind = truth.trap?;
            Some(json!({
                "run_id": run.run_id,
                "rule": kind.rule().name(),
                "kind": kind.name(),
                "verdict": truth.verdicts[kind.rule().index()].name(),
                "created_at": run.outcome.created_at,
            }))
        })
        .collect();

    json!({
        "generator": {
            "command": format!(
                "cargo run --release --example generate_procurement -- --runs {} --seed {} --out {}",
                args.runs, args.seed, args.out.display()
            ),
            "runs": args.runs,
            "seed": args.seed,
            "data": args.data.display().to_string(),
        },
        "runs": runs.len(),
        "all_rules_pass_or_skip": truths.iter().filter(|truth| !truth.has_fail() && !truth.has_error()).count(),
        "runs_with_fail": truths.iter().filter(|truth| truth.has_fail()).count(),
        "runs_with_error": truths.iter().filter(|truth| truth.has_error()).count(),
        "runs_with_error_and_no_fail": truths.iter().filter(|truth| truth.has_error() && !truth.has_fail()).count(),
        "rules": rules,
        "steps": {
            "total": steps.len(),
            "ok": ok_steps,
            "not_ok": steps.len() - ok_steps,
            "ok_share": format!("{:.4}", ok_steps as f64 / steps.len().max(1) as f64),
            "runs_with_failed_attempt": retried_runs,
        },
        "labels": summarize_labels(runs, truths),
        "traps": traps,
    })
}

fn summarize_rule(rule: Rule, runs: &[Run], truths: &[Truth]) -> Value {
    let count = |verdict: Verdict| truths.iter().filter(|truth| truth.verdicts[rule.index()] == verdict).count();
    let ids_with = |verdict: Verdict| -> Vec<&str> {
        runs.iter()
            .zip(truths)
            .filter(|(_, truth)| truth.verdicts[rule.index()] == verdict)
            .map(|(run, _)| run.run_id.as_str())
            .collect()
    };

    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (run, truth) in runs.iter().zip(truths) {
        if truth.verdicts[rule.index()] != Verdict::Fail {
            continue;
        }
        let fault = truth.faults[rule.index()].as_ref().expect("a failure has a fault");
        *kinds.entry(fault.kind).or_default() += 1;
        failures.push(json!({ "run_id": run.run_id, "kind": fault.kind, "entered_at_step": fault.entered_at }));
    }

    json!({
        "pass": count(Verdict::Pass),
        "fail": count(Verdict::Fail),
        "skip": count(Verdict::Skip),
        "error": count(Verdict::Error),
        "fail_kinds": kinds,
        "fail_run_ids": ids_with(Verdict::Fail),
        "error_run_ids": ids_with(Verdict::Error),
        "failures": failures,
    })
}

fn summarize_labels(runs: &[Run], truths: &[Truth]) -> Value {
    let labelled: Vec<(&Run, &Truth, &LabelTruth)> = runs
        .iter()
        .zip(truths)
        .filter_map(|(run, truth)| truth.label.as_ref().map(|label| (run, truth, label)))
        .collect();
    let cell = |expert_correct: bool, truly_correct: bool| {
        labelled
            .iter()
            .filter(|(_, truth, label)| {
                label.expert_marked_correct == expert_correct && truth.has_fail() != truly_correct
            })
            .count()
    };
    let noise: Vec<&str> =
        labelled.iter().filter(|(_, _, label)| label.noisy).map(|(run, _, _)| run.run_id.as_str()).collect();

    json!({
        "labelled": labelled.len(),
        "expert_correct": labelled.iter().filter(|(_, _, label)| label.expert_marked_correct).count(),
        "expert_incorrect": labelled.iter().filter(|(_, _, label)| !label.expert_marked_correct).count(),
        "expert_correct_truth_correct": cell(true, true),
        "expert_correct_truth_incorrect": cell(true, false),
        "expert_incorrect_truth_correct": cell(false, true),
        "expert_incorrect_truth_incorrect": cell(false, false),
        "noise_run_ids": noise,
    })
}
