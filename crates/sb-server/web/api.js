// Shared helpers of Switchboard's screens: the JSON API, the live event stream, a little DOM.

/** Calls the API; throws an Error with `status` and `code` on a 4xx/5xx answer. */
export async function api(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = "Bearer " + token;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new Error((data && data.error && data.error.message) || res.statusText);
    err.status = res.status;
    err.code = data && data.error && data.error.code;
    throw err;
  }
  return data;
}

/** Follows the live event stream, reconnecting after a drop; calls `onEvent(record)`. */
export function follow(onEvent, token, onOpen) {
  let stopped = false;
  function connect() {
    const url = new URL("/api/v1/events", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (token) url.searchParams.set("access_token", token);
    const ws = new WebSocket(url);
    ws.onopen = () => onOpen && onOpen();
    ws.onmessage = (m) => {
      const record = JSON.parse(m.data);
      if (record.event) onEvent(record);
    };
    ws.onclose = () => { if (!stopped) setTimeout(connect, 1000); };
    return ws;
  }
  let ws = connect();
  return () => { stopped = true; ws.close(); };
}

/** Creates an element: el("td", {class: "num"}, "12"). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** "0:42", "12:05", "1:02:03" */
export function clock(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

/** Signs in again when the session is gone. */
export function toLogin() {
  location.href = "/login?next=" + encodeURIComponent(location.pathname);
}

/** The signed-in user, or a redirect to the login page. */
export async function me() {
  try {
    return await api("GET", "/api/v1/me");
  } catch (e) {
    if (e.status === 401) toLogin();
    throw e;
  }
}

export async function logout() {
  try { await api("POST", "/api/v1/logout"); } finally { toLogin(); }
}
