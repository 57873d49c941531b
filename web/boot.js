// alliance-map: the first requests of the map page, sent from the page's head before MapLibre
// (about 1 MB of script) is downloaded, parsed and run. The page's script (app.js) takes each
// answer over from window.__allianceBoot, so every document is still fetched once; if this
// file did not run, app.js fetches them itself.
"use strict";

(function () {
  const get = (url) => {
    const response = fetch(url, { headers: { accept: "application/json" } });
    response.catch(() => {}); // a network error is reported by app.js, which awaits it
    return response;
  };
  // The period the URL asks for (as app.js reads it), else the default 2017 one.
  const asked = new URLSearchParams(window.location.search).get("date");
  const date = asked && (/^\d{4}-\d{2}-\d{2}$/.test(asked) || asked === "latest") ? asked : "2017-04-01";
  window.__allianceBoot = {
    date,
    tileJson: get(`/api/v1/tiles.json?date=${date}`),
    config: get("/api/v1/config"),
    editions: get("/api/v1/editions"),
  };
})();
