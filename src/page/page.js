// kafka-sim's page: picks, for the selected time, the snapshot the simulator computed (the
// latest at or before it) and shows it. No number is computed here that the tables of
// `kafka-sim run` do not print: the rows come as the tool prints them.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("page-data").textContent);
  // The page's own words. Kafka's config names, state names and the columns of
  // kafka-consumer-groups stay verbatim in both languages.
  const STRINGS = {
    en: {
      title: "kafka-sim run",
      variant: "Variant",
      speed: "Speed",
      play: "Play / pause",
      prev: "Previous event",
      next: "Next event",
      lag: "Consumer lag (all variants)",
      feed: "What happened",
      feed_note: "The run's decisions and their causes, as kafka-sim explain tells them; click one to go to its time.",
      footer: "Link to this moment:",
      state: "state",
      generation: "generation",
      rebalancing: "Warning: Consumer group '{g}' is rebalancing.",
      empty: "Consumer group '{g}' has no active members.",
      no_rows: "No partition owned or committed yet.",
      lanes: "Partition lanes: records appended and committed",
      appended: "appended (LOG-END-OFFSET)",
      consumed: "consumed and committed (CURRENT-OFFSET), in the owner's colour",
      group: "Group",
      time: "t = {s} s",
      lane: "records",
    },
    fr: {
      title: "kafka-sim, exécution de",
      variant: "Variante",
      speed: "Vitesse",
      play: "Lecture / pause",
      prev: "Événement précédent",
      next: "Événement suivant",
      lag: "Retard des consommateurs (lag, toutes les variantes)",
      feed: "Ce qui s'est passé",
      feed_note: "Les décisions de l'exécution et leurs causes, telles que kafka-sim explain les raconte ; cliquez sur l'une d'elles pour aller à son instant.",
      footer: "Lien vers cet instant :",
      state: "état",
      generation: "génération",
      rebalancing: "Warning: Consumer group '{g}' is rebalancing. (le groupe se rééquilibre)",
      empty: "Consumer group '{g}' has no active members. (le groupe n'a aucun membre actif)",
      no_rows: "Aucune partition attribuée ni offset validé pour l'instant.",
      lanes: "Couloirs des partitions : enregistrements écrits et validés",
      appended: "écrits (LOG-END-OFFSET)",
      consumed: "consommés et validés (CURRENT-OFFSET), à la couleur du propriétaire",
      group: "Groupe",
      time: "t = {s} s",
      lane: "enregistrements",
    },
  };
  const COLOURS = ["#2e6fd8", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0c8599",
    "#c2255c", "#5c940d", "#495057", "#1864ab"];
  const DASHES = [[], [10, 5], [3, 4], [12, 4, 3, 4]];

  const $ = (id) => document.getElementById(id);
  let lang = "en";
  let variantIndex = 0;
  let t = 0;
  let playing = false;
  let lastFrame = null;
  let chart = null;

  function str(key, vars) {
    let s = STRINGS[lang][key] || STRINGS.en[key] || key;
    for (const k in vars || {}) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  }
  const variant = () => DATA.variants[variantIndex];
  // Seconds with a decimal point in English, a decimal comma in French.
  function seconds(ms, digits) {
    const s = (ms / 1000).toFixed(digits);
    return lang === "fr" ? s.replace(".", ",") : s;
  }

  // The latest snapshot at or before `ms` (snapshots are sorted; the first is at 0 ms).
  function snapshotAt(group, ms) {
    const s = group.snapshots;
    let lo = 0, hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid].t_ms <= ms) lo = mid; else hi = mid - 1;
    }
    return s[lo];
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function colourOf(group, owner) {
    const i = group.members.indexOf(owner);
    return i < 0 ? "transparent" : COLOURS[i % COLOURS.length];
  }

  // Per group, the largest log end offset over the run: the lanes' common scale.
  function laneScale(group) {
    let max = 1;
    for (const s of group.snapshots)
      for (const r of s.rows) if (r.log_end !== "-") max = Math.max(max, Number(r.log_end));
    return max;
  }

  function renderGroups() {
    const root = $("groups");
    root.textContent = "";
    for (const g of variant().groups) {
      const snap = snapshotAt(g, t);
      const box = el("div", { class: "group", "data-group": g.group });
      const h = el("h2", {}, str("group") + " " + g.group);
      const rebalancing = snap.state === "PreparingRebalance" || snap.state === "CompletingRebalance";
      const cls = rebalancing ? "state rebalancing" : snap.state === "Empty" ? "state empty" : "state";
      const state = el("span", { class: cls, "data-state": snap.state },
        str("state") + " " + snap.state);
      const gen = el("span", { class: "state", "data-generation": snap.generation === null ? "-" : String(snap.generation) },
        str("generation") + " " + (snap.generation === null ? "-" : snap.generation));
      h.append(state, gen);
      box.append(h);
      const warn = rebalancing ? str("rebalancing", { g: g.group })
        : snap.state === "Empty" ? str("empty", { g: g.group }) : "";
      box.append(el("div", { class: "warning" }, warn));
      const table = el("table", { class: "describe" });
      const head = el("tr");
      for (const c of ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
        "CONSUMER-ID", "CLIENT-ID"]) head.append(el("th", {}, c));
      table.append(head);
      const scale = laneScale(g);
      for (const r of snap.rows) {
        const tr = el("tr", {
          class: "partition-row", "data-group": g.group, "data-topic": r.topic,
          "data-partition": String(r.partition), "data-owner": r.owner,
          "data-committed": r.committed, "data-log-end": r.log_end, "data-lag": r.lag,
        });
        tr.append(el("td", {}, r.topic), el("td", { class: "num" }, String(r.partition)),
          el("td", { class: "num" }, r.committed), el("td", { class: "num" }, r.log_end),
          el("td", { class: "num" }, r.lag));
        const owner = el("td", { class: "owner" });
        const sw = el("span", { class: "swatch" });
        sw.style.background = colourOf(g, r.owner);
        owner.append(sw, document.createTextNode(r.owner));
        tr.append(owner, el("td", {}, r.client));
        table.append(tr);
      }
      box.append(table);
      for (const r of snap.rows) {
        if (r.note) box.append(el("p", { class: "note lag-note" }, r.note[lang]));
      }
      if (snap.rows.length === 0) box.append(el("p", { class: "note" }, str("no_rows")));
      box.append(el("h3", {}, str("lanes")));
      for (const r of snap.rows) {
        const lane = el("div", { class: "lane", "data-topic": r.topic, "data-partition": String(r.partition) });
        const leo = r.log_end === "-" ? 0 : Number(r.log_end);
        const done = r.committed === "-" ? 0 : Number(r.committed);
        const colour = colourOf(g, r.owner) === "transparent" ? "#98a2b3" : colourOf(g, r.owner);
        const bar = el("div", { class: "lane-bar" });
        const appended = el("div", { class: "appended" });
        const consumed = el("div", { class: "consumed" });
        appended.style.width = (100 * leo / scale) + "%";
        consumed.style.width = (100 * Math.min(done, leo) / scale) + "%";
        consumed.style.background = colour;
        bar.append(appended, consumed);
        lane.append(el("span", { class: "lane-name" }, r.topic + "-" + r.partition), bar,
          el("span", { class: "lane-count" }, done + " / " + leo));
        box.append(lane);
      }
      const legend = el("div", { class: "legend" });
      const a = el("i"); a.style.background = "#c7d7f5";
      const c = el("i"); c.style.background = "#2e6fd8";
      legend.append(a, document.createTextNode(str("appended")), c,
        document.createTextNode(str("consumed")));
      box.append(legend);
      root.append(box);
    }
  }

  function renderFeed() {
    const list = $("feed");
    list.textContent = "";
    let current = null;
    variant().feed.forEach((e) => {
      const li = el("li", { class: "k-" + e.kind, "data-t": String(e.t_ms), "data-kind": e.kind });
      li.append(el("span", { class: "t" }, seconds(e.t_ms, 3) + " s"),
        document.createTextNode(" " + e[lang]));
      if (e.t_ms <= t) { li.classList.add("past"); current = li; }
      li.addEventListener("click", () => setTime(e.t_ms));
      list.append(li);
    });
    if (current) {
      current.classList.add("current");
      const top = current.getBoundingClientRect().top - list.getBoundingClientRect().top;
      list.scrollTop = Math.max(0, list.scrollTop + top - list.clientHeight / 2);
    }
  }

  function buildChart() {
    const xs = new Set();
    const series = [];
    DATA.variants.forEach((v, vi) => {
      for (const g of v.lag) {
        const m = new Map(g.points.map(([x, y]) => [x, y]));
        for (const [x] of g.points) xs.add(x);
        const multi = DATA.variants.some((w) => w.lag.length > 1);
        series.push({ label: v.name + (multi ? " " + g.group : ""), vi, m });
      }
    });
    const x = Array.from(xs).sort((a, b) => a - b);
    const data = [x.map((ms) => ms / 1000)];
    for (const s of series) data.push(x.map((ms) => (s.m.has(ms) ? s.m.get(ms) : null)));
    const width = Math.max(320, $("chart").clientWidth - 2);
    const opts = {
      width, height: 440,
      scales: { x: { time: false } },
      cursor: { y: false },
      axes: [{ label: "t (s)" }, { label: "LAG" }],
      series: [{ label: "t (s)" }].concat(series.map((s) => ({
        label: s.label,
        stroke: COLOURS[s.vi % COLOURS.length],
        width: 2,
        dash: DASHES[s.vi % DASHES.length],
        spanGaps: true,
        points: { show: false },
      }))),
      hooks: {
        draw: [(u) => {
          const cx = u.valToPos(t / 1000, "x", true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#1d2433";
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(cx, u.bbox.top);
          ctx.lineTo(cx, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        }],
      },
    };
    chart = new uPlot(opts, data, $("chart"));
  }

  function renderTime() {
    $("time").textContent = str("time", { s: seconds(t, 1) });
    $("slider").value = String(t);
    const hash = "#t=" + t + "&variant=" + encodeURIComponent(variant().name) +
      (lang === "fr" ? "&lang=fr" : "");
    if (location.hash !== hash) history.replaceState(null, "", hash);
    const link = $("deeplink");
    link.href = hash;
    link.textContent = hash;
    document.body.dataset.t = String(t);
    document.body.dataset.variant = variant().name;
    if (chart) {
      chart.redraw(false, false);
      // The legend shows each curve's value at the selected time (hovering shows others).
      chart.setCursor({ left: chart.valToPos(t / 1000, "x"), top: 1 });
    }
  }

  function render() {
    renderTime();
    renderGroups();
    renderFeed();
  }

  function setTime(ms) {
    t = Math.max(0, Math.min(variant().end_ms, Math.round(ms)));
    render();
  }

  function setVariant(i) {
    variantIndex = i;
    $("variant").value = String(i);
    $("variant-description").textContent = variant().description || "";
    $("slider").max = String(variant().end_ms);
    t = Math.min(t, variant().end_ms);
    render();
  }

  function setLang(l) {
    lang = l;
    document.documentElement.lang = l;
    $("lang").textContent = l === "en" ? "FR" : "EN";
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = str(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-title]")) e.title = str(e.dataset.i18nTitle);
    render();
  }

  // Decision times of the feed, for the previous / next buttons.
  function step(dir) {
    const times = variant().feed.map((e) => e.t_ms);
    const next = dir > 0 ? times.find((x) => x > t) : times.filter((x) => x < t).pop();
    if (next !== undefined) setTime(next);
  }

  function frame(now) {
    if (!playing) return;
    if (lastFrame !== null) {
      const speed = Number($("speed").value);
      const next = t + (now - lastFrame) * speed;
      if (next >= variant().end_ms) { setTime(variant().end_ms); togglePlay(); return; }
      setTime(next);
    }
    lastFrame = now;
    requestAnimationFrame(frame);
  }

  function togglePlay() {
    playing = !playing;
    lastFrame = null;
    $("play").textContent = playing ? "\u275A\u275A" : "\u25B6";
    if (playing) requestAnimationFrame(frame);
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const name = params.get("variant");
    const i = DATA.variants.findIndex((v) => v.name === name);
    if (i >= 0) variantIndex = i;
    const ms = Number(params.get("t"));
    if (params.has("t") && Number.isFinite(ms)) t = ms;
    lang = params.get("lang") === "fr" ? "fr" : "en";
  }

  DATA.variants.forEach((v, i) => $("variant").append(el("option", { value: String(i) }, v.name)));
  $("variant").addEventListener("change", (e) => setVariant(Number(e.target.value)));
  $("slider").addEventListener("input", (e) => setTime(Number(e.target.value)));
  $("play").addEventListener("click", togglePlay);
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("lang").addEventListener("click", () => setLang(lang === "en" ? "fr" : "en"));
  window.addEventListener("hashchange", () => {
    readHash();
    setVariant(variantIndex);
  });
  readHash();
  if (DATA.variants.length > 0) {
    buildChart();
    setVariant(variantIndex);
    setLang(lang);
    // The inline font loads asynchronously; once it has, lines have their final height.
    document.fonts.ready.then(() => {
      renderFeed();
      renderTime();
    });
  }
})();
