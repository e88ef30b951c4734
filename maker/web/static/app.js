// Shows the waiting indicator (an aria-live status) while a long form posts,
// and keeps the button from being pressed twice. A button with a name
// (Configure's "Refresh", "Search groups", "Save") says what it does with
// its own data-waiting; its name and value still reach the server.
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var b = ev.submitter || form.querySelector("button[type=submit]");
  var text = (b && b.getAttribute("data-waiting")) || form.getAttribute("data-waiting");
  if (!text) return;
  var w = document.getElementById("waiting");
  document.getElementById("waiting-text").textContent = text;
  w.hidden = false;
  if (!b) return;
  if (b.name) {
    var keep = document.createElement("input");
    keep.type = "hidden"; keep.name = b.name; keep.value = b.value;
    form.appendChild(keep);
  }
  b.disabled = true; b.setAttribute("aria-busy", "true");
});
