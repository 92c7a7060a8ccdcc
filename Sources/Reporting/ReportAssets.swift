/// The report's stylesheet and script, inlined into the page so that the file opens anywhere,
/// offline, on its own. The charts are complete without the script; it only adds the read-out of
/// the values under the pointer, and marks each chart it has set up with `data-hover="ready"`.
enum ReportAssets {
    static let stylesheet = """
        :root { --text: #1f2937; --muted: #6b7280; --line: #e5e7eb; --page: #f6f7f9; --card: #fff; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--page); color: var(--text);
          font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1200px; margin: 0 auto; padding: 32px 24px 48px; }
        h1 { font-size: 24px; font-weight: 650; margin: 0 0 4px; letter-spacing: -0.01em; }
        h2 { font-size: 16px; font-weight: 600; margin: 36px 0 12px; }
        code, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
        .subtitle { color: var(--muted); margin: 0; }
        .subtitle b { color: var(--text); font-weight: 600; }
        .badge { display: inline-block; margin-left: 8px; padding: 1px 8px; border-radius: 999px; font-size: 12px;
          font-weight: 600; vertical-align: 4px; }
        .badge.finished { background: #dcfce7; color: #166534; }
        .badge.running { background: #fef3c7; color: #92400e; }
        .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 24px 0 0; }
        .stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
        .stat .label { color: var(--muted); font-size: 12px; }
        .stat .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
        .stat .note { margin: 0; }
        td.number { white-space: nowrap; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 16px 0 0; }
        .facts dt { color: var(--muted); }
        .facts dd { margin: 0; overflow-wrap: anywhere; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 4px; }
        svg.chart { display: block; width: 100%; height: auto; }
        .chart text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
        .chart .chart-title { font-size: 14px; font-weight: 600; fill: var(--text); }
        .chart .legend text { font-size: 12px; fill: #374151; }
        .chart .grid line { stroke: #edf0f3; }
        .chart .grid line.vertical { stroke: #f4f5f7; }
        .chart .grid line.axis { stroke: #9ca3af; }
        .chart .axis-label { font-size: 11px; }
        .chart .marker text { font-size: 10px; font-weight: 600; }
        .chart .hover-line { stroke: #9ca3af; stroke-width: 1; }
        table { width: 100%; border-collapse: separate; border-spacing: 0; background: var(--card);
          border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
        th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
        tr:last-child td { border-bottom: none; }
        th { background: #f9fafb; color: var(--muted); font-size: 12px; font-weight: 600; }
        td.number { font-variant-numeric: tabular-nums; }
        tr.differs td { background: #fffbeb; }
        .text { white-space: pre-wrap; overflow-wrap: anywhere; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: 0; }
        .note { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
        details { margin: 0 0 12px; }
        summary { cursor: pointer; font-weight: 600; margin: 0 0 8px; }
        footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
        #tooltip { position: fixed; display: none; pointer-events: none; z-index: 10; background: #fff;
          border: 1px solid #d1d5db; border-radius: 6px; box-shadow: 0 4px 14px rgba(15, 23, 42, 0.1);
          padding: 6px 9px; font-size: 12px; white-space: nowrap; }
        #tooltip .step { color: var(--muted); margin-bottom: 2px; }
        #tooltip .at { color: var(--muted); }
        """

    /// Shows, under the pointer, a vertical rule at the nearest logged step and each series' value
    /// there. Reads the chart's ranges from its `data-x`, `data-y` and `data-plot` attributes and
    /// each series' values from `data-points` (`x,y;x,y;…`).
    static let script = """
        (() => {
          "use strict";
          const tooltip = document.createElement("div");
          tooltip.id = "tooltip";
          document.body.appendChild(tooltip);
          const numbers = (text) => text.split(" ").map(Number);
          const format = (value) => {
            const size = Math.abs(value);
            if (size !== 0 && (size < 1e-3 || size >= 1e6)) return value.toExponential(2);
            if (size >= 1000) return Math.round(value).toLocaleString("en-US");
            return String(Number(value.toPrecision(4)));
          };
          const nearest = (points, x) => {
            let low = 0, high = points.length - 1;
            while (high - low > 1) {
              const middle = (low + high) >> 1;
              if (points[middle][0] < x) low = middle; else high = middle;
            }
            return Math.abs(points[low][0] - x) <= Math.abs(points[high][0] - x) ? points[low] : points[high];
          };
          for (const svg of document.querySelectorAll("svg.chart")) {
            const [xLow, xHigh] = numbers(svg.dataset.x), [yLow, yHigh] = numbers(svg.dataset.y);
            const [left, top, right, bottom] = numbers(svg.dataset.plot);
            const toX = (x) => left + (x - xLow) / (xHigh - xLow) * (right - left);
            const toY = (y) => bottom - (y - yLow) / (yHigh - yLow) * (bottom - top);
            const rule = svg.querySelector(".hover-line");
            const series = [...svg.querySelectorAll("g.series")].map((group) => ({
              name: group.dataset.name, colour: group.dataset.colour, dot: group.querySelector(".hover-dot"),
              points: group.dataset.points.split(";").map((pair) => pair.split(",").map(Number)),
            }));
            const hide = () => {
              tooltip.style.display = "none";
              rule.setAttribute("visibility", "hidden");
              for (const line of series) line.dot.setAttribute("visibility", "hidden");
            };
            svg.addEventListener("mouseleave", hide);
            svg.addEventListener("mousemove", (event) => {
              const box = svg.getBoundingClientRect();
              const position = (event.clientX - box.left) * svg.viewBox.baseVal.width / box.width;
              if (series.length === 0 || position < left - 6 || position > right + 6) { hide(); return; }
              const x = xLow + (position - left) / (right - left) * (xHigh - xLow);
              const picks = series.map((line) => ({ line, point: nearest(line.points, x) }));
              const anchor = picks.reduce((best, pick) =>
                Math.abs(pick.point[0] - x) < Math.abs(best.point[0] - x) ? pick : best);
              rule.setAttribute("x1", toX(anchor.point[0]));
              rule.setAttribute("x2", toX(anchor.point[0]));
              rule.setAttribute("visibility", "visible");
              tooltip.replaceChildren();
              const heading = document.createElement("div");
              heading.className = "step";
              heading.textContent = "step " + anchor.point[0];
              tooltip.appendChild(heading);
              for (const { line, point } of picks) {
                line.dot.setAttribute("cx", toX(point[0]));
                line.dot.setAttribute("cy", toY(point[1]));
                line.dot.setAttribute("visibility", "visible");
                const row = document.createElement("div");
                const swatch = document.createElement("span");
                swatch.className = "swatch";
                swatch.style.background = line.colour;
                const value = document.createElement("b");
                value.textContent = format(point[1]);
                row.append(swatch, line.name + " ", value);
                if (point[0] !== anchor.point[0]) {
                  const at = document.createElement("span");
                  at.className = "at";
                  at.textContent = " at step " + point[0];
                  row.append(at);
                }
                tooltip.appendChild(row);
              }
              tooltip.style.display = "block";
              const width = tooltip.offsetWidth, height = tooltip.offsetHeight;
              const across = event.clientX + 14 + width > window.innerWidth ? event.clientX - 14 - width : event.clientX + 14;
              const down = event.clientY + 14 + height > window.innerHeight ? event.clientY - 14 - height : event.clientY + 14;
              tooltip.style.left = across + "px";
              tooltip.style.top = down + "px";
            });
            svg.dataset.hover = "ready";
          }
        })();
        """
}
