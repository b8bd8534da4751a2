// Driftline dashboard: sortable tables, search boxes, charts. No framework, no CDN.
"use strict";
window.Driftline = (function () {
  function sortTable(table, column, th) {
    const body = table.tBodies[0];
    if (!body) return;
    const kind = th.dataset.sort;
    const descending = th.getAttribute("aria-sort") !== "descending";
    for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const rows = Array.from(body.rows);
    const key = (row) => {
      const cell = row.cells[column];
      const raw = cell ? (cell.dataset.value ?? cell.textContent.trim()) : "";
      if (kind === "number") {
        const n = parseFloat(raw);
        return Number.isFinite(n) ? n : -Infinity;
      }
      return raw.toLowerCase();
    };
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    for (const row of rows) body.appendChild(row);
  }

  function tables() {
    for (const table of document.querySelectorAll("table.sortable")) {
      const head = table.tHead && table.tHead.rows[0];
      if (!head) continue;
      Array.from(head.cells).forEach((th, column) => {
        if (!th.dataset.sort) return;
        th.tabIndex = 0;
        th.classList.add("sort-handle");
        th.addEventListener("click", () => sortTable(table, column, th));
        th.addEventListener("keydown", (e) => { if (e.key === "Enter") sortTable(table, column, th); });
      });
    }
  }

  function searches() {
    for (const input of document.querySelectorAll("input[data-filter-table]")) {
      const table = document.getElementById(input.dataset.filterTable);
      if (!table) continue;
      const apply = () => {
        const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        for (const row of table.tBodies[0].rows) {
          const text = (row.dataset.search || row.textContent).toLowerCase();
          row.hidden = !words.every((w) => text.includes(w));
        }
        if (input.dataset.param) {
          const url = new URL(window.location.href);
          if (input.value) url.searchParams.set(input.dataset.param, input.value);
          else url.searchParams.delete(input.dataset.param);
          window.history.replaceState(null, "", url);
        }
      };
      input.addEventListener("input", apply);
      apply();
    }
  }

  function charts() {
    if (!window.Plotly) return;
    for (const el of document.querySelectorAll("[data-chart]")) {
      const source = document.getElementById(el.dataset.chart);
      if (!source) continue;
      const figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, figure.data, figure.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["lasso2d", "select2d"],
      });
      const param = el.dataset.clickParam;
      if (param) {
        el.on("plotly_click", (event) => {
          const point = event.points && event.points[0];
          const when = point && (point.customdata || point.x);
          if (!when) return;
          const url = new URL(window.location.href);
          url.searchParams.set(param, when);
          url.hash = "features";
          window.location.assign(url);
        });
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => { tables(); searches(); });
  return { charts, sortTable };
})();
