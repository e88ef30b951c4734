// Shows the waiting indicator (an aria-live status) while a long form posts,
// and keeps the button from being pressed twice.
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var text = (ev.submitter && ev.submitter.getAttribute("data-waiting")) || form.getAttribute("data-waiting");
  if (!text) return;
  var w = document.getElementById("waiting");
  document.getElementById("waiting-text").textContent = text;
  w.hidden = false;
  var b = form.querySelector("button[type=submit]");
  if (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); }
});
