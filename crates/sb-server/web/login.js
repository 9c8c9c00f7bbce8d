// The sign-in form: starts a session (a cookie) and goes on to the page asked for.
import { api } from "/static/api.js";
const params = new URLSearchParams(location.search);
const form = document.getElementById("login");
const tenant = document.getElementById("tenant");
tenant.value = params.get("tenant") || localStorage.getItem("sb-tenant") || document.body.dataset.tenant;
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const session = await api("POST", "/api/v1/login", {
      tenant: tenant.value.trim(), username: form.username.value.trim(), password: form.password.value,
    });
    localStorage.setItem("sb-tenant", session.tenant);
    const next = params.get("next");
    const home = session.user.role === "agent" ? "/agent" : "/supervisor";
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : home;
  } catch (err) {
    error.textContent = err.message;
  }
});
