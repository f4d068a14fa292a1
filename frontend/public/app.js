// The Cruddur web frontend: a home feed, user pages and a post form over the
// Cruddur API. Plain browser JavaScript; no build step and no npm.
// config.js (written at image build time) sets window.CRUDDUR_CONFIG.
(function () {
  "use strict";
  const config = window.CRUDDUR_CONFIG || {};
  const api = (config.backendUrl || "").replace(/\/$/, "");
  const view = document.getElementById("view");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  }

  function token() { return window.localStorage.getItem("cruddur_access_token"); }

  async function request(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    const res = await fetch(api + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.errors || [res.status + " " + res.statusText]).join(", "));
    return data;
  }

  function activity(a) {
    return el("div", { class: "activity" },
      el("div", { class: "who" }, el("a", { href: "/@" + a.handle, "data-link": "" }, a.display_name), " ",
        el("span", { class: "muted" }, "@" + a.handle)),
      el("div", {}, a.message),
      el("div", { class: "muted" }, new Date(a.created_at).toLocaleString(),
        " · replies " + a.replies_count + " · reposts " + a.reposts_count + " · likes " + a.likes_count));
  }

  function postForm() {
    const message = el("textarea", { rows: 3, maxlength: 280, placeholder: "What would you like to say?" });
    const ttl = el("select", {}, ["7-days", "30-days", "3-days", "1-day", "12-hours", "3-hours", "1-hour"].map((t) => el("option", { value: t }, t)));
    const status = el("div", { class: "muted" });
    return el("form", {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await request("POST", "/api/activities", { message: message.value, ttl: ttl.value });
          message.value = "";
          route();
        } catch (err) { status.textContent = "Could not post: " + err.message; status.className = "error"; }
      },
    }, message, ttl, " ", el("button", { type: "submit" }, "Crud"), status);
  }

  async function home() {
    const data = await request("GET", "/api/activities/home");
    view.replaceChildren(token() ? postForm() : el("p", { class: "muted" }, "Sign in to post."),
      data.length ? data.map(activity) : el("p", { class: "muted" }, "Nothing here yet."));
  }

  async function user(handle) {
    const data = await request("GET", "/api/activities/@" + encodeURIComponent(handle));
    const p = data.profile;
    view.replaceChildren(
      el("div", { class: "profile" }, el("h2", {}, p.display_name), el("div", { class: "muted" }, "@" + p.handle + " · " + p.cruds_count + " cruds"), el("p", {}, p.bio || "")),
      data.activities.map(activity));
  }

  function signin() {
    const input = el("input", { placeholder: "Cognito access token (JWT)", value: token() || "" });
    view.replaceChildren(el("h2", {}, "Sign in"),
      el("p", { class: "muted" }, "Paste an access token from your Cognito user pool" + (config.userPoolId ? " (" + config.userPoolId + ")" : "") + "."),
      el("form", { onsubmit: (e) => { e.preventDefault(); window.localStorage.setItem("cruddur_access_token", input.value.trim()); navigate("/"); } },
        input, el("button", { type: "submit" }, "Save")));
  }

  async function route() {
    const path = window.location.pathname;
    try {
      const handle = path.match(/^\/@([^/]+)/);
      if (handle) await user(decodeURIComponent(handle[1]));
      else if (path === "/signin") signin();
      else await home();
    } catch (err) {
      view.replaceChildren(el("p", { class: "error" }, "Could not load: " + err.message));
    }
  }

  function navigate(path) { window.history.pushState({}, "", path); route(); }

  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-link]");
    if (link) { e.preventDefault(); navigate(link.getAttribute("href")); }
  });
  window.addEventListener("popstate", route);
  route();
})();
