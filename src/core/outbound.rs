//! Outbound deliveries: the HTTP calls a platform makes to its customers' services (Jiandaoyun's data
//! push, DingTalk event callbacks, Flow callouts). Platforms build each request completely (URL,
//! headers, signed body) and hand it to their world's [`Outbox`]; everything after that is shared.
//!
//! Nothing here runs on the request path: enqueueing takes a lock for a few pointer moves and wakes
//! one background task per namespace, which sends due deliveries with a hyper client and records
//! every attempt. Retries are due on the *emulator* clock, so a frozen clock plus
//! `POST /__emu/clock {"advance": …}` fires them deterministically; on a running clock they fire as
//! real time passes. Every resource is bounded: pending deliveries per namespace ([`MAX_PENDING`]),
//! finished entries kept ([`MAX_FINISHED`]), sends at once ([`MAX_IN_FLIGHT`]), response bytes kept
//! ([`MAX_RESPONSE_BYTES`], [`MAX_ANSWER_BYTES`] for answers a platform goes on with), and each
//! attempt's time (the platform's timeout).
//!
//! Most deliveries are fire-and-forget. Two kinds are waited for: an API node's answer is taken by
//! the platform's next request ([`Outbox::take_replies`]), and a synchronous call (a Flow's Rest
//! action) is awaited by the request that made it ([`Outbox::call`]) — the same queue, journal and
//! faults, only the answer goes straight back.
//!
//! A reset or a namespace delete drops the world and with it the outbox: pending deliveries are
//! discarded and the worker ends; answers to sends already under way are ignored.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{oneshot, Notify};

use super::clock::{iso_utc_ms, Clock, Millis};
use super::faults::{Action, Faults};

/// Deliveries waiting for an attempt in one namespace; more are recorded as dropped.
pub const MAX_PENDING: usize = 1_000;
/// Finished deliveries kept for `GET /__emu/deliveries` (the oldest give way).
pub const MAX_FINISHED: usize = 1_000;
/// Sends under way at once in one namespace.
pub const MAX_IN_FLIGHT: usize = 16;
/// Sends under way at once to one target (a form's push, an API node). One: a receiver gets its
/// deliveries one after the other, in the order they were made (a record's create before its
/// delete), and one slow receiver cannot take every slot. The `reorder` fault breaks the order on
/// purpose; a delivery waiting for a retry does not hold the later ones back.
pub const MAX_PER_TARGET: usize = 1;
/// Bytes of a receiver's answer kept in the journal.
pub const MAX_RESPONSE_BYTES: usize = 4_096;
/// Bytes kept of an answer the platform goes on with (an API node's, a Rest action's JSON).
pub const MAX_ANSWER_BYTES: usize = 65_536;

/// How a platform retries: the time an attempt may take, the waits before each retry (their number
/// is the number of retries), and after how many failures in a row a target is switched off.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub timeout_ms: u64,
    pub retry_after_ms: &'static [Millis],
    pub disable_after_failures: Option<u32>,
}

/// How a platform decides that a 2xx answer really is an acknowledgement (DingTalk wants its
/// encrypted `success` back); `Err` says why not, and the attempt counts as failed.
#[derive(Clone)]
pub struct AnswerCheck(pub Arc<CheckFn>);

/// Accepts an answer's body or says why not.
pub type CheckFn = dyn Fn(&str) -> Result<(), String> + Send + Sync;

impl std::fmt::Debug for AnswerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnswerCheck")
    }
}

/// What a platform hands the outbox: the request and how to treat it.
#[derive(Debug, Clone)]
pub struct Message {
    pub platform: &'static str,
    /// The platform's event name (`data_create` …).
    pub event: String,
    /// What consecutive failures are counted against (a form's push, an API node …).
    pub target: String,
    pub request: OutRequest,
    pub policy: RetryPolicy,
    /// The platform waits for the answer ([`Outbox::take_replies`] hands it back with this tag).
    pub reply_to: Option<String>,
    /// Only answers this accepts count as delivered.
    pub check: Option<AnswerCheck>,
}

impl Message {
    pub fn new(platform: &'static str, event: &str, target: String, request: OutRequest, policy: RetryPolicy) -> Self {
        Message { platform, event: event.to_owned(), target, request, policy, reply_to: None, check: None }
    }

    /// The platform waits for the answer under `tag`.
    pub fn replying_to(mut self, tag: String) -> Self {
        self.reply_to = Some(tag);
        self
    }

    /// Only answers `check` accepts count as delivered.
    pub fn checked(mut self, check: AnswerCheck) -> Self {
        self.check = Some(check);
        self
    }
}

/// One request to send, built completely by the platform.
#[derive(Debug, Clone, Serialize)]
pub struct OutRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    InFlight,
    Delivered,
    /// Every attempt failed.
    Failed,
    /// Never sent: the queue was full, or the target had been switched off.
    Dropped,
}

impl Outcome {
    /// Delivered, failed or dropped: nothing more will happen to it.
    pub fn is_finished(self) -> bool {
        !matches!(self, Outcome::Pending | Outcome::InFlight)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Emulator time of the send.
    pub at: String,
    pub status: Option<u16>,
    pub response_body: String,
    pub latency_ms: u64,
    /// Why no status came back (connection refused, timeout …).
    pub error: Option<String>,
    /// The fault rule that shaped this attempt (its status stands in for the receiver's answer,
    /// or it delayed the send).
    pub fault: Option<String>,
}

/// One delivery and everything that happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: u64,
    pub platform: &'static str,
    /// The platform's event name (`data_create` …).
    pub event: String,
    /// What consecutive failures are counted against (a form's push, a callback URL …).
    pub target: String,
    pub request: OutRequest,
    pub created_at: String,
    pub outcome: Outcome,
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<Attempt>,
    /// The delivery this one re-sends, for `redeliver`.
    pub redelivery_of: Option<u64>,
    /// The delivery a `duplicate` fault copied.
    pub duplicate_of: Option<u64>,
    pub note: Option<String>,
    /// Held back by a `reorder` fault until the next delivery to the same target has gone.
    pub held: bool,
    /// Set when the platform waits for the answer (an API node): its own tag for the waiting item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The platform has taken the answer (`take_replies`).
    #[serde(skip)]
    replied: bool,
    /// Set by platforms whose receivers must answer in a given form.
    #[serde(skip)]
    check: Option<AnswerCheck>,
    #[serde(skip)]
    due_ms: Millis,
    #[serde(skip)]
    policy: RetryPolicy,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    /// Every delivery in id order (ids grow as they are pushed): pending and in-flight ones are never
    /// evicted.
    deliveries: VecDeque<Delivery>,
    /// How many deliveries are pending, in flight and finished: kept with every change of outcome so
    /// enqueueing (on the request path) never scans the queue.
    pending: usize,
    in_flight: usize,
    /// Sends under way per target.
    busy: HashMap<String, usize>,
    finished: usize,
    /// Pending deliveries that are not held back, by (due time, id): the sender takes what is due
    /// without scanning the journal.
    schedule: BTreeSet<(Millis, u64)>,
    /// Due deliveries whose target already had its share under way, in order, per target: moved out
    /// of `schedule` so a backlog behind one slow receiver is scanned once, not on every wake. One
    /// goes back each time the target's send finishes.
    parked: HashMap<String, VecDeque<(Millis, u64)>>,
    /// How many deliveries a `reorder` fault holds back (the release scan runs only when some are).
    held: usize,
    /// Finished deliveries whose platform waits for the answer and has not taken it yet.
    unreplied: usize,
    /// Requests awaiting a synchronous call's answer, by delivery id ([`Outbox::call`]).
    waiters: HashMap<u64, oneshot::Sender<Reply>>,
    failures_in_a_row: HashMap<String, u32>,
}

impl Inner {
    fn index(&self, id: u64) -> Option<usize> {
        self.deliveries.binary_search_by_key(&id, |d| d.id).ok()
    }

    /// Puts the next delivery parked behind `target` back on the schedule.
    fn unpark(&mut self, target: &str) {
        let Some(queue) = self.parked.get_mut(target) else { return };
        if let Some(key) = queue.pop_front() {
            self.schedule.insert(key);
        }
        if queue.is_empty() {
            self.parked.remove(target);
        }
    }

    /// Delivery `i` has just finished: a request awaiting it gets its answer now; otherwise an
    /// answer the platform waits for is kept for [`Outbox::take_replies`].
    fn settle(&mut self, i: usize) {
        self.finished += 1;
        let d = &mut self.deliveries[i];
        if d.reply_to.is_none() {
            return;
        }
        if let Some(waiter) = self.waiters.remove(&d.id) {
            d.replied = true;
            // The request may have gone (client disconnected): nobody to tell then.
            let _ = waiter.send(reply_of(d));
        } else {
            self.unreplied += 1;
        }
    }

    /// Drops the oldest finished entries once they exceed [`MAX_FINISHED`] by an eighth, so the scan
    /// runs once per many deliveries rather than on each.
    fn trim(&mut self) {
        if self.finished <= MAX_FINISHED + MAX_FINISHED / 8 {
            return;
        }
        let mut extra = self.finished - MAX_FINISHED;
        self.finished = MAX_FINISHED;
        self.deliveries.retain(|d| {
            let waited_for = d.reply_to.is_some() && !d.replied;
            if extra > 0 && !waited_for && d.outcome.is_finished() {
                extra -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// One namespace's deliveries and the task that sends them.
pub struct Outbox {
    clock: Arc<Clock>,
    faults: Arc<Faults>,
    inner: Mutex<Inner>,
    wake: Arc<Notify>,
    started: AtomicBool,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.lock();
        f.debug_struct("Outbox").field("deliveries", &inner.deliveries.len()).field("in_flight", &inner.in_flight).finish()
    }
}

impl Reply {
    /// A call that never went out, and why.
    pub fn unsent(tag: String, why: &str) -> Reply {
        Reply { tag, delivered: false, status: None, body: String::new(), error: Some(why.to_owned()) }
    }

    /// The answer as a JSON object, or why there is none — `what` names the waiting item in the
    /// reason ("API node check answered HTTP 500").
    pub fn json_answer(&self, what: &str) -> Result<serde_json::Value, String> {
        let answer = serde_json::from_str::<serde_json::Value>(&self.body).ok().filter(serde_json::Value::is_object);
        match (self.delivered, answer, self.status, &self.error) {
            (true, Some(answer), _, _) => Ok(answer),
            (true, None, _, _) => Err(format!("{what} answered something that is not a JSON object")),
            (false, _, Some(status), _) => Err(format!("{what} answered HTTP {status}")),
            (false, _, None, Some(e)) => Err(format!("{what} failed: {e}")),
            (false, _, None, None) => Err(format!("{what} failed")),
        }
    }
}

/// A finished delivery handed back to the platform that waits for its answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub tag: String,
    /// A 2xx answer came.
    pub delivered: bool,
    pub status: Option<u16>,
    pub body: String,
    /// Why it failed without a status (refused, timed out, dropped).
    pub error: Option<String>,
}

/// A finished delivery's answer, as the platform waiting for it sees it.
fn reply_of(d: &Delivery) -> Reply {
    let last = d.attempts.last();
    Reply {
        tag: d.reply_to.clone().unwrap_or_default(),
        delivered: d.outcome == Outcome::Delivered,
        status: last.and_then(|a| a.status),
        body: last.map(|a| a.response_body.clone()).unwrap_or_default(),
        error: last.and_then(|a| a.error.clone()).or_else(|| d.note.clone()),
    }
}

/// What `wait_idle` found when it returned.
#[derive(Debug, Serialize)]
pub struct Idle {
    pub idle: bool,
    pub pending: usize,
    pub in_flight: usize,
}

impl Outbox {
    pub fn new(clock: Arc<Clock>, faults: Arc<Faults>) -> Arc<Self> {
        Arc::new(Outbox { clock, faults, inner: Mutex::default(), wake: Arc::new(Notify::new()), started: AtomicBool::new(false) })
    }

    /// Queues a delivery; answers its id. A full queue or a switched-off target records it as dropped.
    pub fn enqueue(self: &Arc<Self>, message: Message) -> u64 {
        self.add(message, None, None)
    }

    /// Sends `message` and waits for its answer: the request that makes a synchronous call (a
    /// Flow's Rest action) goes on with it. The delivery is journaled and faulted like any other,
    /// and makes one attempt unless its policy retries. Bounded by the attempt's timeout plus any
    /// delay a fault adds; a reset meanwhile answers a failure.
    pub async fn call(self: &Arc<Self>, message: Message) -> Reply {
        let tag = message.reply_to.clone().unwrap_or_default();
        let (tx, rx) = oneshot::channel();
        self.add(Message { reply_to: Some(tag.clone()), ..message }, None, Some(tx));
        rx.await.unwrap_or_else(|_| Reply::unsent(tag, "the namespace was reset before the answer came"))
    }

    /// The finished deliveries of `platform` that carry a reply tag and were not taken yet, oldest
    /// first; each is handed out once. Costs nothing while none is waiting.
    pub fn take_replies(&self, platform: &str) -> Vec<Reply> {
        let mut inner = self.inner.lock();
        if inner.unreplied == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for d in inner.deliveries.iter_mut() {
            if d.outcome.is_finished() && d.platform == platform && !d.replied && d.reply_to.is_some() {
                d.replied = true;
                out.push(reply_of(d));
            }
        }
        inner.unreplied -= out.len();
        out
    }

    fn add(self: &Arc<Self>, message: Message, redelivery_of: Option<u64>, waiter: Option<oneshot::Sender<Reply>>) -> u64 {
        let Message { platform, event, target, request, policy, reply_to, check } = message;
        let now = self.clock.now_ms();
        let mut inner = self.inner.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let switched_off = policy.disable_after_failures.is_some_and(|n| inner.failures_in_a_row.get(&target).is_some_and(|f| *f >= n));
        let (outcome, note) = if switched_off {
            (
                Outcome::Dropped,
                Some(format!(
                    "not sent: {target} was switched off after failing {} times in a row",
                    policy.disable_after_failures.unwrap_or(0)
                )),
            )
        } else if inner.pending >= MAX_PENDING {
            (Outcome::Dropped, Some(format!("not sent: {MAX_PENDING} deliveries were already waiting in this namespace")))
        } else {
            (Outcome::Pending, None)
        };
        if let Some(waiter) = waiter {
            inner.waiters.insert(id, waiter);
        }
        if outcome == Outcome::Pending {
            inner.pending += 1;
            inner.schedule.insert((now, id));
        }
        inner.deliveries.push_back(Delivery {
            id,
            platform,
            event,
            target,
            request,
            created_at: iso_utc_ms(now),
            outcome,
            next_attempt_at: (outcome == Outcome::Pending).then(|| iso_utc_ms(now)),
            attempts: Vec::new(),
            redelivery_of,
            duplicate_of: None,
            note,
            held: false,
            reply_to,
            replied: false,
            check,
            due_ms: now,
            policy,
        });
        if outcome != Outcome::Pending {
            let last = inner.deliveries.len() - 1;
            inner.settle(last);
        }
        inner.trim();
        drop(inner);
        self.start();
        self.wake.notify_one();
        id
    }

    /// Sends delivery `id`'s request again as a new delivery; `None` when there is no such delivery.
    pub fn redeliver(self: &Arc<Self>, id: u64) -> Option<u64> {
        let message = {
            let inner = self.inner.lock();
            let d = &inner.deliveries[inner.index(id)?];
            Message { check: d.check.clone(), ..Message::new(d.platform, &d.event, d.target.clone(), d.request.clone(), d.policy) }
        };
        Some(self.add(message, Some(id), None))
    }

    /// One delivery, while it is kept (finished ones may have been forgotten or cleared).
    pub fn get(&self, id: u64) -> Option<Delivery> {
        let inner = self.inner.lock();
        inner.index(id).map(|i| inner.deliveries[i].clone())
    }

    /// Every delivery, oldest first, optionally of one platform.
    pub fn list(&self, platform: Option<&str>) -> Vec<Delivery> {
        self.inner.lock().deliveries.iter().filter(|d| platform.is_none_or(|p| d.platform == p)).cloned().collect()
    }

    /// Forgets finished deliveries; pending and in-flight ones (and answers a platform has not taken
    /// yet) stay. Answers how many went.
    pub fn clear_finished(&self) -> usize {
        let mut inner = self.inner.lock();
        let before = inner.deliveries.len();
        // Answers a platform still waits for stay until it has taken them.
        inner.deliveries.retain(|d| !d.outcome.is_finished() || (d.reply_to.is_some() && !d.replied));
        inner.finished = inner.unreplied;
        before - inner.deliveries.len()
    }

    /// The clock moved: due retries may fire now.
    pub fn clock_changed(&self) {
        self.wake.notify_one();
    }

    fn snapshot(&self) -> Idle {
        let now = self.clock.now_ms();
        let inner = self.inner.lock();
        let due = inner.schedule.range(..=(now, u64::MAX)).count();
        Idle { idle: due == 0 && inner.in_flight == 0, pending: inner.pending, in_flight: inner.in_flight }
    }

    /// Waits until nothing is due and nothing is in flight (retries due later on a frozen clock do
    /// not count), or `timeout` passes.
    pub async fn wait_idle(&self, timeout: Duration) -> Idle {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if s.idle || tokio::time::Instant::now() >= deadline {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Starts the sending task once, on the runtime of the first caller (none outside a runtime:
    /// deliveries then wait until a caller inside one arrives).
    fn start(self: &Arc<Self>) {
        if self.started.load(Ordering::Acquire) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        handle.spawn(run(Arc::downgrade(self), self.wake.clone()));
    }

    /// Marks due deliveries in flight (up to [`MAX_IN_FLIGHT`]) and answers what to send, after
    /// the namespace's delivery faults (`route = "delivery.<platform>.<event>"`) had their say.
    fn take_due(&self) -> Vec<Outgoing> {
        let now = self.clock.now_ms();
        let mut inner = self.inner.lock();
        let room = MAX_IN_FLIGHT.saturating_sub(inner.in_flight);
        // Due deliveries in order; those of targets that already have their share under way are
        // parked behind their target.
        let mut due = Vec::new();
        let mut park: Vec<(String, (Millis, u64))> = Vec::new();
        let mut taken: HashMap<&str, usize> = HashMap::new();
        for &(at, id) in inner.schedule.range(..=(now, u64::MAX)) {
            if due.len() >= room {
                break;
            }
            let Some(i) = inner.index(id) else { continue };
            let target = inner.deliveries[i].target.as_str();
            let share = taken.entry(target).or_insert_with(|| inner.busy.get(target).copied().unwrap_or(0));
            if *share < MAX_PER_TARGET {
                *share += 1;
                due.push((at, id));
            } else {
                park.push((target.to_owned(), (at, id)));
            }
        }
        drop(taken);
        for key in &due {
            inner.schedule.remove(key);
        }
        for (target, key) in park {
            inner.schedule.remove(&key);
            inner.parked.entry(target).or_default().push_back(key);
        }
        let due: Vec<u64> = due.into_iter().map(|(_, id)| id).collect();
        let mut out = Vec::new();
        for id in due {
            let Some(i) = inner.index(id) else { continue };
            let d = &mut inner.deliveries[i];
            let firing = if self.faults.is_empty() {
                None
            } else {
                let body: serde_json::Value = serde_json::from_str(&d.request.body).unwrap_or_default();
                let route = format!("delivery.{}.{}", d.platform, d.event);
                let field =
                    |k: &str| if k == "url" { Some(serde_json::Value::String(d.request.url.clone())) } else { body.get(k).cloned() };
                self.faults.evaluate(d.platform, &route, &field, now)
            };
            let (delay_ms, rule) = firing.as_ref().map(|f| (f.delay_ms, Some(f.rule.clone()))).unwrap_or((0, None));
            let mut action = firing.map(|f| f.action);
            if action == Some(Action::Reorder) && inner.waiters.contains_key(&id) {
                // A request awaits this call: nothing can overtake it, so it goes now.
                action = None;
                let d = &mut inner.deliveries[i];
                d.note = Some(format!("fault {} (reorder) passed over: a request awaits this call", rule.clone().unwrap_or_default()));
            }
            let d = &mut inner.deliveries[i];
            match action {
                Some(Action::Disconnect) => {
                    d.outcome = Outcome::Dropped;
                    d.next_attempt_at = None;
                    d.note = Some(format!("dropped by fault {}", rule.unwrap_or_default()));
                    inner.pending -= 1;
                    inner.settle(i);
                    continue;
                }
                Some(Action::Reorder) => {
                    d.held = true;
                    inner.held += 1;
                    let d = &mut inner.deliveries[i];
                    d.note = Some(format!("held back by fault {} until the next delivery to {} goes", rule.unwrap_or_default(), d.target));
                    continue;
                }
                Some(Action::Raw { status, body, .. }) => {
                    d.outcome = Outcome::InFlight;
                    d.next_attempt_at = None;
                    let shown = match body {
                        Some(serde_json::Value::String(s)) => s,
                        Some(v) => v.to_string(),
                        None => String::new(),
                    };
                    let target = d.target.clone();
                    *inner.busy.entry(target).or_insert(0) += 1;
                    out.push(Outgoing { id, request: None, timeout_ms: 0, keep: 0, delay_ms, rule, status, body: shown });
                }
                action => {
                    d.outcome = Outcome::InFlight;
                    d.next_attempt_at = None;
                    let (request, timeout_ms, target) = (d.request.clone(), d.policy.timeout_ms, d.target.clone());
                    let keep = if d.reply_to.is_some() { MAX_ANSWER_BYTES } else { MAX_RESPONSE_BYTES };
                    if action == Some(Action::Duplicate) {
                        let mut copy = d.clone();
                        inner.next_id += 1;
                        copy.id = inner.next_id;
                        copy.outcome = Outcome::Pending;
                        copy.duplicate_of = Some(id);
                        // The platform waits for one answer: the original's.
                        copy.reply_to = None;
                        copy.note = Some(format!("a second copy of delivery {id}, sent by fault {}", rule.clone().unwrap_or_default()));
                        let copy_id = copy.id;
                        inner.deliveries.push_back(copy);
                        inner.pending += 1;
                        inner.schedule.insert((now, copy_id));
                    }
                    // A delivery going out releases the ones held back for its target.
                    if inner.held > 0 {
                        let mut released = Vec::new();
                        for h in inner.deliveries.iter_mut().filter(|h| h.held && h.target == target && h.id < id) {
                            h.held = false;
                            h.due_ms = now;
                            h.next_attempt_at = Some(iso_utc_ms(now));
                            released.push(h.id);
                        }
                        inner.held -= released.len();
                        inner.schedule.extend(released.into_iter().map(|r| (now, r)));
                    }
                    *inner.busy.entry(target).or_insert(0) += 1;
                    out.push(Outgoing { id, request: Some(request), timeout_ms, keep, delay_ms, rule, status: 0, body: String::new() });
                }
            }
        }
        inner.in_flight += out.len();
        inner.pending -= out.len();
        // A target whose turn went without a send (dropped, held back) lets its next one go.
        let idle: Vec<String> = inner.parked.keys().filter(|t| !inner.busy.contains_key(*t)).cloned().collect();
        if !idle.is_empty() {
            for target in idle {
                inner.unpark(&target);
            }
            self.wake.notify_one();
        }
        out
    }

    /// How long the worker may sleep: until the next due retry on a running clock, else a second.
    fn next_wait(&self) -> Duration {
        let now = self.clock.now_ms();
        let inner = self.inner.lock();
        let next = inner.schedule.first().map(|&(at, _)| at);
        match next {
            Some(t) if !self.clock.is_frozen() => Duration::from_millis((t - now).clamp(1, 1_000) as u64),
            _ => Duration::from_secs(1),
        }
    }

    fn finish(&self, id: u64, mut attempt: Attempt, sent_at: Millis) {
        let mut ok = attempt.status.is_some_and(|s| (200..300).contains(&s));
        let mut inner = self.inner.lock();
        inner.in_flight = inner.in_flight.saturating_sub(1);
        let Some(i) = inner.index(id) else { return };
        let d = &mut inner.deliveries[i];
        if let (true, Some(check)) = (ok, &d.check) {
            if let Err(why) = (check.0)(&attempt.response_body) {
                ok = false;
                attempt.error = Some(why);
            }
        }
        d.attempts.push(attempt);
        let target = d.target.clone();
        let policy = d.policy;
        if let Some(n) = inner.busy.get_mut(&target) {
            *n -= 1;
            if *n == 0 {
                inner.busy.remove(&target);
                inner.unpark(&target);
            }
        }
        let d = &mut inner.deliveries[i];
        let retry = if ok { None } else { policy.retry_after_ms.get(d.attempts.len() - 1) };
        if let Some(wait) = retry {
            d.outcome = Outcome::Pending;
            d.due_ms = sent_at + wait;
            d.next_attempt_at = Some(iso_utc_ms(d.due_ms));
            let due = (d.due_ms, id);
            inner.pending += 1;
            inner.schedule.insert(due);
        } else {
            d.outcome = if ok { Outcome::Delivered } else { Outcome::Failed };
            inner.settle(i);
        }
        let count = inner.failures_in_a_row.entry(target).or_insert(0);
        *count = if ok { 0 } else { *count + 1 };
        inner.trim();
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// One attempt to make: a real send, or (no `request`) the answer a fault stands in for.
struct Outgoing {
    id: u64,
    request: Option<OutRequest>,
    timeout_ms: u64,
    /// Bytes of the answer kept.
    keep: usize,
    delay_ms: u64,
    rule: Option<String>,
    status: u16,
    body: String,
}

/// The namespace's sending task: sends what is due, sleeps until the next retry or a wake-up, and
/// ends when the world (and so the outbox) is gone.
async fn run(outbox: Weak<Outbox>, wake: Arc<Notify>) {
    // Title-case header names on the wire (`X-Jdy-Signature`), as most senders write them; receivers
    // must compare names case-insensitively either way.
    let client: HttpClient =
        Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).http1_title_case_headers(true).build_http();
    loop {
        let Some(ob) = outbox.upgrade() else { return };
        for s in ob.take_due() {
            let ob = ob.clone();
            let client = client.clone();
            tokio::spawn(async move {
                if s.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(s.delay_ms)).await;
                }
                let sent_at = ob.clock.now_ms();
                let mut attempt = match &s.request {
                    Some(request) => send(&client, request, s.timeout_ms, s.keep, &ob.clock).await,
                    None => Attempt {
                        at: iso_utc_ms(sent_at),
                        status: Some(s.status),
                        response_body: s.body.clone(),
                        latency_ms: 0,
                        error: None,
                        fault: None,
                    },
                };
                attempt.fault = s.rule;
                ob.finish(s.id, attempt, sent_at);
                ob.wake.notify_one();
            });
        }
        let wait = ob.next_wait();
        drop(ob);
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

async fn send(client: &HttpClient, r: &OutRequest, timeout_ms: u64, keep: usize, clock: &Clock) -> Attempt {
    let at = iso_utc_ms(clock.now_ms());
    let started = std::time::Instant::now();
    let failed = |error: String, started: std::time::Instant| Attempt {
        at: at.clone(),
        status: None,
        response_body: String::new(),
        latency_ms: started.elapsed().as_millis() as u64,
        error: Some(error),
        fault: None,
    };
    let mut builder = hyper::Request::builder().method(r.method).uri(&r.url);
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = match builder.body(Full::new(Bytes::from(r.body.clone()))) {
        Ok(req) => req,
        Err(e) => return failed(format!("invalid request: {e}"), started),
    };
    let exchange = async {
        let response = client.request(request).await.map_err(|e| format!("{e}"))?;
        let status = response.status().as_u16();
        // Read at most a little more than what is kept; a receiver streaming forever is cut off by
        // the attempt's timeout.
        let body = Limited::new(response.into_body(), keep * 4).collect().await;
        let text = body.map(|b| b.to_bytes()).unwrap_or_default();
        let text = String::from_utf8_lossy(&text[..text.len().min(keep)]).into_owned();
        Ok::<_, String>((status, text))
    };
    match tokio::time::timeout(Duration::from_millis(timeout_ms), exchange).await {
        Err(_) => failed(format!("no answer within {timeout_ms} ms"), started),
        Ok(Err(e)) => failed(e, started),
        Ok(Ok((status, body))) => Attempt {
            at,
            status: Some(status),
            response_body: body,
            latency_ms: started.elapsed().as_millis() as u64,
            error: None,
            fault: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy { timeout_ms: 10, retry_after_ms: &[], disable_after_failures: Some(2) };

    fn request() -> OutRequest {
        OutRequest { method: "POST", url: "http://127.0.0.1:9/x".into(), headers: Vec::new(), body: "{}".into() }
    }

    fn message(target: &str) -> Message {
        Message::new("p", "e", target.to_owned(), request(), POLICY)
    }

    fn outbox() -> Arc<Outbox> {
        Outbox::new(Arc::new(Clock::frozen_at(0)), Arc::new(Faults::new(1, &[])))
    }

    #[test]
    fn the_queue_is_bounded_and_says_so() {
        // Outside a runtime nothing is sent: every delivery stays pending.
        let ob = outbox();
        for _ in 0..MAX_PENDING {
            ob.enqueue(message("t"));
        }
        let over = ob.enqueue(message("t"));
        let list = ob.list(None);
        let last = list.iter().find(|d| d.id == over).expect("recorded");
        assert_eq!(last.outcome, Outcome::Dropped);
        assert!(last.note.as_deref().is_some_and(|n| n.contains("1000")));
        assert_eq!(ob.snapshot().pending, MAX_PENDING);
    }

    #[test]
    fn a_delivery_due_in_the_past_is_taken_once() {
        // On a running clock a delivery is taken after its due time: it must leave the schedule.
        let ob = Outbox::new(Arc::new(Clock::real()), Arc::new(Faults::new(1, &[])));
        let id = ob.enqueue(message("t"));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(ob.take_due().iter().map(|s| s.id).collect::<Vec<_>>(), [id]);
        assert!(ob.take_due().is_empty());
        assert_eq!(ob.snapshot().pending, 0);
    }

    #[test]
    fn one_target_gets_at_most_its_share_of_sends() {
        let ob = outbox();
        for _ in 0..10 {
            ob.enqueue(message("slow"));
        }
        let other = ob.enqueue(message("fast"));
        let sends: Vec<u64> = ob.take_due().iter().map(|s| s.id).collect();
        assert_eq!(sends.len(), MAX_PER_TARGET + 1, "the slow target's share, and the other target is not starved");
        assert!(sends.contains(&other));
        assert!(ob.take_due().is_empty(), "the slow target's share is used up until its sends finish");
        let ok = Attempt { at: String::new(), status: Some(200), response_body: String::new(), latency_ms: 0, error: None, fault: None };
        ob.finish(sends[0], ok, 0);
        assert_eq!(ob.take_due().len(), 1, "a finished send frees one slot");
    }

    #[test]
    fn a_backlog_behind_a_busy_target_goes_out_in_order_one_at_a_time() {
        let ob = outbox();
        let ids: Vec<u64> = (0..50).map(|_| ob.enqueue(message("slow"))).collect();
        let ok = || Attempt { at: String::new(), status: Some(200), response_body: String::new(), latency_ms: 0, error: None, fault: None };
        for expected in &ids {
            let sends: Vec<u64> = ob.take_due().iter().map(|s| s.id).collect();
            assert_eq!(sends, [*expected]);
            // While it is under way, the rest wait parked: nothing more is taken, however often the sender wakes.
            assert!(ob.take_due().is_empty());
            assert!(ob.inner.lock().schedule.is_empty(), "the backlog is parked, not rescanned");
            ob.finish(*expected, ok(), 0);
        }
        assert_eq!(ob.snapshot().pending, 0);
    }

    #[test]
    fn finished_entries_are_trimmed_and_a_failing_target_is_switched_off() {
        let ob = outbox();
        let first = ob.enqueue(message("t"));
        let second = ob.enqueue(message("t"));
        for expected in [first, second] {
            let sends: Vec<u64> = ob.take_due().iter().map(|s| s.id).collect();
            assert_eq!(sends, [expected], "one target's deliveries go one at a time, in order");
            let failed =
                Attempt { at: String::new(), status: Some(500), response_body: String::new(), latency_ms: 0, error: None, fault: None };
            ob.finish(expected, failed, 0);
        }
        // Two failures in a row: the target is off, later deliveries are not sent.
        let third = ob.enqueue(message("t"));
        assert_eq!(ob.list(None).iter().find(|d| d.id == third).map(|d| d.outcome), Some(Outcome::Dropped));
        // Dropped deliveries are finished ones: past the bound the oldest go.
        for _ in 0..MAX_FINISHED + MAX_FINISHED / 8 {
            ob.enqueue(message("t"));
        }
        let kept = ob.list(None).len();
        assert!((MAX_FINISHED..=MAX_FINISHED + MAX_FINISHED / 8).contains(&kept), "{kept}");
        assert!(ob.list(None).iter().all(|d| d.id > second), "the oldest went first");
    }
}
