// toughtalk report: open the conversation a link points at, and filter the lists.
(function () {
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  document.querySelectorAll("input[data-filter]").forEach(function (box) {
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase();
      document.querySelectorAll(box.dataset.filter + " tbody tr").forEach(function (row) {
        row.style.display = row.textContent.toLowerCase().indexOf(words) >= 0 ? "" : "none";
      });
    });
  });
})();
