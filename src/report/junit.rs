//! JUnit XML: one test suite per rule with a test case per run on which the rule
//! failed (`<failure>`) or could not be decided (`<error>`). One more suite has a
//! test case per SLO, which fails when the SLO missed its objective. CI systems
//! show each case with its run id, so a red build names the runs to look at.
//!
//! Violations of `warn` and `shadow` rules are listed as skipped cases, because
//! they do not fail the check. Only the violations the check report kept are
//! listed; each suite says in a property how many more there were.

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::format::{instant, status_sentence};
use super::{CheckReport, Violation};
use crate::slo::{SloReport, SloState, SloSummary};
use crate::syntax::ast::RuleMode;

/// Renders the report as JUnit XML.
pub fn render(check: &CheckReport, report: &SloReport) -> String {
    let mut writer = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    write(&mut writer, check, report).expect("writing XML to memory cannot fail");
    let mut text = String::from_utf8(writer.into_inner().into_inner()).expect("the XML writer writes UTF-8");
    text.push('\n');
    text
}

type XmlResult = std::io::Result<()>;
type XmlWriter = Writer<Cursor<Vec<u8>>>;

fn write(writer: &mut XmlWriter, check: &CheckReport, report: &SloReport) -> XmlResult {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let violations = check.violations.len() as u64;
    let (failures, errors) = count_outcomes(check.violations.iter().map(|v| (v.mode, v.verdict)));
    let slo_failures = report.slos.iter().filter(|slo| slo.status == SloState::Missed).count() as u64;

    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "semslo"));
    root.push_attribute(("tests", (violations + report.slos.len() as u64).to_string().as_str()));
    root.push_attribute(("failures", (failures + slo_failures).to_string().as_str()));
    root.push_attribute(("errors", errors.to_string().as_str()));
    writer.write_event(Event::Start(root))?;

    write_slo_suite(writer, report)?;
    for (index, rule) in check.rules.iter().enumerate() {
        let listed: Vec<&Violation> = check.violations.iter().filter(|v| v.rule == rule.rule.name).collect();
        let total = (rule.fail + rule.error) as u64;
        write_rule_suite(writer, check, index, &listed, total)?;
    }

    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

/// Failures and errors among enforced violations; other modes are skipped cases.
fn count_outcomes<'v>(violations: impl Iterator<Item = (RuleMode, &'v str)>) -> (u64, u64) {
    let mut failures = 0;
    let mut errors = 0;
    for (mode, verdict) in violations {
        match (mode, verdict) {
            (RuleMode::Enforce, "fail") => failures += 1,
            (RuleMode::Enforce, _) => errors += 1,
            _ => {}
        }
    }
    (failures, errors)
}

fn write_slo_suite(writer: &mut XmlWriter, report: &SloReport) -> XmlResult {
    let missed = report.slos.iter().filter(|slo| slo.status == SloState::Missed).count();
    let skipped =
        report.slos.iter().filter(|slo| matches!(slo.status, SloState::NoData | SloState::InsufficientData)).count();
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", "slo"));
    suite.push_attribute(("tests", report.slos.len().to_string().as_str()));
    suite.push_attribute(("failures", missed.to_string().as_str()));
    suite.push_attribute(("errors", "0"));
    suite.push_attribute(("skipped", skipped.to_string().as_str()));
    if let Some(at) = report.at {
        suite.push_attribute(("timestamp", instant(at).as_str()));
    }
    writer.write_event(Event::Start(suite))?;
    write_properties(writer, &[("policy_hash", report.policy.hash.clone())])?;
    for slo in &report.slos {
        write_slo_case(writer, slo)?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

fn write_slo_case(writer: &mut XmlWriter, slo: &SloSummary) -> XmlResult {
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("classname", "semslo.slo"));
    case.push_attribute(("name", clean(&slo.name).as_str()));
    case.push_attribute(("file", clean(&slo.file).as_str()));
    case.push_attribute(("line", slo.line.to_string().as_str()));
    let sentence = clean(&status_sentence(slo));
    match slo.status {
        SloState::Met => {
            writer.write_event(Event::Empty(case))?;
            return Ok(());
        }
        SloState::Missed => {
            writer.write_event(Event::Start(case))?;
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("type", "slo_missed"));
            failure.push_attribute(("message", sentence.as_str()));
            writer.write_event(Event::Start(failure))?;
            let body = format!(
                "{} valid runs in the window: {} good, {} bad ({} failed a rule, {} could not be decided, {} without event time)",
                slo.counts.valid,
                slo.counts.good,
                slo.counts.bad,
                slo.counts.failed,
                slo.counts.error,
                slo.counts.unplaced
            );
            writer.write_event(Event::Text(BytesText::new(&clean(&body))))?;
            writer.write_event(Event::End(BytesEnd::new("failure")))?;
        }
        SloState::NoData | SloState::InsufficientData => {
            writer.write_event(Event::Start(case))?;
            let mut skipped = BytesStart::new("skipped");
            skipped.push_attribute(("message", sentence.as_str()));
            writer.write_event(Event::Empty(skipped))?;
        }
    }
    writer.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}

fn write_rule_suite(
    writer: &mut XmlWriter,
    check: &CheckReport,
    index: usize,
    listed: &[&Violation],
    total: u64,
) -> XmlResult {
    let rule = &check.rules[index].rule;
    let (failures, errors) = count_outcomes(listed.iter().map(|v| (v.mode, v.verdict)));
    let skipped = listed.len() as u64 - failures - errors;
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", format!("rule {}", clean(&rule.name)).as_str()));
    suite.push_attribute(("tests", listed.len().to_string().as_str()));
    suite.push_attribute(("failures", failures.to_string().as_str()));
    suite.push_attribute(("errors", errors.to_string().as_str()));
    suite.push_attribute(("skipped", skipped.to_string().as_str()));
    writer.write_event(Event::Start(suite))?;

    let mut properties = vec![
        ("severity", rule.severity.as_str().to_string()),
        ("mode", rule.mode.as_str().to_string()),
        ("file", format!("{}:{}", rule.file, rule.line)),
    ];
    if let Some(title) = &rule.title {
        properties.push(("title", title.clone()));
    }
    if total > listed.len() as u64 {
        properties.push(("violations_not_listed", (total - listed.len() as u64).to_string()));
    }
    write_properties(writer, &properties)?;
    for violation in listed {
        write_violation(writer, violation)?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

fn write_properties(writer: &mut XmlWriter, properties: &[(&str, String)]) -> XmlResult {
    writer.write_event(Event::Start(BytesStart::new("properties")))?;
    for (name, value) in properties {
        let mut property = BytesStart::new("property");
        property.push_attribute(("name", *name));
        property.push_attribute(("value", clean(value).as_str()));
        writer.write_event(Event::Empty(property))?;
    }
    writer.write_event(Event::End(BytesEnd::new("properties")))?;
    Ok(())
}

fn write_violation(writer: &mut XmlWriter, violation: &Violation) -> XmlResult {
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("classname", format!("semslo.rule.{}", clean(&violation.rule)).as_str()));
    case.push_attribute(("name", format!("{} ({})", clean(&violation.run_id), clean(&violation.record)).as_str()));
    if let Some(expect) = violation.expects.first() {
        case.push_attribute(("file", clean(&expect.file).as_str()));
        case.push_attribute(("line", expect.line.to_string().as_str()));
    }
    writer.write_event(Event::Start(case))?;

    let message = clean(&format!(
        "{} {} on run {}{}",
        violation.rule,
        if violation.verdict == "fail" { "failed" } else { "could not be decided" },
        violation.run_id,
        violation.title.as_ref().map(|title| format!(": {title}")).unwrap_or_default()
    ));
    if violation.mode == RuleMode::Enforce {
        let element = if violation.verdict == "fail" { "failure" } else { "error" };
        let mut outcome = BytesStart::new(element);
        outcome.push_attribute(("type", violation.verdict));
        outcome.push_attribute(("message", message.as_str()));
        writer.write_event(Event::Start(outcome))?;
        writer.write_event(Event::Text(BytesText::new(&clean(&details(violation)))))?;
        writer.write_event(Event::End(BytesEnd::new(element)))?;
    } else {
        let mut skipped = BytesStart::new("skipped");
        let reason = format!("{message} (rule in {} mode, so the check does not fail)", violation.mode.as_str());
        skipped.push_attribute(("message", clean(&reason).as_str()));
        writer.write_event(Event::Empty(skipped))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}

/// Describes the `expect` lines that did not hold and the step where the value entered the run.
fn details(violation: &Violation) -> String {
    let mut lines = Vec::new();
    for expect in &violation.expects {
        let source = expect.source.split_whitespace().collect::<Vec<_>>().join(" ");
        match &expect.message {
            Some(message) => lines.push(format!(
                "{}:{}:{}: `{source}` could not be decided: {message}",
                expect.file, expect.line, expect.column
            )),
            None => lines.push(format!("{}:{}:{}: `{source}` is false", expect.file, expect.line, expect.column)),
        }
    }
    if let Some(step) = &violation.entered_at {
        let value = match &step.value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let name = step.name.as_deref().map(|name| format!(" `{name}`")).unwrap_or_default();
        lines.push(format!("`{value}` entered the run at step {}{name} ({})", step.index, step.path));
    }
    lines.push(format!("policy set {}", violation.policy_hash));
    lines.join("\n")
}

/// Replaces characters XML 1.0 does not allow, even escaped, with U+FFFD.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_replaces_control_characters() {
        assert_eq!(clean("a\u{1}b\tc"), "a\u{FFFD}b\tc");
    }
}
