// blastdoor approval UI: keeps the countdowns current. Without this script the server-rendered
// time stays, so nothing depends on it.
"use strict";
(function () {
  function span(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600),
        m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (d > 0) return d + "d " + two(h) + "h";
    if (h > 0) return h + "h " + two(m) + "m";
    if (m > 0) return m + "m " + two(s) + "s";
    return s + "s";
  }
  function tick() {
    var now = Date.now() / 1000;
    var all = document.querySelectorAll("time.countdown[data-deadline]");
    for (var i = 0; i < all.length; i++) {
      var deadline = Number(all[i].getAttribute("data-deadline"));
      if (!isFinite(deadline)) continue;
      var left = deadline - now;
      all[i].textContent = span(left);
      if (left <= 0) all[i].classList.add("passed");
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
