// The dashboard's only script of its own (no inline scripts: the CSP forbids them).
// A server answer may carry `HX-Trigger: {"flash": "text"}`: the text is announced in the
// polite live region #flash. After a swap, focus goes to the first element that asks for it
// (data-focus), so keyboard users land on the result of what they did.
document.addEventListener("flash", function (event) {
  var region = document.getElementById("flash");
  if (region) {
    region.textContent = (event.detail && event.detail.value) || "";
  }
});
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail && event.detail.elt;
  var focus = target && target.querySelector ? target.querySelector("[data-focus]") : null;
  if (focus) {
    focus.focus();
  }
});
