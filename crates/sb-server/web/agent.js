// The agent desktop: presence, offers with a screen pop, several chats at once, wrap-up.
import { api, follow, el, clock, me, logout } from "/static/api.js";

const $ = (id) => document.getElementById(id);
const state = { agent: null, work: new Map(), selected: null, messages: new Map() };

function showError(err) { $("error").textContent = err ? err.message : ""; }

async function refreshWork() {
  const list = await api("GET", `/api/v1/agents/${state.agent}/work`);
  state.work = new Map(list.map((i) => [i.id, i]));
  if (state.selected && !state.work.has(state.selected)) select(null);
  render();
}

async function refreshState() {
  const [me] = await api("GET", "/api/v1/agents");
  if (!me) return;
  $("state").textContent = me.activity.replace("_", " ");
  $("state").className = "pill " + me.activity;
  const value = me.presence === "not_ready" ? "not_ready:" + me.reason : me.presence;
  if ($("presence").value !== value) $("presence").value = value;
  $("stats").textContent = `${me.handled_today} handled · average ${clock(me.average_talk_seconds)} · load ${me.load}/100`;
}

function render() {
  const offers = [...state.work.values()].filter((i) => i.state === "offered");
  const convs = [...state.work.values()].filter((i) => i.state !== "offered");
  $("offers").replaceChildren(...(offers.length ? offers.map(offerCard) : [el("p", { class: "muted" }, "No offer.")]));
  $("conversations").replaceChildren(...(convs.length ? convs.map(convCard) : [el("p", { class: "muted" }, "None.")]));
  renderDetail();
}

function attributes(i) {
  return Object.entries(i.attributes).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)));
}

function offerCard(i) {
  return el("div", { class: "card offer", "data-id": i.id },
    el("strong", {}, `${i.channel} · ${i.queue}`), " ", el("span", { class: "muted" }, `#${i.id}`),
    el("table", {}, attributes(i)),
    el("div", { class: "row" },
      el("button", { class: "primary accept", "data-id": i.id, onclick: () => act(i.id, "accept") }, "Accept"),
      el("button", { class: "reject", "data-id": i.id, onclick: () => act(i.id, "reject") }, "Reject")));
}

function convCard(i) {
  const name = i.attributes.name || `#${i.id}`;
  return el("div", { class: "card conv" + (state.selected === i.id ? " selected" : ""), "data-id": i.id, onclick: () => select(i.id) },
    el("strong", {}, name), " ", el("span", { class: "pill " + i.state }, i.state.replace("_", " ")),
    el("div", { class: "muted" }, `${i.channel} · ${i.queue}`));
}

async function act(id, action, body) {
  showError(null);
  try {
    await api("POST", `/api/v1/interactions/${id}/${action}`, body);
    if (action === "accept") state.selected = id;
    await refreshWork();
    if (action === "accept") await loadMessages(id);
  } catch (err) { showError(err); }
}

async function select(id) {
  state.selected = id;
  $("wrap").hidden = true;
  if (id) await loadMessages(id);
  render();
}

async function loadMessages(id) {
  state.messages.set(id, await api("GET", `/api/v1/interactions/${id}/messages`));
  renderDetail();
}

function renderDetail() {
  const i = state.selected && state.work.get(state.selected);
  $("detail-title").textContent = i ? `${i.attributes.name || "Customer"} · #${i.id}` : "No conversation selected";
  $("customer").replaceChildren(...(i ? attributes(i) : []));
  const msgs = (i && state.messages.get(i.id)) || [];
  $("transcript").replaceChildren(...msgs.map((m) => el("div", { class: "msg " + m.sender }, m.text)));
  $("transcript").scrollTop = $("transcript").scrollHeight;
  const connected = !!i && i.state === "connected";
  for (const id of ["message", "send", "end", "transfer", "transfer-queue", "transfer-agent"]) $(id).disabled = !connected;
  $("finish").hidden = !(i && i.state === "wrap_up");
}

async function send() {
  const text = $("message").value;
  if (!text.trim() || !state.selected) return;
  showError(null);
  try {
    await api("POST", `/api/v1/interactions/${state.selected}/messages`, { text });
    $("message").value = "";
  } catch (err) { showError(err); }
}

function onEvent({ event }) {
  const id = event.interaction;
  if (event.kind === "message" && state.messages.has(id)) {
    state.messages.get(id).push({ sender: event.sender, author: event.author, text: event.text });
    if (id === state.selected) renderDetail();
  }
  if (["offered", "accepted", "rejected", "offer_timed_out", "offer_cancelled", "completed", "wrap_up_ended", "abandoned"].includes(event.kind)) {
    refreshWork().catch(showError);
  }
  if (event.kind === "agent_state") refreshState().catch(showError);
}

async function start() {
  const who = await me();
  if (!who.user || !who.user.agent) {
    showError(new Error("This user is not linked to an agent; ask an administrator."));
    return;
  }
  state.agent = who.user.agent;
  $("who").textContent = `${who.user.display_name} · ${who.tenant_name}`;
  $("presence").replaceChildren(
    el("option", { value: "available" }, "Available"),
    ...who.reason_codes.map((r) => el("option", { value: "not_ready:" + r }, "Not ready: " + r)),
    el("option", { value: "offline" }, "Offline"));
  $("presence").addEventListener("change", async () => {
    const [presence, reason] = $("presence").value.split(":");
    try { await api("PUT", `/api/v1/agents/${state.agent}/presence`, reason ? { presence, reason } : { presence }); }
    catch (err) { showError(err); }
    refreshState().catch(showError);
  });
  $("logout").addEventListener("click", logout);
  $("send").addEventListener("click", send);
  $("message").addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
  $("end").addEventListener("click", () => { $("wrap").hidden = false; $("disposition").focus(); });
  $("finish").addEventListener("click", () => act(state.selected, "end-wrap-up"));
  $("transfer-queue").replaceChildren(el("option", { value: "" }, "Transfer to queue…"), ...who.queues.map((q) => el("option", { value: q }, q)));
  $("transfer").addEventListener("click", () => {
    const agent = $("transfer-agent").value.trim(), queue = $("transfer-queue").value;
    if (!agent && !queue) { showError(new Error("Choose a queue or type an agent id to transfer to.")); return; }
    $("transfer-agent").value = "";
    act(state.selected, "transfer", agent ? { to_agent: agent } : { to_queue: queue });
  });
  $("wrap").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("wrap-error").textContent = "";
    const body = { disposition: $("disposition").value.trim() || undefined, notes: $("notes").value };
    try {
      await api("POST", `/api/v1/interactions/${state.selected}/complete`, body);
      $("wrap").hidden = true; $("notes").value = "";
      await refreshWork(); await refreshState();
    } catch (err) { $("wrap-error").textContent = err.message; }
  });
  follow(onEvent, null, () => { refreshWork().catch(showError); refreshState().catch(showError); });
  setInterval(() => refreshState().catch(() => {}), 5000);
}

start().catch(showError);
