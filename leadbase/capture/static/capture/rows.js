// "Add a field" in the form builder: one more row of a Django formset, made from the formset's
// empty row kept in a <template>, and its TOTAL_FORMS count raised so that the row is posted.
// Without JavaScript the button stays hidden and the table keeps its empty rows to fill.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var prefix = button.getAttribute("data-add-row");
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var template = document.getElementById(prefix + "-empty-row");
      var rows = document.getElementById(prefix + "-rows");
      var index = Number(total.value);
      rows.insertAdjacentHTML(
        "beforeend",
        template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1))
      );
      total.value = String(index + 1);
      var first = rows.lastElementChild.querySelector("input, select, textarea");
      if (first) { first.focus(); }
    });
  });
})();
