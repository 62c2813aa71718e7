// The lowcode-emu dashboard: one page over the admin API (docs/admin-api.md). No build step and no
// dependencies; every view is a function that renders into <main> from admin calls.

const TEXT = {
  zh: {
    overview: "概览", data: "数据", inbox: "待办", journal: "请求日志", faults: "故障注入", deliveries: "外发投递", clock: "时钟",
    namespace: "命名空间", scenario: "场景", platforms: "平台", records: "条记录", collections: "个集合", users: "用户",
    reset: "重置", download: "下载状态", upload: "上传状态", now: "当前时间", frozen: "已冻结", running: "运行中",
    search: "搜索…", as: "身份", new: "新建", save: "保存", create: "创建", delete: "删除", close: "关闭", edit: "编辑",
    next: "下一页", prev: "上一页", total: "共", loaded: "加载用时", nothing: "没有数据", pick: "请选择左侧的表单或对象",
    user: "用户", task: "任务", node: "节点", created: "创建时间", actions: "操作", comment: "意见", transferTo: "转交给",
    approve: "同意", reject: "拒绝", rollback: "回退", transfer: "转交", update: "推进", noTasks: "没有待办任务",
    platform: "平台", route: "路由", status: "状态", faultOnly: "仅故障", live: "实时", copyCurl: "复制为 curl", copied: "已复制",
    request: "请求", response: "响应", add: "添加", remove: "删除", error: "错误", trigger: "触发", nth: "第 N 次", every: "每 N 次",
    probability: "概率", times: "最多次数", rateLimit: "限流开关", rules: "规则", matched: "匹配", fired: "触发",
    redeliver: "重新投递", event: "事件", target: "目标", outcome: "结果", attempts: "尝试", freeze: "冻结", real: "恢复真实时间",
    set: "设为", advance: "快进", done: "完成", token: "管理令牌", tokenAsk: "此模拟器需要管理令牌", confirmReset: "重置此命名空间的全部数据？",
    any: "全部", time: "时间", method: "方法", path: "路径", curlNote: "请求头（含凭据）不记入日志，请自行补上鉴权头。", duration: "耗时", saved: "已保存", deleted: "已删除", sent: "已发送", stateLoaded: "状态已导入",
  },
  en: {
    overview: "Overview", data: "Data", inbox: "Inbox", journal: "Journal", faults: "Faults", deliveries: "Deliveries", clock: "Clock",
    namespace: "Namespace", scenario: "Scenario", platforms: "Platforms", records: "records", collections: "collections", users: "Users",
    reset: "Reset", download: "Download state", upload: "Upload state", now: "Now", frozen: "frozen", running: "running",
    search: "Search…", as: "As", new: "New", save: "Save", create: "Create", delete: "Delete", close: "Close", edit: "Edit",
    next: "Next", prev: "Previous", total: "Total", loaded: "loaded in", nothing: "Nothing here", pick: "Pick a form or object on the left",
    user: "User", task: "Task", node: "Node", created: "Created", actions: "Actions", comment: "Comment", transferTo: "Transfer to",
    approve: "Approve", reject: "Reject", rollback: "Roll back", transfer: "Transfer", update: "Push on", noTasks: "No open tasks",
    platform: "Platform", route: "Route", status: "Status", faultOnly: "Faults only", live: "Live", copyCurl: "Copy as curl", copied: "Copied",
    request: "Request", response: "Response", add: "Add", remove: "Remove", error: "Error", trigger: "Trigger", nth: "n-th", every: "every",
    probability: "probability", times: "at most", rateLimit: "Rate limit", rules: "Rules", matched: "matched", fired: "fired",
    redeliver: "Redeliver", event: "Event", target: "Target", outcome: "Outcome", attempts: "Attempts", freeze: "Freeze", real: "Real time",
    set: "Set to", advance: "Advance", done: "Done", token: "Admin token", tokenAsk: "This emulator needs its admin token", confirmReset: "Reset all data of this namespace?",
    any: "any", time: "Time", method: "Method", path: "Path", curlNote: "The journal keeps no request headers (credentials among them): add the auth header yourself.", duration: "Duration", saved: "Saved", deleted: "Deleted", sent: "Sent", stateLoaded: "State loaded",
  },
};

const PAGES = ["overview", "data", "inbox", "journal", "faults", "deliveries", "clock"];
const ui = {
  lang: localStorage.getItem("emu.lang") || "",
  ns: sessionStorage.getItem("emu.ns") || "",
  token: sessionStorage.getItem("emu.token") || "",
  overview: null,
  timer: null,
};
const t = (k) => (TEXT[ui.lang] || TEXT.zh)[k] || k;
const $ = (sel, root = document) => root.querySelector(sel);

/** Builds an element: el("td", {class: "x", onclick: f}, "text", child…). */
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) e.append(kid instanceof Node ? kid : String(kid));
  return e;
}

function toast(msg, error = false) {
  const box = el("div", { class: error ? "error" : "" }, msg);
  $("#toast").append(box);
  setTimeout(() => box.remove(), error ? 6000 : 2500);
}

/** An admin call in the chosen namespace; asks for the admin token once when the server wants one. */
async function api(method, path, body) {
  const headers = {};
  if (ui.ns) headers["x-emu-namespace"] = ui.ns;
  if (ui.token) headers["x-emu-admin-token"] = ui.token;
  if (body !== undefined && !(body instanceof Blob)) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body) });
  if (res.status === 401) {
    const token = prompt(t("tokenAsk"));
    if (token) {
      ui.token = token;
      sessionStorage.setItem("emu.token", token);
      return api(method, path, body);
    }
  }
  const text = await res.text();
  let data;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw new Error((data && data.error) || `HTTP ${res.status}`);
  return data;
}

const show = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
const fmtTime = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");

function userSelect(id, selected) {
  const users = (ui.overview && ui.overview.users) || [];
  return el("select", { id, "aria-label": t("as") }, users.filter((u) => u.active).map((u) => el("option", { value: u.id, selected: u.id === selected }, `${u.name} (${u.id})`)));
}

function modal(title, body, buttons) {
  const dlg = el("dialog", { "aria-label": title }, el("div", { class: "body" }, el("h2", {}, title), body), el("div", { class: "foot" }, buttons, el("button", { type: "button", onclick: () => dlg.close() }, t("close"))));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// ---- pages -------------------------------------------------------------------------------------

async function overviewPage(main) {
  const o = await loadOverview();
  const platformCards = o.platforms.map((p) =>
    el("section", { class: "card", "data-platform": p.name },
      el("div", { class: "row spread" }, el("h2", {}, p.name), el("span", { class: "tag" }, `${p.collections} ${t("collections")} · ${p.records} ${t("records")}`)),
      el("pre", {}, p.banner.join("\n"))));
  const upload = el("input", { type: "file", accept: "application/json", hidden: true, onchange: async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try { await api("PUT", "/__emu/state", new Blob([await file.text()], { type: "application/json" })); toast(t("stateLoaded")); route(); } catch (err) { toast(err.message, true); }
  } });
  main.append(
    el("h1", {}, `${t("scenario")}: ${o.scenario}`),
    el("div", { class: "row", style: "margin-bottom:16px" },
      el("span", { class: "tag" }, `${t("now")} ${fmtTime(o.clock.now)} · ${o.clock.frozen ? t("frozen") : t("running")}`),
      el("span", { class: "tag" }, `${t("users")}: ${o.users.length}`),
      el("button", { type: "button", onclick: async () => { if (confirm(t("confirmReset"))) { await api("POST", "/__emu/reset"); toast(t("done")); route(); } } }, t("reset")),
      el("button", { type: "button", onclick: async () => {
        const state = await api("GET", "/__emu/state");
        const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(state, null, 2)], { type: "application/json" })), download: `lowcode-emu-state${ui.ns ? "-" + ui.ns : ""}.json` });
        a.click();
      } }, t("download")),
      el("button", { type: "button", onclick: () => upload.click() }, t("upload")), upload),
    el("div", { class: "grid" }, platformCards));
}

async function loadOverview() {
  ui.overview = await api("GET", "/__emu/overview");
  if (!ui.lang) ui.lang = ui.overview.locale === "en" ? "en" : "zh";
  const sel = $("#namespace");
  sel.replaceChildren(...[...new Set(["", ...ui.overview.namespaces, ui.ns])].map((n) => el("option", { value: n, selected: n === ui.ns }, n || "(default)")));
  return ui.overview;
}

const dataState = { platform: null, collection: null, cursors: [null], q: "", info: null };

async function dataPage(main) {
  await loadOverview();
  const all = await api("GET", "/__emu/collections");
  const side = el("nav", { class: "side", "aria-label": t("data") });
  for (const [platform, list] of Object.entries(all)) {
    side.append(el("h3", {}, platform));
    let group = null;
    for (const c of list) {
      if (c.group !== group) { group = c.group; side.append(el("div", { class: "group" }, group)); }
      const pressed = dataState.platform === platform && dataState.collection === c.id;
      side.append(el("button", { type: "button", "aria-pressed": pressed ? "true" : "false", "data-collection": c.id, onclick: () => {
        Object.assign(dataState, { platform, collection: c.id, cursors: [null], q: "", info: c });
        route();
      } }, el("span", {}, c.name), el("span", { class: "muted" }, c.count)));
      if (pressed) dataState.info = c;
    }
  }
  const body = el("section", {});
  main.append(el("div", { class: "split" }, side, body));
  if (!dataState.collection) { body.append(el("div", { class: "card empty" }, t("pick"))); return; }
  await recordsView(body);
}

async function recordsView(body) {
  const { platform, collection, info } = dataState;
  const cursor = dataState.cursors[dataState.cursors.length - 1];
  const q = new URLSearchParams({ platform, collection, limit: "50" });
  if (cursor) q.set("after", cursor);
  if (dataState.q) q.set("q", dataState.q);
  const started = performance.now();
  const page = await api("GET", `/__emu/records?${q}`);
  const took = Math.round(performance.now() - started);
  const search = el("input", { type: "search", id: "record-search", placeholder: t("search"), value: dataState.q, "aria-label": t("search"), onkeydown: (e) => {
    if (e.key === "Enter") { dataState.q = e.target.value; dataState.cursors = [null]; route(); }
  } });
  const who = userSelect("record-as", ui.overview.users[0] && ui.overview.users[0].id);
  // The collection's own fields, by label; the record's top-level keys when it declares none.
  let columns = ((info && info.columns) || []).slice(0, 7);
  if (!columns.length) columns = [...new Set(page.items.flatMap((i) => Object.keys(i.record || {})))].slice(0, 7).map((k) => [k, k]);
  const keys = columns.map(([k]) => k);
  const cell = (item, k) => {
    const rec = item.record || {};
    const src = (info && info.fields_at && rec[info.fields_at]) || rec;
    const v = src[k];
    return v && typeof v === "object" && !Array.isArray(v) && "name" in v ? show(v.name) : show(v);
  };
  const table = el("table", { id: "records" },
    el("thead", {}, el("tr", {}, el("th", { style: "width:230px" }, "id"), columns.map(([k, label]) => el("th", { title: k }, label)))),
    el("tbody", {}, page.items.map((item) => el("tr", { tabindex: "0", "data-id": item.id, onclick: () => recordDetail(item), onkeydown: (e) => { if (e.key === "Enter") recordDetail(item); } },
      el("td", { class: "mono" }, item.id), keys.map((k) => el("td", { title: cell(item, k) }, cell(item, k)))))));
  body.append(
    el("div", { class: "row spread", style: "margin-bottom:10px" },
      el("h1", { style: "margin:0" }, `${info ? info.name : collection}`),
      el("div", { class: "row" }, search, el("label", {}, t("as"), who),
        info && info.create ? el("button", { type: "button", class: "primary", id: "record-new", onclick: () => recordEditor(null) }, t("new")) : null)),
    page.items.length ? table : el("div", { class: "card empty" }, t("nothing")),
    el("div", { class: "row spread pager" },
      el("span", { class: "muted", id: "page-info" }, `${t("total")} ${page.total} · ${t("loaded")} ${took} ms`),
      el("div", { class: "row" },
        el("button", { type: "button", id: "page-prev", disabled: dataState.cursors.length < 2, onclick: () => { dataState.cursors.pop(); route(); } }, t("prev")),
        el("button", { type: "button", id: "page-next", disabled: !page.next, onclick: () => { dataState.cursors.push(page.next); route(); } }, t("next")))));
}

/** The act body of a collection's template with the record and its id filled in. */
function fill(template, data, id) {
  const walk = (v) => (v === "$data" ? data : v === "$id" ? id : Array.isArray(v) ? v.map(walk) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v);
  return walk(template);
}

async function act(platform, as, body) {
  return api("POST", "/__emu/act", { platform, as, ...body });
}

/** The person the data page acts as (picked beside the search box), read when the action runs. */
const actingAs = () => ($("#record-as") || {}).value;

function recordDetail(item) {
  const { platform, info } = dataState;
  const dlg = modal(item.id, el("pre", { id: "record-json" }, JSON.stringify(item.record, null, 2)), [
    info.update ? el("button", { type: "button", id: "record-edit", onclick: () => { dlg.close(); recordEditor(item); } }, t("edit")) : null,
    info.delete ? el("button", { type: "button", class: "danger", id: "record-delete", onclick: async () => {
      try { await act(platform, actingAs(), fill(info.delete, null, item.id)); toast(t("deleted")); dlg.close(); route(); } catch (e) { toast(e.message, true); }
    } }, t("delete")) : null,
  ]);
}

function recordEditor(item) {
  const { platform, info } = dataState;
  const area = el("textarea", { id: "record-editor", "aria-label": t("edit"), spellcheck: "false" }, JSON.stringify(info.example, null, 2));
  const dlg = modal(item ? `${t("edit")} ${item.id}` : `${t("new")} · ${info.name}`, area, [
    el("button", { type: "button", class: "primary", id: "record-save", onclick: async () => {
      let data;
      try { data = JSON.parse(area.value); } catch (e) { toast(e.message, true); return; }
      try {
        const answer = await act(platform, actingAs(), fill(item ? info.update : info.create, data, item && item.id));
        toast(`${item ? t("saved") : t("create")}: ${show(answer).slice(0, 160)}`);
        dlg.close();
        route();
      } catch (e) { toast(e.message, true); }
    } }, item ? t("save") : t("create")),
  ]);
}

const inboxState = { user: null };

async function inboxPage(main) {
  const o = await loadOverview();
  inboxState.user = inboxState.user || (o.users[0] && o.users[0].id);
  const who = userSelect("inbox-user", inboxState.user);
  who.addEventListener("change", () => { inboxState.user = who.value; route(); });
  const { tasks } = await api("GET", `/__emu/tasks?user=${encodeURIComponent(inboxState.user)}`);
  const comment = el("input", { id: "inbox-comment", placeholder: t("comment"), "aria-label": t("comment") });
  const to = userSelect("inbox-transfer", null);
  const run = async (task, action) => {
    const body = { action, ...task.act };
    if (task.comment_field && comment.value) body[task.comment_field] = comment.value;
    if (action === "transfer" && task.transfer_field) body[task.transfer_field] = to.value;
    try { await act(task.platform, inboxState.user, body); toast(`${t(action)} ✓`); route(); } catch (e) { toast(e.message, true); }
  };
  main.append(
    el("div", { class: "row spread", style: "margin-bottom:12px" },
      el("h1", { style: "margin:0" }, t("inbox")),
      el("div", { class: "row" }, el("label", {}, t("user"), who), comment, el("label", {}, t("transferTo"), to))),
    tasks.length
      ? el("table", { id: "tasks" },
          el("thead", {}, el("tr", {}, ["platform", "task", "node", "created", "actions"].map((k) => el("th", {}, t(k))))),
          el("tbody", {}, tasks.map((task) => el("tr", {},
            el("td", {}, task.platform), el("td", { title: task.title }, task.title), el("td", {}, task.node), el("td", {}, fmtTime(task.created)),
            el("td", { class: "row" }, task.actions.map((a) => el("button", { type: "button", "data-action": a, class: a === "approve" ? "primary" : "", onclick: (e) => { e.stopPropagation(); run(task, a); } }, t(a))))))))
      : el("div", { class: "card empty" }, t("noTasks")));
}

const journalState = { last: 0, rows: [], filters: { platform: "", route: "", status: "", fault: false } };

async function journalPage(main) {
  const o = await loadOverview();
  const f = journalState.filters;
  const input = (key, attrs) => el("input", { ...attrs, value: f[key], "aria-label": t(key), onchange: (e) => { f[key] = e.target.value; restart(); } });
  const tbody = el("tbody", {});
  const restart = () => { journalState.last = 0; journalState.rows = []; tbody.replaceChildren(); poll(); };
  main.append(
    el("div", { class: "row spread", style: "margin-bottom:12px" },
      el("h1", { style: "margin:0" }, t("journal")),
      el("div", { class: "form-grid", style: "min-width:640px" },
        el("label", {}, t("platform"), el("select", { id: "journal-platform", onchange: (e) => { f.platform = e.target.value; restart(); } },
          el("option", { value: "" }, t("any")), o.platforms.map((p) => el("option", { value: p.name, selected: p.name === f.platform }, p.name)))),
        el("label", {}, t("route"), input("route", { id: "journal-route", placeholder: "jiandaoyun.data.create" })),
        el("label", {}, t("status"), input("status", { id: "journal-status", inputmode: "numeric" })),
        el("label", {}, t("faultOnly"), el("input", { type: "checkbox", id: "journal-fault", checked: f.fault, onchange: (e) => { f.fault = e.target.checked; restart(); } })))),
    el("table", { id: "journal" },
      el("thead", {}, el("tr", {}, el("th", { style: "width:90px" }, "#"), el("th", { style: "width:190px" }, t("time")), el("th", { style: "width:80px" }, t("method")),
        el("th", {}, t("path")), el("th", { style: "width:220px" }, t("route")), el("th", { style: "width:70px" }, t("status")), el("th", { style: "width:90px" }, t("duration")))),
      tbody));
  const poll = async () => {
    const q = new URLSearchParams();
    if (f.platform) q.set("platform", f.platform);
    if (f.route) q.set("route", f.route);
    if (f.status) q.set("status", f.status);
    if (journalState.last) q.set("since", String(journalState.last));
    q.set("limit", "200");
    let entries;
    try { entries = await api("GET", `/__emu/requests?${q}`); } catch (e) { toast(e.message, true); return; }
    for (const entry of entries) {
      journalState.last = Math.max(journalState.last, entry.id);
      if (f.fault && !entry.fault) continue;
      tbody.prepend(el("tr", { tabindex: "0", "data-id": entry.id, class: entry.fault ? "fault" : "", onclick: () => journalDetail(entry), onkeydown: (e) => { if (e.key === "Enter") journalDetail(entry); } },
        el("td", {}, entry.id), el("td", {}, fmtTime(entry.time)), el("td", {}, entry.method), el("td", { class: "mono", title: entry.path }, entry.path + (entry.query ? "?" + entry.query : "")),
        el("td", { class: "mono" }, entry.route), el("td", { class: `s${String(entry.status)[0]}` }, entry.status), el("td", {}, `${entry.duration_ms ?? ""} ms`)));
    }
    while (tbody.children.length > 500) tbody.lastChild.remove();
  };
  await poll();
  ui.timer = setInterval(poll, 500);
}

function curlOf(entry) {
  const base = (ui.overview && ui.overview.base) || location.origin;
  const url = `${base}${entry.path}${entry.query ? "?" + entry.query : ""}`;
  const body = typeof entry.request_body === "string" ? entry.request_body : entry.request_body ? JSON.stringify(entry.request_body) : "";
  const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
  const parts = ["curl", "-s", "-X", entry.method, quote(url)];
  if (ui.ns) parts.push("-H", quote(`x-emu-namespace: ${ui.ns}`));
  if (body) parts.push("-H", quote(`content-type: ${/^\s*[[{]/.test(body) ? "application/json" : "application/x-www-form-urlencoded"}`), "--data-raw", quote(body));
  return parts.join(" ");
}

function journalDetail(entry) {
  const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));
  const curl = curlOf(entry);
  modal(`${entry.method} ${entry.path}`,
    el("div", {},
      el("p", { class: "muted" }, `${entry.route} · ${entry.status} · ${fmtTime(entry.time)}${entry.fault ? ` · fault ${entry.fault} (${entry.fault_action})` : ""}`),
      el("h2", {}, t("request")), el("pre", {}, pretty(entry.request_body)),
      el("h2", {}, t("response")), el("pre", {}, pretty(entry.response_body)),
      el("h2", {}, "curl"), el("pre", { id: "curl" }, curl), el("p", { class: "muted" }, t("curlNote"))),
    [el("button", { type: "button", onclick: async () => { try { await navigator.clipboard.writeText(curl); toast(t("copied")); } catch { toast(curl); } } }, t("copyCurl"))]);
}

async function faultsPage(main) {
  const o = await loadOverview();
  const [rules, routes] = await Promise.all([api("GET", "/__emu/faults"), api("GET", "/__emu/routes")]);
  const platformSel = el("select", { id: "fault-platform", "aria-label": t("platform") }, o.platforms.map((p) => el("option", { value: p.name }, p.name)));
  const routeSel = el("select", { id: "fault-route", "aria-label": t("route") });
  const errorSel = el("select", { id: "fault-error", "aria-label": t("error") });
  const fill = () => {
    const p = o.platforms.find((x) => x.name === platformSel.value);
    const ids = [...new Set(routes.filter((r) => r.platform === platformSel.value).map((r) => r.route))].sort();
    routeSel.replaceChildren(el("option", { value: `${platformSel.value}.*` }, `${platformSel.value}.*`), ...ids.map((id) => el("option", { value: id }, id)),
      ...(p ? p.delivery_events : []).map((e) => el("option", { value: `delivery.${platformSel.value}.${e}` }, `delivery.${platformSel.value}.${e}`)));
    errorSel.replaceChildren(...(p ? p.errors : []).map((e) => el("option", { value: e }, e)));
  };
  platformSel.addEventListener("change", fill);
  fill();
  const trigger = el("select", { id: "fault-trigger", "aria-label": t("trigger") }, ["always", "nth", "every", "probability"].map((k) => el("option", { value: k }, k === "always" ? t("any") : t(k))));
  const amount = el("input", { id: "fault-amount", value: "1", size: "6", "aria-label": "n" });
  const times = el("input", { id: "fault-times", placeholder: "∞", size: "6", "aria-label": t("times") });
  const add = async (rule) => { try { await api("POST", "/__emu/faults", rule); toast(t("done")); route(); } catch (e) { toast(e.message, true); } };
  const rateRule = rules.find((r) => r.name === "dashboard-rate-limit");
  main.append(
    el("h1", {}, t("faults")),
    el("section", { class: "card", style: "margin-bottom:16px" },
      el("div", { class: "form-grid" },
        el("label", {}, t("platform"), platformSel), el("label", {}, t("route"), routeSel), el("label", {}, t("error"), errorSel),
        el("label", {}, t("trigger"), trigger), el("label", {}, "n / p", amount), el("label", {}, t("times"), times),
        el("button", { type: "button", class: "primary", id: "fault-add", onclick: () => {
          const rule = { platform: platformSel.value, route: routeSel.value };
          if (routeSel.value.startsWith("delivery.")) rule.status = 503; else rule.error = errorSel.value;
          const n = Number(amount.value);
          if (trigger.value === "nth" || trigger.value === "every") rule[trigger.value] = Math.max(1, Math.round(n));
          if (trigger.value === "probability") rule.probability = Math.min(1, Math.max(0, n));
          if (times.value) rule.times = Number(times.value);
          add(rule);
        } }, t("add")),
        el("button", { type: "button", id: "fault-rate", "aria-pressed": rateRule ? "true" : "false", onclick: async () => {
          if (rateRule) { await api("DELETE", `/__emu/faults/${encodeURIComponent(rateRule.id)}`); route(); } else add({ name: "dashboard-rate-limit", platform: platformSel.value, route: "*", error: "rate_limited" });
        } }, `${t("rateLimit")}: ${rateRule ? "ON" : "OFF"}`))),
    rules.length
      ? el("table", { id: "faults" },
          el("thead", {}, el("tr", {}, el("th", {}, "id"), el("th", {}, t("platform")), el("th", {}, t("route")), el("th", {}, t("rules")), el("th", {}, `${t("matched")} / ${t("fired")}`), el("th", {}, ""))),
          el("tbody", {}, rules.map((r) => el("tr", {},
            el("td", { class: "mono" }, r.id), el("td", {}, r.platform || t("any")), el("td", { class: "mono" }, r.route),
            el("td", { class: "mono", title: JSON.stringify(r) }, JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !["id", "platform", "route", "matched", "fired"].includes(k))))),
            el("td", {}, `${r.matched} / ${r.fired}`),
            el("td", {}, el("button", { type: "button", class: "danger", onclick: async () => { await api("DELETE", `/__emu/faults/${encodeURIComponent(r.id)}`); route(); } }, t("remove")))))))
      : el("div", { class: "card empty" }, t("nothing")));
}

async function deliveriesPage(main) {
  const list = await api("GET", "/__emu/deliveries");
  main.append(el("h1", {}, t("deliveries")),
    list.length
      ? el("table", { id: "deliveries" },
          el("thead", {}, el("tr", {}, el("th", { style: "width:60px" }, "#"), el("th", {}, t("platform")), el("th", {}, t("event")), el("th", {}, t("target")), el("th", {}, t("outcome")), el("th", { style: "width:90px" }, t("attempts")), el("th", {}, ""))),
          el("tbody", {}, list.slice().reverse().map((d) => el("tr", { tabindex: "0", onclick: () => modal(`#${d.id} ${d.event}`, el("pre", {}, JSON.stringify(d, null, 2)), []) },
            el("td", {}, d.id), el("td", {}, d.platform), el("td", {}, d.event), el("td", { title: d.target }, d.target), el("td", { class: d.outcome === "delivered" ? "s2" : d.outcome === "failed" || d.outcome === "dropped" ? "s5" : "s4" }, d.outcome),
            el("td", {}, d.attempts.length),
            el("td", {}, el("button", { type: "button", onclick: async (e) => { e.stopPropagation(); try { await api("POST", `/__emu/deliveries/${d.id}/redeliver`); toast(t("sent")); route(); } catch (err) { toast(err.message, true); } } }, t("redeliver")))))))
      : el("div", { class: "card empty" }, t("nothing")));
}

async function clockPage(main) {
  const c = await api("GET", "/__emu/clock");
  const when = el("input", { id: "clock-set", value: c.now, "aria-label": t("set"), size: "28" });
  const step = el("input", { id: "clock-advance", value: "1h", "aria-label": t("advance"), size: "8" });
  const send = async (body) => { try { await api("POST", "/__emu/clock", body); route(); } catch (e) { toast(e.message, true); } };
  main.append(el("h1", {}, t("clock")),
    el("section", { class: "card" },
      el("p", { class: "stat", id: "clock-now" }, fmtTime(c.now)),
      el("p", { class: "muted", id: "clock-mode" }, c.frozen ? t("frozen") : t("running")),
      el("div", { class: "row" },
        el("button", { type: "button", id: "clock-freeze", onclick: () => send({ freeze: true }) }, t("freeze")),
        el("button", { type: "button", id: "clock-real", onclick: () => send({ real: true }) }, t("real")),
        when, el("button", { type: "button", onclick: () => send({ set: when.value }) }, t("set")),
        step, el("button", { type: "button", id: "clock-advance-go", onclick: () => send({ advance: step.value }) }, t("advance")))));
}

const VIEWS = { overview: overviewPage, data: dataPage, inbox: inboxPage, journal: journalPage, faults: faultsPage, deliveries: deliveriesPage, clock: clockPage };

async function route() {
  clearInterval(ui.timer);
  const name = (location.hash.replace(/^#\/?/, "").split("/")[0]) || "overview";
  const page = PAGES.includes(name) ? name : "overview";
  document.documentElement.lang = ui.lang === "en" ? "en" : "zh";
  $("#nav").replaceChildren(...PAGES.map((p) => el("a", { href: `#/${p}`, "aria-current": p === page ? "page" : false }, t(p))));
  $("#lang").textContent = ui.lang === "en" ? "中文" : "EN";
  document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
  const main = $("#page");
  const next = el("div", { id: `page-${page}` });
  try { await VIEWS[page](next); } catch (e) { next.append(el("div", { class: "card empty" }, e.message)); }
  main.replaceChildren(next);
  document.title = `${t(page)} · lowcode-emu`;
}

$("#lang").addEventListener("click", () => { ui.lang = ui.lang === "en" ? "zh" : "en"; localStorage.setItem("emu.lang", ui.lang); route(); });
$("#namespace").addEventListener("change", (e) => { ui.ns = e.target.value; sessionStorage.setItem("emu.ns", ui.ns); route(); });
window.addEventListener("hashchange", route);
route();
