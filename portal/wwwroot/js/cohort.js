// Cohort builder and live count. Without this script the page still works: the form posts and
// the server renders the whole answer; with it, criteria are added from the code list and each
// site's result appears as it arrives (server-sent events over a streaming fetch).
(function () {
  "use strict";
  var form = document.getElementById("count-form");
  var textarea = document.getElementById("ccdl");
  var builder = document.getElementById("builder");
  if (!form || !textarea) return;
  builder.hidden = false;
  var words = form.dataset;   // the page's language, from the server's word lists
  function statusWord(s) { return words["status" + s.charAt(0).toUpperCase() + s.slice(1)] || s; }

  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function query() { try { return JSON.parse(textarea.value); } catch (e) { return null; } }
  function write(q) { textarea.value = JSON.stringify(q, null, 2); render(); }

  function describe(c) {
    var t = (c.termCodes || []).map(function (x) { return x.display || x.code; }).join(" / ");
    var f = c.valueFilter;
    if (f && f.type === "concept") t += ": " + f.selectedConcepts.map(function (x) { return x.display || x.code; }).join(", ");
    if (f && f.type === "quantity-comparator") t += " " + f.comparator + " " + f.value + (f.unit ? " " + (f.unit.code || "") : "");
    if (c.timeRestriction) t += " (" + (c.timeRestriction.afterDate || "…") + " – " + (c.timeRestriction.beforeDate || "…") + ")";
    return t;
  }

  function render() {
    var groups = document.getElementById("groups");
    groups.textContent = "";
    var q = query();
    if (!q) { document.getElementById("builder-status").textContent = "⚠ JSON"; return; }
    [["inclusionCriteria", "Inclusion"], ["exclusionCriteria", "Exclusion"]].forEach(function (pair) {
      (q[pair[0]] || []).forEach(function (group, gi) {
        var box = el("div", null, "group");
        box.appendChild(el("strong", pair[1] + " " + (gi + 1)));
        group.forEach(function (c, ci) {
          var row = el("div", describe(c), "criterion");
          var remove = el("button", "✕");
          remove.type = "button";
          remove.setAttribute("aria-label", "remove " + describe(c));
          remove.addEventListener("click", function () {
            var q2 = query(); q2[pair[0]][gi].splice(ci, 1);
            if (q2[pair[0]][gi].length === 0) q2[pair[0]].splice(gi, 1);
            if (q2[pair[0]].length === 0 && pair[0] === "exclusionCriteria") delete q2.exclusionCriteria;
            write(q2);
          });
          row.appendChild(document.createTextNode(" "));
          row.appendChild(remove);
          box.appendChild(row);
        });
        groups.appendChild(box);
      });
    });
  }

  document.getElementById("crit-add").addEventListener("click", function () {
    var search = document.getElementById("code-search").value;
    var option = Array.prototype.find.call(document.querySelectorAll("#code-list option"), function (o) { return o.value === search; });
    var status = document.getElementById("builder-status");
    if (!option) { status.textContent = words.choose; return; }
    var d = option.dataset;
    var c = { context: { system: "fdpg.mii.cds", code: d.context, display: d.context }, termCodes: [{ system: d.system, code: d.code, display: d.display }] };
    var comparator = document.getElementById("crit-comparator").value;
    var value = document.getElementById("crit-value").value;
    if (comparator === "female" || comparator === "male") c.valueFilter = { type: "concept", selectedConcepts: [{ system: "http://hl7.org/fhir/administrative-gender", code: comparator, display: comparator }] };
    else if (comparator === "positive") c.valueFilter = { type: "concept", selectedConcepts: [{ system: "http://snomed.info/sct", code: "10828004", display: "Positive" }] };
    else if (comparator && value !== "") c.valueFilter = { type: "quantity-comparator", comparator: comparator, value: Number(value), unit: { code: d.unit || "" } };
    var after = document.getElementById("crit-after").value, before = document.getElementById("crit-before").value;
    if (after || before) { c.timeRestriction = {}; if (after) c.timeRestriction.afterDate = after; if (before) c.timeRestriction.beforeDate = before; }
    var q = query() || { version: "2", display: "", inclusionCriteria: [] };
    var where = document.getElementById("crit-where").value;
    q.inclusionCriteria = q.inclusionCriteria || [];
    if (where === "new-exclusion") { q.exclusionCriteria = q.exclusionCriteria || []; q.exclusionCriteria.push([c]); }
    else if (where === "last-inclusion" && q.inclusionCriteria.length > 0) q.inclusionCriteria[q.inclusionCriteria.length - 1].push(c);
    else q.inclusionCriteria.push([c]);
    q.display = q.inclusionCriteria.map(function (g) { return g.map(describe).join(" or "); }).join(" and ");
    write(q);
    status.textContent = words.added + " " + describe(c);
  });
  document.getElementById("crit-clear").addEventListener("click", function () { write({ version: "2", display: "", inclusionCriteria: [] }); });
  textarea.addEventListener("input", render);
  render();

  // Live count: POST to the Stream handler, read server-sent events as they come.
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    var token = form.querySelector("input[name=__RequestVerificationToken]").value;
    var tbody = document.querySelector("#site-results tbody");
    var total = document.getElementById("count-total");
    var problem = document.getElementById("count-problem");
    var strata = document.getElementById("strata-total");
    tbody.textContent = ""; total.textContent = ""; problem.textContent = ""; strata.textContent = "";
    var button = document.getElementById("count-button");
    button.disabled = true;
    var max = 1;
    fetch("?handler=Stream", { method: "POST", body: body, headers: { "RequestVerificationToken": token } }).then(function (response) {
      if (!response.ok) return response.json().then(function (j) { problem.textContent = j.error || response.statusText; });
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) return;
          buffer += decoder.decode(r.value, { stream: true });
          var parts = buffer.split("\n\n"); buffer = parts.pop();
          parts.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function (e) { problem.textContent = String(e); }).finally(function () { button.disabled = false; });

    function handle(chunk) {
      var lines = chunk.split("\n"), kind = "message", data = "";
      lines.forEach(function (l) { if (l.indexOf("event: ") === 0) kind = l.slice(7); else if (l.indexOf("data: ") === 0) data += l.slice(6); });
      if (!data) return;
      var e = JSON.parse(data);
      if (kind === "failure") { problem.textContent = e.error; return; }
      if (e.kind === "started") {
        e.sites.forEach(function (s) {
          var tr = el("tr"); tr.dataset.site = s;
          [s, "…", "", "", ""].forEach(function (v, i) { var td = el("td", v); td.dataset.label = document.querySelectorAll("#site-results th")[i].textContent; if (i === 2) td.className = "num"; tr.appendChild(td); });
          tr.children[1].className = "status-wait";
          tbody.appendChild(tr);
        });
      } else if (e.kind === "site") {
        var tr = tbody.querySelector("tr[data-site='" + CSS.escape(e.site) + "']");
        if (!tr) return;
        tr.children[1].textContent = statusWord(e.status); tr.children[1].className = e.status === "ok" ? "status-ok" : "status-bad";
        var c = e.count;
        tr.children[2].textContent = !c ? "–" : c.belowThreshold ? words.below : c.value == null ? "–" : c.value;
        if (c && c.value != null) {
          max = Math.max(max, c.value);
          tbody.querySelectorAll("tr").forEach(function (row) { var v = Number(row.children[2].textContent); var bar = row.children[3]; bar.textContent = ""; if (!isNaN(v) && row.children[2].textContent !== "") { var span = el("span", null, "bar"); span.style.width = Math.round(100 * v / max) + "%"; bar.appendChild(span); } });
        }
        tr.children[4].textContent = e.status === "ok" ? (c ? c.treatment : "") : e.message;
        if (e.strata && e.strata.length) { var ul = el("ul"); e.strata.forEach(function (s) { ul.appendChild(el("li", s.key + ": " + (s.count && s.count.value != null ? s.count.value : words.below))); }); tr.children[4].appendChild(ul); }
      } else if (e.kind === "total") {
        total.textContent = words.total + ": " + (e.value == null ? words.notShown : e.value) + " – " + e.explanation;
        if (e.strata && e.strata.length) {
          var table = el("table", null, "stack"); table.setAttribute("aria-label", words.strata);
          var head = el("thead"), hr = el("tr"); [words.stratum, words.count].forEach(function (w, i) { var th = el("th", w, i === 1 ? "num" : null); th.scope = "col"; hr.appendChild(th); }); head.appendChild(hr); table.appendChild(head);
          var tb = el("tbody");
          e.strata.forEach(function (s) { var tr = el("tr"); var k = el("td", s.key); k.dataset.label = words.stratum; tr.appendChild(k); var v = el("td", s.value == null ? words.below : String(s.value), "num"); v.dataset.label = words.count; tr.appendChild(v); tb.appendChild(tr); });
          table.appendChild(tb); strata.appendChild(table);
          if (window.midiaStrataChart) window.midiaStrataChart(strata);
        }
      }
    }
  });
})();
