//! The operations behind every endpoint and subcommand: request parsing
//! with field-naming errors, the work limits, and the schedulers they run
//! on. Shared by the HTTP service and the CLI, so both answer alike.
//!
//! ```
//! use wrap_server::api::{Api, Limits};
//!
//! let api = Api::new(wrap_server::builtin::catalog().clone(), Limits::server());
//! let body = serde_json::json!({"workflow": "finra50", "SLO": 348});
//! let answer = api.seed(&body)?;
//! assert!(answer.starts_with(r#"{"workflow":"finra50","wraps":[[["#));
//! # Ok::<(), wrap_server::error::ApiError>(())
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde_json::{Map, Value};
use wrap_model::{Catalog, Plan, Profile, ProfileSet, Slo, Workflow};
use wrap_sched::{
    Frontier, Model, Prediction, Schedule, ScheduleOptions, Scheduler, Strategy, WorkBudget,
    DEFAULT_FRONTIER_WRAPS,
};

use crate::error::{ApiError, ErrorKind};

/// Bounds on the work one request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most instances an inline workflow may have.
    pub max_instances: usize,
    /// The most wraps any request may search (`max_wraps` above it, after
    /// capping by the largest stage, is refused with `limit_exceeded`).
    pub wrap_limit: usize,
    /// The wrap cap of a `chiron-kl` request that gives no `max_wraps`.
    pub chiron_kl_wraps: usize,
    /// How many profile sets given inline (per distinct `profiles` object)
    /// keep their scheduler and memo between requests.
    pub inline_sets: usize,
    /// A scheduler whose memo has grown past this many type ids (see
    /// [`wrap_sched::Model::memo_types`]; 4 bytes each) is replaced by a
    /// fresh one (inline workflows and profiles only).
    pub memo_limit: u64,
    /// The work one search may do, in [`WorkBudget`] units
    /// (`u64::MAX`: unbounded). A search past it is refused with
    /// `limit_exceeded`.
    pub work_budget: u64,
}

impl Limits {
    /// The default inline-workflow size cap (instances).
    pub const MAX_INSTANCES: usize = 1000;
    /// The default wrap limit.
    pub const WRAP_LIMIT: usize = 64;
    /// The default wrap cap of `chiron-kl` requests without `max_wraps`.
    pub const CHIRON_KL_WRAPS: usize = 20;

    /// The HTTP service's defaults.
    #[must_use]
    pub const fn server() -> Self {
        Limits {
            max_instances: Self::MAX_INSTANCES,
            wrap_limit: Self::WRAP_LIMIT,
            chiron_kl_wraps: Self::CHIRON_KL_WRAPS,
            inline_sets: 8,
            memo_limit: 8_000_000,
            work_budget: WorkBudget::DEFAULT,
        }
    }

    /// No limits: the offline CLI, where the caller owns the machine. The
    /// search may go up to the largest stage, as the published one does.
    #[must_use]
    pub const fn unlimited() -> Self {
        Limits {
            max_instances: usize::MAX,
            wrap_limit: usize::MAX,
            chiron_kl_wraps: usize::MAX,
            inline_sets: 4,
            memo_limit: u64::MAX,
            work_budget: u64::MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::server()
    }
}

/// A workflow as a request names it.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowRef {
    /// A registered workflow, by name (`"finra50"`).
    Named(String),
    /// An inline States Language workflow, parsed and size-checked.
    Inline(Workflow),
}

/// A parsed `POST /v1/schedule` request (or `POST /`, or `wrap-server schedule`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRequest {
    /// The workflow.
    pub workflow: WorkflowRef,
    /// The SLO.
    pub slo: Slo,
    /// The strategy (default: `default`).
    pub strategy: Strategy,
    /// The wrap cap, if given.
    pub max_wraps: Option<usize>,
    /// Profiles given inline, overriding or adding to the set's.
    pub profiles: Option<BTreeMap<String, Profile>>,
}

/// A parsed `POST /v1/predict` request (or `wrap-server predict --plan`).
#[derive(Debug, Clone, PartialEq)]
pub struct PredictRequest {
    /// The workflow.
    pub workflow: WorkflowRef,
    /// The plan.
    pub wraps: Plan,
    /// Whether the first group of a stage invokes the others (default true).
    pub first_wrap_invokes_remote: bool,
    /// Profiles given inline, overriding or adding to the set's.
    pub profiles: Option<BTreeMap<String, Profile>>,
}

/// One entry of `GET /v1/workflows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowInfo {
    /// The registered name.
    pub name: String,
    /// The number of instances of each stage, in stage order.
    pub stages: Vec<usize>,
}

#[derive(Serialize)]
struct SeedResult<'a> {
    workflow: &'a str,
    wraps: &'a Plan,
}

/// The schedulers for a catalog, and the operations on them.
///
/// Named workflows with the catalog's own profiles run on one shared
/// [`Scheduler`], so repeated requests hit its memo and frontier cache.
/// Requests with inline workflows or inline profiles run on schedulers
/// kept per distinct inline profile set (at most
/// [`Limits::inline_sets`] of them, least recently used first out, each
/// replaced when its memo passes [`Limits::memo_limit`]); inline
/// workflows never enter a frontier cache, so memory stays bounded.
#[derive(Debug)]
pub struct Api {
    workflows: BTreeMap<String, Workflow>,
    profiles: Arc<ProfileSet>,
    base: Arc<Scheduler>,
    inline: Mutex<Vec<(String, Arc<Scheduler>)>>,
    limits: Limits,
}

fn scheduler_of(set: Arc<ProfileSet>) -> Arc<Scheduler> {
    Arc::new(Scheduler::new(Arc::new(Model::new(set))))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidField, message)
}

/// The JSON type of `v`, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body as an object, or `malformed_json`.
fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        ApiError::new(
            ErrorKind::MalformedJson,
            format!(
                "request body must be a JSON object, got {}",
                type_name(body)
            ),
        )
    })
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses keys outside `allowed`, so a misspelt field (`"slo"`) is an
/// error rather than silently ignored.
fn only(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!(
            "unknown field '{k}'; the fields are {}",
            quoted(allowed)
        ))),
        None => Ok(()),
    }
}

fn required<'a>(map: &'a Map<String, Value>, field: &str) -> Result<&'a Value, ApiError> {
    map.get(field)
        .ok_or_else(|| invalid(format!("missing field '{field}'")))
}

/// Parses an SLO: a non-number is `invalid_field` (400), a number out of
/// range `invalid_slo` (422).
///
/// # Errors
/// As described.
pub fn parse_slo(v: &Value, field: &str) -> Result<Slo, ApiError> {
    let ms = v.as_f64().ok_or_else(|| {
        invalid(format!(
            "field '{field}' must be a number of milliseconds, got {}",
            type_name(v)
        ))
    })?;
    slo_of(ms, &format!("field '{field}'"))
}

/// An SLO from a number: `invalid_slo` when out of range, the message
/// starting with `label` (`field 'SLO'`, `--slo`).
///
/// # Errors
/// `invalid_slo`.
pub fn slo_of(ms: f64, label: &str) -> Result<Slo, ApiError> {
    Slo::new(ms).map_err(|e| ApiError::new(ErrorKind::InvalidSlo, format!("{label}: {e}")))
}

fn parse_strategy(v: Option<&Value>) -> Result<Strategy, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Strategy::default()),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|e| invalid(format!("field 'strategy': {e}"))),
        Some(other) => Err(invalid(format!(
            "field 'strategy' must be a string ('default' or 'chiron-kl'), got {}",
            type_name(other)
        ))),
    }
}

/// Parses a wrap cap: a positive integer.
///
/// # Errors
/// `invalid_field` naming `field`.
pub fn parse_max_wraps(v: Option<&Value>, field: &str) -> Result<Option<usize>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n >= 1 => Ok(Some(n)),
            _ => Err(invalid(format!(
                "field '{field}' must be a positive integer, got {}",
                match v {
                    Value::Number(n) => n.to_string(),
                    other => type_name(other).to_owned(),
                }
            ))),
        },
    }
}

fn parse_profiles(v: Option<&Value>) -> Result<Option<BTreeMap<String, Profile>>, ApiError> {
    let map = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(invalid(format!(
                "field 'profiles' must be an object of function type to profile, got {}",
                type_name(other)
            )))
        }
    };
    let mut out = BTreeMap::new();
    for (ty, p) in map {
        let profile = Profile::deserialize_value(p)
            .map_err(|e| invalid(format!("field 'profiles.{ty}': {e}")))?;
        out.insert(ty.clone(), profile);
    }
    Ok(Some(out))
}

/// Deserialising a profile from a JSON value, with serde's message.
trait FromValue: Sized {
    fn deserialize_value(v: &Value) -> Result<Self, serde_json::Error>;
}

impl<T: serde::de::DeserializeOwned> FromValue for T {
    fn deserialize_value(v: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(v)
    }
}

fn parse_plan(v: &Value) -> Result<Plan, ApiError> {
    Plan::deserialize_value(v).map_err(|e| {
        invalid(format!(
            "field 'wraps' must be a list of stages, each a list of groups, each a list of instance names: {e}"
        ))
    })
}

impl Api {
    /// The operations over `catalog` (its profile set and workflows) with
    /// `limits`.
    #[must_use]
    pub fn new(catalog: Catalog, limits: Limits) -> Self {
        let profiles = Arc::new(catalog.profiles);
        Api {
            workflows: catalog.workflows,
            base: scheduler_of(Arc::clone(&profiles)),
            profiles,
            inline: Mutex::new(Vec::new()),
            limits,
        }
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The shared scheduler of the named workflows (for its model's
    /// [`Model::simulations`] counter, or to call it directly).
    #[must_use]
    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.base
    }

    /// The registered workflows, by name.
    #[must_use]
    pub fn workflows(&self) -> &BTreeMap<String, Workflow> {
        &self.workflows
    }

    /// `GET /v1/workflows`: every registered workflow with its stage sizes,
    /// by name.
    #[must_use]
    pub fn workflow_list(&self) -> Vec<WorkflowInfo> {
        self.workflows
            .iter()
            .map(|(name, w)| WorkflowInfo {
                name: name.clone(),
                stages: w.stage_sizes(),
            })
            .collect()
    }

    fn named(&self, name: &str) -> Result<&Workflow, ApiError> {
        self.workflows.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.workflows.keys().map(String::as_str).collect();
            ApiError::new(
                ErrorKind::UnknownWorkflow,
                format!(
                    "unknown workflow '{name}'; known workflows: {}",
                    if known.is_empty() {
                        "(none)".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
    }

    /// Parses the `workflow` field: a name (kept as a name; looked up when
    /// run) or an inline States Language object (parsed and size-checked).
    ///
    /// # Errors
    /// `invalid_field` for another JSON type, `invalid_workflow` for a
    /// broken definition, `limit_exceeded` over the instance cap.
    pub fn parse_workflow(&self, v: &Value) -> Result<WorkflowRef, ApiError> {
        match v {
            Value::String(name) => Ok(WorkflowRef::Named(name.clone())),
            Value::Object(m) => {
                let name = match m.get("Name") {
                    Some(Value::String(s)) if !s.is_empty() => s.as_str(),
                    _ => "inline",
                };
                let w = Workflow::from_json(name, v).map_err(|e| {
                    ApiError::new(ErrorKind::InvalidWorkflow, format!("field 'workflow': {e}"))
                })?;
                let n = w.instance_count();
                if n > self.limits.max_instances {
                    return Err(ApiError::new(
                        ErrorKind::LimitExceeded,
                        format!(
                            "field 'workflow': the workflow has {n} instances; this server accepts at most {} (--max-instances)",
                            self.limits.max_instances
                        ),
                    ));
                }
                Ok(WorkflowRef::Inline(w))
            }
            other => Err(invalid(format!(
                "field 'workflow' must be a workflow name or a States Language object, got {}",
                type_name(other)
            ))),
        }
    }

    /// Parses a `/v1/schedule` body.
    ///
    /// # Errors
    /// `malformed_json`, `invalid_field`, `invalid_slo`, `invalid_workflow`,
    /// `limit_exceeded`, each naming the field.
    pub fn parse_schedule(&self, body: &Value) -> Result<ScheduleRequest, ApiError> {
        let map = object(body)?;
        only(
            map,
            &["workflow", "SLO", "strategy", "max_wraps", "profiles"],
        )?;
        let workflow = self.parse_workflow(required(map, "workflow")?)?;
        let slo = parse_slo(required(map, "SLO")?, "SLO")?;
        Ok(ScheduleRequest {
            workflow,
            slo,
            strategy: parse_strategy(map.get("strategy"))?,
            max_wraps: parse_max_wraps(map.get("max_wraps"), "max_wraps")?,
            profiles: parse_profiles(map.get("profiles"))?,
        })
    }

    /// Parses a `/v1/predict` body (the file of `predict --plan`).
    ///
    /// # Errors
    /// `malformed_json`, `invalid_field`, `invalid_workflow`,
    /// `limit_exceeded`, each naming the field.
    pub fn parse_predict(&self, body: &Value) -> Result<PredictRequest, ApiError> {
        let map = object(body)?;
        only(
            map,
            &["workflow", "wraps", "first_wrap_invokes_remote", "profiles"],
        )?;
        let workflow = self.parse_workflow(required(map, "workflow")?)?;
        let wraps = parse_plan(required(map, "wraps")?)?;
        let first_wrap_invokes_remote = match map.get("first_wrap_invokes_remote") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(format!(
                    "field 'first_wrap_invokes_remote' must be a boolean, got {}",
                    type_name(other)
                )))
            }
        };
        Ok(PredictRequest {
            workflow,
            wraps,
            first_wrap_invokes_remote,
            profiles: parse_profiles(map.get("profiles"))?,
        })
    }

    /// The scheduler for a request's inline profiles (or none), and whether
    /// its frontier cache may be used (named workflows only).
    fn scheduler_for(
        &self,
        workflow: &WorkflowRef,
        profiles: Option<&BTreeMap<String, Profile>>,
    ) -> Result<Arc<Scheduler>, ApiError> {
        if profiles.is_none() && matches!(workflow, WorkflowRef::Named(_)) {
            return Ok(Arc::clone(&self.base));
        }
        let key = match profiles {
            Some(p) => serde_json::to_string(p).map_err(ApiError::internal)?,
            None => String::new(),
        };
        let mut inline = self.inline.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = inline.iter().position(|(k, _)| *k == key) {
            let (k, s) = inline.remove(i);
            if s.model().memo_types() < self.limits.memo_limit {
                inline.push((k, Arc::clone(&s)));
                return Ok(s);
            }
        }
        let mut set = ProfileSet::clone(&self.profiles);
        for (ty, p) in profiles.into_iter().flatten() {
            set.insert(ty.clone(), p.clone()).map_err(|e| {
                ApiError::new(
                    ErrorKind::InvalidProfile,
                    format!("field 'profiles.{ty}': {e}"),
                )
            })?;
        }
        let s = scheduler_of(Arc::new(set));
        inline.push((key, Arc::clone(&s)));
        while inline.len() > self.limits.inline_sets.max(1) {
            inline.remove(0);
        }
        Ok(s)
    }

    fn resolve<'a>(&'a self, w: &'a WorkflowRef) -> Result<&'a Workflow, ApiError> {
        match w {
            WorkflowRef::Named(n) => self.named(n),
            WorkflowRef::Inline(w) => Ok(w),
        }
    }

    /// The wrap cap to search with: the request's (capped by the largest
    /// stage) if within the limit, else the strategy's default (capped by
    /// the limit and the largest stage).
    fn wrap_cap(
        &self,
        workflow: &Workflow,
        requested: Option<usize>,
        default: usize,
        field: &str,
    ) -> Result<usize, ApiError> {
        let p = workflow.max_stage_size().max(1);
        match requested {
            Some(n) if n.min(p) > self.limits.wrap_limit => Err(ApiError::new(
                ErrorKind::LimitExceeded,
                format!(
                    "field '{field}': {n} wraps is over this server's limit of {} (--wrap-limit)",
                    self.limits.wrap_limit
                ),
            )),
            Some(n) => Ok(n.min(p)),
            None => Ok(default.min(self.limits.wrap_limit).min(p)),
        }
    }

    /// A fresh budget for one search, or none when unbounded.
    fn budget(&self) -> Option<WorkBudget> {
        (self.limits.work_budget < u64::MAX).then(|| WorkBudget::new(self.limits.work_budget))
    }

    /// Runs a parsed schedule request.
    ///
    /// # Errors
    /// `unknown_workflow`, `invalid_profile`, `unknown_function`,
    /// `limit_exceeded`, or `slo_unreachable` with the best plan.
    pub fn schedule(&self, req: &ScheduleRequest) -> Result<Schedule, ApiError> {
        let workflow = self.resolve(&req.workflow)?;
        let scheduler = self.scheduler_for(&req.workflow, req.profiles.as_ref())?;
        let default_cap = match req.strategy {
            Strategy::ChironKl => self.limits.chiron_kl_wraps,
            _ => self.limits.wrap_limit,
        };
        let cap = self.wrap_cap(workflow, req.max_wraps, default_cap, "max_wraps")?;
        let mut options = ScheduleOptions::new(req.strategy).with_max_wraps(Some(cap));
        if let Some(b) = self.budget() {
            options = options.with_budget(Arc::new(b));
        }
        let result = if matches!(req.workflow, WorkflowRef::Named(_)) {
            scheduler.schedule(workflow, req.slo, &options)
        } else {
            wrap_sched::schedule(scheduler.model(), workflow, req.slo, &options)
        };
        result.map_err(|e| {
            let mut e = ApiError::from(e);
            if e.kind == ErrorKind::SloUnreachable && cap < workflow.max_stage_size() {
                e.message
                    .push_str(&format!(" (searched up to {cap} wraps; see 'max_wraps')"));
            }
            e
        })
    }

    /// Runs a parsed predict request.
    ///
    /// # Errors
    /// `unknown_workflow`, `invalid_profile`, `invalid_plan`,
    /// `unknown_function`.
    pub fn predict(&self, req: &PredictRequest) -> Result<Prediction, ApiError> {
        let workflow = self.resolve(&req.workflow)?;
        let scheduler = self.scheduler_for(&req.workflow, req.profiles.as_ref())?;
        Ok(wrap_sched::predict(
            scheduler.model(),
            workflow,
            &req.wraps,
            req.first_wrap_invokes_remote,
        )?)
    }

    /// The frontier of a named workflow for caps `1..=max_wraps` (default
    /// [`DEFAULT_FRONTIER_WRAPS`], capped by the largest stage), from the
    /// shared cache.
    ///
    /// # Errors
    /// `unknown_workflow`, `limit_exceeded`, `unknown_function`.
    pub fn frontier(&self, workflow: &str, max_wraps: Option<usize>) -> Result<Frontier, ApiError> {
        let w = self.named(workflow)?;
        let cap = self.wrap_cap(w, max_wraps, DEFAULT_FRONTIER_WRAPS, "max_wraps")?;
        let f = self.base.frontier_within(w, cap, self.budget().as_ref())?;
        Ok(Frontier::clone(&f))
    }

    /// `POST /`: the seed's contract. `{"workflow": "<name>", "SLO": <ms>}`
    /// (other keys are ignored, as the seed did) answers
    /// `{"workflow": ..., "wraps": ...}` with the default strategy, as
    /// compact JSON.
    ///
    /// # Errors
    /// As [`Api::schedule`], plus `malformed_json` and `invalid_field`.
    pub fn seed(&self, body: &Value) -> Result<String, ApiError> {
        let map = object(body)?;
        let workflow = match required(map, "workflow")? {
            Value::String(s) => WorkflowRef::Named(s.clone()),
            other => {
                return Err(invalid(format!(
                    "field 'workflow' must be a string naming a workflow, got {}",
                    type_name(other)
                )))
            }
        };
        let req = ScheduleRequest {
            workflow,
            slo: parse_slo(required(map, "SLO")?, "SLO")?,
            strategy: Strategy::Default,
            max_wraps: None,
            profiles: None,
        };
        let s = self.schedule(&req)?;
        to_json(&SeedResult {
            workflow: &s.workflow,
            wraps: &s.wraps,
        })
    }
}

/// Compact JSON of a result.
///
/// # Errors
/// `internal` (our own result types always serialise).
pub fn to_json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}
