// The Cruddur web frontend over the Cruddur API: home feed, notifications, user
// pages, a status with its replies, message groups, conversations, new messages,
// profile edit, and the sign-in pages (cognito.js). Plain browser JavaScript; no
// build step and no npm. config.js (written at image build time) sets
// window.CRUDDUR_CONFIG.
(function () {
  "use strict";
  const config = window.CRUDDUR_CONFIG || {};
  const Auth = window.CruddurAuth;
  const api = (config.backendUrl || "").replace(/\/$/, "");
  const view = document.getElementById("view");
  const nav = document.getElementById("nav");
  const TTLS = ["7-days", "30-days", "3-days", "1-day", "12-hours", "3-hours", "1-hour"];
  let flash = null; // a message for the next page, e.g. why the user was sent to sign-in

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) node.setAttribute(k, v);
    });
    children.flat(Infinity).forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  }
  const show = (...parts) => view.replaceChildren(...parts.flat(Infinity));
  const link = (href, ...text) => el("a", { href, "data-link": "" }, ...text);

  class ApiError extends Error {
    constructor(status, codes) { super(status + ": " + codes.join(", ")); this.status = status; this.codes = codes; }
  }

  // One API call; the access token is refreshed first when it is near expiry.
  async function request(method, path, body) {
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    const token = await Auth.accessToken();
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(api + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, data.errors || [res.statusText || "error"]);
    return data;
  }

  // What the user reads for an error; an expired session goes to sign-in.
  function explain(err) {
    if (err.code === "SessionExpired") { flash = err.message; navigate("/signin"); return err.message; }
    if (err.status === 401) return "Not signed in, or the session was refused (" + err.codes.join(", ") + "). Sign in again.";
    return err.message;
  }

  // A form whose submit runs `action(values)`; errors appear under it, never swallowed.
  function form(name, fields, label, action) {
    const status = el("div", { class: "status", role: "alert" });
    const inputs = fields.map((f) => f.tag === "select"
      ? el("select", { name: f.name }, f.options.map((o) => el("option", { value: o }, o)))
      : el(f.tag || "input", { name: f.name, type: f.type, placeholder: f.placeholder, maxlength: f.max, rows: f.rows, value: f.value, autocomplete: f.autocomplete }));
    fields.forEach((f, i) => { if (f.tag === "textarea" && f.value) inputs[i].value = f.value; });
    const button = el("button", { type: "submit" }, label);
    return el("form", {
      "data-form": name,
      onsubmit: async (e) => {
        e.preventDefault();
        const values = Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value]));
        button.disabled = true;
        status.textContent = "";
        status.className = "status";
        try { await action(values, inputs); } catch (err) { status.textContent = explain(err); status.className = "status error"; }
        finally { button.disabled = false; }
      },
    }, inputs, button, status);
  }

  function activity(a) {
    const status = "/@" + a.handle + "/status/" + a.uuid;
    return el("div", { class: "activity", "data-uuid": a.uuid },
      el("div", { class: "who" }, link("/@" + a.handle, a.display_name), " ", el("span", { class: "muted" }, "@" + a.handle)),
      el("div", { class: "message" }, a.message),
      el("div", { class: "muted" }, link(status, new Date(a.created_at).toLocaleString()),
        " · ", link(status, "replies " + a.replies_count), " · reposts " + a.reposts_count + " · likes " + a.likes_count));
  }
  const list = (items, render, empty) => items.length ? items.map(render) : el("p", { class: "muted" }, empty);

  function postForm() {
    return form("crud", [
      { name: "message", tag: "textarea", rows: 3, max: 280, placeholder: "What would you like to say?" },
      { name: "ttl", tag: "select", options: TTLS },
    ], "Crud", async (v) => { await request("POST", "/api/activities", { message: v.message, ttl: v.ttl }); route(); });
  }

  async function home() {
    const data = await request("GET", "/api/activities/home");
    show(el("h2", {}, "Home"), Auth.signedIn() ? postForm() : el("p", { class: "muted" }, "Sign in to post."),
      list(data, activity, "Nothing here yet."));
  }

  async function notifications() {
    const data = await request("GET", "/api/activities/notifications");
    show(el("h2", {}, "Notifications"), list(data, activity, "No notifications."));
  }

  async function user(handle) {
    const data = await request("GET", "/api/activities/@" + encodeURIComponent(handle));
    const p = data.profile;
    const me = Auth.user();
    const actions = !Auth.signedIn() ? [] : me && me.handle === p.handle ? [link("/profile", "Edit profile")] : [link("/messages/new/" + encodeURIComponent(p.handle), "Message")];
    show(
      el("div", { class: "profile" }, el("h2", {}, p.display_name), el("div", { class: "muted" }, "@" + p.handle + " · " + p.cruds_count + " cruds"),
        el("p", { class: "bio" }, p.bio || ""), actions),
      list(data.activities, activity, "No cruds yet."));
  }

  async function status(handle, uuid) {
    const data = await request("GET", "/api/activities/@" + encodeURIComponent(handle) + "/status/" + encodeURIComponent(uuid));
    const reply = form("reply", [{ name: "message", tag: "textarea", rows: 2, max: 1024, placeholder: "Reply…" }], "Reply",
      async (v) => { await request("POST", "/api/activities/" + encodeURIComponent(uuid) + "/reply", { message: v.message }); route(); });
    show(activity(data.activity), el("h3", {}, "Replies"),
      el("div", { class: "replies" }, list(data.replies, activity, "No replies yet.")),
      Auth.signedIn() ? reply : el("p", { class: "muted" }, "Sign in to reply."));
  }

  function newMessageForm(handle) {
    return form("new-message", [
      { name: "handle", placeholder: "@handle", value: handle ? "@" + handle : "" },
      { name: "message", tag: "textarea", rows: 2, max: 1024, placeholder: "Message…" },
    ], "Send", async (v) => {
      const out = await request("POST", "/api/messages", { handle: v.handle.trim().replace(/^@/, ""), message: v.message });
      navigate("/messages/" + encodeURIComponent(out.message_group_uuid));
    });
  }

  async function groups() {
    const data = await request("GET", "/api/message_groups");
    show(el("h2", {}, "Messages"), el("h3", {}, "New message"), newMessageForm(""),
      el("div", { class: "groups" }, list(data, (g) => el("div", { class: "group" },
        link("/messages/" + encodeURIComponent(g.uuid), g.display_name), " ", el("span", { class: "muted" }, "@" + g.handle),
        el("div", { class: "muted" }, g.message || "")), "No conversations yet.")));
  }

  async function conversation(group) {
    const data = await request("GET", "/api/messages/" + encodeURIComponent(group));
    const send = form("message", [{ name: "message", tag: "textarea", rows: 2, max: 1024, placeholder: "Message…" }], "Send",
      async (v) => { await request("POST", "/api/messages", { message_group_uuid: group, message: v.message }); route(); });
    show(el("h2", {}, "Conversation"), el("div", { class: "messages" }, list(data, (m) => el("div", { class: "msg" },
      el("div", { class: "who" }, link("/@" + m.handle, m.display_name), " ", el("span", { class: "muted" }, new Date(m.created_at).toLocaleString())),
      el("div", { class: "message" }, m.message)), "No messages yet.")), send);
  }

  async function profileEdit() {
    const me = Auth.user();
    if (!me) throw new ApiError(401, ["not_signed_in"]);
    const p = (await request("GET", "/api/activities/@" + encodeURIComponent(me.handle))).profile;
    show(el("h2", {}, "Edit profile"), form("profile", [
      { name: "display_name", placeholder: "Display name", max: 100, value: p.display_name },
      { name: "bio", tag: "textarea", rows: 3, max: 500, placeholder: "Bio", value: p.bio || "" },
    ], "Save", async (v) => { await request("PUT", "/api/profile/update", v); navigate("/@" + me.handle); }));
  }

  // The sign-in pages.
  function page(title, ...body) {
    const note = flash ? el("p", { class: "notice", role: "status" }, flash) : "";
    flash = null;
    show(el("h2", {}, title), note, ...body);
  }
  const username = { name: "username", placeholder: "Username or email", autocomplete: "username" };
  const password = (name, placeholder) => ({ name, type: "password", placeholder, autocomplete: "current-password" });

  function signin() {
    page("Sign in", form("signin", [username, password("password", "Password")], "Sign in", async (v) => {
      try { await Auth.signIn(v.username.trim(), v.password); } catch (err) {
        if (err.code === "UserNotConfirmedException") { flash = "Confirm your account with the code you were sent."; navigate("/confirm?u=" + encodeURIComponent(v.username.trim())); return; }
        throw err;
      }
      navigate("/");
    }), el("p", {}, link("/signup", "Sign up"), " · ", link("/forgot", "Forgot password?")));
  }

  function signup() {
    page("Sign up", form("signup", [
      { name: "name", placeholder: "Name", autocomplete: "name" }, { name: "email", type: "email", placeholder: "Email", autocomplete: "email" },
      { name: "username", placeholder: "Handle", autocomplete: "username" }, { ...password("password", "Password"), autocomplete: "new-password" },
    ], "Sign up", async (v) => {
      const handle = v.username.trim();
      await Auth.signUp(handle, v.password, { name: v.name.trim(), email: v.email.trim(), preferred_username: handle });
      flash = "We sent a confirmation code to " + v.email.trim() + ".";
      navigate("/confirm?u=" + encodeURIComponent(handle));
    }), el("p", {}, link("/signin", "Have an account? Sign in")));
  }

  function confirm() {
    const u = new URLSearchParams(window.location.search).get("u") || "";
    page("Confirm your account", form("confirm", [{ ...username, value: u }, { name: "code", placeholder: "Confirmation code", autocomplete: "one-time-code" }], "Confirm",
      async (v) => { await Auth.confirmSignUp(v.username.trim(), v.code.trim()); flash = "Account confirmed. Sign in."; navigate("/signin"); }),
    form("resend", [{ ...username, value: u }], "Resend code", async (v) => { await Auth.resendCode(v.username.trim()); flash = "A new code is on its way."; route(); }));
  }

  function forgot() {
    page("Recover your password",
      form("forgot", [username], "Send recovery code", async (v) => { await Auth.forgotPassword(v.username.trim()); flash = "Recovery code sent."; route(); }),
      form("reset", [username, { name: "code", placeholder: "Recovery code", autocomplete: "one-time-code" }, { ...password("password", "New password"), autocomplete: "new-password" }], "Set new password",
        async (v) => { await Auth.confirmForgotPassword(v.username.trim(), v.code.trim(), v.password); flash = "Password changed. Sign in."; navigate("/signin"); }));
  }

  async function signOut(e) {
    e.preventDefault();
    const refused = await Auth.signOut();
    flash = refused ? "Signed out on this device; the user pool refused the sign-out (" + refused.message + ")." : "Signed out.";
    navigate("/signin");
  }

  function renderNav() {
    const items = Auth.signedIn()
      ? [link("/", "Home"), link("/notifications", "Notifications"), link("/messages", "Messages"), link("/profile", "Profile"),
        el("a", { href: "/signout", onclick: signOut }, "Sign out")]
      : [link("/", "Home"), link("/signin", "Sign in"), link("/signup", "Sign up")];
    nav.replaceChildren(...items);
  }

  const ROUTES = [
    [/^\/$/, home], [/^\/notifications$/, notifications], [/^\/messages$/, groups],
    [/^\/messages\/new\/([^/]+)$/, (h) => { show(el("h2", {}, "New message"), newMessageForm(h)); }],
    [/^\/messages\/([^/]+)$/, conversation], [/^\/profile$/, profileEdit],
    [/^\/@([^/]+)\/status\/([^/]+)$/, status], [/^\/@([^/]+)$/, user],
    [/^\/signin$/, signin], [/^\/signup$/, signup], [/^\/confirm$/, confirm], [/^\/forgot$/, forgot],
  ];

  async function route() {
    renderNav();
    const path = window.location.pathname;
    try {
      for (const [pattern, render] of ROUTES) {
        const m = path.match(pattern);
        if (m) { await render(...m.slice(1).map(decodeURIComponent)); return; }
      }
      show(el("p", { class: "error" }, "No such page: " + path));
    } catch (err) {
      const text = explain(err);
      if (err.code !== "SessionExpired") show(el("p", { class: "error", role: "alert" }, "Could not load: " + text));
    }
  }

  function navigate(path) { window.history.pushState({}, "", path); route(); }

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-link]");
    if (a) { e.preventDefault(); navigate(a.getAttribute("href")); }
  });
  window.addEventListener("popstate", route);
  route();
})();
