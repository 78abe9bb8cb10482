// The review desk (/curate): draft an article (POST /api/drafts), accept, edit or reject each
// proposal, add what was missed by selecting text, publish (POST /api/drafts/publish).
// The token is kept in sessionStorage (this tab); the decisions in localStorage under
// "curate:<source id>" (and which source was open under "curate:last"), so a reload or a refused
// publish loses nothing. Offsets are code points, as the server counts them.
(function () {
  "use strict";
  const desk = JSON.parse(document.getElementById("curate-data").textContent);
  const zh = desk.lang === "zh";
  const T = (z, e) => (zh ? z : e);
  const $ = (id) => document.getElementById(id);
  const TOKEN = "curate:token";
  const LAST = "curate:last";
  let state = null; // {source, text, practices, added}
  let selection = null; // {start, end, quote}

  const districtName = {};
  desk.districts.forEach((d) => { districtName[d.id] = zh ? d.zh : d.en; });
  const districtOrder = desk.districts.map((d) => d.id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    });
    children.flat(Infinity).forEach((c) => { if (c !== null && c !== undefined) node.append(c); });
    return node;
  }

  function token() { return sessionStorage.getItem(TOKEN) || ""; }
  function headers() { return { "Authorization": "Bearer " + token(), "Content-Type": "application/json" }; }
  function save() {
    if (!state) return;
    localStorage.setItem("curate:" + state.source.id, JSON.stringify(state));
    localStorage.setItem(LAST, state.source.id);
  }

  // ---- authentication ------------------------------------------------------------------------
  async function checkToken() {
    const r = await fetch("/api/drafts/writer", { headers: headers() });
    if (r.ok) {
      const who = await r.json();
      $("auth-status").textContent = T("已验证：写入者 ", "Verified: writing as ") + who.token_id;
      $("token-form").hidden = true;
      $("desk").hidden = false;
      restoreLast();
      return true;
    }
    const body = await r.json().catch(() => ({}));
    $("auth-status").textContent = (r.status === 401 ? T("缺少令牌：", "No token: ") : T("令牌无效：", "Token refused: "))
      + (body.detail || r.status);
    $("auth-status").className = "error";
    return false;
  }

  // ---- drafting ------------------------------------------------------------------------------
  function fromDraft(draft) {
    const practices = [];
    let n = 0;
    draft.districts.forEach((d) => d.practices.forEach((p) => {
      n += 1;
      const key = "p" + n;
      const kids = (list, letter, extra) => list.map((x, i) => Object.assign(
        { key: key + "-" + letter + (i + 1), status: "pending", note: "" }, x, extra ? extra(x) : {}));
      practices.push({
        key, district: d.id, quote: p.quote, start: p.start, end: p.end, rule: "clause", confidence: null,
        status: "pending", note: "", label_zh: p.quote, label_en: "", themes: [],
        mechanisms: kids(p.mechanisms, "m", (x) => ({ label_en: "", definition_zh: "", definition_en: "", broader: null })),
        topics: kids(p.topics, "t", (x) => ({ label_en: "", definition_zh: "", definition_en: "", broader: null })),
        facts: kids(p.facts, "f", () => ({ counts_en: "" })),
        dates: kids(p.dates, "d"),
      });
    }));
    return { source: draft.source, text: draft.text, practices, added: 0, sections: draft.districts.map(
      (d) => ({ id: d.id, start: d.start, end: d.end })) };
  }

  async function draft(event) {
    event.preventDefault();
    const source = { id: $("source-id").value.trim(), title: $("source-title").value.trim(),
      issued: $("source-issued").value.trim() };
    const text = $("source-text").value;
    const stored = localStorage.getItem("curate:" + source.id);
    if (stored) {
      const old = JSON.parse(stored);
      if (old.text === text) { // the same article: its decisions come back
        state = old;
        state.source = source;
        $("draft-status").textContent = T("已恢复此前的审阅决定。", "Your earlier decisions for this article are back.");
        show();
        return;
      }
    }
    $("draft-status").textContent = T("起草中…", "Drafting…");
    const r = await fetch("/api/drafts", { method: "POST", headers: headers(), body: JSON.stringify({ source, text }) });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const detail = Array.isArray(body.detail) ? body.detail.map((x) => x.loc.join(".") + ": " + x.msg).join("; ")
        : body.detail;
      $("draft-status").textContent = r.status + " — " + detail;
      $("draft-status").className = "error";
      return;
    }
    $("draft-status").className = "";
    $("draft-status").textContent = T("草稿：", "Draft: ") + body.districts.length + T(" 个区段落", " district sections");
    state = fromDraft(body);
    save();
    show();
  }

  // The text's size as the server counts it (UTF-8 bytes), against the limit the page states.
  function countBytes() {
    const size = new TextEncoder().encode($("source-text").value).length;
    const limit = Number($("text-limit").dataset.maxBytes);
    $("text-bytes").textContent = size.toLocaleString("en");
    $("text-limit").classList.toggle("error", size > limit);
  }

  function readFile() {
    const file = $("source-file").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { $("source-text").value = reader.result; countBytes(); };
    reader.readAsText(file, "utf-8");
  }

  // ---- the article, highlighted --------------------------------------------------------------
  function spans() {
    const out = [];
    state.practices.forEach((p) => {
      out.push({ start: p.start, end: p.end, cls: "p d" + (districtOrder.indexOf(p.district) % 8), key: p.key });
      ["mechanisms", "topics", "facts", "dates"].forEach((kind) => p[kind].forEach((x) => {
        out.push({ start: x.start, end: x.end, cls: "u " + kind, key: x.key });
      }));
    });
    return out;
  }

  function drawArticle() {
    const chars = Array.from(state.text);
    const all = spans();
    const cuts = new Set([0, chars.length]);
    all.forEach((s) => { cuts.add(s.start); cuts.add(s.end); });
    const points = [...cuts].filter((c) => c >= 0 && c <= chars.length).sort((a, b) => a - b);
    const box = $("article");
    box.replaceChildren();
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i], b = points[i + 1];
      const over = all.filter((s) => s.start <= a && s.end >= b);
      const classes = new Set();
      over.forEach((s) => s.cls.split(" ").forEach((c) => classes.add(c)));
      const first = over.length ? over[over.length - 1].key : null;
      box.append(el("span", { "data-start": a, class: [...classes].join(" ") || null, "data-key": null,
        "data-for": first }, chars.slice(a, b).join("")));
    }
  }

  // A click on a highlighted passage (not a selection) opens its proposal.
  function openProposal(event) {
    const span = event.target.closest("#article > span[data-for]");
    const sel = document.getSelection();
    if (!span || (sel && !sel.isCollapsed)) return;
    const target = document.querySelector('#proposals [data-key="' + span.dataset.for + '"]');
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    target.classList.add("open");
  }

  function offsetIn(node, offset) {
    let span = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    if (!span || !span.closest) return null;
    if (span === $("article")) {
      const child = span.childNodes[Math.min(offset, span.childNodes.length - 1)];
      if (!child) return null;
      return Number(child.dataset.start) + (offset >= span.childNodes.length ? Array.from(child.textContent).length : 0);
    }
    span = span.closest("#article > span");
    if (!span) return null;
    const before = node.nodeType === Node.TEXT_NODE ? node.textContent.slice(0, offset) : "";
    return Number(span.dataset.start) + Array.from(before).length;
  }

  function onSelection() {
    if (!state) return;
    const sel = document.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    if (!$("article").contains(range.commonAncestorContainer)) return;
    const a = offsetIn(range.startContainer, range.startOffset);
    const b = offsetIn(range.endContainer, range.endOffset);
    if (a === null || b === null || b <= a) return;
    const quote = Array.from(state.text).slice(a, b).join("");
    selection = { start: a, end: b, quote };
    $("selection").textContent = "“" + quote + "” (" + a + "–" + b + ")";
    $("add-go").disabled = false;
    const section = (state.sections || []).find((s) => s.start <= a && a < s.end);
    if (section) $("add-district").value = section.id;
    const holder = state.practices.find((p) => p.start <= a && b <= p.end);
    if (holder) $("add-practice").value = holder.key;
  }

  function addSelection() {
    if (!selection) return;
    const kind = $("add-kind").value;
    state.added = (state.added || 0) + 1;
    const key = "a" + state.added;
    const base = { key, quote: selection.quote, start: selection.start, end: selection.end, rule: "curator",
      confidence: null, status: "edited", note: "added by the curator" };
    if (kind === "practice") {
      state.practices.push(Object.assign(base, { district: $("add-district").value, label_zh: selection.quote,
        label_en: "", themes: [], mechanisms: [], topics: [], facts: [], dates: [] }));
      state.practices.sort((x, y) => x.start - y.start || x.end - y.end);
    } else {
      const practice = state.practices.find((p) => p.key === $("add-practice").value);
      if (!practice) { $("add-status").textContent = T("先选择所属做法。", "Choose the practice first."); return; }
      const list = { mechanism: practice.mechanisms, topic: practice.topics, fact: practice.facts }[kind];
      const extra = kind === "fact"
        ? { value: Number((selection.quote.match(/\d+(\.\d+)?/) || ["0"])[0]), unit: "", counts: "", counts_en: "" }
        : { id: null, label: selection.quote, new: true, label_en: "", definition_zh: "", definition_en: "", broader: null };
      list.push(Object.assign(base, extra));
    }
    $("add-status").textContent = T("已添加：", "Added: ") + "“" + selection.quote + "”";
    save();
    show();
    const added = document.querySelector('[data-key="' + key + '"]');
    if (added) added.classList.add("open");
  }

  // ---- proposals -----------------------------------------------------------------------------
  function field(item, name, label, type, options) {
    const id = item.key + "-" + name;
    let input;
    if (type === "select") {
      input = el("select", { id, "data-field": name }, options.map(([v, t]) => el("option", { value: v, text: t })));
      input.value = item[name] === null || item[name] === undefined ? "" : item[name];
    } else if (type === "multi") {
      input = el("select", { id, "data-field": name, multiple: true, size: 3 },
        options.map(([v, t]) => el("option", { value: v, text: t, selected: (item[name] || []).includes(v) })));
    } else {
      input = el("input", { id, "data-field": name, type: type || "text", value: item[name] === null ? "" : item[name],
        list: options || null, step: type === "number" ? "any" : null });
    }
    input.addEventListener("change", () => {
      let v = input.value;
      if (type === "multi") v = [...input.selectedOptions].map((o) => o.value);
      else if (type === "number") v = v.includes(".") ? parseFloat(v) : parseInt(v, 10);
      else if ((name === "id" || name === "broader") && v.trim() === "") v = null;
      item[name] = v;
      if (item.status !== "rejected" && name !== "themes" && name !== "label_en" && name !== "label_zh") {
        item.status = "edited";
        item.note = (item.note && item.note !== "added by the curator" ? item.note + "; " : "") + "edited " + name;
      }
      save();
      redrawItem(item);
    });
    return el("label", {}, label + " ", input);
  }

  function buttons(item) {
    const set = (status) => () => { item.status = status; save(); redrawItem(item); updateSummary(); };
    return el("div", { class: "decide" },
      el("button", { type: "button", class: "accept", onclick: set("accepted") }, T("接受", "Accept")),
      el("button", { type: "button", class: "edit", onclick: () => {
        document.querySelector('[data-key="' + item.key + '"]').classList.toggle("open");
      } }, T("修改", "Edit")),
      el("button", { type: "button", class: "reject", onclick: set("rejected") }, T("驳回", "Reject")));
  }

  const STATUS = { pending: T("待定", "pending"), accepted: T("已接受", "accepted"), edited: T("已修改", "edited"),
    rejected: T("已驳回", "rejected") };

  function conceptEditor(item, kind) {
    const listId = kind === "mechanisms" ? "mechanism-ids" : "topic-ids";
    return [field(item, "id", T("已有编号（空＝新建）", "Existing id (empty = new)"), "text", listId),
      field(item, "label", T("中文标签", "Chinese label")), field(item, "label_en", T("英文标签", "English label")),
      field(item, "definition_zh", T("中文定义", "Definition (zh)")),
      field(item, "definition_en", T("英文定义", "Definition (en)")),
      field(item, "broader", T("上位（编号）", "Broader (id)"), "text", listId)];
  }

  function itemNode(item, kind) {
    const title = titleOf(item, kind);
    const editor = kind === "facts"
      ? [field(item, "value", T("数值", "Value"), "number"),
        field(item, "unit", T("单位", "Unit"), "select", [["", "—"], ...desk.units.map((u) => [u, u])]),
        field(item, "counts", T("计数对象（中文）", "What it counts (zh)")),
        field(item, "counts_en", T("计数对象（英文）", "What it counts (en)"))]
      : kind === "dates"
        ? [field(item, "value", T("值", "Value")), field(item, "role", T("角色", "Role"), "select",
          [["date", T("日期", "date")], ["start", T("起", "start")], ["end", T("止", "end")]])]
        : conceptEditor(item, kind);
    const kindName = { mechanisms: T("机制", "mechanism"), topics: T("议题", "topic"), facts: T("数据", "fact"),
      dates: T("日期", "date") }[kind];
    return el("li", { class: "proposal " + item.status, "data-key": item.key, "data-kind": kind },
      el("div", { class: "head" }, el("span", { class: "kind" }, kindName), " ",
        el("strong", { class: "title" }, title), " ",
        el("q", { lang: "zh-Hans" }, item.quote), " ",
        el("span", { class: "muted rule" }, item.rule + (item.confidence !== null && item.confidence !== undefined
          ? " · " + item.confidence : "")),
        " ", el("span", { class: "status" }, STATUS[item.status])),
      kind === "facts" ? unitMark(item) : null,
      buttons(item), el("div", { class: "editor" }, editor), el("div", { class: "violations" }));
  }

  // A fact whose measure word is not one of the ontology's units (the draft marks it +unlisted-unit;
  // desk.units is the served ontology's list, so the mark follows the curator's choice of unit) would be
  // refused at publish: say so before, and what to do.
  function unitUnlisted(item) { return !desk.units.includes(item.unit); }

  function unitMark(item) {
    return el("p", { class: "unit-unlisted", hidden: unitUnlisted(item) ? null : "" },
      T("“" + item.unit + "”不是本体受控列表中的计量单位：请在“单位”中选择列表中的单位，否则发布时会被 S05 拒绝。",
        "“" + item.unit + "” is not one of the ontology's units: pick a listed unit under Unit, or S05 refuses "
        + "the fact at publish."));
  }

  function practiceNode(p) {
    const themeOptions = desk.themes.map((t) => [t.id, zh ? t.zh : t.en]);
    return el("div", { class: "practice card " + p.status, "data-key": p.key },
      el("div", { class: "head" }, el("span", { class: "kind" }, T("做法", "practice")), " ",
        el("q", { lang: "zh-Hans" }, p.quote), " ",
        el("span", { class: "muted rule" }, p.rule + " · " + p.start + "–" + p.end), " ",
        el("span", { class: "status" }, STATUS[p.status])),
      buttons(p),
      el("div", { class: "practice-fields" },
        field(p, "label_zh", T("中文标签", "Chinese label")),
        field(p, "label_en", T("英文标签（必填）", "English label (required)")),
        field(p, "themes", T("主题（至少一个）", "Themes (at least one)"), "multi", themeOptions)),
      el("div", { class: "violations" }),
      el("ul", { class: "proposals" }, ["mechanisms", "topics", "facts", "dates"].map(
        (kind) => p[kind].map((x) => itemNode(x, kind)))));
  }

  function find(key) {
    for (const p of state.practices) {
      if (p.key === key) return [p, null];
      for (const kind of ["mechanisms", "topics", "facts", "dates"]) {
        const x = p[kind].find((y) => y.key === key);
        if (x) return [x, kind];
      }
    }
    return [null, null];
  }

  function titleOf(item, kind) {
    if (kind === "facts") return item.value + " " + item.unit + (item.counts ? " · " + item.counts : "");
    if (kind === "dates") {
      return item.value + " (" + item.datatype.split("#")[1] + (item.role !== "date" ? ", " + item.role : "") + ")";
    }
    return (item.id ? item.id + " · " : T("新 · ", "new · ")) + item.label;
  }

  // A decision or an edit changes the item's marks in place (its fields keep their focus).
  function redrawItem(item) {
    const node = document.querySelector('[data-key="' + item.key + '"]');
    if (!node) return;
    const [, kind] = find(item.key);
    ["pending", "accepted", "edited", "rejected"].forEach((s) => node.classList.toggle(s, s === item.status));
    node.querySelector(":scope > .head .status").textContent = STATUS[item.status];
    const title = node.querySelector(":scope > .head .title");
    if (title && kind) title.textContent = titleOf(item, kind);
    const mark = node.querySelector(":scope > .unit-unlisted");
    if (mark) mark.replaceWith(unitMark(item));
    updateSummary();
  }

  function drawProposals() {
    const box = $("proposals");
    box.replaceChildren();
    const by = {};
    state.practices.forEach((p) => { (by[p.district] = by[p.district] || []).push(p); });
    districtOrder.filter((d) => by[d]).forEach((d) => {
      box.append(el("section", { class: "district", "data-district": d },
        el("h3", {}, districtName[d] || d), by[d].map(practiceNode)));
    });
    const districts = $("add-district");
    districts.replaceChildren(...desk.districts.map((d) => el("option", { value: d.id, text: zh ? d.zh : d.en })));
    $("add-practice").replaceChildren(...state.practices.map((p) => el("option", { value: p.key,
      text: (districtName[p.district] || p.district) + " · " + p.quote.slice(0, 18) })));
  }

  function accepted(x) { return x.status === "accepted" || x.status === "edited"; }

  function updateSummary() {
    if (!state) return;
    const ps = state.practices.filter(accepted);
    const inside = ps.reduce((n, p) => n + ["mechanisms", "topics", "facts", "dates"].reduce(
      (m, k) => m + p[k].filter(accepted).length, 0), 0);
    $("publish-summary").textContent = zh
      ? "将发布 " + ps.length + " 项做法及其中 " + inside + " 条接受的提议到图 …/graph/source/" + state.source.id
        + "（替换此前为它发布的内容）。"
      : ps.length + " practices and " + inside + " accepted proposals in them will be published into …/graph/source/"
        + state.source.id + " (replacing what was published for it before).";
  }

  function show() {
    $("source-id").value = state.source.id;
    $("source-title").value = state.source.title;
    $("source-issued").value = state.source.issued;
    $("source-text").value = state.text;
    countBytes();
    $("review").hidden = false;
    drawArticle();
    drawProposals();
    updateSummary();
    (state.violations || []).forEach(markViolation);
  }

  function restoreLast() {
    const last = localStorage.getItem(LAST);
    const stored = last && localStorage.getItem("curate:" + last);
    if (!stored) return;
    state = JSON.parse(stored);
    show();
    $("draft-status").textContent = T("已恢复上次的审阅（", "Your last review is back (") + last + T("）。", ").");
  }

  // ---- publishing ----------------------------------------------------------------------------
  function payload() {
    const pick = (x, names) => Object.fromEntries(names.filter((n) => x[n] !== undefined).map((n) => [n, x[n]]));
    const common = ["key", "quote", "start", "end", "rule", "confidence", "note"];
    const concept = [...common, "id", "label", "label_en", "definition_zh", "definition_en", "broader"];
    return {
      source: state.source, text: state.text,
      practices: state.practices.filter(accepted).map((p) => Object.assign(
        pick(p, [...common, "district", "label_zh", "label_en", "themes"]), {
          mechanisms: p.mechanisms.filter(accepted).map((x) => pick(x, concept)),
          topics: p.topics.filter(accepted).map((x) => pick(x, concept)),
          facts: p.facts.filter(accepted).map((x) => pick(x, [...common, "value", "unit", "counts", "counts_en"])),
          dates: p.dates.filter(accepted).map((x) => pick(x, [...common, "value", "datatype", "role"])),
        })),
    };
  }

  function markViolation(v) {
    const holder = v.key && document.querySelector('[data-key="' + v.key + '"] > .violations');
    const text = zh ? (v.message_zh || v.message) : v.message;
    if (holder) {
      holder.append(el("p", { class: "violation" }, text + (v.path ? " (" + v.path.split(/[#/]/).pop() + ")" : "")));
      holder.parentElement.classList.add("refused");
    }
  }

  async function publish() {
    document.querySelectorAll(".violations").forEach((v) => v.replaceChildren());
    document.querySelectorAll(".refused").forEach((v) => v.classList.remove("refused"));
    const status = $("publish-status");
    status.className = "";
    status.textContent = T("发布中…", "Publishing…");
    const r = await fetch("/api/drafts/publish", { method: "POST", headers: headers(), body: JSON.stringify(payload()) });
    const body = await r.json().catch(() => ({}));
    if (r.status === 201) {
      state.violations = [];
      state.published = body;
      save();
      status.className = "published";
      status.replaceChildren(el("p", {}, T("已发布：", "Published: ") + body.graph + " · " + T("版本 ", "version ")
        + body.version.slice(0, 12)),
        el("p", {}, el("a", { href: "/id/source/" + state.source.id }, T("来源", "the source")), " · ",
          el("a", { href: "/api/districts/" + (state.practices.find(accepted) || {}).district }, T("区的 JSON", "district JSON"))));
      return;
    }
    status.className = "error";
    const list = Array.isArray(body.violations) ? body.violations : [];
    state.violations = list;
    save();
    const detail = Array.isArray(body.detail) ? body.detail.map((x) => x.loc.join(".") + ": " + x.msg).join("; ")
      : body.detail || r.status;
    status.replaceChildren(el("p", {}, r.status + " — " + detail + T("。你的决定仍在本页，修正后可再次发布。",
      ". Your decisions are still here: fix them and publish again.")),
      el("ul", {}, list.map((v) => el("li", {}, (v.key ? v.key + ": " : "") + (zh ? (v.message_zh || v.message) : v.message)))));
    list.forEach(markViolation);
  }

  // The same statements as a file, for data/sources/<id>/ and a review in git (nothing is written).
  async function turtle() {
    const status = $("publish-status");
    const r = await fetch("/api/drafts/turtle", { method: "POST", headers: headers(), body: JSON.stringify(payload()) });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      status.className = "error";
      status.textContent = r.status + " — " + (typeof body.detail === "string" ? body.detail : r.status);
      (body.violations || []).forEach(markViolation);
      return;
    }
    const link = el("a", { href: URL.createObjectURL(await r.blob()), download: state.source.id + ".ttl" });
    document.body.append(link);
    link.click();
    link.remove();
  }

  function discard() {
    if (!state) return;
    localStorage.removeItem("curate:" + state.source.id);
    localStorage.removeItem(LAST);
    state = null;
    $("review").hidden = true;
  }

  // ---- wiring --------------------------------------------------------------------------------
  const form = $("token-form");
  if (form) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN, $("token").value);
      checkToken();
    });
    if (token()) checkToken();
  }
  $("draft-form").addEventListener("submit", draft);
  $("source-file").addEventListener("change", readFile);
  $("source-text").addEventListener("input", countBytes);
  document.addEventListener("selectionchange", onSelection);
  $("add-go").addEventListener("click", addSelection);
  $("article").addEventListener("click", openProposal);
  $("add-kind").addEventListener("change", () => {
    const practice = $("add-kind").value === "practice";
    $("add-district-label").hidden = !practice;
    $("add-practice-label").hidden = practice;
  });
  $("add-practice-label").hidden = true;
  $("publish").addEventListener("click", publish);
  $("turtle").addEventListener("click", turtle);
  $("discard").addEventListener("click", discard);
}());
