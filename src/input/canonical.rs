//! The canonical run record that the agent-benchmark adapters produce, and the
//! pieces both adapters share.
//!
//! Every step carries every key (`null` where it does not apply), so a rule can
//! read any step field of any step without hitting a missing field. A tool call
//! and its result are one step (see [`StepLog`]).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Number, Value};

/// Tools that change the benchmark database, per domain.
///
/// Taken from the tool definitions of both benchmarks: tau2-bench marks these
/// `WRITE` (`src/tau2/domains/{airline,retail}/tools.py`), and tau-bench (v1) has
/// the same write tools under the same names. Every other tool only reads
/// (`get_*`, `search_*`, `list_*`, `find_*`, `calculate`, `think`,
/// `transfer_to_human_agents`).
const WRITE_TOOLS: &[(&str, &[&str])] = &[
    (
        "airline",
        &[
            "book_reservation",
            "cancel_reservation",
            "update_reservation_baggages",
            "update_reservation_flights",
            "update_reservation_passengers",
            "send_certificate",
        ],
    ),
    (
        "retail",
        &[
            "cancel_pending_order",
            "exchange_delivered_order_items",
            "modify_pending_order_address",
            "modify_pending_order_items",
            "modify_pending_order_payment",
            "modify_user_address",
            "return_delivered_order_items",
        ],
    ),
];

/// Returns whether `tool` writes to the database of `workflow`. For a workflow
/// not in [`WRITE_TOOLS`], the write tools of every known domain count.
pub fn is_write_tool(workflow: &str, tool: &str) -> bool {
    match WRITE_TOOLS.iter().find(|(domain, _)| *domain == workflow) {
        Some((_, tools)) => tools.contains(&tool),
        None => WRITE_TOOLS.iter().any(|(_, tools)| tools.contains(&tool)),
    }
}

/// One adapted run. Field order is the key order of the record.
#[derive(Debug, Serialize)]
pub struct CanonicalRun {
    pub run_id: String,
    pub workflow: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub task: Task,
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    pub labels: Labels,
}

/// The task the run was given, as the benchmark defines it.
#[derive(Debug, Serialize)]
pub struct Task {
    pub id: Value,
    pub user_id: Value,
    pub instruction: Value,
    pub expected_actions: Vec<ExpectedAction>,
    pub expected_outputs: Vec<Value>,
}

/// One action the benchmark's ground truth expects the agent to take.
#[derive(Debug, Serialize)]
pub struct ExpectedAction {
    pub name: String,
    pub arguments: Value,
}

/// One entry of `steps`: a message, or a tool call together with its result.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The position of the step in `steps`.
    pub index: usize,
    /// `message` or `tool`.
    pub kind: &'static str,
    /// `user` or `agent` (the assistant), or the source's role name if it is another.
    pub role: String,
    /// `user_message` / `agent_message` for messages, the tool name for tool steps.
    pub name: String,
    pub text: Option<String>,
    pub tool: Option<String>,
    /// The decoded call arguments, or the raw text when they are not valid JSON.
    pub input: Value,
    /// The tool result: parsed JSON when the result text is JSON, else the text.
    pub output: Value,
    /// Whether the tool accepted the call, or `null` for messages.
    pub ok: Option<bool>,
    pub status: &'static str,
    pub call_id: Option<String>,
}

/// The business result of the run.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub reward: Option<Number>,
    /// Names of write-tool steps whose result was not an error, in order.
    pub writes: Vec<String>,
    /// Names of all write-tool calls, accepted or not, in order.
    pub attempted_writes: Vec<String>,
    /// The party or action that ended the conversation (each adapter documents its values).
    pub terminated_by: Option<String>,
    /// The benchmark's own termination reason, where it records one.
    pub termination_reason: Option<String>,
}

/// The benchmark's verdict on the run, used as the expert label.
#[derive(Debug, Serialize)]
pub struct Labels {
    /// `correct` when the reward is exactly 1, `incorrect` for any other reward,
    /// `null` without a reward.
    pub expert_verdict: Option<&'static str>,
    pub reward: Option<Number>,
    pub source: &'static str,
    /// tau2-bench's database and communication checks, absent for tau-bench.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Tau2Checks>,
}

/// The parts of a tau2-bench reward kept as labels.
#[derive(Debug, Serialize)]
pub struct Tau2Checks {
    /// Whether the final database equals the one after replaying the expected actions.
    pub db_match: Option<bool>,
    pub db_reward: Option<Number>,
    /// The required facts and whether the agent gave them to the user, as recorded.
    pub communicate_checks: Value,
}

impl Labels {
    pub fn from_reward(reward: Option<Number>, source: &'static str) -> Self {
        Labels { expert_verdict: reward.as_ref().map(verdict_for_reward), reward, source, checks: None }
    }
}

/// `correct` for a reward of exactly 1 (`1`, `1.0`, `1e0`), else `incorrect`.
///
/// The comparison is on the decimal value of the number's text, never through `f64`.
fn verdict_for_reward(reward: &Number) -> &'static str {
    let text = reward.to_string();
    let value = Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text));
    if value == Ok(Decimal::ONE) { "correct" } else { "incorrect" }
}

/// Arguments of a tool call as the source gave them.
pub enum Arguments {
    /// Decoded arguments (tau-bench's JSON string after decoding, tau2's object).
    Decoded(Value),
    /// A string that is not valid JSON, kept as it was.
    Invalid(String),
}

impl Arguments {
    /// Decodes tau-bench-style arguments: a JSON string is parsed, anything else
    /// (an object already) is kept.
    pub fn from_json_text(arguments: Value) -> Self {
        match arguments {
            Value::String(text) => match serde_json::from_str(&text) {
                Ok(value) => Arguments::Decoded(value),
                Err(_) => Arguments::Invalid(text),
            },
            other => Arguments::Decoded(other),
        }
    }
}

/// Builds `steps` in order, pairing each tool call with its result by call id.
pub struct StepLog {
    workflow: String,
    steps: Vec<Step>,
    /// Indexes of tool steps whose result has not been seen, oldest first.
    awaiting_result: Vec<usize>,
}

impl StepLog {
    pub fn new(workflow: &str) -> Self {
        StepLog { workflow: workflow.to_owned(), steps: Vec::new(), awaiting_result: Vec::new() }
    }

    /// Appends a message step, or nothing for empty text.
    pub fn message(&mut self, role: &str, text: Option<String>) {
        let Some(text) = text.filter(|text| !text.is_empty()) else {
            return;
        };
        self.push(Step {
            kind: "message",
            name: format!("{role}_message"),
            text: Some(text),
            status: "ok",
            ..Step::empty(role)
        });
    }

    /// Appends a tool step for a call, with status `no_result` until its result arrives.
    pub fn tool_call(&mut self, role: &str, call_id: String, tool: String, arguments: Arguments) {
        let (input, status) = match arguments {
            Arguments::Decoded(value) => (value, "no_result"),
            Arguments::Invalid(text) => (Value::String(text), "invalid_arguments"),
        };
        let index = self.push(Step {
            kind: "tool",
            name: tool.clone(),
            tool: Some(tool),
            input,
            ok: Some(false),
            status,
            call_id: Some(call_id),
            ..Step::empty(role)
        });
        self.awaiting_result.push(index);
    }

    /// Attaches a tool result to the oldest call with `call_id` that has none yet.
    ///
    /// `failed` is the source's own error flag. A result whose text starts with
    /// `Error:` counts as failed too (both benchmarks report rejected calls that way).
    /// A result without a matching call becomes a step of its own by `role` with
    /// status `no_call`, so it is not lost.
    pub fn tool_result(
        &mut self,
        role: &str,
        call_id: Option<String>,
        tool: Option<String>,
        content: Value,
        failed: bool,
    ) {
        let failed = failed || content.as_str().is_some_and(|text| text.starts_with("Error:"));
        let output = decode_output(content);

        let position = call_id.as_ref().and_then(|id| {
            self.awaiting_result.iter().position(|&index| self.steps[index].call_id.as_ref() == Some(id))
        });
        let Some(position) = position else {
            let tool = tool.unwrap_or_else(|| "unknown".to_owned());
            self.push(Step {
                kind: "tool",
                name: tool.clone(),
                tool: Some(tool),
                output,
                ok: Some(!failed),
                status: "no_call",
                call_id,
                ..Step::empty(role)
            });
            return;
        };

        let index = self.awaiting_result.remove(position);
        let step = &mut self.steps[index];
        step.output = output;
        step.ok = Some(!failed);
        if step.status != "invalid_arguments" {
            step.status = if failed { "error" } else { "ok" };
        }
    }

    /// Returns the steps and the outcome's write lists.
    pub fn finish(self) -> (Vec<Step>, Vec<String>, Vec<String>) {
        let mut writes = Vec::new();
        let mut attempted_writes = Vec::new();
        for step in &self.steps {
            let Some(tool) = &step.tool else { continue };
            if !is_write_tool(&self.workflow, tool) {
                continue;
            }
            attempted_writes.push(tool.clone());
            if step.ok == Some(true) {
                writes.push(tool.clone());
            }
        }
        (self.steps, writes, attempted_writes)
    }

    fn push(&mut self, mut step: Step) -> usize {
        let index = self.steps.len();
        step.index = index;
        self.steps.push(step);
        index
    }
}

impl Step {
    /// Returns a step with every optional field `null`, to fill in with struct update syntax.
    fn empty(role: &str) -> Self {
        Step {
            index: 0,
            kind: "message",
            role: role.to_owned(),
            name: String::new(),
            text: None,
            tool: None,
            input: Value::Null,
            output: Value::Null,
            ok: None,
            status: "ok",
            call_id: None,
        }
    }
}

/// Maps a source role to the canonical one: the assistant is the `agent`.
pub fn canonical_role(role: &str) -> &str {
    match role {
        "assistant" => "agent",
        other => other,
    }
}

/// Decodes a tool result: JSON text is parsed, and other text stays a string.
fn decode_output(content: Value) -> Value {
    match content {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    }
}

/// Text content of a message: a string as is, `null` as none, and any other JSON
/// (a list of content parts) as its JSON text.
pub fn message_text(content: Value) -> Option<String> {
    match content {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// Renders a task id or trial number for a run id: a string as is, other JSON as text.
pub fn id_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "unknown".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reward_of_one_is_correct_in_any_spelling() {
        for text in ["1", "1.0", "1.00", "1e0", "10e-1"] {
            let reward = Number::from_str(text).unwrap();
            assert_eq!(verdict_for_reward(&reward), "correct", "{text}");
        }
        for text in ["0", "0.0", "0.5", "1.0000001", "-1"] {
            let reward = Number::from_str(text).unwrap();
            assert_eq!(verdict_for_reward(&reward), "incorrect", "{text}");
        }
    }

    #[test]
    fn call_and_result_are_one_step() {
        let mut log = StepLog::new("airline");
        log.message("agent", Some("Let me cancel that.".to_owned()));
        log.tool_call(
            "agent",
            "c1".to_owned(),
            "cancel_reservation".to_owned(),
            Arguments::Decoded(json!({"reservation_id": "X"})),
        );
        log.tool_result("agent", Some("c1".to_owned()), None, json!("{\"status\": \"cancelled\"}"), false);
        let (steps, writes, attempted) = log.finish();

        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1].index, 1);
        assert_eq!(steps[1].status, "ok");
        assert_eq!(steps[1].ok, Some(true));
        assert_eq!(steps[1].output, json!({"status": "cancelled"}));
        assert_eq!(writes, ["cancel_reservation"]);
        assert_eq!(attempted, ["cancel_reservation"]);
    }

    #[test]
    fn error_result_is_not_a_write() {
        let mut log = StepLog::new("airline");
        let arguments = Arguments::Decoded(json!({}));
        log.tool_call("agent", "c1".to_owned(), "update_reservation_flights".to_owned(), arguments);
        log.tool_result("agent", Some("c1".to_owned()), None, json!("Error: flight not available"), false);
        let (steps, writes, attempted) = log.finish();

        assert_eq!(steps[0].ok, Some(false));
        assert_eq!(steps[0].status, "error");
        assert_eq!(steps[0].output, json!("Error: flight not available"));
        assert!(writes.is_empty());
        assert_eq!(attempted, ["update_reservation_flights"]);
    }

    #[test]
    fn call_without_result_is_no_result() {
        let mut log = StepLog::new("retail");
        let arguments = Arguments::Decoded(json!({}));
        log.tool_call("agent", "c1".to_owned(), "modify_user_address".to_owned(), arguments);
        let (steps, writes, attempted) = log.finish();

        assert_eq!(steps[0].status, "no_result");
        assert_eq!(steps[0].ok, Some(false));
        assert_eq!(steps[0].output, Value::Null);
        assert!(writes.is_empty());
        assert_eq!(attempted, ["modify_user_address"]);
    }

    #[test]
    fn invalid_arguments_are_kept_as_text() {
        let mut log = StepLog::new("airline");
        let arguments = Arguments::from_json_text(json!("{\"reservation_id\": "));
        log.tool_call("agent", "c1".to_owned(), "get_reservation_details".to_owned(), arguments);
        log.tool_result("agent", Some("c1".to_owned()), None, json!("Error: invalid arguments"), false);
        let (steps, _, _) = log.finish();

        assert_eq!(steps[0].input, json!("{\"reservation_id\": "));
        assert_eq!(steps[0].status, "invalid_arguments");
        assert_eq!(steps[0].ok, Some(false));
    }

    #[test]
    fn result_without_call_is_kept() {
        let mut log = StepLog::new("airline");
        log.tool_result("agent", Some("c9".to_owned()), Some("think".to_owned()), json!(""), false);
        let (steps, _, _) = log.finish();

        assert_eq!(steps[0].status, "no_call");
        assert_eq!(steps[0].name, "think");
        assert_eq!(steps[0].call_id.as_deref(), Some("c9"));
    }

    #[test]
    fn write_tools_of_unknown_workflow_use_every_domain() {
        assert!(is_write_tool("unknown", "cancel_pending_order"));
        assert!(is_write_tool("unknown", "book_reservation"));
        assert!(!is_write_tool("airline", "cancel_pending_order"));
        assert!(!is_write_tool("retail", "get_user_details"));
    }
}
