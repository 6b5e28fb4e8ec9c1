/* Draws the dashboard's charts with the plotly.js the app serves itself.
   Each chart container names the <script type="application/json"> block holding its
   figure; a click on a bar opens the records behind it (the bar's customdata). */
(function () {
  "use strict";

  function isLocal(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  function draw(container) {
    var source = document.getElementById(container.getAttribute("data-figure"));
    if (!source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    container.textContent = "";
    window.Plotly.newPlot(container, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false
    }).then(function () {
      container.setAttribute("data-ready", "true");
    });
    container.on("plotly_click", function (event) {
      var point = event && event.points && event.points[0];
      if (point && isLocal(point.customdata)) {
        window.location.assign(point.customdata);
      }
    });
  }

  function init() {
    var charts = document.querySelectorAll("[data-figure]");
    for (var i = 0; i < charts.length; i += 1) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
