// The status page's live part: one EventSource on /api/events swaps in the server-rendered view
// as it changes (no polling), and the action buttons post to the runtime API with the token in
// an Authorization header (never a cookie, so no CSRF). No token: the page stays read-only.

(() => {
  const body = document.body;
  const live = document.getElementById("live");
  const conn = document.getElementById("conn");
  const msg = document.getElementById("msg");
  const form = document.getElementById("tokenform");
  let token = null;
  const auth = () => (token ? { authorization: `Bearer ${token}` } : {});
  const canAct = (yes) => {
    body.classList.toggle("can-act", yes);
    body.dataset.access = yes ? "write" : "read";
    form.hidden = yes;
  };
  canAct(body.dataset.access === "write");

  if (window.EventSource) {
    const es = new EventSource("/api/events?format=html");
    es.addEventListener("view", (e) => {
      const v = JSON.parse(e.data);
      live.innerHTML = v.html;
      if (v.access === "write" && !token) canAct(true);
      conn.textContent = "live";
      conn.className = "live";
    });
    es.addEventListener("error", () => {
      conn.textContent = "reconnecting…";
      conn.className = "muted";
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const t = document.getElementById("token").value.trim();
    const r = await fetch("/api/state", { headers: { authorization: `Bearer ${t}` } });
    const s = r.ok ? await r.json() : null;
    if (s && s.access === "write") {
      token = t;
      canAct(true);
      msg.textContent = "actions unlocked";
    } else msg.textContent = "that token is not accepted";
  });

  live.addEventListener("click", async (e) => {
    const b = e.target.closest("button.act");
    if (!b) return;
    const op = b.dataset.op;
    const req = { virtualServer: b.dataset.vs, realServer: b.dataset.rs };
    if (op === "weight") {
      const w = window.prompt(`weight of ${req.realServer} (empty: the configured one)`, "");
      if (w === null) return;
      req.weight = w.trim() === "" ? null : Number(w);
      // JSON would send NaN as null, which means "the configured weight": refuse it here.
      if (req.weight !== null && !Number.isInteger(req.weight)) {
        msg.textContent = `weight must be a whole number, not ${w}`;
        return;
      }
    }
    b.disabled = true;
    try {
      const r = await fetch(`/${op}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth() },
        body: JSON.stringify(req),
      });
      const j = await r.json().catch(() => ({}));
      msg.textContent = r.ok
        ? `${op} ${req.realServer}: done`
        : `${op} refused: ${j.error ? j.error.message : r.status}`;
    } finally {
      b.disabled = false;
    }
  });
})();
