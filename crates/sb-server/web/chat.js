// The customer's chat widget: opens a chat, shows the queue position and estimated wait,
// exchanges messages in real time, survives a page reload, and asks one survey question.
import { api, follow, el, clock } from "/static/api.js";

const $ = (id) => document.getElementById(id);
const tenant = document.body.dataset.tenant;
const key = "sb-chat-" + tenant;
let chat = JSON.parse(localStorage.getItem(key) || "null"); // {token, id}
let seen = new Set();
let stop = null, poll = null;

function show(section) {
  for (const s of ["start", "chat", "survey", "thanks"]) $(s).hidden = s !== section;
}

function addMessage(m) {
  const k = `${m.at_ms}|${m.sender}|${m.text}`;
  if (seen.has(k)) return;
  seen.add(k);
  $("transcript").append(el("div", { class: "msg " + m.sender }, m.text));
  $("transcript").scrollTop = $("transcript").scrollHeight;
}

function system(text) {
  $("transcript").append(el("div", { class: "msg system" }, text));
}

async function status() {
  const i = await api("GET", `/api/v1/interactions/${chat.id}`, undefined, chat.token);
  const waiting = i.state === "waiting" || i.state === "offered";
  $("leave").hidden = !waiting;
  if (waiting) {
    const wait = i.estimated_wait_seconds === null ? "" : ` · estimated wait ${clock(i.estimated_wait_seconds)}`;
    $("status").textContent = i.position ? `You are number ${i.position} in the queue${wait}` : "An agent is about to answer…";
  } else if (i.state === "connected") {
    $("status").textContent = "You are chatting with an agent.";
  } else if (i.state === "completed" || i.state === "wrap_up") {
    ended();
  } else {
    $("status").textContent = "This chat has ended.";
  }
  return i;
}

function ended() {
  if (stop) { stop(); stop = null; }
  if (poll) { clearInterval(poll); poll = null; }
  show("survey");
}

async function resume() {
  show("chat");
  stop = follow(({ at_ms, event }) => {
    if (event.kind === "message") addMessage({ at_ms, sender: event.sender, text: event.text });
    else if (event.kind === "accepted") { system("An agent joined the chat."); status().catch(() => {}); }
    else if (event.kind === "completed") ended();
    else status().catch(() => {});
  }, chat.token, async () => {
    // After (re)connecting: catch up on what was said meanwhile.
    const list = await api("GET", `/api/v1/interactions/${chat.id}/messages`, undefined, chat.token);
    list.forEach(addMessage);
  });
  poll = setInterval(() => status().catch(() => {}), 3000);
  await status();
}

async function send() {
  const text = $("message").value;
  if (!text.trim()) return;
  $("error").textContent = "";
  try {
    await api("POST", `/api/v1/interactions/${chat.id}/messages`, { text }, chat.token);
    $("message").value = "";
  } catch (err) { $("error").textContent = err.message; }
}

$("start").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("start-error").textContent = "";
  try {
    const opened = await api("POST", `/api/v1/chat/${tenant}`, { name: $("name").value, email: $("email").value || undefined });
    chat = { token: opened.token, id: opened.interaction.id };
    localStorage.setItem(key, JSON.stringify(chat));
    const first = $("first").value;
    if (first.trim()) await api("POST", `/api/v1/interactions/${chat.id}/messages`, { text: first }, chat.token);
    await resume();
  } catch (err) { $("start-error").textContent = err.message; }
});
$("send").addEventListener("click", send);
$("message").addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
$("leave").addEventListener("click", async () => {
  try { await api("POST", `/api/v1/interactions/${chat.id}/abandon`, undefined, chat.token); } catch (_) { /* already answered */ }
  localStorage.removeItem(key);
  location.reload();
});
$("stars").replaceChildren(...[1, 2, 3, 4, 5].map((n) => el("button", {
  "data-score": n, "aria-label": `${n} of 5`,
  onclick: async () => {
    try { await api("POST", `/api/v1/interactions/${chat.id}/survey`, { score: n }, chat.token); } catch (_) { /* answered already */ }
    localStorage.removeItem(key);
    show("thanks");
  },
}, "★".repeat(n))));

if (chat) {
  resume().catch(() => { localStorage.removeItem(key); chat = null; show("start"); });
} else {
  show("start");
}
