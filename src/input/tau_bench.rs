//! Adapter for tau-bench (v1) trajectory logs (sierra-research/tau-bench,
//! `historical_trajectories/*.json`).
//!
//! A log is one JSON array of runs, streamed with the JSON-array reader; each
//! element `{task_id, trial, reward, info, traj}` becomes one canonical run
//! (see [`super::canonical`]):
//!
//! - `workflow` is the domain named in the system prompt's first heading
//!   (`# Airline Agent Policy` gives `airline`), else `unknown`. Nothing else of
//!   the system prompt is kept.
//! - `traj` becomes `steps`: user and assistant text become message steps, and each
//!   assistant `tool_calls[i]` is one tool step together with the `role: tool`
//!   message whose `tool_call_id` matches its `id`. `arguments` is a JSON string
//!   and is decoded.
//! - `reward` (top level, present even when `info.reward_info` is null) gives
//!   `outcome.reward` and the label; `info.source` gives `outcome.terminated_by`.
//! - tau-bench records no timestamps, so `started_at` and `finished_at` are null.

use serde::Deserialize;
use serde_json::{Number, Value};

use super::canonical::{
    Arguments, CanonicalRun, ExpectedAction, Labels, Outcome, StepLog, Task, canonical_role, id_text, message_text,
};
use super::depth::{exceeds_max_depth, too_deep_reason};
use super::parse::expect_object;

/// Maps one element of a tau-bench log to a canonical run record.
pub fn adapt_run(value: Value) -> Result<Value, String> {
    let entries = expect_object(value)?;
    for field in ["traj", "task_id"] {
        if !entries.contains_key(field) {
            return Err(format!(
                "not a tau-bench run: the field `{field}` is missing (use --input-format json \
                 for canonical records)"
            ));
        }
    }
    let run: Run =
        serde_json::from_value(Value::Object(entries)).map_err(|error| format!("invalid tau-bench run: {error}"))?;

    let record =
        serde_json::to_value(canonical_run(run)).map_err(|error| format!("cannot build the canonical run: {error}"))?;
    if exceeds_max_depth(&record) {
        return Err(too_deep_reason());
    }
    Ok(record)
}

fn canonical_run(run: Run) -> CanonicalRun {
    let workflow = workflow_of(&run.traj);
    let task = run.info.task.unwrap_or_default();
    let reward = run.reward.or_else(|| reward_from_info(run.info.reward_info.as_ref()));

    let mut log = StepLog::new(&workflow);
    for message in run.traj {
        add_message(&mut log, message);
    }
    let (steps, writes, attempted_writes) = log.finish();

    CanonicalRun {
        run_id: format!("tau-bench/{workflow}/task-{}/trial-{}", id_text(&run.task_id), id_text(&run.trial)),
        started_at: None,
        finished_at: None,
        task: Task {
            id: run.task_id,
            user_id: task.user_id,
            instruction: task.instruction,
            expected_actions: task
                .actions
                .into_iter()
                .map(|action| ExpectedAction { name: action.name, arguments: action.kwargs })
                .collect(),
            expected_outputs: task.outputs,
        },
        steps,
        outcome: Outcome {
            reward: reward.clone(),
            writes,
            attempted_writes,
            terminated_by: run.info.source,
            termination_reason: None,
        },
        labels: Labels::from_reward(reward, "tau-bench reward"),
        workflow,
    }
}

fn add_message(log: &mut StepLog, message: Message) {
    match message.role.as_str() {
        "system" => {}
        "tool" => log.tool_result("agent", message.tool_call_id, message.name, message.content, false),
        role => {
            let role = canonical_role(role);
            log.message(role, message_text(message.content));
            for call in message.tool_calls.unwrap_or_default() {
                let arguments = Arguments::from_json_text(call.function.arguments);
                log.tool_call(role, call.id, call.function.name, arguments);
            }
        }
    }
}

/// Returns the domain named by the first Markdown heading of the system prompt:
/// `# Airline Agent Policy` and `# Retail agent policy` give `airline` and `retail`.
fn workflow_of(traj: &[Message]) -> String {
    let heading = traj
        .iter()
        .find(|message| message.role == "system")
        .and_then(|message| message.content.as_str())
        .and_then(|prompt| prompt.lines().find_map(|line| line.strip_prefix("# ")));
    let domain = heading.and_then(|heading| {
        let heading = heading.trim().to_lowercase();
        let domain = heading.strip_suffix("agent policy")?.trim().to_owned();
        let is_word = !domain.is_empty() && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        is_word.then_some(domain)
    });
    domain.unwrap_or_else(|| "unknown".to_owned())
}

fn reward_from_info(reward_info: Option<&Value>) -> Option<Number> {
    match reward_info?.get("reward")? {
        Value::Number(number) => Some(number.clone()),
        _ => None,
    }
}

/// One element of a tau-bench log. Fields the adapter does not use are ignored.
#[derive(Deserialize)]
struct Run {
    task_id: Value,
    #[serde(default)]
    trial: Value,
    #[serde(default)]
    reward: Option<Number>,
    #[serde(default)]
    info: Info,
    traj: Vec<Message>,
}

#[derive(Default, Deserialize)]
struct Info {
    #[serde(default)]
    task: Option<TaskDefinition>,
    /// `user` when the simulated user ended the chat, else the last action's name.
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    reward_info: Option<Value>,
}

#[derive(Default, Deserialize)]
struct TaskDefinition {
    #[serde(default)]
    user_id: Value,
    #[serde(default)]
    instruction: Value,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    outputs: Vec<Value>,
}

#[derive(Deserialize)]
struct Action {
    name: String,
    #[serde(default)]
    kwargs: Value,
}

/// One chat message in OpenAI format.
#[derive(Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
    #[serde(default)]
    tool_call_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct ToolCall {
    id: String,
    function: Function,
}

#[derive(Deserialize)]
struct Function {
    name: String,
    /// A JSON string in tau-bench logs. An object is taken as already decoded.
    #[serde(default)]
    arguments: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(traj: Value) -> Value {
        json!({
            "task_id": 13,
            "trial": 2,
            "reward": 1.0,
            "info": {"task": {"user_id": "u1", "instruction": "do it", "actions": [], "outputs": []},
                     "source": "user", "reward_info": null},
            "traj": traj,
        })
    }

    #[test]
    fn system_heading_names_the_workflow() {
        let record = adapt_run(run(json!([
            {"role": "system", "content": "# Retail agent policy\n\nText."},
            {"role": "user", "content": "hi"},
        ])))
        .unwrap();
        assert_eq!(record["workflow"], "retail");
        assert_eq!(record["run_id"], "tau-bench/retail/task-13/trial-2");
        assert_eq!(record["steps"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn missing_system_prompt_is_unknown_workflow() {
        let record = adapt_run(run(json!([{"role": "user", "content": "hi"}]))).unwrap();
        assert_eq!(record["workflow"], "unknown");
    }

    #[test]
    fn text_and_tool_calls_keep_their_order() {
        let record = adapt_run(run(json!([
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "get_user_details", "arguments": "{\"user_id\": \"u1\"}"}},
                {"id": "b", "type": "function", "function": {"name": "think", "arguments": "not json"}}]},
            {"role": "tool", "tool_call_id": "b", "name": "think", "content": ""},
            {"role": "tool", "tool_call_id": "a", "name": "get_user_details", "content": "{\"name\": \"A\"}"},
        ])))
        .unwrap();
        let steps = record["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0]["kind"], "message");
        assert_eq!(steps[0]["role"], "agent");
        assert_eq!(steps[1]["input"], json!({"user_id": "u1"}));
        assert_eq!(steps[1]["output"], json!({"name": "A"}));
        assert_eq!(steps[2]["input"], "not json");
        assert_eq!(steps[2]["status"], "invalid_arguments");
    }

    #[test]
    fn element_without_traj_names_the_field() {
        let reason = adapt_run(json!({"task_id": 1, "run_id": "x"})).unwrap_err();
        assert!(reason.contains("`traj` is missing"), "{reason}");
        assert!(reason.contains("--input-format json"), "{reason}");
    }

    #[test]
    fn wrong_field_type_is_reported() {
        let reason = adapt_run(json!({"task_id": 1, "traj": "text"})).unwrap_err();
        assert!(reason.starts_with("invalid tau-bench run: invalid type"), "{reason}");
    }
}
