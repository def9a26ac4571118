// Convlab course pages: draws Plotly figures (when they come into view, and all of them before
// printing), follows the reader's light/dark setting, highlights the current ToC entry and opens
// the lessons menu on phones. Works from file:// with no network.
(function () {
  "use strict";
  const dark = globalThis.matchMedia ? globalThis.matchMedia("(prefers-color-scheme: dark)") : null;
  const drawn = [];

  function themed(layout, el) {
    const copy = JSON.parse(JSON.stringify(layout || {}));
    // A figure wider than the column (phones, two-panel charts) shrinks to fit it.
    if (typeof copy.width === "number" && el && el.clientWidth > 0 && copy.width > el.clientWidth) {
      delete copy.width;
      copy.autosize = true;
    }
    const isDark = dark && dark.matches;
    // Only figures that chose no colours of their own follow the page theme.
    if (!copy.template && copy.paper_bgcolor === undefined) copy.paper_bgcolor = "rgba(0,0,0,0)";
    if (!copy.template && copy.plot_bgcolor === undefined) copy.plot_bgcolor = "rgba(0,0,0,0)";
    if (isDark && !copy.template) {
      copy.font = Object.assign({ color: "#e6edf3" }, copy.font || {});
      ["xaxis", "yaxis", "xaxis2", "yaxis2"].forEach(function (axis) {
        if (axis === "xaxis" || axis === "yaxis" || copy[axis]) {
          copy[axis] = Object.assign(
            { gridcolor: "#30363d", zerolinecolor: "#3d444d", linecolor: "#3d444d" },
            copy[axis] || {},
          );
        }
      });
    }
    return copy;
  }

  function draw(el) {
    if (el.getAttribute("data-drawn") || !globalThis.Plotly) return;
    const script = document.getElementById(el.getAttribute("data-figure"));
    if (!script) return;
    const figure = JSON.parse(script.textContent);
    el.setAttribute("data-drawn", "1");
    el.textContent = "";
    el.style.minHeight = "";
    const config = { responsive: true, displaylogo: false };
    const done = globalThis.Plotly.newPlot(el, figure.data, themed(figure.layout, el), config);
    drawn.push({ el: el, layout: figure.layout });
    if (figure.frames && done && done.then) {
      done.then(function () {
        globalThis.Plotly.addFrames(el, figure.frames);
      });
    }
  }

  function drawAll() {
    document.querySelectorAll(".cl-plotly[data-figure]").forEach(draw);
  }

  function setUpPlots() {
    const plots = document.querySelectorAll(".cl-plotly[data-figure]");
    if (!plots.length || !globalThis.Plotly) return;
    if ("IntersectionObserver" in globalThis) {
      const observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            observer.unobserve(entry.target);
            draw(entry.target);
          }
        });
      }, { rootMargin: "600px 0px" });
      plots.forEach(function (el) {
        observer.observe(el);
      });
      // Figures out of view are drawn in idle time, one at a time, so none stays blank.
      const idle = globalThis.requestIdleCallback || function (f) {
        return setTimeout(f, 50);
      };
      const queue = Array.prototype.slice.call(plots);
      const next = function () {
        const el = queue.shift();
        if (!el) return;
        observer.unobserve(el);
        draw(el);
        idle(next);
      };
      idle(next);
    } else {
      drawAll();
    }
    globalThis.addEventListener("beforeprint", drawAll);
    if (dark && dark.addEventListener) {
      dark.addEventListener("change", function () {
        drawn.forEach(function (d) {
          globalThis.Plotly.relayout(d.el, themed(d.layout, d.el));
        });
      });
    }
  }

  function setUpToc() {
    const links = document.querySelectorAll(".cl-toc a[href^='#']");
    if (!links.length || !("IntersectionObserver" in globalThis)) return;
    const byId = {};
    links.forEach(function (a) {
      byId[decodeURIComponent(a.getAttribute("href").slice(1))] = a;
    });
    const observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        links.forEach(function (a) {
          a.classList.remove("cl-active");
        });
        const link = byId[entry.target.id];
        if (link) link.classList.add("cl-active");
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    Object.keys(byId).forEach(function (id) {
      const heading = document.getElementById(id);
      if (heading) observer.observe(heading);
    });
  }

  function setUpMenu() {
    const button = document.querySelector(".cl-menu-button");
    if (!button) return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      const open = document.body.classList.toggle("cl-nav-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function start() {
    setUpPlots();
    setUpToc();
    setUpMenu();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
