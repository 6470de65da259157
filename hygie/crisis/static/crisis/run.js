// Live updates of an exercise's consoles without reloading: polls the state endpoint
// (etat.json?since=<last logbook id>) every 1-2 s; the page works without it (reload).
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-state-url");
  var cursor = parseInt(root.getAttribute("data-cursor") || "0", 10);
  var every = parseFloat(root.getAttribute("data-poll") || "1.5") * 1000;
  var facilitator = root.getAttribute("data-role") === "facilitator";
  var output = document.getElementById("run-seconds");
  var clock = {
    seconds: parseFloat(output.getAttribute("data-seconds") || "0"),
    speed: parseFloat(output.getAttribute("data-speed") || "1"),
    running: output.getAttribute("data-running") === "1",
    at: Date.now()
  };
  var failures = 0;

  function text(tag, content, className) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = content;
    return node;
  }

  function tick() {
    var seconds = clock.seconds;
    if (clock.running) { seconds += (Date.now() - clock.at) / 1000 * clock.speed; }
    output.textContent = "T+" + Math.floor(seconds) + " s";
  }

  function addEntry(entry) {
    var list = document.getElementById("run-log");
    if (!list || list.querySelector('[data-id="' + entry.id + '"]')) { return; }
    var empty = list.querySelector(".run-empty");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.setAttribute("data-id", entry.id);
    item.className = "run-log-" + entry.kind;
    item.appendChild(text("span", entry.seconds === null ? "" : "T+" + Math.floor(entry.seconds) + " s", "run-time"));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(text("strong", entry.kind_label));
    if (entry.milestone_label) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(text("span", entry.milestone_label, "badge"));
    }
    item.appendChild(document.createTextNode(" — " + entry.author + " : " + entry.text));
    list.appendChild(item);
  }

  function addStimulus(stimulus) {
    var list = document.getElementById(facilitator ? "run-to-play" : "run-stimuli");
    if (!list || (facilitator && stimulus.channel === "email")) { return; }
    if (list.querySelector('[data-stimulus="' + stimulus.id + '"]')) { return; }
    var item = document.createElement("li");
    item.setAttribute("data-stimulus", stimulus.id);
    if (stimulus.at_seconds !== null) {
      item.appendChild(text("span", "T+" + Math.floor(stimulus.at_seconds) + " s", "run-time"));
      item.appendChild(document.createTextNode(" "));
    }
    item.appendChild(text("strong", stimulus.channel_label + " — " + stimulus.sender));
    if (stimulus.subject) { item.appendChild(document.createTextNode(" : " + stimulus.subject)); }
    item.appendChild(document.createElement("br"));
    item.appendChild(document.createTextNode(stimulus.content));
    if (stimulus.expected) {
      item.appendChild(document.createElement("br"));
      item.appendChild(text("em", stimulus.expected));
    }
    list.appendChild(item);
  }

  function apply(state) {
    clock = {
      seconds: state.clock.seconds, speed: state.clock.speed,
      running: state.clock.running, at: Date.now()
    };
    document.getElementById("run-status").textContent = state.clock.status_label;
    document.getElementById("run-speed").textContent = state.clock.speed;
    state.entries.forEach(addEntry);
    state.stimuli.forEach(addStimulus);
    (state.timeline || []).forEach(function (line) {
      var cell = document.querySelector('tr[data-stimulus="' + line.id + '"] [data-status]');
      if (cell && line.status !== "failed") { cell.textContent = line.status_label; }
    });
    cursor = state.cursor;
    return state.more;
  }

  function poll() {
    fetch(url + "?since=" + cursor, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        var more = apply(state);
        setTimeout(poll, more ? 0 : every);
      })
      .catch(function () {
        failures += 1;  // back off while the server is unreachable, up to 30 s
        setTimeout(poll, Math.min(30000, every * Math.pow(2, failures)));
      });
  }

  setInterval(tick, 250);
  setTimeout(poll, every);
})();
