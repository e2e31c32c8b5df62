// berth's web terminal: xterm.js on a WebSocket to a TTY in the session
// (GET /api/v1/sessions/{id}/terminal). Keys and resizes go up as JSON
// text frames ({type: "input", data} / {type: "resize", cols, rows}); the
// TTY's output comes down as binary frames.
(function () {
  "use strict";
  // The page's few words, in the UI's two languages.
  var STRINGS = {
    en: { title: "Terminal", connecting: "Connecting…", closed: "Disconnected. Reload the page to reconnect.", missing: "No session given." },
    ko: { title: "터미널", connecting: "연결 중…", closed: "연결이 끊어졌습니다. 다시 연결하려면 페이지를 새로 고치세요.", missing: "세션이 지정되지 않았습니다." }
  };
  var lang = (navigator.language || "en").toLowerCase().indexOf("ko") === 0 ? "ko" : "en";
  var t = STRINGS[lang];
  document.documentElement.lang = lang;
  var params = new URLSearchParams(location.search);
  var id = params.get("session");
  var name = params.get("name") || id || "";
  var status = document.getElementById("status");
  document.getElementById("title").textContent = t.title + " — " + name;
  document.title = t.title + " — " + name;
  if (!id) { status.textContent = t.missing; return; }

  var term = new Terminal({ cursorBlink: true, fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace", fontSize: 14, lineHeight: 1.15 });
  var fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById("terminal"));
  fit.fit();
  window.berthTerminal = term; // for tests and the curious

  status.textContent = t.connecting;
  var scheme = location.protocol === "https:" ? "wss:" : "ws:";
  var url = scheme + "//" + location.host + "/api/v1/sessions/" + encodeURIComponent(id) +
    "/terminal?cols=" + term.cols + "&rows=" + term.rows;
  var ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  ws.onopen = function () { status.textContent = ""; term.focus(); };
  ws.onmessage = function (e) { term.write(new Uint8Array(e.data)); };
  ws.onclose = function () { status.textContent = t.closed; };
  var send = function (msg) { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); };
  term.onData(function (data) { send({ type: "input", data: data }); });
  term.onResize(function (size) { send({ type: "resize", cols: size.cols, rows: size.rows }); });
  window.addEventListener("resize", function () { fit.fit(); });
})();
