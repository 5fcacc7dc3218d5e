/// The web pages the service serves: a demo and an operations page (plain HTML and JavaScript
/// over the JSON API).
///
/// Each page is self-contained (inline CSS and vanilla JavaScript, nothing loaded from elsewhere)
/// and talks to the API with `fetch`. An optional API key, kept in `localStorage`, is sent as
/// `Authorization: Bearer KEY`. Elements that tests drive carry stable ids and classes:
///
/// - demo (`/`): `#user-input`, `#load-user`, `#random-user`, `#category-input`, `#api-key`,
///   `#history li`, `#recommendations li` (with `data-item`), `.watch` and `.similar-link` inside
///   them, `#similar li`, `#model-version`, `#error`;
/// - operations (`/ops`): `#versions tr` (with `data-version`, `.promote` buttons), `#rollback`,
///   `#experiments` (one `.experiment` per experiment with its guardrail (`.guardrail`) and, when a
///   guardrail ended it, its `.conclusion`; an arms table, an `svg` CTR chart and a
///   `.stop` button while it runs), `#stats`, `#latency tr`, `#error`.
///
/// The pages are raw string literals, so the JavaScript's backslashes and quotes need no escaping;
/// the shared style and script are spliced in with `\#(…)`.
enum WebPages {
    static let demo = page(title: "Starling — recommendations demo", style: demoStyle, body: demoBody, script: demoScript)
    static let operations = page(title: "Starling — operations", style: operationsStyle, body: operationsBody, script: operationsScript)

    private static func page(title: String, style: String, body: String, script: String) -> String {
        #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\#(title)</title>
        <link rel="icon" href="data:,">
        <style>
        \#(commonStyle)
        \#(style)
        </style>
        </head>
        <body>
        \#(body)
        <script>
        "use strict";
        \#(commonScript)
        \#(script)
        </script>
        </body>
        </html>
        """#
    }

    // MARK: - Shared style and script

    private static let commonStyle = #"""
    :root {
      --fg: #1d2330; --muted: #667085; --bg: #f5f6f8; --card: #ffffff; --line: #e3e6eb;
      --accent: #2f6fec; --accent-fg: #ffffff; --accent-soft: #e8f0fe;
      --danger: #b42318; --danger-bg: #fef3f2; --ok: #067647; --ok-bg: #ecfdf3; --warn: #b54708; --warn-bg: #fffaeb;
    }
    @media (prefers-color-scheme: dark) {
      :root {
        --fg: #e6e8ec; --muted: #98a2b3; --bg: #12151b; --card: #1b1f27; --line: #2c323d;
        --accent: #5b8cff; --accent-fg: #0b1020; --accent-soft: #1f2a44;
        --danger: #ff8a80; --danger-bg: #3a1d1d; --ok: #6ce9a6; --ok-bg: #12301f; --warn: #fdb022; --warn-bg: #33260f;
      }
    }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
    header.bar { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
    header.bar h1 { font-size: 18px; margin: 0; }
    header.bar nav { display: flex; gap: 12px; }
    header.bar .spacer { flex: 1; }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    main { padding: 20px 24px; max-width: 1280px; margin: 0 auto; }
    h2 { font-size: 15px; margin: 0 0 12px; }
    h3 { font-size: 14px; margin: 0; }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin-bottom: 20px; }
    .card > header { display: flex; align-items: center; gap: 10px; margin-bottom: 12px; flex-wrap: wrap; }
    .card > header h2 { margin: 0; }
    .card > header .spacer { flex: 1; }
    label { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); }
    input { font: inherit; color: var(--fg); background: var(--bg); padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; }
    input:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); }
    button { font: inherit; cursor: pointer; padding: 5px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
    button:hover:not(:disabled) { border-color: var(--accent); }
    button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
    button.danger { color: var(--danger); }
    button:disabled { opacity: .5; cursor: default; }
    button.link { border: none; background: none; padding: 0; color: var(--accent); text-align: left; }
    button.link:hover { text-decoration: underline; }
    code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
    .muted { color: var(--muted); }
    .empty { color: var(--muted); font-style: italic; margin: 4px 0; }
    .badge { display: inline-block; padding: 0 7px; border-radius: 999px; font-size: 11px; line-height: 18px; white-space: nowrap;
             background: var(--accent-soft); color: var(--accent); }
    .badge.ok { background: var(--ok-bg); color: var(--ok); }
    .badge.warn { background: var(--warn-bg); color: var(--warn); }
    .badge.off { background: var(--bg); color: var(--muted); border: 1px solid var(--line); }
    #error { margin: 0 0 16px; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--danger); background: var(--danger-bg);
             color: var(--danger); white-space: pre-wrap; cursor: pointer; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-weight: 600; color: var(--muted); font-size: 12px; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    """#

    /// Helpers both pages use: `$`, `el` (DOM building without innerHTML), `svg`, `api` (fetch with
    /// the API key and `{"error": …}` handling), the API-key field and the error box.
    private static let commonScript = #"""
    const $ = (selector, root = document) => root.querySelector(selector);
    const KEY_STORAGE = "starling.apiKey";

    /** Builds an element: props are attributes, plus `class`, `text`, `dataset` and `on<event>` handlers. */
    function el(tag, props = {}, ...children) {
      return build(document.createElement(tag), props, children);
    }

    /** Builds an SVG element, like `el`. */
    function svg(tag, props = {}, ...children) {
      return build(document.createElementNS("http://www.w3.org/2000/svg", tag), props, children);
    }

    function build(node, props, children) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.setAttribute("class", value);
        else if (key === "text") node.textContent = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
      for (const child of children.flat()) {
        if (child === null || child === undefined || child === false) continue;
        node.append(child instanceof Node ? child : String(child));
      }
      return node;
    }

    function storedKey() {
      try { return localStorage.getItem(KEY_STORAGE) || ""; } catch { return ""; }
    }

    function storeKey(key) {
      try { key ? localStorage.setItem(KEY_STORAGE, key) : localStorage.removeItem(KEY_STORAGE); } catch { /* storage unavailable */ }
    }

    /** Wires the `#api-key` field to localStorage. */
    function setUpKeyField() {
      const field = $("#api-key");
      if (!field) return;
      field.value = storedKey();
      field.addEventListener("input", () => storeKey(field.value.trim()));
    }

    class APIError extends Error {
      constructor(status, message) { super(message); this.status = status; }
    }

    /** Calls the API; resolves to the decoded JSON, rejects with an APIError carrying the server's message. */
    async function api(method, path, body) {
      const headers = { "Accept": "application/json" };
      const key = storedKey();
      if (key) headers["Authorization"] = "Bearer " + key;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      let response;
      try {
        response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (e) {
        throw new APIError(0, `${method} ${path}: the service did not answer (${e.message})`);
      }
      const text = await response.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      if (!response.ok) {
        const message = data && typeof data.error === "string" ? data.error : (text || response.statusText);
        throw new APIError(response.status, `${method} ${path} → ${response.status}: ${message}`);
      }
      return data;
    }

    /** Shows `message` in the `#error` box (hides it when empty); a click on the box dismisses it. */
    function showError(message) {
      const box = $("#error");
      box.textContent = message || "";
      box.hidden = !message;
    }

    function setUpErrorBox() {
      $("#error").addEventListener("click", () => showError(""));
    }

    const path = (template, ...values) => template.map((s, i) => s + (i < values.length ? encodeURIComponent(values[i]) : "")).join("");
    """#

    // MARK: - Demo page

    private static let demoStyle = #"""
    .controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
    .controls #user-input { width: 200px; }
    #hint { margin: 10px 0 0; }
    .layout { display: grid; grid-template-columns: minmax(220px, 1fr) minmax(320px, 2fr) minmax(240px, 1fr); gap: 20px; align-items: start; }
    @media (max-width: 960px) { .layout { grid-template-columns: 1fr; } }
    .layout .card { margin: 0; }
    ol.items { list-style: none; margin: 0; padding: 0; counter-reset: rank; }
    ol.items li { display: flex; align-items: center; gap: 10px; padding: 7px 4px; border-bottom: 1px solid var(--line); }
    ol.items li:last-child { border-bottom: none; }
    ol.ranked li::before { counter-increment: rank; content: counter(rank); min-width: 20px; color: var(--muted); text-align: right; font-variant-numeric: tabular-nums; }
    ol.items .what { flex: 1; min-width: 0; }
    ol.items .what .id { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    ol.items .score { font-variant-numeric: tabular-nums; color: var(--muted); }
    ol.items li.fresh { animation: fresh 1.6s ease-out; }
    @keyframes fresh { from { background: var(--accent-soft); } to { background: transparent; } }
    .badge.source-ann { background: #e0f2fe; color: #026aa2; }
    .badge.source-model { background: #f4f3ff; color: #5925dc; }
    .badge.source-item_to_item { background: #fdf2fa; color: #c11574; }
    .badge.source-popular { background: #fffaeb; color: #b54708; }
    .badge.source-recent { background: #ecfdf3; color: #067647; }
    @media (prefers-color-scheme: dark) {
      .badge[class*="source-"] { background: var(--accent-soft); color: var(--fg); }
    }
    #model-version { font-size: 12px; }
    #current-user { font-weight: 600; }
    """#

    private static let demoBody = #"""
    <header class="bar">
      <h1>Starling</h1>
      <nav><a href="/">Demo</a><a href="/ops">Operations</a></nav>
      <span class="spacer"></span>
      <label>API key <input id="api-key" type="password" placeholder="optional" autocomplete="off" size="18"></label>
    </header>
    <main>
      <div id="error" role="alert" title="Click to dismiss" hidden></div>
      <section class="card">
        <div class="controls">
          <label for="user-input">User</label>
          <input id="user-input" placeholder="user id" autocomplete="off" list="known-users">
          <datalist id="known-users"></datalist>
          <button id="load-user" class="primary">Show recommendations</button>
          <button id="random-user">Random user</button>
          <label>Category <input id="category-input" placeholder="any" autocomplete="off" size="14"></label>
        </div>
        <p id="hint" class="muted" hidden></p>
      </section>
      <div class="layout">
        <section class="card">
          <header><h2>Recent history</h2><span class="spacer"></span><span id="interactions" class="muted"></span></header>
          <ol id="history" class="items"></ol>
          <p id="history-empty" class="empty">Pick a user to see what they did lately.</p>
        </section>
        <section class="card">
          <header>
            <h2>Recommended for <span id="current-user">…</span></h2>
            <span class="spacer"></span>
            <span id="model-version" class="muted"></span>
          </header>
          <ol id="recommendations" class="items ranked"></ol>
          <p id="recommendations-empty" class="empty">No recommendations yet.</p>
        </section>
        <aside class="card" id="similar-panel">
          <header><h2 id="similar-title">Similar items</h2><span class="spacer"></span><button id="similar-close" class="link" hidden>close</button></header>
          <ol id="similar" class="items ranked"></ol>
          <p id="similar-empty" class="empty">Click an item's title to see items like it.</p>
        </aside>
      </div>
    </main>
    """#

    private static let demoScript = #"""
    const state = { user: "", shown: new Set() };

    const SOURCE_LABELS = { ann: "ann", model: "model", item_to_item: "item to item", popular: "popular", recent: "recent" };
    const SOURCE_HELP = {
      ann: "nearest neighbours of the user's vector",
      model: "the model's full ranking",
      item_to_item: "like an item the user interacted with recently",
      popular: "popular lately",
      recent: "interacted with recently by anyone",
    };

    function sourceBadge(source) {
      return el("span", { class: `badge source source-${source}`, title: SOURCE_HELP[source] || "", text: SOURCE_LABELS[source] || source });
    }

    /** A clickable title that opens the similar-items panel. */
    function similarLink(item, title) {
      return el("button", { class: "link similar-link", title: `Items similar to ${item}`, text: title || item,
                            onclick: () => loadSimilar(item, title || item) });
    }

    function itemLabel(entry) {
      return el("span", { class: "what" }, similarLink(entry.item, entry.title),
                entry.title ? el("span", { class: "id mono muted", text: entry.item }) : null);
    }

    function setEmpty(list, emptyNote, message) {
      const empty = $(emptyNote);
      empty.textContent = message || "";
      empty.hidden = !message || list.children.length > 0;
    }

    function categoryFilter() {
      return $("#category-input").value.trim();
    }

    // MARK: loading a user

    async function loadUser(user) {
      user = (user || "").trim();
      if (!user) { showError("Type a user id, or pick a random user."); $("#user-input").focus(); return; }
      if (user !== state.user) state.shown = new Set();
      state.user = user;
      $("#user-input").value = user;
      $("#current-user").textContent = user;
      $("#hint").hidden = true;
      if (location.hash !== "#user=" + encodeURIComponent(user)) history.replaceState(null, "", "#user=" + encodeURIComponent(user));
      await refreshUser();
    }

    /** Reloads the history and recommendations of the current user; shows every failure in #error. */
    async function refreshUser() {
      const results = await Promise.allSettled([loadHistory(state.user), loadRecommendations(state.user)]);
      const failures = results.filter(r => r.status === "rejected").map(r => r.reason.message || String(r.reason));
      showError(failures.join("\n"));
    }

    async function loadHistory(user) {
      const list = $("#history");
      let data;
      try {
        data = await api("GET", path`/users/${user}/history`);
      } catch (e) {
        if (e.status !== 404) throw e;
        data = { user, interactions: 0, recent: [] };  // no events yet: not an error
      }
      if (user !== state.user) return;
      list.replaceChildren(...data.recent.map(entry => el("li", { dataset: { item: entry.item } }, itemLabel(entry))));
      $("#interactions").textContent = `${data.interactions} interaction${data.interactions === 1 ? "" : "s"}`;
      setEmpty(list, "#history-empty", "No events yet: watch something.");
    }

    async function loadRecommendations(user) {
      const list = $("#recommendations");
      const category = categoryFilter();
      const query = `?k=10${category ? "&category=" + encodeURIComponent(category) : ""}`;
      let data;
      try {
        data = await api("GET", path`/recommend/${user}` + query);
      } catch (e) {
        list.replaceChildren();
        setEmpty(list, "#recommendations-empty", "Could not load recommendations.");
        throw e;
      }
      if (user !== state.user) return;
      const before = state.shown;
      state.shown = new Set(data.items.map(r => r.item));
      list.replaceChildren(...data.items.map(r => el("li", { dataset: { item: r.item }, class: before.size && !before.has(r.item) ? "fresh" : null },
        itemLabel(r),
        el("span", { class: "score", title: "score", text: Number(r.score).toFixed(3) }),
        sourceBadge(r.source),
        el("button", { class: "watch", title: `Send a click on ${r.item}`, text: "Watch", onclick: (event) => watch(r.item, event.currentTarget) }),
      )));
      setEmpty(list, "#recommendations-empty", category ? `Nothing to recommend in category “${category}”.` : "Nothing to recommend.");
      showModel(data);
    }

    function showModel(data) {
      const parts = [data.model_version != null ? `model v${data.model_version}` : "no active model: popularity only"];
      if (data.experiment) parts.push(`experiment ${data.experiment}, arm ${data.arm}`);
      const label = $("#model-version");
      label.textContent = parts.join(" · ");
      label.dataset.version = data.model_version != null ? String(data.model_version) : "";
    }

    /** Sends a click on `item` for the current user, then reloads their history and recommendations. */
    async function watch(item, button) {
      if (button) button.disabled = true;
      try {
        await api("POST", "/events", { user: state.user, item, type: "click" });
      } catch (e) {
        showError(e.message);
        if (button) button.disabled = false;
        return;
      }
      await refreshUser();
    }

    async function randomUser() {
      let page;
      try {
        page = await api("GET", "/users?limit=200");
      } catch (e) {
        showError(e.message);
        return;
      }
      const users = (page.items || []).map(u => u.id);
      $("#known-users").replaceChildren(...users.map(id => el("option", { value: id })));
      if (users.length === 0) {
        const hint = $("#hint");
        hint.textContent = "The catalogue has no users yet: type a user id (anyone who sent events works).";
        hint.hidden = false;
        $("#user-input").focus();
        return;
      }
      await loadUser(users[Math.floor(Math.random() * users.length)]);
    }

    // MARK: similar items

    async function loadSimilar(item, title) {
      const list = $("#similar");
      $("#similar-title").textContent = `Similar to “${title}”`;
      $("#similar-close").hidden = false;
      list.dataset.item = item;
      let data;
      try {
        data = await api("GET", path`/items/${item}/similar` + "?k=8");
      } catch (e) {
        list.replaceChildren();
        setEmpty(list, "#similar-empty", "Could not load similar items.");
        showError(e.message);
        return;
      }
      if (list.dataset.item !== item) return;
      list.replaceChildren(...data.items.map(r => el("li", { dataset: { item: r.item } },
        itemLabel(r),
        el("span", { class: "score", title: "similarity", text: Number(r.score).toFixed(3) }),
      )));
      setEmpty(list, "#similar-empty", "No similar items.");
      document.getElementById("similar-panel").scrollIntoView({ block: "nearest", behavior: "smooth" });
    }

    function closeSimilar() {
      const list = $("#similar");
      list.replaceChildren();
      delete list.dataset.item;
      $("#similar-title").textContent = "Similar items";
      $("#similar-close").hidden = true;
      setEmpty(list, "#similar-empty", "Click an item's title to see items like it.");
    }

    // MARK: start

    setUpKeyField();
    setUpErrorBox();
    $("#load-user").addEventListener("click", () => loadUser($("#user-input").value));
    $("#user-input").addEventListener("keydown", (e) => { if (e.key === "Enter") loadUser($("#user-input").value); });
    $("#random-user").addEventListener("click", randomUser);
    $("#category-input").addEventListener("keydown", (e) => { if (e.key === "Enter" && state.user) refreshUser(); });
    $("#category-input").addEventListener("change", () => { if (state.user) refreshUser(); });
    $("#similar-close").addEventListener("click", closeSimilar);
    const initial = new URLSearchParams(location.hash.slice(1)).get("user");
    if (initial) loadUser(initial);
    """#

    // MARK: - Operations page

    private static let operationsStyle = #"""
    #stats .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin: 0 0 16px; }
    #stats .figure { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
    #stats dt { color: var(--muted); font-size: 12px; }
    #stats dd { margin: 2px 0 0; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
    #stats .rate { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; margin-bottom: 16px; }
    .spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
    .spark .base { stroke: var(--line); }
    tr.active td { background: var(--accent-soft); }
    .meta { display: flex; flex-wrap: wrap; gap: 4px 10px; }
    .meta span { white-space: nowrap; }
    .experiment { border-top: 1px solid var(--line); padding-top: 14px; margin-top: 14px; }
    .experiment:first-of-type { border-top: none; padding-top: 0; margin-top: 0; }
    .experiment > header { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 8px; }
    .experiment > header .spacer { flex: 1; }
    .experiment .body { display: grid; gap: 12px; }
    .experiment .conclusion { margin: 0; padding: 8px 10px; border-left: 3px solid var(--accent, #b45309); background: rgba(180, 83, 9, 0.08); }
    .experiment .guardrail { margin: 0; }
    .significant { color: var(--ok); font-weight: 600; }
    .ctr-chart { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
    .ctr-chart text { fill: var(--fg); }
    .ctr-chart .tick text { fill: var(--muted); }
    .ctr-chart .tick line { stroke: var(--line); }
    .ctr-chart .bar { fill: var(--accent); opacity: .55; }
    .ctr-chart .bar.control { fill: var(--muted); }
    .ctr-chart .interval line { stroke: var(--fg); stroke-width: 1.5; }
    #updated { font-size: 12px; }
    """#

    private static let operationsBody = #"""
    <header class="bar">
      <h1>Starling operations</h1>
      <nav><a href="/">Demo</a><a href="/ops">Operations</a><a href="/metrics">Metrics</a></nav>
      <span class="spacer"></span>
      <span id="updated" class="muted"></span>
      <label>API key <input id="api-key" type="password" placeholder="admin key for actions" autocomplete="off" size="20"></label>
    </header>
    <main>
      <div id="error" role="alert" title="Click to dismiss" hidden></div>
      <section class="card" id="stats">
        <header><h2>Live</h2><span class="muted">refreshed every 2 s</span></header>
        <dl class="figures" id="figures"></dl>
        <div class="rate">
          <span class="muted">Events stored per second (10 s window), last 3 minutes</span>
          <svg class="spark" id="ingestion-spark" width="360" height="40" viewBox="0 0 360 40" role="img" aria-label="ingestion rate"></svg>
        </div>
        <h3>Latency by route (latest 2,048 requests each, milliseconds)</h3>
        <table>
          <thead><tr><th>Route</th><th>Method</th><th class="num">Requests</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr></thead>
          <tbody id="latency"></tbody>
        </table>
        <p id="latency-empty" class="empty" hidden>No requests measured yet.</p>
      </section>
      <section class="card">
        <header>
          <h2>Model versions</h2><span class="spacer"></span>
          <button id="rollback" class="danger" title="Re-activate the previously active version">Roll back</button>
        </header>
        <table>
          <thead><tr><th>Version</th><th>Model</th><th>Published</th><th>Metadata</th><th></th></tr></thead>
          <tbody id="versions"></tbody>
        </table>
        <p id="versions-empty" class="empty" hidden>No model published yet (POST /models/retrain trains one).</p>
      </section>
      <section class="card">
        <header><h2>Experiments</h2></header>
        <div id="experiments"></div>
      </section>
    </main>
    """#

    private static let operationsScript = #"""
    const REFRESH_MS = 2000;
    const seen = { models: "", experiments: "" };
    const rates = [];          // recent events_per_second10s samples, for the sparkline
    let refreshError = "";     // the error box shows refresh failures until a refresh succeeds
    let refreshing = false, again = false;

    // MARK: formatting

    const integer = (n) => Number(n).toLocaleString("en-US");
    const percent = (x, digits = 2) => x == null ? "—" : `${(x * 100).toFixed(digits)}%`;
    const signedPercent = (x) => x == null ? "—" : `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}%`;
    const pValue = (p) => p == null ? "—" : p < 0.001 ? "< 0.001" : p.toFixed(3);
    const ms = (v) => v == null ? "—" : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
    const dateTime = (millis) => millis == null ? "—" : new Date(millis).toLocaleString();

    function metadataValue(key, value) {
      // data_from/data_to are Unix milliseconds.
      if (/^data_(from|to)$/.test(key) && /^\d{11,}$/.test(value)) return new Date(Number(value)).toLocaleDateString();
      return value;
    }

    // MARK: live figures

    function renderStats(stats) {
      const figures = [
        ["Events", integer(stats.events)],
        ["Users", integer(stats.users)],
        ["Items", integer(stats.items)],
        ["Active model", stats.model_version != null ? `v${stats.model_version}` : "none"],
        ["Events/s (10 s)", stats.events_per_second10s.toFixed(1)],
        ["Events/s (60 s)", stats.events_per_second60s.toFixed(1)],
      ];
      $("#figures").replaceChildren(...figures.map(([name, value]) =>
        el("div", { class: "figure" }, el("dt", { text: name }), el("dd", { text: value }))));

      rates.push(stats.events_per_second10s);
      if (rates.length > 90) rates.shift();
      renderSparkline($("#ingestion-spark"), rates);

      const rows = Object.entries(stats.latency_ms || {})
        .map(([key, p]) => { const space = key.indexOf(" "); return { method: key.slice(0, space), route: key.slice(space + 1), p }; })
        .sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method));
      $("#latency").replaceChildren(...rows.map(({ method, route, p }) => el("tr", { dataset: { route: `${method} ${route}` } },
        el("td", {}, el("code", { text: route })),
        el("td", { text: method }),
        el("td", { class: "num", text: integer(p.count || 0) }),
        el("td", { class: "num", text: ms(p.p50) }),
        el("td", { class: "num", text: ms(p.p95) }),
        el("td", { class: "num", text: ms(p.p99) }),
      )));
      $("#latency-empty").hidden = rows.length > 0;
    }

    function renderSparkline(node, values) {
      const width = 360, height = 40, max = Math.max(1, ...values);
      const step = width / 89;
      const points = values.map((v, i) => `${(i + 90 - values.length) * step},${height - 2 - (v / max) * (height - 6)}`).join(" ");
      node.replaceChildren(
        svg("line", { class: "base", x1: 0, y1: height - 1, x2: width, y2: height - 1 }),
        svg("polyline", { points }),
        svg("title", { text: `max ${max.toFixed(1)} events/s` }),
      );
    }

    // MARK: model versions

    function renderModels(data) {
      const versions = [...data.versions].sort((a, b) => b.version - a.version);
      $("#versions").replaceChildren(...versions.map(v => {
        const active = v.version === data.active;
        return el("tr", { class: active ? "active" : null, dataset: { version: String(v.version) } },
          el("td", {}, el("strong", { text: `v${v.version}` }), " ", active ? el("span", { class: "badge ok", text: "active" }) : null),
          el("td", {}, el("code", { text: v.model })),
          el("td", { text: new Date(v.published).toLocaleString() }),
          el("td", {}, el("div", { class: "meta" }, ...Object.keys(v.metadata || {}).sort().map(key =>
            el("span", {}, el("span", { class: "muted", text: `${key} ` }), metadataValue(key, v.metadata[key]))))),
          el("td", {}, el("button", { class: "promote", disabled: active, text: active ? "Active" : "Promote",
                                      onclick: (e) => act(e.currentTarget, "POST", `/models/${v.version}/promote`) })),
        );
      }));
      $("#versions-empty").hidden = versions.length > 0;
      $("#rollback").disabled = data.active == null;
    }

    // MARK: experiments

    function renderExperiments(data) {
      const list = $("#experiments");
      if (!data.experiments.length) {
        list.replaceChildren(el("p", { class: "empty", text: "No experiments yet (POST /experiments starts one)." }));
        return;
      }
      // Running first, then newest first.
      const experiments = [...data.experiments].sort((a, b) => (a.status === "running" ? 0 : 1) - (b.status === "running" ? 0 : 1) || b.created - a.created);
      list.replaceChildren(...experiments.map(renderExperiment));
    }

    function renderExperiment(x) {
      const running = x.status === "running";
      return el("article", { class: "experiment", dataset: { id: x.id } },
        el("header", {},
          el("h3", { text: x.name }), el("code", { class: "muted", text: x.id }),
          el("span", { class: running ? "badge ok" : "badge off", text: x.status }),
          el("span", { class: "muted", text: `started ${dateTime(x.created)}${x.stopped != null ? ` · stopped ${dateTime(x.stopped)}` : ""}` }),
          el("span", { class: "spacer" }),
          running ? el("button", { class: "stop danger", text: "Stop", onclick: (e) => act(e.currentTarget, "POST", path`/experiments/${x.id}/stop`) }) : null,
        ),
        el("div", { class: "body" },
          x.conclusion ? el("p", { class: "conclusion", text: x.conclusion }) : null,
          el("p", { class: "muted guardrail", text: x.guardrail
            ? `guardrail: looks at ${integer(x.guardrail.min_impressions)} impressions per arm and each doubling (${x.looks || 0} of ${x.guardrail.max_looks} taken), family-wise α ${x.guardrail.alpha}; a significantly worse arm is stopped${x.guardrail.promote_winner ? ", a significantly better one promoted" : ""}`
            : "no guardrail: runs until stopped" }),
          el("table", { class: "arms" },
            el("thead", {}, el("tr", {}, ...["Arm", "Version", "Impressions", "Clicks", "CTR (95% interval)", "Purchases", "Purchase rate", "Lift vs control", "p-value"]
              .map((name, i) => el("th", { class: i > 1 && i !== 4 ? "num" : null, text: name })))),
            el("tbody", {}, ...x.arms.map((arm, i) => el("tr", { dataset: { arm: arm.name } },
              el("td", {}, arm.name, i === 0 ? el("span", { class: "muted", text: " (control)" }) : null),
              el("td", { text: `v${arm.version}` }),
              el("td", { class: "num", text: integer(arm.impressions) }),
              el("td", { class: "num", text: integer(arm.clicks) }),
              el("td", { text: `${percent(arm.ctr)} [${percent(arm.ctr_low)} – ${percent(arm.ctr_high)}]` }),
              el("td", { class: "num", text: integer(arm.purchases) }),
              el("td", { class: "num", text: percent(arm.purchase_rate) }),
              el("td", { class: "num" + (arm.p_value_vs_control != null && arm.p_value_vs_control < 0.05 ? " significant" : ""),
                         text: signedPercent(arm.lift_vs_control) }),
              el("td", { class: "num", text: pValue(arm.p_value_vs_control) }),
            ))),
          ),
          ctrChart(x.arms),
        ),
      );
    }

    /** The smallest 1, 2, 2.5 or 5 × 10^n at or above `v`. */
    function niceCeiling(v) {
      const magnitude = 10 ** Math.floor(Math.log10(v));
      return [1, 2, 2.5, 5, 10].map(m => m * magnitude).find(c => c >= v * 0.9999);
    }

    /** Horizontal bars of each arm's CTR with its 95% interval as an error bar. */
    function ctrChart(arms) {
      const rowHeight = 28, labelWidth = 110, plotWidth = 300, valueWidth = 70, top = 8, axisHeight = 22;
      const width = labelWidth + plotWidth + valueWidth, height = top + arms.length * rowHeight + axisHeight;
      const max = niceCeiling(Math.max(0.001, ...arms.map(a => Math.max(a.ctr_high, a.ctr))));
      const x = (v) => labelWidth + Math.min(1, Math.max(0, v / max)) * plotWidth;
      const bottom = top + arms.length * rowHeight;
      const ticks = [0, 0.25, 0.5, 0.75, 1].map(f => f * max);
      const tickLabel = (t, i) => i % 2 === 0 ? `${parseFloat((t * 100).toFixed(3))}%` : "";
      return svg("svg", { class: "ctr-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                          "aria-label": "Click-through rate per arm with 95% intervals" },
        ...ticks.map((t, i) => svg("g", { class: "tick" },
          svg("line", { x1: x(t), y1: top, x2: x(t), y2: bottom }),
          svg("text", { x: x(t), y: bottom + 15, "text-anchor": "middle", text: tickLabel(t, i) }),
        )),
        ...arms.map((arm, i) => {
          const y = top + i * rowHeight, middle = y + rowHeight / 2;
          return svg("g", { class: "arm", "data-arm": arm.name },
            svg("title", { text: `${arm.name}: CTR ${percent(arm.ctr)}, 95% interval ${percent(arm.ctr_low)} – ${percent(arm.ctr_high)}, ${integer(arm.impressions)} impressions` }),
            svg("text", { x: labelWidth - 8, y: middle + 4, "text-anchor": "end", text: arm.name }),
            svg("rect", { class: i === 0 ? "bar control" : "bar", x: labelWidth, y: y + 6, width: Math.max(0, x(arm.ctr) - labelWidth), height: rowHeight - 12 }),
            svg("g", { class: "interval" },
              svg("line", { x1: x(arm.ctr_low), y1: middle, x2: x(arm.ctr_high), y2: middle }),
              svg("line", { x1: x(arm.ctr_low), y1: middle - 5, x2: x(arm.ctr_low), y2: middle + 5 }),
              svg("line", { x1: x(arm.ctr_high), y1: middle - 5, x2: x(arm.ctr_high), y2: middle + 5 }),
            ),
            svg("text", { x: labelWidth + plotWidth + 8, y: middle + 4, text: percent(arm.ctr) }),
          );
        }),
      );
    }

    // MARK: actions and refresh

    /** Runs an admin action from `button`, then refreshes everything; failures stay in #error. */
    async function act(button, method, route) {
      if (button) button.disabled = true;
      try {
        await api(method, route);
        showError("");
        refreshError = "";
      } catch (e) {
        showError(e.message);
      } finally {
        if (button) button.disabled = false;
        seen.models = seen.experiments = "";
        await refresh(true);
      }
    }

    async function refresh(force = false) {
      if (document.hidden && !force) return;
      if (refreshing) { again = again || force; return; }  // run once more when the one in flight ends
      refreshing = true;
      try {
        const [stats, models, experiments] = await Promise.allSettled([api("GET", "/stats"), api("GET", "/models"), api("GET", "/experiments")]);
        if (stats.status === "fulfilled") renderStats(stats.value);
        // Tables are rebuilt only when their data changed, so buttons stay put between refreshes.
        if (models.status === "fulfilled" && JSON.stringify(models.value) !== seen.models) {
          seen.models = JSON.stringify(models.value);
          renderModels(models.value);
        }
        if (experiments.status === "fulfilled" && JSON.stringify(experiments.value) !== seen.experiments) {
          seen.experiments = JSON.stringify(experiments.value);
          renderExperiments(experiments.value);
        }
        const failures = [stats, models, experiments].filter(r => r.status === "rejected").map(r => r.reason.message || String(r.reason));
        const message = [...new Set(failures)].join("\n");
        const box = $("#error");
        if (message) showError(message);
        else if (refreshError && box.textContent === refreshError) showError("");
        refreshError = message;
        $("#updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
      } finally {
        refreshing = false;
        if (again) { again = false; refresh(true); }
      }
    }

    setUpKeyField();
    setUpErrorBox();
    $("#api-key").addEventListener("change", () => { seen.models = seen.experiments = ""; refresh(true); });
    $("#rollback").addEventListener("click", (e) => act(e.currentTarget, "POST", "/models/rollback"));
    refresh(true);
    setInterval(refresh, REFRESH_MS);
    """#
}
