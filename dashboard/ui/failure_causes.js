// FailureCausesElement (failure_causes.py); JS_HELPERS (helpers.js) comes before it.
function sparkline(series) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  const top = Math.max(1, ...series);
  const step = series.length > 1 ? 100 / (series.length - 1) : 100;
  const points = series.map((v, i) => `${(i * step).toFixed(2)},${(22 - 20 * v / top).toFixed(2)}`);
  if (points.length === 1) points.push(`100,${points[0].split(",")[1]}`);
  const area = document.createElementNS(ns, "polygon");
  area.setAttribute("points", `0,24 ${points.join(" ")} 100,24`);
  area.setAttribute("class", "area");
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", "line");
  svg.append(area, line);
  return svg;
}
export function render({ model, el }) {
  const box = h("div", "causes");
  function draw() {
    box.replaceChildren();
    const head = h("div", "head");
    head.append(h("span", "title", "Failure causes"));
    const total = model.causes.reduce((n, c) => n + c.count, 0);
    head.append(h("span", "muted total", model.loaded ? fmtNumber(total) + " failed in the range" : "Counting…"));
    if (model.active) {
      const reset = h("button", "reset", "Show all executions");
      reset.addEventListener("click", () => model.send_msg({ cause: "" }));
      head.append(reset);
    }
    box.append(head);
    const cards = h("div", "cards");
    for (const c of model.causes) {
      const card = h("button", "card" + (c.key === model.active ? " active" : "") + (c.count ? "" : " none"));
      card.setAttribute("data-cause", c.key);
      card.setAttribute("aria-pressed", c.key === model.active ? "true" : "false");
      card.title = c.count ? `Show the ${c.count} failed executions: ${c.label}` : c.label;
      card.append(h("span", "label", c.label));
      const row = h("span", "row");
      row.append(h("span", "count", fmtNumber(c.count)));
      const spark = sparkline(c.series);
      spark.setAttribute("aria-label", `Failures per ${model.bucket}: ${c.series.join(", ")}`);
      row.append(spark);
      card.append(row);
      card.addEventListener("click", () => model.send_msg({ cause: c.key === model.active ? "" : c.key }));
      cards.append(card);
    }
    box.append(cards);
  }
  model.on(["causes", "active", "loaded", "bucket"], draw);
  draw();
  el.append(box);
}
