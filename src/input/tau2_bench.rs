//! Adapter for tau2-bench simulation results (sierra-research/tau2-bench,
//! `{timestamp, info, tasks, simulations}` files written by `tau2 run`).
//!
//! The file is one JSON object. Its `simulations` array contains the runs and is
//! streamed element by element; each simulation becomes one canonical run (see
//! [`super::canonical`]). Two other members feed every run:
//!
//! - `info.environment_info.domain_name` is the `workflow`;
//! - `tasks` gives each run's task: `user_scenario.instructions` is the
//!   `instruction`, `evaluation_criteria.actions` the expected actions and
//!   `evaluation_criteria.communicate_info` the expected outputs. The task list
//!   is kept in memory while the runs are read, and it grows with the number of
//!   tasks, not runs.
//!
//! Files written by tau2-bench put `info` and `tasks` before `simulations`. For a
//! file in another order, [`read_header`] reads them in a first pass over the file
//! before the runs are streamed. Standard input cannot be read twice, so there a
//! run that comes before `info` gets the workflow `unknown`, and one that comes
//! before `tasks` gets its expected actions and outputs from its own
//! `reward_info` (`action_checks`, `communicate_checks`) and a null instruction.
//!
//! Times: tau2-bench writes `start_time` and `end_time` as local wall-clock time
//! without an offset (Python's `datetime.now().isoformat()`). The adapter assumes
//! UTC and appends `Z`; a time that has an offset is kept as it is.

use std::collections::HashMap;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;
use serde_json::{Number, Value};

use super::canonical::{
    Arguments, CanonicalRun, ExpectedAction, Labels, Outcome, StepLog, Task, Tau2Checks, canonical_role, id_text,
    message_text,
};
use super::cursor::{ArrayCursor, ArrayItem, MemberItem, ObjectCursor, check_scanned, read_failed};
use super::depth::{exceeds_max_depth, too_deep_reason};
use super::error::RecordError;
use super::location::{Location, Record};
use super::parse::{PositionStyle, TextStart, expect_object, parse_json};
use super::scanner::{Scanner, describe_byte};
use super::source::open_path;

/// The data that all runs of one results file share: its domain and its tasks by id.
#[derive(Debug, Default)]
pub struct Header {
    domain: Option<String>,
    tasks: Option<HashMap<String, TaskSummary>>,
}

impl Header {
    fn is_complete(&self) -> bool {
        self.domain.is_some() && self.tasks.is_some()
    }

    /// Takes what is needed from a top-level member, if it is `info` or `tasks`
    /// and was not read before.
    fn read_member(&mut self, key: &str, value: Value) {
        match key {
            "info" if self.domain.is_none() => {
                self.domain = value.pointer("/environment_info/domain_name").and_then(Value::as_str).map(str::to_owned);
            }
            "tasks" if self.tasks.is_none() => self.tasks = Some(task_summaries(value)),
            _ => {}
        }
    }

    fn wants(&self, key: &str) -> bool {
        match key {
            "info" => self.domain.is_none(),
            "tasks" => self.tasks.is_none(),
            _ => false,
        }
    }
}

/// Reads `info` and `tasks` of the results file at `path`, wherever they are in
/// its top-level object, skipping over `simulations` without parsing it.
///
/// Problems are not reported here: the streaming pass reads the same file and
/// reports them at their place.
pub fn read_header(path: &Path) -> Header {
    let mut header = Header::default();
    let Ok(source) = open_path(path) else {
        return header;
    };
    let mut scanner = Scanner::new(source.reader, 1);
    let _ = walk_header(&mut scanner, &mut header);
    header
}

fn walk_header<R: BufRead>(scanner: &mut Scanner<R>, header: &mut Header) -> io::Result<()> {
    if scanner.peek_token()? != Some(b'{') {
        return Ok(());
    }
    scanner.bump();
    let mut object = ObjectCursor::default();
    let mut buffer = Vec::new();
    while !header.is_complete() {
        let MemberItem::Key(key) = object.next_key(scanner, &mut buffer)? else {
            return Ok(());
        };
        let capture = header.wants(&key);
        buffer.clear();
        scanner.scan_value(capture.then_some(&mut buffer))?;
        if capture {
            if let Ok(value) = serde_json::from_slice(&buffer) {
                header.read_member(&key, value);
            }
        }
    }
    Ok(())
}

/// Streams the runs of a tau2-bench results file.
pub struct Tau2Reader<R> {
    scanner: Scanner<R>,
    name: Arc<str>,
    buffer: Vec<u8>,
    header: Header,
    state: State,
    saw_simulations: bool,
}

enum State {
    Start,
    Members(ObjectCursor),
    Simulations(ObjectCursor, ArrayCursor),
    AfterObject,
    Done,
}

impl<R: BufRead> Tau2Reader<R> {
    /// Reads `reader`, whose first line is line `first_line` of the source `name`.
    /// `header` contains what a first pass found (see [`read_header`]), or is empty.
    pub fn new(reader: R, name: Arc<str>, first_line: usize, header: Header) -> Self {
        Tau2Reader {
            scanner: Scanner::new(reader, first_line),
            name,
            buffer: Vec::new(),
            header,
            state: State::Start,
            saw_simulations: false,
        }
    }

    fn step(&mut self) -> io::Result<Option<Result<Record, RecordError>>> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Start => match self.scanner.peek_token()? {
                    None => return Ok(None),
                    Some(b'{') => {
                        self.scanner.bump();
                        self.state = State::Members(ObjectCursor::default());
                    }
                    Some(byte) => {
                        let reason = format!(
                            "a tau2-bench results file is one JSON object with a `simulations` \
                             array, but this input starts with {} (for tau-bench logs, use \
                             --input-format tau-bench)",
                            describe_byte(byte)
                        );
                        return Ok(Some(Err(self.error_here(reason))));
                    }
                },
                State::Members(object) => {
                    if let Some(item) = self.read_member(object)? {
                        return Ok(Some(item));
                    }
                }
                State::Simulations(object, mut array) => {
                    let item = array.next(&mut self.scanner, &mut self.buffer, &self.name)?;
                    match item {
                        ArrayItem::Element(start) => {
                            self.state = State::Simulations(object, array);
                            return Ok(Some(self.run(start)));
                        }
                        ArrayItem::Error(error) => {
                            self.state = State::Simulations(object, array);
                            return Ok(Some(Err(error)));
                        }
                        ArrayItem::End => self.state = State::Members(object),
                    }
                }
                State::AfterObject => {
                    let Some(byte) = self.scanner.peek_token()? else {
                        return Ok(None);
                    };
                    let reason = format!("unexpected {} after the end of the results object", describe_byte(byte));
                    return Ok(Some(Err(self.error_here(reason))));
                }
                State::Done => return Ok(None),
            }
        }
    }

    /// Reads one member of the top-level object. Sets the next state and returns
    /// an error to yield, if any.
    fn read_member(&mut self, mut object: ObjectCursor) -> io::Result<Option<Result<Record, RecordError>>> {
        let key = match object.next_key(&mut self.scanner, &mut self.buffer)? {
            MemberItem::Key(key) => key,
            MemberItem::End if self.saw_simulations => {
                self.state = State::AfterObject;
                return Ok(None);
            }
            MemberItem::End => {
                self.state = State::AfterObject;
                let reason = "the results object has no `simulations` array, so it holds no \
                              runs (for canonical records, use --input-format json)";
                return Ok(Some(Err(self.error_here(reason.to_owned()))));
            }
            MemberItem::Error(reason) => return Ok(Some(Err(self.error_here(reason)))),
        };

        if key == "simulations" && self.scanner.peek_token()? == Some(b'[') {
            self.scanner.bump();
            self.saw_simulations = true;
            self.state = State::Simulations(object, ArrayCursor::new());
            return Ok(None);
        }

        let (line, column) = self.scanner.position();
        let start = TextStart { line, column };
        let capture = self.header.wants(&key);
        self.buffer.clear();
        let scanned = self.scanner.scan_value(capture.then_some(&mut self.buffer))?;
        if let Err(error) = check_scanned(scanned, start, &self.name) {
            return Ok(Some(Err(error)));
        }
        self.state = State::Members(object);

        if key == "simulations" {
            let reason = "`simulations` is not an array; it must hold the runs";
            return Ok(Some(Err(self.error_at(start.line, reason.to_owned()))));
        }
        if capture {
            match parse_json(&self.buffer, start, PositionStyle::LineAndColumn) {
                Ok(value) => self.header.read_member(&key, value),
                Err(reason) => {
                    let reason = format!("invalid `{key}`: {reason}");
                    return Ok(Some(Err(self.error_at(start.line, reason))));
                }
            }
        }
        Ok(None)
    }

    fn run(&self, start: TextStart) -> Result<Record, RecordError> {
        let location = Location::new(Arc::clone(&self.name), start.line);
        parse_json(&self.buffer, start, PositionStyle::LineAndColumn)
            .and_then(|value| adapt_simulation(value, &self.header))
            .map(|value| Record { value, location: location.clone() })
            .map_err(|reason| RecordError::new(location, reason))
    }

    fn error_here(&self, reason: String) -> RecordError {
        let (line, _) = self.scanner.position();
        self.error_at(line, reason)
    }

    fn error_at(&self, line: usize, reason: String) -> RecordError {
        RecordError::new(Location::new(Arc::clone(&self.name), line), reason)
    }
}

impl<R: BufRead> Iterator for Tau2Reader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(item) => item,
            Err(error) => {
                self.state = State::Done;
                Some(Err(read_failed(&self.name, &self.scanner, &error)))
            }
        }
    }
}

/// Maps one element of `simulations` to a canonical run record.
pub fn adapt_simulation(value: Value, header: &Header) -> Result<Value, String> {
    let entries = expect_object(value)?;
    for field in ["messages", "task_id"] {
        if !entries.contains_key(field) {
            return Err(format!(
                "not a tau2-bench simulation: the field `{field}` is missing (use \
                 --input-format json for canonical records)"
            ));
        }
    }
    if entries["messages"].is_null() {
        return Err("the simulation has `messages: null` (a full-duplex run, which keeps \
                    `ticks` instead); only runs with messages can be adapted"
            .to_owned());
    }
    let simulation: Simulation = serde_json::from_value(Value::Object(entries))
        .map_err(|error| format!("invalid tau2-bench simulation: {error}"))?;

    let record = serde_json::to_value(canonical_run(simulation, header))
        .map_err(|error| format!("cannot build the canonical run: {error}"))?;
    if exceeds_max_depth(&record) {
        return Err(too_deep_reason());
    }
    Ok(record)
}

fn canonical_run(simulation: Simulation, header: &Header) -> CanonicalRun {
    let workflow = header.domain.clone().unwrap_or_else(|| "unknown".to_owned());
    let reward_info = simulation.reward_info.unwrap_or_default();
    let task = task_of(&simulation.task_id, header, &reward_info);

    let mut log = StepLog::new(&workflow);
    for message in simulation.messages {
        add_message(&mut log, message);
    }
    let (steps, writes, attempted_writes) = log.finish();

    let termination_reason = simulation.termination_reason;
    let terminated_by = termination_reason.as_deref().map(|reason| match reason {
        "user_stop" => "user".to_owned(),
        "agent_stop" => "agent".to_owned(),
        other => other.to_owned(),
    });
    let db_check = reward_info.db_check.unwrap_or_default();
    let mut labels = Labels::from_reward(reward_info.reward.clone(), "tau2-bench reward");
    labels.checks = Some(Tau2Checks {
        db_match: db_check.db_match,
        db_reward: db_check.db_reward,
        communicate_checks: reward_info.communicate_checks,
    });

    CanonicalRun {
        run_id: format!(
            "tau2-bench/{workflow}/task-{}/trial-{}",
            id_text(&simulation.task_id),
            id_text(&simulation.trial)
        ),
        started_at: rfc3339(simulation.start_time),
        finished_at: rfc3339(simulation.end_time),
        task,
        steps,
        outcome: Outcome { reward: reward_info.reward, writes, attempted_writes, terminated_by, termination_reason },
        labels,
        workflow,
    }
}

fn add_message(log: &mut StepLog, message: Message) {
    let failed = message.error == Some(true);
    match message.role.as_str() {
        "tool" => {
            let role = canonical_role(message.requestor.as_deref().unwrap_or("assistant"));
            log.tool_result(role, message.id, None, message.content, failed);
        }
        role => {
            let role = canonical_role(role);
            log.message(role, message_text(message.content));
            for call in message.tool_calls.unwrap_or_default() {
                let arguments = Arguments::from_json_text(call.arguments);
                log.tool_call(role, call.id, call.name, arguments);
            }
        }
    }
}

/// Returns the run's task from the header, or else from the run's own reward info.
fn task_of(task_id: &Value, header: &Header, reward_info: &RewardInfo) -> Task {
    let summary = header.tasks.as_ref().and_then(|tasks| tasks.get(&id_text(task_id)));
    let (instruction, expected_actions, expected_outputs) = match summary {
        Some(summary) => (summary.instruction.clone(), summary.expected_actions(), summary.expected_outputs.clone()),
        None => (Value::Null, reward_info.expected_actions(), reward_info.expected_outputs()),
    };
    Task { id: task_id.clone(), user_id: Value::Null, instruction, expected_actions, expected_outputs }
}

/// Returns a time as RFC 3339: one without an offset is taken as UTC (see the module docs).
/// Text that is not a date-time is kept as it is.
fn rfc3339(time: Option<String>) -> Option<String> {
    let time = time?;
    if DateTime::parse_from_rfc3339(&time).is_err()
        && NaiveDateTime::parse_from_str(&time, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
    {
        return Some(format!("{time}Z"));
    }
    Some(time)
}

/// The parts of one task that runs need.
#[derive(Debug)]
struct TaskSummary {
    instruction: Value,
    expected_actions: Vec<ActionDefinition>,
    expected_outputs: Vec<Value>,
}

impl TaskSummary {
    fn expected_actions(&self) -> Vec<ExpectedAction> {
        self.expected_actions
            .iter()
            .map(|action| ExpectedAction { name: action.name.clone(), arguments: action.arguments.clone() })
            .collect()
    }
}

/// Indexes the `tasks` member by task id. Tasks that do not have the expected
/// shape are left out, so runs of those tasks use their own reward info.
fn task_summaries(tasks: Value) -> HashMap<String, TaskSummary> {
    let Value::Array(tasks) = tasks else {
        return HashMap::new();
    };
    tasks
        .into_iter()
        .filter_map(|task| serde_json::from_value::<TaskDefinition>(task).ok())
        .map(|task| {
            let criteria = task.evaluation_criteria.unwrap_or_default();
            let summary = TaskSummary {
                instruction: task.user_scenario.map(|scenario| scenario.instructions).unwrap_or_default(),
                expected_actions: criteria.actions.unwrap_or_default(),
                expected_outputs: criteria.communicate_info.unwrap_or_default(),
            };
            (id_text(&task.id), summary)
        })
        .collect()
}

#[derive(Deserialize)]
struct TaskDefinition {
    id: Value,
    #[serde(default)]
    user_scenario: Option<UserScenario>,
    #[serde(default)]
    evaluation_criteria: Option<EvaluationCriteria>,
}

#[derive(Deserialize)]
struct UserScenario {
    #[serde(default)]
    instructions: Value,
}

#[derive(Default, Deserialize)]
struct EvaluationCriteria {
    #[serde(default)]
    actions: Option<Vec<ActionDefinition>>,
    #[serde(default)]
    communicate_info: Option<Vec<Value>>,
}

#[derive(Clone, Debug, Deserialize)]
struct ActionDefinition {
    name: String,
    #[serde(default)]
    arguments: Value,
}

/// One element of `simulations`. Fields the adapter does not use are ignored.
#[derive(Deserialize)]
struct Simulation {
    task_id: Value,
    #[serde(default)]
    trial: Value,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    termination_reason: Option<String>,
    #[serde(default)]
    reward_info: Option<RewardInfo>,
    messages: Vec<Message>,
}

#[derive(Default, Deserialize)]
struct RewardInfo {
    #[serde(default)]
    reward: Option<Number>,
    #[serde(default)]
    db_check: Option<DbCheck>,
    #[serde(default)]
    communicate_checks: Value,
    #[serde(default)]
    action_checks: Option<Vec<ActionCheck>>,
}

impl RewardInfo {
    fn expected_actions(&self) -> Vec<ExpectedAction> {
        self.action_checks
            .iter()
            .flatten()
            .map(|check| ExpectedAction { name: check.action.name.clone(), arguments: check.action.arguments.clone() })
            .collect()
    }

    fn expected_outputs(&self) -> Vec<Value> {
        let Value::Array(checks) = &self.communicate_checks else {
            return Vec::new();
        };
        checks.iter().filter_map(|check| check.get("info").cloned()).collect()
    }
}

#[derive(Default, Deserialize)]
struct DbCheck {
    #[serde(default)]
    db_match: Option<bool>,
    #[serde(default)]
    db_reward: Option<Number>,
}

#[derive(Deserialize)]
struct ActionCheck {
    action: ActionDefinition,
}

#[derive(Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
    /// On a tool result: the id of the call that produced it.
    #[serde(default)]
    id: Option<String>,
    /// On a tool result: whether the tool raised an error.
    #[serde(default)]
    error: Option<bool>,
    /// On a tool result: who made the call, `assistant` or `user`.
    #[serde(default)]
    requestor: Option<String>,
}

#[derive(Deserialize)]
struct ToolCall {
    #[serde(default)]
    id: String,
    name: String,
    /// An object in tau2-bench results. A JSON string is decoded.
    #[serde(default)]
    arguments: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn results_file(members: &[(&str, Value)]) -> String {
        let members: Vec<String> = members.iter().map(|(key, value)| format!("{}: {value}", json!(key))).collect();
        format!("{{\n{}\n}}\n", members.join(",\n"))
    }

    fn simulation(task_id: &str) -> Value {
        json!({
            "id": "s1", "task_id": task_id, "trial": 0,
            "start_time": "2025-08-01T16:20:44.321269", "end_time": "2025-08-01T16:21:03.551551",
            "termination_reason": "user_stop",
            "reward_info": {"reward": 1.0, "db_check": {"db_match": true, "db_reward": 1.0},
                            "communicate_checks": null,
                            "action_checks": [{"action": {"name": "get_user_details", "arguments": {"user_id": "u"}}}]},
            "messages": [
                {"role": "assistant", "content": "Hi! How can I help you today?", "tool_calls": null},
                {"role": "user", "content": "Cancel it.", "tool_calls": null},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "name": "cancel_reservation", "arguments": {"reservation_id": "X"}, "requestor": "assistant"}]},
                {"role": "tool", "id": "c1", "content": "Error: cannot cancel", "requestor": "assistant", "error": true},
            ],
        })
    }

    fn info() -> Value {
        json!({"environment_info": {"domain_name": "airline", "policy": "...", "tool_defs": null}})
    }

    fn tasks() -> Value {
        json!([{"id": "7", "user_scenario": {"instructions": {"reason_for_call": "cancel"}},
                "evaluation_criteria": {"actions": [{"action_id": "7_0", "name": "transfer_to_human_agents",
                                                     "arguments": {"summary": "s"}}],
                                        "communicate_info": ["50"]}}])
    }

    fn read(text: &str, header: Header) -> Vec<Result<Record, RecordError>> {
        Tau2Reader::new(text.as_bytes(), Arc::from("results.json"), 1, header).collect()
    }

    #[test]
    fn runs_use_info_and_tasks_that_come_first() {
        let text = results_file(&[
            ("timestamp", json!("t")),
            ("info", info()),
            ("tasks", tasks()),
            ("simulations", json!([simulation("7")])),
        ]);
        let records = read(&text, Header::default());
        assert_eq!(records.len(), 1);
        let run = &records[0].as_ref().unwrap().value;

        assert_eq!(run["run_id"], "tau2-bench/airline/task-7/trial-0");
        assert_eq!(run["workflow"], "airline");
        assert_eq!(run["started_at"], "2025-08-01T16:20:44.321269Z");
        assert_eq!(run["task"]["instruction"], json!({"reason_for_call": "cancel"}));
        assert_eq!(run["task"]["expected_actions"][0]["name"], "transfer_to_human_agents");
        assert_eq!(run["task"]["expected_outputs"], json!(["50"]));
        assert_eq!(run["outcome"]["terminated_by"], "user");
        assert_eq!(run["outcome"]["termination_reason"], "user_stop");
        assert_eq!(run["labels"]["db_match"], true);
    }

    #[test]
    fn rejected_write_is_not_ok() {
        let text = results_file(&[("info", info()), ("simulations", json!([simulation("7")]))]);
        let records = read(&text, Header::default());
        let run = &records[0].as_ref().unwrap().value;
        let cancel = &run["steps"][2];

        assert_eq!(cancel["tool"], "cancel_reservation");
        assert_eq!(cancel["ok"], false);
        assert_eq!(cancel["status"], "error");
        assert_eq!(run["outcome"]["writes"], json!([]));
        assert_eq!(run["outcome"]["attempted_writes"], json!(["cancel_reservation"]));
    }

    #[test]
    fn header_after_simulations_needs_a_first_pass() {
        let text = results_file(&[("simulations", json!([simulation("7")])), ("tasks", tasks()), ("info", info())]);

        let records = read(&text, Header::default());
        let run = &records[0].as_ref().unwrap().value;
        assert_eq!(run["workflow"], "unknown");
        assert_eq!(run["task"]["instruction"], Value::Null);
        assert_eq!(run["task"]["expected_actions"][0]["name"], "get_user_details");

        let mut header = Header::default();
        walk_header(&mut Scanner::new(text.as_bytes(), 1), &mut header).unwrap();
        let records = read(&text, header);
        let run = &records[0].as_ref().unwrap().value;
        assert_eq!(run["workflow"], "airline");
        assert_eq!(run["task"]["expected_actions"][0]["name"], "transfer_to_human_agents");
    }

    #[test]
    fn malformed_simulation_does_not_stop_the_rest() {
        let text = format!(
            "{{\"info\": {},\n\"simulations\": [\n{{\"task_id\": \"1\", \"messages\": [}},\n{}\n]}}",
            info(),
            simulation("7")
        );
        let records = read(&text, Header::default());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].as_ref().unwrap_err().location.line, 3);
        assert!(records[1].is_ok());
    }

    #[test]
    fn object_without_simulations_is_reported() {
        let records = read("{\"run_id\": \"r1\"}", Header::default());
        assert_eq!(records.len(), 1);
        let reason = &records[0].as_ref().unwrap_err().reason;
        assert!(reason.contains("no `simulations` array"), "{reason}");
    }

    #[test]
    fn simulation_without_messages_names_the_field() {
        let reason = adapt_simulation(json!({"task_id": "1"}), &Header::default()).unwrap_err();
        assert!(reason.contains("`messages` is missing"), "{reason}");
    }

    #[test]
    fn time_with_offset_is_kept() {
        assert_eq!(rfc3339(Some("2025-08-01T16:20:44+02:00".to_owned())).unwrap(), "2025-08-01T16:20:44+02:00");
        assert_eq!(rfc3339(Some("2025-08-01T16:20:44".to_owned())).unwrap(), "2025-08-01T16:20:44Z");
        assert_eq!(rfc3339(Some("yesterday".to_owned())).unwrap(), "yesterday");
    }
}
