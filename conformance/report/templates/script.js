// Verdict filters and "expand failures" for each run's test list, the not-tested toggle of each coverage
// matrix; the page works without them.
document.querySelectorAll(".show-untested").forEach(function (box) {
  var matrix = box.closest(".card").querySelector("table.matrix");
  box.addEventListener("change", function () {
    matrix.classList.toggle("hide-untested", !box.checked);
  });
});
document.querySelectorAll(".filters[data-run]").forEach(function (bar) {
  var list = bar.nextElementSibling;
  function apply() {
    var shown = {};
    bar.querySelectorAll(".verdict-filter").forEach(function (box) { shown[box.value] = box.checked; });
    list.querySelectorAll("details.test").forEach(function (test) {
      test.hidden = shown[test.dataset.verdict] === false;
    });
  }
  bar.querySelectorAll(".verdict-filter").forEach(function (box) { box.addEventListener("change", apply); });
  bar.querySelector(".expand-problems").addEventListener("click", function () {
    list.querySelectorAll('details.test[data-verdict="fail"], details.test[data-verdict="error"]')
      .forEach(function (test) { test.open = true; });
  });
});
// Following a link to a test opens it.
function openTarget() {
  var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target && target.tagName === "DETAILS") { target.open = true; }
}
window.addEventListener("hashchange", openTarget);
openTarget();
