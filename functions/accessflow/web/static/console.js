// The console page's script: loads the console's ES modules (this file is a classic deferred script
// like every page's own asset) and its stylesheet. Everything else is in console-app.js.
(function load() {
  "use strict";
  if (!document.querySelector('link[href="/assets/console.css"]')) {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/assets/console.css";
    document.head.appendChild(css);
  }
  import("/assets/console-app.js").then(function (app) { return app.start(); }).catch(function (error) {
    var main = document.getElementById("main") || document.body;
    var box = document.createElement("div");
    box.className = "problem";
    box.setAttribute("role", "alert");
    var title = document.createElement("p");
    title.className = "problem-title";
    title.textContent = "The console could not start";
    var detail = document.createElement("p");
    detail.textContent = String((error && error.message) || error);
    box.append(title, detail);
    main.replaceChildren(box);
  });
}());
