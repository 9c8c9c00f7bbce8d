// The supervisor dashboard: live queues with today's service level and alerts, live agents
// (whose presence can be changed here, audited), the live event feed, and where a migration's
// cutover stands (its phase, and a rollback to the legacy PBX above all).
import { api, follow, el, clock, me, logout } from "/static/api.js";

const $ = (id) => document.getElementById(id);
let reasons = [];
let queues = [], agents = [], fetchedAt = Date.now();
let pending = null;

function showError(err) { $("error").textContent = err ? err.message : ""; }

async function refresh() {
  [queues, agents] = await Promise.all([api("GET", "/api/v1/queues"), api("GET", "/api/v1/agents")]);
  fetchedAt = Date.now();
  render();
  api("GET", "/api/v1/migration").then(showMigration, () => {});
}

/** The migration's state in the header: hidden until a cutover started. */
function showMigration(m) {
  const pill = $("migration");
  const parts = [];
  if (m.phase) parts.push(`migration phase ${m.phase}: ${m.switchboard_percent}% of new calls here`);
  if (m.agents.length) parts.push("pilot " + m.agents.join(", "));
  if (m.rolled_back) parts.push("ROLLED BACK: new calls go to the legacy PBX");
  if (m.frozen) parts.push("changes frozen");
  pill.hidden = parts.length === 0;
  pill.textContent = parts.join(" · ");
  pill.className = "pill " + (m.rolled_back ? "not_ready" : "available");
  pill.title = m.changed_by ? `last change by ${m.changed_by} at ${new Date(m.changed_at_ms).toLocaleString()}` : "";
}

/** Refreshes soon, at most a few times a second however many events arrive. */
function soon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh().catch(showError); }, 250);
}

function render() {
  const drift = (Date.now() - fetchedAt) / 1000;
  if (queues.length) $("since").textContent = "· today since " + new Date(queues[0].today.since_ms).toLocaleTimeString();
  $("queues").replaceChildren(...queues.map((q) => {
    const longest = q.longest_wait_seconds === null ? null : q.longest_wait_seconds + drift;
    const alert = longest !== null && longest > q.alert_longest_wait_seconds;
    const sl = q.today.service_level_percent;
    return el("tr", { class: alert ? "alert" : "", "data-queue": q.queue, title: alert ? `Longest wait above ${q.alert_longest_wait_seconds} s` : "" },
      el("td", {}, q.name), el("td", { class: "num waiting" }, q.waiting), el("td", { class: "num" }, clock(longest)),
      el("td", { class: "num" }, clock(q.estimated_wait_seconds)),
      el("td", { class: "num offered" }, q.today.offered), el("td", { class: "num answered" }, q.today.answered),
      el("td", { class: "num" }, q.today.abandoned),
      el("td", { class: "num", title: `goal ${q.today.target_percent}% within ${q.today.threshold_seconds} s` }, sl === null ? "–" : sl + "%"),
      el("td", { class: "num" }, clock(q.today.asa_seconds)),
      el("td", { class: "num available" }, q.agents_available), el("td", { class: "num busy" }, q.agents_busy),
      el("td", { class: "num" }, q.agents_wrap_up), el("td", { class: "num" }, q.agents_not_ready));
  }));
  // Rebuilding the table under a supervisor typing skills would take the field away from
  // them (and their keystrokes with it): the agents wait until the field is left.
  if (document.activeElement && document.activeElement.matches("input[data-skills]")) return;
  $("agents").replaceChildren(...agents.map((a) => {
    const select = el("select", { "aria-label": "Presence of " + a.agent, "data-agent": a.agent, onchange: (e) => setPresence(a.agent, e.target.value) },
      el("option", { value: "" }, "…"), el("option", { value: "available" }, "Available"),
      ...reasons.map((r) => el("option", { value: "not_ready:" + r }, "Not ready: " + r)), el("option", { value: "offline" }, "Offline"));
    const since = a.since_ms ? (Date.now() - a.since_ms) / 1000 : null;
    const text = Object.entries(a.skills).map(([s, l]) => `${s}:${l}`).join(", ");
    const input = el("input", { value: text, "aria-label": "Skills of " + a.agent, "data-skills": a.agent, size: 28 });
    if (editing.has(a.agent)) input.value = editing.get(a.agent);
    input.addEventListener("input", () => editing.set(a.agent, input.value));
    const save = el("button", { "data-save": a.agent, onclick: () => setSkills(a.agent, input.value) }, "Save");
    return el("tr", { "data-agent": a.agent },
      el("td", {}, a.name), el("td", {}, el("span", { class: "pill " + a.activity }, a.activity.replace("_", " ") + (a.reason ? ` (${a.reason})` : ""))),
      el("td", { class: "num" }, clock(since)), el("td", { class: "num" }, a.load),
      el("td", { class: "num handled" }, a.handled_today), el("td", { class: "num" }, clock(a.average_talk_seconds)), el("td", {}, select),
      el("td", {}, el("div", { class: "row" }, input, save)));
  }));
}

/** Skills typed but not saved yet, kept across refreshes. */
const editing = new Map();

async function setSkills(agent, text) {
  showError(null);
  const skills = {};
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [skill, level] = item.split(":").map((s) => s.trim());
    skills[skill] = Number(level);
  }
  try {
    await api("PUT", `/api/v1/agents/${agent}/skills`, { skills });
    editing.delete(agent);
  } catch (err) { showError(err); }
  soon();
}

async function setPresence(agent, value) {
  if (!value) return;
  const [presence, reason] = value.split(":");
  showError(null);
  try { await api("PUT", `/api/v1/agents/${agent}/presence`, reason ? { presence, reason } : { presence }); }
  catch (err) { showError(err); }
  soon();
}

function onEvent(record) {
  const e = record.event;
  const line = `${new Date(record.at_ms).toLocaleTimeString()} ${e.kind}` +
    (e.interaction ? ` #${e.interaction}` : "") + (e.agent ? ` ${e.agent}` : "") + (e.activity ? ` → ${e.activity}` : "");
  const feed = $("feed");
  feed.prepend(el("div", {}, line));
  while (feed.childElementCount > 200) feed.lastChild.remove();
  soon();
}

async function start() {
  const who = await me();
  reasons = who.reason_codes;
  $("who").textContent = `${who.user ? who.user.display_name : ""} · ${who.tenant_name}`;
  $("logout").addEventListener("click", logout);
  follow(onEvent, null, () => { $("live").textContent = "live"; $("live").className = "pill available"; soon(); });
  await refresh();
  setInterval(render, 1000);
  setInterval(() => refresh().catch(showError), 5000);
}

start().catch(showError);
